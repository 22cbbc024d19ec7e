"""Core's pages: the home page, a unit's home, and the jobs list."""

from typing import Annotated

from litestar import Controller, Request, get
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from sqlmodel import col, select

from core.jobs.models import Job, JobStatus
from core.jobs.query import jobs_in_reach
from core.units.models import Unit
from core.units.services import effective_plugins
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.navigation import dashboard, home_page_of, home_unit, unit_page


class HomePages(Controller):
    """The pages every installation has."""

    include_in_schema = False

    @get("/", sync_to_thread=True, opt={"action": None})
    def home(self, request: Request, session: SessionDep) -> Redirect:
        """Sign in, then go to the highest unit one holds a role at (or one's account)."""
        principal = request.scope.get("user")
        if principal is None:
            return Redirect("/login")
        unit = home_unit(session, principal)
        if unit is None or not principal.sees(unit):
            return Redirect("/account/")
        return Redirect(f"/units/{unit.id}/")

    @get("/units/{unit_id:int}/", sync_to_thread=True, opt={"action": "core.unit.read"})
    def unit_home(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """A unit's home: its menu, figures, sub-units and plugins."""
        actor = request.scope.get("user")
        children = session.exec(
            select(Unit).where(Unit.parent_id == unit.id).order_by(Unit.code, Unit.id)
        ).all()
        switches = effective_plugins(session, unit)
        plugins = [
            (platform.plugins.meta(name), switches.get(name, False))
            for name in platform.plugins.names
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
        """Recent background jobs in reach and their state."""
        principal = request.scope["user"]
        query = jobs_in_reach(principal).order_by(col(Job.created_at).desc()).limit(200)
        if status is not None:
            query = query.where(Job.status == status)
        return Template(
            "core:jobs.html",
            context={
                "nav": home_page_of(platform, session, principal),
                "jobs": session.exec(query).all(),
                "status": status,
                "statuses": list(JobStatus),
            },
        )
