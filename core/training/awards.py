"""Qualifications granted outside a session: by hand, or carried over from earlier records.

Both name an approver (the acting user) and a reason, kept on the qualification; an import
is all or nothing and names every row it refuses.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, col, select

from core.access import path_in
from core.contributions import TrainingModule
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Person
from core.training import qualifications
from core.training.dates import local_today
from core.training.models import Qualification, QualificationSource
from core.units.models import Unit
from core.volunteers.models import Volunteer


def _unknown_module(code: str) -> str:
    return text(f"本单位没有培训模块 {code}", f"No training module {code} here")


def person_under(session: Session, unit: Unit, person_id: int) -> Person | None:
    """The person, if their training is counted within ``unit``'s subtree."""
    person = session.get(Person, person_id)
    if person is None:
        return None
    return person if qualifications.home_path(session, person).startswith(unit.path) else None


def grant_manually(
    session: Session,
    unit: Unit,
    catalogue: Mapping[str, TrainingModule],
    person_id: int,
    module_code: str,
    granted_on: date | None,
    reason: str,
    by_user_id: int | None,
) -> Qualification:
    """Grant a module of the unit's catalogue to a person of its subtree, with a reason.

    Raises:
        DomainError: the person lies outside the unit (404); the module is not in the
            catalogue (400); the date is in the future (400).
    """
    person = person_under(session, unit, person_id)
    if person is None:
        message = text("本单位没有这个人员", "No such person in this unit")
        raise DomainError(message, "not_found", 404, [FieldError("person_id", "unknown", message)])
    module = catalogue.get(module_code)
    if module is None:
        message = _unknown_module(module_code)
        raise DomainError(
            message, "validation_failed", 400, [FieldError("module_code", "unknown", message)]
        )
    day = granted_on or local_today()
    if day > local_today():
        message = text("取得日期不能晚于今天", "The date cannot be in the future")
        raise DomainError(
            message, "validation_failed", 400, [FieldError("granted_on", "future", message)]
        )
    return qualifications.grant(
        session,
        person,
        module,
        granted_on=day,
        source=QualificationSource.manual,
        granted_by_id=by_user_id,
        note=reason,
    )


@dataclass(frozen=True)
class ImportRow:
    """A qualification from earlier records."""

    volunteer_number: str
    module_code: str
    granted_on: date
    expires_at: date | None = None


def import_rows(
    session: Session,
    unit: Unit,
    catalogue: Mapping[str, TrainingModule],
    rows: Sequence[ImportRow],
    reason: str,
    by_user_id: int | None,
) -> list[Qualification]:
    """Carry qualifications over for volunteers of ``unit``'s subtree, all or none.

    Raises:
        DomainError: one field error per refused row (``rows[i].<field>``): a volunteer
            number unknown in the unit, a module not in its catalogue, a date in the future,
            an expiry not after the grant (400); nothing is written then.
    """
    numbers = {row.volunteer_number for row in rows}
    volunteers = {
        volunteer.number: volunteer
        for volunteer in session.exec(select(Volunteer).where(col(Volunteer.number).in_(numbers)))
        if volunteer.unit_path.startswith(unit.path)
    }
    today = local_today()
    errors = []
    for index, row in enumerate(rows):
        where = f"rows[{index}]"
        if row.volunteer_number not in volunteers:
            message = text(
                f"本单位没有编号为 {row.volunteer_number} 的志愿者",
                f"No volunteer numbered {row.volunteer_number} in this unit",
            )
            errors.append(FieldError(f"{where}.volunteer_number", "unknown", message))
        if row.module_code not in catalogue:
            errors.append(
                FieldError(f"{where}.module_code", "unknown", _unknown_module(row.module_code))
            )
        if row.granted_on > today:
            message = text("取得日期不能晚于今天", "The date cannot be in the future")
            errors.append(FieldError(f"{where}.granted_on", "future", message))
        if row.expires_at is not None and row.expires_at <= row.granted_on:
            message = text("到期日须晚于取得日期", "The expiry must be after the grant")
            errors.append(FieldError(f"{where}.expires_at", "after_granted", message))
    if errors:
        message = text(
            f"导入未执行：{len(errors)} 处错误", f"Nothing imported: {len(errors)} errors"
        )
        raise DomainError(message, "validation_failed", 400, errors)
    granted = []
    for row in rows:
        person = session.get(Person, volunteers[row.volunteer_number].person_id)
        granted.append(
            qualifications.grant(
                session,
                person,
                catalogue[row.module_code],
                granted_on=row.granted_on,
                source=QualificationSource.imported,
                granted_by_id=by_user_id,
                expires_at=row.expires_at,
                note=reason,
            )
        )
    return granted


def qualifications_under(
    session: Session,
    unit: Unit,
    *,
    module_code: str | None = None,
    state: str | None = None,
    on: date | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[tuple[Qualification, Person]]:
    """Qualifications of people of ``unit``'s subtree, latest grant first, filtered.

    ``state``: ``valid`` (counts on ``on``), ``expiring`` (valid, expiring within 30 days),
    ``expired`` or ``revoked``.
    """
    on = on or local_today()
    query = (
        select(Qualification, Person)
        .join(Person, Person.id == Qualification.person_id)
        .where(path_in(Qualification.unit_path, unit.path))
    )
    if module_code:
        query = query.where(Qualification.module_code == module_code)
    if state == "valid":
        query = query.where(qualifications.valid_on(on))
    elif state == "expiring":
        query = query.where(
            qualifications.valid_on(on), col(Qualification.expires_at) <= on + timedelta(days=30)
        )
    elif state == "expired":
        query = query.where(
            col(Qualification.revoked_at).is_(None), col(Qualification.expires_at) <= on
        )
    elif state == "revoked":
        query = query.where(col(Qualification.revoked_at).is_not(None))
    query = query.order_by(col(Qualification.granted_on).desc(), col(Qualification.id).desc())
    return list(session.exec(query.offset(offset).limit(limit)).all())
