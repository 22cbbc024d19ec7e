"""Core's pages: the home page, a unit's home, and the jobs list."""

from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Template
from sqlmodel import col, select

from core.jobs.models import Job, JobStatus
from core.units.models import Unit
from core.units.services import effective_plugins
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.navigation import dashboard, unit_page


def _root(session: SessionDep) -> Unit | None:
    return session.exec(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id)).first()


class HomePages(Controller):
    """The pages every installation has."""

    include_in_schema = False

    @get("/", sync_to_thread=True, opt={"action": None})
    def home(self, request: Request, session: SessionDep, platform: PlatformDep) -> Template:
        """The home page: the top unit's dashboard, or how to get started."""
        root = _root(session)
        if root is None:
            return Template("core:empty.html", context={})
        return self._unit_home(request, session, platform, root)

    @get("/units/{unit_id:int}/", sync_to_thread=True, opt={"action": "core.unit.read"})
    def unit_home(self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep) -> Template:
        """A unit's home: its menu, figures, sub-units and plugins."""
        return self._unit_home(request, session, platform, unit)

    def _unit_home(self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep) -> Template:
        actor = getattr(request.state, "actor", None)
        children = session.exec(select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.code, Unit.id)).all()
        switches = effective_plugins(session, unit)
        plugins = [
            (platform.plugins.meta(name), switches.get(name, False)) for name in platform.plugins.names
        ]
        return Template(
            "core:unit_home.html",
            context={
                "page": unit_page(platform, session, unit, actor),
                "figures": dashboard(platform, session, unit, actor),
                "children": children,
                "plugins": plugins,
            },
        )

    @get("/jobs", sync_to_thread=True, opt={"action": "core.job.read"})
    def jobs(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        status: Annotated[JobStatus | None, QueryParameter()] = None,
    ) -> Template:
        """Recent background jobs and their state."""
        query = select(Job).order_by(col(Job.created_at).desc()).limit(200)
        if status is not None:
            query = query.where(Job.status == status)
        root = _root(session)
        actor = getattr(request.state, "actor", None)
        return Template(
            "core:jobs.html",
            context={
                "page": unit_page(platform, session, root, actor) if root else None,
                "jobs": session.exec(query).all(),
                "status": status,
                "statuses": list(JobStatus),
            },
        )
