"""The one place where records are scoped to what the caller may see.

Every list and lookup of unit-scoped records goes through :func:`scoped` or
:func:`get_scoped`. A record outside the caller's reach is invisible (404), not merely
forbidden; cross-unit work (dispatch, review one level up) is granted by explicit rules in
the services that need it, never by widening this scope.
"""

from typing import Any, TypeVar

import sqlalchemy as sa
from litestar.exceptions import NotFoundException, PermissionDeniedException
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from core.accounts.principal import Principal

T = TypeVar("T")


def path_in(column: Any, path: str) -> sa.ColumnElement[bool]:
    """``column`` holds ``path`` or a path below it (an index range, no recursion)."""
    return sa.and_(column >= path, column < path[:-1] + "/")


def scope_predicate(column: Any, principal: Principal, action: str) -> sa.ColumnElement[bool]:
    """Rows whose path ``column`` lies under a grant allowing ``action``; none if no grant does."""
    paths = principal.reach(action)
    if not paths:
        return sa.false()
    return sa.or_(*(path_in(column, path) for path in paths))


def scoped(
    query: SelectOfScalar[T], column: Any, principal: Principal, action: str
) -> SelectOfScalar[T]:
    """Limit ``query`` to rows the principal may ``action``, by their path ``column``."""
    return query.where(scope_predicate(column, principal, action))


def get_scoped(
    session: Session,
    model: type[T],
    record_id: Any,
    principal: Principal,
    action: str,
    path_attribute: str = "unit_path",
) -> T:
    """Load one record the principal may ``action``.

    Raises:
        NotFoundException: It does not exist, or lies outside everything the principal sees.
        PermissionDeniedException: The principal sees it but may not do ``action`` to it.
    """
    record = session.get(model, record_id)
    path = getattr(record, path_attribute, None) if record is not None else None
    if record is None or path is None or not principal.sees(path):
        raise NotFoundException(f"{model.__name__} {record_id} not found")
    if not principal.can(action, path):
        raise PermissionDeniedException(f"not allowed: {action}")
    return record
