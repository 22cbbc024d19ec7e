"""Changing a volunteer's profile: details, national number, status, teams and kit.

The API and the pages call these; each raises :class:`core.errors.DomainError` naming the
field and the rule it breaks, and changes nothing then. Every write is audited by the
session's audit hooks; a status change also records its reason with
:func:`core.audit.recorder.record`.

The nesting rule (组织体系): a captain or vice-captain of a unit's team is at the same time a
member of the parent unit's team — a 大队 leader is a member of the 总队, a 中队 leader of the
大队, a 分队 leader of the 中队. An enterprise 中队 stands directly under the district whose
大队 guides it, so its leaders are members of that 大队.
"""

from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from core.audit.recorder import record
from core.contributions import Label, TrainingModule
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.identity import parse_id_number
from core.people.models import Person
from core.people.services import PersonDetails, apply_details, check_details, id_index
from core.security.fields import Keyring
from core.security.masking import mask
from core.training.gates import require_for_team_role
from core.units.models import Unit, UnitLevel, utcnow
from core.volunteers.models import (
    KitIssue,
    SpecialTeamMembership,
    TeamMembership,
    TeamRole,
    Volunteer,
    VolunteerStatus,
    VolunteerTransfer,
)

LEADERS = (TeamRole.captain, TeamRole.vice_captain)

ROLE_LABELS = {
    TeamRole.captain: Label("队长", "Captain"),
    TeamRole.vice_captain: Label("副队长", "Vice-captain"),
    TeamRole.member: Label("队员", "Member"),
}
STATUS_LABELS = {
    VolunteerStatus.active: Label("在册", "Active"),
    VolunteerStatus.suspended: Label("暂停", "Suspended"),
    VolunteerStatus.left: Label("已退出", "Left"),
}
TEAM_LABELS = {
    UnitLevel.city: Label("总队", "city corps"),
    UnitLevel.district: Label("大队", "district brigade"),
    UnitLevel.township: Label("中队", "township squadron"),
    UnitLevel.village: Label("分队", "village squad"),
}
KIT_ITEMS = {
    "uniform": Label("服装", "Uniform"),
    "badge": Label("胸牌", "Badge"),
    "armband": Label("袖标", "Armband"),
    "vest": Label("马甲", "Vest"),
    "cap": Label("帽子", "Cap"),
    "id_card": Label("志愿者证", "Volunteer card"),
}
NATIONAL_NUMBER_CHARACTERS = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-")


def today() -> date:
    """The current date (UTC), the default of every date on the profile."""
    return utcnow().date()


def refused(message: str, field: str, rule: str, detail: str, status: int = 400) -> DomainError:
    """A refusal naming one field and rule."""
    code = "conflict" if status == 409 else "validation_failed"
    return DomainError(message, code, status, [FieldError(field, rule, detail)])


def _label(label: Label) -> str:
    return text(label.zh, label.en)


def team_name(unit: Unit) -> str:
    """The team a unit forms: its own team name, else the unit's name and level (渝中区大队)."""
    return unit.team_name or unit.name + TEAM_LABELS[UnitLevel(unit.level)].zh


def volunteer_of(session: Session, person: Person) -> Volunteer | None:
    """The person's volunteer record, if they volunteer."""
    return session.exec(select(Volunteer).where(Volunteer.person_id == person.id)).first()


# -- a person's details --------------------------------------------------------------------


def details_of(person: Person) -> PersonDetails:
    """What is stored about ``person``, as details to check and apply again."""
    return PersonDetails(
        name=person.name,
        id_number=person.id_number,
        phone=person.phone,
        address=person.address,
        education=person.education,
        occupation=person.occupation,
        skills=list(person.skills or []),
        availability=dict(person.availability or {}),
        emergency_contact_name=person.emergency_contact_name,
        emergency_contact_phone=person.emergency_contact_phone,
    )


DETAIL_FIELDS = tuple(item.name for item in fields(PersonDetails))


def update_person(
    session: Session,
    keyring: Keyring,
    person: Person,
    changes: dict[str, Any],
    *,
    adult: bool = False,
) -> list[str]:
    """Change the details named in ``changes`` (PATCH semantics); return the fields changed.

    ``None`` clears a field, except the name and the resident ID, which cannot be cleared. A
    new ID number re-derives gender and birth date, must be unique, and with ``adult`` (the
    person volunteers) must show an age of 18 or more.

    Raises:
        DomainError: a rule is broken (400, every field named) or the ID number is another
            person's (409).
    """
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise ValueError(f"not a detail: {sorted(unknown)}")
    errors = [
        FieldError(name, "required", text("不能清空", "cannot be cleared"))
        for name in ("name", "id_number")
        if name in changes and not changes[name]
    ]
    if not errors:
        values = dict(changes)
        for key, empty in (("skills", []), ("availability", {})):
            if key in values and values[key] is None:
                values[key] = empty
        merged = replace(details_of(person), **values)
        errors = [
            error
            for error in check_details(merged, adult=adult and "id_number" in changes)
            if error.field in changes
        ]
    if errors:
        raise DomainError(
            text("人员信息有误", "The person's details are invalid"),
            "validation_failed",
            400,
            errors,
        )
    if "id_number" in changes:
        index = id_index(keyring, parse_id_number(merged.id_number).value)
        other = session.exec(
            select(Person.id).where(Person.id_number_index == index, Person.id != person.id)
        ).first()
        if other is not None:
            raise refused(
                text("该身份证号已登记", "This ID number is already registered"),
                "id_number",
                "unique",
                text("已登记", "already registered"),
                409,
            )
    before = details_of(person)
    apply_details(person, merged, keyring)
    session.add(person)
    session.flush()
    after = details_of(person)
    return [name for name in DETAIL_FIELDS if getattr(before, name) != getattr(after, name)]


# -- the volunteer record ------------------------------------------------------------------


def set_national_number(session: Session, volunteer: Volunteer, value: str | None) -> bool:
    """Record (or clear) the national system's unified number; return whether it changed.

    Raises:
        DomainError: not 4–32 letters, digits or dashes (400), or another volunteer's (409).
    """
    number = (value or "").strip().upper() or None
    if number == volunteer.national_number:
        return False
    if number is not None:
        if not 4 <= len(number) <= 32 or set(number) - NATIONAL_NUMBER_CHARACTERS:
            raise refused(
                text("全国统一编号格式不正确", "The national number is malformed"),
                "national_number",
                "format",
                text("4–32 位字母、数字或短横线", "4–32 letters, digits or dashes"),
            )
        taken = session.exec(
            select(Volunteer.id).where(
                Volunteer.national_number == number, Volunteer.id != volunteer.id
            )
        ).first()
        if taken is not None:
            raise refused(
                text("该全国统一编号已属于另一名志愿者", "Another volunteer has this number"),
                "national_number",
                "unique",
                text("已被使用", "already in use"),
                409,
            )
    volunteer.national_number = number
    session.add(volunteer)
    session.flush()
    return True


def change_status(
    session: Session,
    volunteer: Volunteer,
    status: VolunteerStatus,
    reason: str,
    *,
    on: date,
    action: str = "core.volunteer.manage",
) -> None:
    """Suspend, reactivate or record the leaving of a volunteer, with the reason audited.

    Leaving ends the volunteer's team and special-team memberships on ``on`` (those that
    had not begun yet end the day they would have begun).

    Raises:
        DomainError: the status is already ``status``, or no reason is given (400).
    """
    reason = _reason(reason)
    if volunteer.status == status:
        raise refused(
            text("状态未改变", "The status is unchanged"),
            "status",
            "unchanged",
            text("已是", "already ") + _label(STATUS_LABELS[VolunteerStatus(status)]),
        )
    before = VolunteerStatus(volunteer.status)
    volunteer.status = status
    session.add(volunteer)
    ended: list[int] = []
    if status == VolunteerStatus.left:
        open_ = (TeamMembership.until == None) | (TeamMembership.until > on)  # noqa: E711
        for membership in session.exec(
            select(TeamMembership).where(TeamMembership.volunteer_id == volunteer.id, open_)
        ):
            membership.until = max(on, membership.since)
            session.add(membership)
            ended.append(membership.id)
        open_special = (SpecialTeamMembership.until == None) | (  # noqa: E711
            SpecialTeamMembership.until > on
        )
        for special in session.exec(
            select(SpecialTeamMembership).where(
                SpecialTeamMembership.volunteer_id == volunteer.id, open_special
            )
        ):
            special.until = max(on, special.since)
            session.add(special)
    session.flush()
    record(
        session,
        "status_change",
        action=action,
        object_type="volunteer",
        object_id=volunteer.id,
        unit_path=volunteer.unit_path,
        before={"status": before.value},
        after={"status": VolunteerStatus(status).value, "ended_memberships": ended},
        reason=reason,
    )


def _reason(reason: str) -> str:
    """A reason of at least 4 characters, trimmed; else the refusal naming ``reason``."""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise refused(
            text("须说明原因", "A reason is required"),
            "reason",
            "required",
            text("至少 4 个字", "at least 4 characters"),
        )
    return reason[:500]


def _require_active(volunteer: Volunteer) -> None:
    if volunteer.status != VolunteerStatus.active:
        raise refused(
            text("志愿者不在册（已暂停或退出）", "The volunteer is suspended or has left"),
            "status",
            "not_active",
            _label(STATUS_LABELS[VolunteerStatus(volunteer.status)]),
        )


# -- team memberships ----------------------------------------------------------------------


def _open_at(session: Session, volunteer_id: int, unit_id: int, on: date) -> list[TeamMembership]:
    """Memberships of one team not ended before ``on`` (current or starting later)."""
    return list(
        session.exec(
            select(TeamMembership).where(
                TeamMembership.volunteer_id == volunteer_id,
                TeamMembership.unit_id == unit_id,
                (TeamMembership.until == None) | (TeamMembership.until >= on),  # noqa: E711
            )
        )
    )


def nesting_error(child: Unit, parent: Unit) -> DomainError:
    """The refusal that names the nesting rule for a leader of ``child``."""
    team, above = TEAM_LABELS[UnitLevel(child.level)], TEAM_LABELS[UnitLevel(parent.level)]
    detail = text(
        f"{team.zh}队长、副队长须同时是上级{above.zh}（{team_name(parent)}）的队员",
        f"a {team.en} captain or vice-captain must at the same time be a member of the parent "
        f"{above.en} ({team_name(parent)})",
    )
    return refused(
        text("不符合队伍嵌套规则：", "The nesting rule is broken: ") + detail,
        "role",
        "nesting",
        detail,
    )


def add_membership(
    session: Session,
    volunteer: Volunteer,
    unit: Unit,
    role: TeamRole,
    since: date,
    *,
    catalogue: Iterable[TrainingModule],
) -> TeamMembership:
    """From ``since``, the volunteer holds ``role`` in ``unit``'s team.

    A current membership of the same team with another role is ended the day before (or
    corrected, if it starts on ``since`` or later): that is how a member becomes a captain.
    A captain or vice-captain must hold, on ``since``, the training modules the role
    requires at ``unit`` (``catalogue`` is the unit's: ``Platform.training_modules``).

    Raises:
        DomainError: the volunteer is not active (400); the nesting rule is broken (400,
            rule ``nesting``); a required module is missing (400, rule ``training``,
            naming it); the team already has a captain (409, ``one_captain``); the
            volunteer already holds this role there (409, ``unique``).
    """
    role = TeamRole(role)
    _require_active(volunteer)
    existing = _open_at(session, volunteer.id, unit.id, since)
    if any(m.role == role for m in existing):
        raise refused(
            text("已担任该队伍的这一角色", "The volunteer already holds this role in this team"),
            "unit_id",
            "unique",
            f"{team_name(unit)} · {_label(ROLE_LABELS[role])}",
            409,
        )
    if role in LEADERS and unit.parent_id is not None:
        parent = session.get(Unit, unit.parent_id)
        in_parent = [
            m
            for m in _open_at(session, volunteer.id, parent.id, since)
            if m.since <= since and m.until is None
        ]
        if not in_parent:
            raise nesting_error(unit, parent)
    require_for_team_role(session, catalogue, volunteer.person_id, unit, role.value, since)
    if role == TeamRole.captain:
        captain = session.exec(
            select(TeamMembership.id).where(
                TeamMembership.unit_id == unit.id,
                TeamMembership.role == TeamRole.captain,
                TeamMembership.volunteer_id != volunteer.id,
                (TeamMembership.until == None) | (TeamMembership.until >= since),  # noqa: E711
            )
        ).first()
        if captain is not None:
            raise refused(
                text("该队伍已有队长，请先卸任现任队长", "The team already has a captain"),
                "role",
                "one_captain",
                team_name(unit),
                409,
            )
    for old in existing:
        if old.since >= since:
            session.delete(old)
        else:
            old.until = since - timedelta(days=1)
            session.add(old)
    membership = TeamMembership(
        volunteer_id=volunteer.id, unit_id=unit.id, unit_path=unit.path, role=role, since=since
    )
    session.add(membership)
    session.flush()
    return membership


def _check_leaves_no_orphan(
    session: Session, volunteer: Volunteer, unit: Unit, until: date
) -> None:
    """Refuse to end a membership of ``unit``'s team while the volunteer leads a team below."""
    below = session.exec(
        select(TeamMembership, Unit)
        .join(Unit, Unit.id == TeamMembership.unit_id)
        .where(
            TeamMembership.volunteer_id == volunteer.id,
            Unit.parent_id == unit.id,
            col(TeamMembership.role).in_([role.value for role in LEADERS]),
            (TeamMembership.until == None) | (TeamMembership.until > until),  # noqa: E711
        )
    ).first()
    if below is not None:
        raise nesting_error(below[1], unit)


def end_membership(
    session: Session, volunteer: Volunteer, membership: TeamMembership, until: date
) -> None:
    """End a team membership on ``until`` (its last day).

    Raises:
        DomainError: already ended (409); ``until`` before it began (400); the volunteer
            still leads a team below this one (400, rule ``nesting``).
    """
    if membership.until is not None:
        raise refused(
            text("该成员关系已结束", "This membership has already ended"),
            "until",
            "ended",
            membership.until.isoformat(),
            409,
        )
    if until < membership.since:
        raise refused(
            text("结束日期早于开始日期", "The end is before the start"),
            "until",
            "before_since",
            membership.since.isoformat(),
        )
    _check_leaves_no_orphan(session, volunteer, session.get(Unit, membership.unit_id), until)
    membership.until = until
    session.add(membership)
    session.flush()


# -- transfers -----------------------------------------------------------------------------


def transfer(
    session: Session,
    volunteer: Volunteer,
    to_unit: Unit,
    *,
    on: date,
    reason: str,
    role: TeamRole = TeamRole.member,
    by_user_id: int | None = None,
    catalogue: Iterable[TrainingModule],
) -> VolunteerTransfer:
    """Move the volunteer's home team membership to ``to_unit``'s team from ``on`` (调动).

    A volunteer is held by the unit of their home team (``Volunteer.unit_id``), which scopes
    who sees and manages them. The memberships of the home team end the day before ``on``
    (one that would only begin later is dropped), the volunteer joins ``to_unit``'s team with
    ``role`` (or keeps a membership of it they already hold with that role), and the volunteer,
    their person record (when the old home unit held it) and the kit still out follow to the
    new unit; a :class:`VolunteerTransfer` records it. Memberships of other teams (the team
    above that a leader belongs to, special teams) stay as they are, for the office to end.

    The volunteer number is kept: the district issued it at registration, it is printed on
    the certificate and card and reported to the national registry, and renumbering would
    break every reference to it. Its district code says where the volunteer registered, not
    where they serve now.

    Raises:
        DomainError: no reason (400); the volunteer is not active (400); the target is
            closed, the city, or the home unit itself (400, field ``unit_id``); ``on`` is in
            the future or before the current home membership began (400, field ``on``);
            leaving the home team would leave the volunteer leading a team below it without
            being a member of it, or ``role`` breaks the nesting rule at the new team (400,
            rule ``nesting``); the new team already has a captain (409, ``one_captain``).
    """
    reason = _reason(reason)
    _require_active(volunteer)
    home = session.get(Unit, volunteer.unit_id)
    if to_unit.id == home.id:
        raise refused(
            text("志愿者已在该单位的队伍中", "The volunteer is already held by this unit"),
            "unit_id",
            "unchanged",
            team_name(to_unit),
        )
    if not to_unit.active or to_unit.level == UnitLevel.city:
        raise refused(
            text(
                "只能调入在用的区县、乡镇或村（社区）单位",
                "Transfer to an active unit below the city",
            ),
            "unit_id",
            "inactive" if not to_unit.active else "level",
            team_name(to_unit),
        )
    if on > today():
        raise refused(
            text("调动日期不能晚于今天", "The transfer date is in the future"),
            "on",
            "future",
            today().isoformat(),
        )
    leaving = _open_at(session, volunteer.id, home.id, on)
    joined = min((m.since for m in leaving if m.until is None), default=on)
    if on < joined:
        raise refused(
            text("调动日期早于加入现队伍的日期", "The transfer is before the volunteer joined"),
            "on",
            "before_since",
            joined.isoformat(),
        )
    last_day = on - timedelta(days=1)
    _check_leaves_no_orphan(session, volunteer, home, last_day)
    for membership in leaving:
        if membership.since >= on:
            session.delete(membership)
        else:
            membership.until = last_day
            session.add(membership)
    session.flush()
    kept = [
        m
        for m in _open_at(session, volunteer.id, to_unit.id, on)
        if m.role == role and m.since <= on
    ]
    if not kept:
        add_membership(session, volunteer, to_unit, role, on, catalogue=catalogue)
    person = session.get(Person, volunteer.person_id)
    if person.unit_id == home.id:
        person.unit_id, person.unit_path = to_unit.id, to_unit.path
        session.add(person)
    for kit in session.exec(
        select(KitIssue).where(
            KitIssue.volunteer_id == volunteer.id,
            KitIssue.recalled_on == None,  # noqa: E711
        )
    ):
        kit.unit_path = to_unit.path
        session.add(kit)
    volunteer.unit_id, volunteer.unit_path = to_unit.id, to_unit.path
    session.add(volunteer)
    moved = VolunteerTransfer(
        volunteer_id=volunteer.id,
        from_unit_id=home.id,
        to_unit_id=to_unit.id,
        effective_on=on,
        reason=reason,
        by_user_id=by_user_id,
    )
    session.add(moved)
    session.flush()
    return moved


def transfers_of(
    session: Session, volunteer: Volunteer
) -> list[tuple[VolunteerTransfer, Unit, Unit]]:
    """The volunteer's transfers, newest first, with the units left and joined."""
    left, joined = aliased(Unit), aliased(Unit)
    rows = session.exec(
        select(VolunteerTransfer, left, joined)
        .join(left, left.id == VolunteerTransfer.from_unit_id)
        .join(joined, joined.id == VolunteerTransfer.to_unit_id)
        .where(VolunteerTransfer.volunteer_id == volunteer.id)
        .order_by(col(VolunteerTransfer.effective_on).desc(), col(VolunteerTransfer.id).desc())
    ).all()
    return [(row, from_unit, to_unit) for row, from_unit, to_unit in rows]


# -- special teams -------------------------------------------------------------------------


def add_special_team(
    session: Session,
    volunteer: Volunteer,
    team: str,
    unit: Unit,
    since: date,
    teams: list[str],
) -> SpecialTeamMembership:
    """The volunteer joins plugin ``team``'s special team at ``unit`` from ``since``.

    Raises:
        DomainError: ``team`` is not a loaded plugin (400, ``choice``), the volunteer is not
            active (400), or already in that team there (409).
    """
    if team not in teams:
        raise refused(
            text("没有这个专项队伍", "No such special team"),
            "team",
            "choice",
            ", ".join(teams) or text("未安装专项模块", "no plugin is installed"),
        )
    _require_active(volunteer)
    duplicate = session.exec(
        select(SpecialTeamMembership.id).where(
            SpecialTeamMembership.volunteer_id == volunteer.id,
            SpecialTeamMembership.team == team,
            SpecialTeamMembership.unit_id == unit.id,
            (SpecialTeamMembership.until == None)  # noqa: E711
            | (SpecialTeamMembership.until >= since),
        )
    ).first()
    if duplicate is not None:
        raise refused(
            text("已在该专项队伍中", "Already in this special team"),
            "team",
            "unique",
            team,
            409,
        )
    membership = SpecialTeamMembership(
        volunteer_id=volunteer.id, team=team, unit_id=unit.id, unit_path=unit.path, since=since
    )
    session.add(membership)
    session.flush()
    return membership


def end_special_team(session: Session, membership: SpecialTeamMembership, until: date) -> None:
    """End a special-team membership on ``until``.

    Raises:
        DomainError: already ended (409), or ``until`` before it began (400).
    """
    if membership.until is not None:
        raise refused(
            text("该成员关系已结束", "This membership has already ended"),
            "until",
            "ended",
            membership.until.isoformat(),
            409,
        )
    if until < membership.since:
        raise refused(
            text("结束日期早于开始日期", "The end is before the start"),
            "until",
            "before_since",
            membership.since.isoformat(),
        )
    membership.until = until
    session.add(membership)
    session.flush()


# -- kit -----------------------------------------------------------------------------------


def issue_kit(
    session: Session,
    volunteer: Volunteer,
    *,
    item: str,
    issued_on: date,
    today: date,
    size: str | None = None,
    serial: str | None = None,
    note: str | None = None,
) -> KitIssue:
    """Hand a uniform, badge, armband … to an active volunteer.

    Raises:
        DomainError: unknown item or a date in the future (400); the volunteer is not active
            (400); the same item with this serial is still out (409).
    """
    if item not in KIT_ITEMS:
        raise refused(text("没有这种装备", "No such item"), "item", "choice", ", ".join(KIT_ITEMS))
    if issued_on > today:
        raise refused(
            text("发放日期不能晚于今天", "The issue date is in the future"),
            "issued_on",
            "future",
            today.isoformat(),
        )
    _require_active(volunteer)
    serial = (serial or "").strip() or None
    if serial:
        out = session.exec(
            select(KitIssue.id).where(
                KitIssue.item == item,
                KitIssue.serial == serial,
                KitIssue.recalled_on == None,  # noqa: E711
            )
        ).first()
        if out is not None:
            raise refused(
                text("该编号的装备尚未收回", "An item with this serial is still out"),
                "serial",
                "unique",
                serial,
                409,
            )
    kit = KitIssue(
        volunteer_id=volunteer.id,
        unit_path=volunteer.unit_path,
        item=item,
        size=(size or "").strip() or None,
        serial=serial,
        issued_on=issued_on,
        note=(note or "").strip() or None,
    )
    session.add(kit)
    session.flush()
    return kit


def recall_kit(
    session: Session, kit: KitIssue, recalled_on: date, *, today: date, note: str | None = None
) -> None:
    """Record that an issued item came back (or was recalled) on ``recalled_on``.

    Raises:
        DomainError: already recalled (409); a date before the issue or in the future (400).
    """
    if kit.recalled_on is not None:
        raise refused(
            text("该装备已收回", "This item has already been recalled"),
            "recalled_on",
            "recalled",
            kit.recalled_on.isoformat(),
            409,
        )
    if recalled_on < kit.issued_on:
        raise refused(
            text("收回日期早于发放日期", "The recall is before the issue"),
            "recalled_on",
            "before_issued",
            kit.issued_on.isoformat(),
        )
    if recalled_on > today:
        raise refused(
            text("收回日期不能晚于今天", "The recall date is in the future"),
            "recalled_on",
            "future",
            today.isoformat(),
        )
    kit.recalled_on = recalled_on
    if note and note.strip():
        kit.note = ((kit.note + "；") if kit.note else "") + note.strip()
        kit.note = kit.note[:200]
    session.add(kit)
    session.flush()


# -- reading a profile ---------------------------------------------------------------------


def masked_person(person: Person, registry: dict) -> dict[str, Any]:
    """The person's fields with every sensitive one masked, the emergency phone included.

    As :func:`core.security.present.masked_values`, read from the columns rather than through
    ``model_dump`` (which warns about the gender stored as text); the emergency contact's
    phone is masked too although it is not a registered sensitive field.
    """
    values = {column.key: getattr(person, column.key) for column in Person.__table__.columns}
    for (table, field), sensitive in registry.items():
        if table == Person.__tablename__ and field in values:
            values[field] = mask(sensitive.kind, values[field])
    values["emergency_contact_phone"] = mask("phone", person.emergency_contact_phone)
    return values


@dataclass
class Profile:
    """Everything the profile shows about a volunteer, loaded in a few queries."""

    volunteer: Volunteer
    person: Person
    unit: Unit
    memberships: list[tuple[TeamMembership, Unit]]
    special_teams: list[SpecialTeamMembership]
    kit: list[KitIssue]
    transfers: list[tuple[VolunteerTransfer, Unit, Unit]]


def load_profile(session: Session, volunteer: Volunteer) -> Profile:
    """The volunteer's person, unit, memberships (newest first), special teams, kit, transfers."""
    memberships = list(
        session.exec(
            select(TeamMembership, Unit)
            .join(Unit, Unit.id == TeamMembership.unit_id)
            .where(TeamMembership.volunteer_id == volunteer.id)
            .order_by(col(TeamMembership.since).desc(), col(TeamMembership.id).desc())
        )
    )
    special = list(
        session.exec(
            select(SpecialTeamMembership)
            .where(SpecialTeamMembership.volunteer_id == volunteer.id)
            .order_by(col(SpecialTeamMembership.since).desc(), col(SpecialTeamMembership.id).desc())
        )
    )
    kit = list(
        session.exec(
            select(KitIssue)
            .where(KitIssue.volunteer_id == volunteer.id)
            .order_by(col(KitIssue.issued_on).desc(), col(KitIssue.id).desc())
        )
    )
    return Profile(
        volunteer=volunteer,
        person=session.get(Person, volunteer.person_id),
        unit=session.get(Unit, volunteer.unit_id),
        memberships=memberships,
        special_teams=special,
        kit=kit,
        transfers=transfers_of(session, volunteer),
    )
