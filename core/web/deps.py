"""Dependencies shared by core's and the plugins' routes."""

from collections.abc import Iterator
from typing import Annotated

from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, QueryParameter
from sqlmodel import Session

from core.audit.recorder import ACTOR, AuditActor
from core.platform import Platform
from core.units.models import Unit
from core.web.auth import client_address

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="Rows per page (at most 500).")]
Offset = Annotated[int, QueryParameter(ge=0, description="Rows to skip.")]

SessionDep = NamedDependency[Session]
"""A handler parameter ``session: SessionDep`` receives a sync session (closed afterwards)."""
PlatformDep = NamedDependency[Platform]
"""A handler parameter ``platform: PlatformDep`` receives the platform."""
UnitDep = NamedDependency[Unit]
"""A handler parameter ``unit: UnitDep`` receives the path's ``{unit_id}`` unit, or 404."""


def platform_of(connection: ASGIConnection) -> Platform:
    """The platform the app was built with."""
    return connection.app.state.platform


def provide_platform(request: ASGIConnection) -> Platform:
    """Inject the platform."""
    return platform_of(request)


def provide_session(request: ASGIConnection) -> Iterator[Session]:
    """Inject a sync session, closed after the response; handlers commit explicitly.

    The session knows who acts and under which action, so every write it makes is audited
    with them.
    """
    principal = request.scope.get("user")
    with platform_of(request).session_factory() as session:
        session.info[ACTOR] = AuditActor(
            principal.user_id if principal else None,
            principal.username if principal else None,
            client_address(request.scope),
            request.route_handler.opt.get("action"),
        )
        yield session


def provide_unit(unit_id: FromPath[int], session: SessionDep) -> Unit:
    """Inject the unit named in the path, or answer 404."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFoundException(f"unit {unit_id} not found")
    return unit
