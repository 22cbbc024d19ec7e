"""Committees (调委会) with their members, and the mediators who serve them.

人民调解法 Art. 8: a committee has three to nine members, one director (主任), and includes
women; where several ethnic groups live, members of the smaller ones — a rule a unit switches
on in its configuration. Every change of the member list is checked against these rules as a
whole, so a committee is never left invalid.
"""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from core.accounts.principal import Principal
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.units.models import Unit
from plugins.mediation import clock
from plugins.mediation.models import Committee, CommitteeMember, Mediator
from plugins.mediation.settings import config_at
from plugins.mediation.vocab import (
    Appointment,
    CommitteeKind,
    Grade,
    MediatorStatus,
    MemberRole,
    RemovalReason,
)

MIN_MEMBERS, MAX_MEMBERS = 3, 9  # 人民调解法 Art. 8
MAJORITY_ETHNICITY = "汉族"


@dataclass(frozen=True)
class MemberInput:
    """A member as given: the person, their place, and what the rules look at."""

    person_id: int
    role: MemberRole
    ethnicity: str
    gender: str | None = None  # needed only when the person's record has none


def _invalid(field: str, rule: str, zh: str, en: str, status: int = 400) -> DomainError:
    message = text(zh, en)
    return DomainError(message, "invalid_committee", status, [FieldError(field, rule, message)])


def _person_in_reach(session: Session, principal: Principal, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or not principal.sees(person.unit_path):
        raise _invalid(
            "person_id", "unknown", f"没有编号为 {person_id} 的人员", f"No person {person_id}"
        )
    return person


def check_members(members: list[tuple[MemberInput, str]], minority_required: bool) -> None:
    """Check a whole member list (each member with the gender that counts for it).

    Raises:
        DomainError: 3–9 members, exactly one director, a woman, a minority member where
            required, nobody twice — every broken rule named under ``members``.
    """
    errors = []
    ids = [member.person_id for member, _ in members]
    if len(set(ids)) != len(ids):
        errors.append(("duplicate", "同一人不能重复担任委员", "A person is listed twice"))
    if not MIN_MEMBERS <= len(members) <= MAX_MEMBERS:
        errors.append(
            (
                "count",
                f"调委会由 {MIN_MEMBERS} 至 {MAX_MEMBERS} 名委员组成，现为 {len(members)} 名",
                f"A committee has {MIN_MEMBERS} to {MAX_MEMBERS} members, not {len(members)}",
            )
        )
    directors = sum(member.role == MemberRole.director for member, _ in members)
    if directors != 1:
        errors.append(
            ("director", "调委会须有且仅有一名主任", "A committee has exactly one director")
        )
    if not any(gender == "female" for _, gender in members):
        errors.append(
            ("no_woman", "调委会委员中应当有妇女成员", "A committee must include a woman")
        )
    if minority_required and all(member.ethnicity == MAJORITY_ETHNICITY for member, _ in members):
        errors.append(
            (
                "no_minority",
                "本地多民族居住，调委会委员中应当有人数较少民族的成员",
                "Several ethnic groups live here: a member of a smaller group is required",
            )
        )
    if errors:
        message = text("调委会组成不符合规定", "The committee's members break the rules")
        raise DomainError(
            message,
            "invalid_committee",
            400,
            [FieldError("members", rule, text(zh, en)) for rule, zh, en in errors],
        )


def _resolved(
    session: Session, principal: Principal, members: list[MemberInput]
) -> list[tuple[MemberInput, str]]:
    resolved = []
    for member in members:
        person = _person_in_reach(session, principal, member.person_id)
        gender = str(person.gender) if person.gender else member.gender
        if gender not in ("male", "female"):
            raise _invalid(
                "members.gender",
                "missing",
                f"{person.name}的性别未登记，请填写",
                f"{person.name}'s gender is not on record: give it",
            )
        resolved.append((member, gender))
    return resolved


def create_committee(
    session: Session,
    principal: Principal,
    unit: Unit,
    *,
    kind: CommitteeKind,
    name: str,
    abbreviation: str,
    established_on: date | None,
    members: list[MemberInput],
) -> Committee:
    """Form a committee at ``unit`` with its members, checked as a whole."""
    config = config_at(session, unit.path, clock.today())
    resolved = _resolved(session, principal, members)
    check_members(resolved, config.minority_member_required)
    taken = session.exec(select(Committee.id).where(Committee.abbreviation == abbreviation)).first()
    if taken is not None:
        raise _invalid(
            "abbreviation",
            "taken",
            f"简称「{abbreviation}」已被其他调委会使用（案号中不得重复）",
            f"The abbreviation {abbreviation!r} is another committee's (case numbers must differ)",
            409,
        )
    committee = Committee(
        unit_id=unit.id,
        unit_path=unit.path,
        kind=kind,
        name=name,
        abbreviation=abbreviation,
        established_on=established_on,
    )
    session.add(committee)
    session.flush()
    today = clock.today()
    for member, gender in resolved:
        session.add(_member_row(committee, member, gender, today))
    session.flush()
    return committee


def _member_row(
    committee: Committee, member: MemberInput, gender: str, since: date
) -> CommitteeMember:
    return CommitteeMember(
        committee_id=committee.id,
        unit_path=committee.unit_path,
        person_id=member.person_id,
        role=member.role,
        gender=gender,
        ethnicity=member.ethnicity,
        since=since,
    )


def current_members(session: Session, committee: Committee) -> list[CommitteeMember]:
    """The committee's members today, the director first."""
    rows = session.exec(
        select(CommitteeMember).where(
            CommitteeMember.committee_id == committee.id, col(CommitteeMember.until).is_(None)
        )
    ).all()
    order = {MemberRole.director: 0, MemberRole.deputy: 1, MemberRole.member: 2}
    return sorted(rows, key=lambda row: (order[row.role], row.id))


def replace_members(
    session: Session, principal: Principal, committee: Committee, members: list[MemberInput]
) -> list[CommitteeMember]:
    """Make ``members`` the committee's member list from today, checked as a whole first.

    Leavers get an end date, newcomers a start date, and changed roles a new row.
    """
    config = config_at(session, committee.unit_path, clock.today())
    resolved = _resolved(session, principal, members)
    check_members(resolved, config.minority_member_required)
    today = clock.today()
    wanted = {member.person_id: (member, gender) for member, gender in resolved}
    for row in current_members(session, committee):
        keep = wanted.get(row.person_id)
        if keep and keep[0].role == row.role and keep[0].ethnicity == row.ethnicity:
            wanted.pop(row.person_id)
            continue
        row.until = today
        session.add(row)
    for member, gender in wanted.values():
        session.add(_member_row(committee, member, gender, today))
    session.flush()
    return current_members(session, committee)


def director_person_id(session: Session, committee: Committee) -> int | None:
    """The person who is the committee's director today."""
    return next(
        (m.person_id for m in current_members(session, committee) if m.role == MemberRole.director),
        None,
    )


# -- mediators -----------------------------------------------------------------------------


def appoint(
    session: Session,
    principal: Principal,
    committee: Committee,
    *,
    person_id: int,
    appointment: Appointment,
    appointed_on: date,
    term_end: date | None,
    grade: Grade,
    full_time: bool,
    pre_service_training_on: date | None,
) -> Mediator:
    """Make a person a mediator of ``committee``."""
    person = _person_in_reach(session, principal, person_id)
    if term_end is not None and term_end <= appointed_on:
        raise _invalid(
            "term_end",
            "before_start",
            "任期届满日应晚于聘任日",
            "The term must end after it starts",
        )
    existing = session.exec(
        select(Mediator.id).where(
            Mediator.committee_id == committee.id, Mediator.person_id == person.id
        )
    ).first()
    if existing is not None:
        raise _invalid(
            "person_id",
            "duplicate",
            f"{person.name}已是该调委会的调解员",
            f"{person.name} already mediates for this committee",
            409,
        )
    mediator = Mediator(
        committee_id=committee.id,
        person_id=person.id,
        unit_id=committee.unit_id,
        unit_path=committee.unit_path,
        appointment=appointment,
        appointed_on=appointed_on,
        term_end=term_end,
        grade=grade,
        full_time=full_time,
        pre_service_training_on=pre_service_training_on,
    )
    session.add(mediator)
    session.flush()
    return mediator


def update_mediator(mediator: Mediator, changes: dict) -> Mediator:
    """Correct a mediator's term, grade or training date (only the keys given)."""
    for key, value in changes.items():
        setattr(mediator, key, value)
    if mediator.term_end is not None and mediator.term_end <= mediator.appointed_on:
        raise _invalid(
            "term_end",
            "before_start",
            "任期届满日应晚于聘任日",
            "The term must end after it starts",
        )
    return mediator


def change_status(
    mediator: Mediator,
    status: MediatorStatus,
    reason: RemovalReason | None,
    note: str | None,
) -> Mediator:
    """Suspend, remove or reinstate a mediator.

    Removal and suspension need a coded reason (Art. 15) and, for ``other``, a note.
    """
    if status == mediator.status:
        raise _invalid("status", "unchanged", "状态未改变", "The status is unchanged", 409)
    if status != MediatorStatus.active:
        if reason is None:
            raise _invalid(
                "reason", "missing", "暂停或罢免须注明事由", "Suspension or removal needs a reason"
            )
        if reason == RemovalReason.other and not note:
            raise _invalid("note", "missing", "事由为「其他」时须说明", "Explain the other reason")
    if mediator.status == MediatorStatus.removed:
        raise _invalid(
            "status", "removed", "已罢免的调解员不能恢复", "A removed mediator cannot return", 409
        )
    mediator.status = status
    mediator.removal_reason = reason if status != MediatorStatus.active else None
    mediator.status_note = note
    mediator.status_changed_at = clock.now()
    return mediator


def mediator_names(session: Session, mediator_ids: list[int]) -> dict[int, str]:
    """Mediator id → the person's name."""
    if not mediator_ids:
        return {}
    rows = session.exec(
        select(Mediator.id, Person.name)
        .join(Person, Person.id == Mediator.person_id)
        .where(col(Mediator.id).in_(mediator_ids))
    ).all()
    return dict(rows)
