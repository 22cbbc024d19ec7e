"""What the plugin's API and pages share: the acting user, scoped lookups, money in answers."""

from typing import Any, TypeVar

from litestar import Request
from litestar.exceptions import NotFoundException, PermissionDeniedException
from sqlmodel import Session

from core.audit.recorder import record
from core.units.models import Unit
from plugins.insurance.approvals import Actor, actor_of

T = TypeVar("T")


def acting(request: Request, session: Session) -> Actor:
    """The signed-in user as an actor (with the client address the audit context holds)."""
    return actor_of(session, request.scope["user"])


def within(session: Session, model: type[T], record_id: int, unit: Unit) -> T:
    """The record of that id held in ``unit``'s subtree, or 404."""
    found = session.get(model, record_id)
    if found is None or not str(getattr(found, "unit_path", "")).startswith(unit.path):
        raise NotFoundException(f"{model.__name__} {record_id} not found")
    return found


def require(request: Request, action: str, path: str) -> None:
    """403 unless the caller may ``action`` at ``path`` (a second action some routes need)."""
    if not request.scope["user"].can(action, path):
        raise PermissionDeniedException(f"not allowed: {action}")


def audit_export(
    session: Session, action: str, unit: Unit, name: str, rows: int, **after: Any
) -> None:
    """Write an export to the audit trail."""
    record(
        session,
        "export",
        action=action,
        object_type="insurance_report",
        object_id=name,
        unit_path=unit.path,
        after={"report": name, "rows": rows, **after},
    )
