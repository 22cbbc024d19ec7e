"""Finding a dispute under the path's unit, and telling who may see its parties and records.

The route guard has already checked that the caller may perform the route's action at the
path's unit; records are then looked up inside that unit's subtree only, so a record
elsewhere is not there (404). Within reach, the details of a case — parties, records,
agreement — are shown to holders of ``mediation.case.detail`` and to the mediators assigned
to it; everyone else sees its number, category, status and unit.
"""

from typing import TypeVar

from litestar.exceptions import NotFoundException
from sqlmodel import Session, col, select

from core.access import path_in
from core.accounts.models import User
from core.accounts.principal import Principal
from core.units.models import Unit
from plugins.mediation.models import Assignment, Dispute, Mediator
from plugins.mediation.permissions import CASE_DETAIL, CASE_MEDIATE

T = TypeVar("T")


def within(session: Session, model: type[T], record_id: int, unit: Unit) -> T:
    """Load a record whose ``unit_path`` lies under ``unit``, or answer 404."""
    record = session.get(model, record_id)
    if record is None or not path_in_python(record.unit_path, unit.path):
        raise NotFoundException(f"{model.__name__} {record_id} not found")
    return record


def path_in_python(path: str, top: str) -> bool:
    """The same test as :func:`core.access.path_in`, on values already loaded."""
    return path.startswith(top)


def child_of(session: Session, model: type[T], record_id: int, dispute: Dispute) -> T:
    """Load a record belonging to ``dispute`` (a party, term, session …), or answer 404."""
    record = session.get(model, record_id)
    if record is None or record.dispute_id != dispute.id:
        raise NotFoundException(f"{model.__name__} {record_id} not found")
    return record


def person_of(session: Session, principal: Principal) -> int | None:
    """The person record of the signed-in user, if their account has one."""
    user = session.get(User, principal.user_id)
    return user.person_id if user else None


def own_mediator_ids(session: Session, principal: Principal) -> list[int]:
    """The mediator records of the signed-in user (one per committee they serve)."""
    person_id = person_of(session, principal)
    if person_id is None:
        return []
    return list(session.exec(select(Mediator.id).where(Mediator.person_id == person_id)).all())


def is_assigned(session: Session, principal: Principal, dispute: Dispute) -> bool:
    """Whether the signed-in user is a mediator currently assigned to ``dispute``."""
    mine = own_mediator_ids(session, principal)
    if not mine:
        return False
    found = session.exec(
        select(Assignment.id).where(
            Assignment.dispute_id == dispute.id,
            col(Assignment.mediator_id).in_(mine),
            col(Assignment.ended_at).is_(None),
        )
    ).first()
    return found is not None


def sees_details(session: Session, principal: Principal, dispute: Dispute) -> bool:
    """Whether the caller may see the dispute's parties and records."""
    if principal.can(CASE_DETAIL, dispute.unit_path):
        return True
    return principal.can(CASE_MEDIATE, dispute.unit_path) and is_assigned(
        session, principal, dispute
    )


def assigned_dispute_ids(session: Session, principal: Principal) -> set[int]:
    """Ids of the disputes the caller is currently assigned to."""
    mine = own_mediator_ids(session, principal)
    if not mine:
        return set()
    return set(
        session.exec(
            select(Assignment.dispute_id).where(
                col(Assignment.mediator_id).in_(mine), col(Assignment.ended_at).is_(None)
            )
        ).all()
    )


def disputes_under(unit: Unit):
    """A query of the disputes in ``unit``'s subtree."""
    return select(Dispute).where(path_in(Dispute.unit_path, unit.path))
