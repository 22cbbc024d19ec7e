"""Dependencies and guards shared by core's and the plugins' routes."""

from collections.abc import Iterator

from anyio import to_thread
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.handlers import BaseRouteHandler
from litestar.params import FromPath
from litestar.types import Guard
from sqlmodel import Session

from core.platform import Platform
from core.units.models import Unit
from core.units.services import enabled_plugins

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
    """Inject a sync session, closed after the response; handlers commit explicitly."""
    with platform_of(request).session_factory() as session:
        yield session


def provide_unit(unit_id: FromPath[int], session: SessionDep) -> Unit:
    """Inject the unit named in the path, or answer 404."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise NotFoundException(f"unit {unit_id} not found")
    return unit


def requires_plugin_enabled(plugin: str) -> Guard:
    """A guard answering 404 where ``plugin`` is not enabled at the path's unit."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        unit_id = connection.path_params.get("unit_id")
        platform = platform_of(connection)

        def enabled_here() -> bool:
            with platform.session_factory() as session:
                unit = session.get(Unit, unit_id)
                return unit is not None and plugin in enabled_plugins(session, unit)

        if not await to_thread.run_sync(enabled_here):
            raise NotFoundException(f"{plugin} is not enabled at unit {unit_id}")

    guard.__name__ = f"requires_{plugin}_enabled"
    return guard
