"""Core's JSON API: jobs, installed plugins, and per-unit plugin switches."""

from typing import Annotated

from litestar import Controller, Request, get, put
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlmodel import col

from core.i18n import text
from core.jobs.models import Job, JobStatus
from core.jobs.query import jobs_in_reach
from core.jobs.schemas import JobRead
from core.units.schemas import PluginRead, PluginState, PluginSwitch
from core.units.services import effective_plugins, set_plugin_enabled
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.errors import DomainError


class JobController(Controller):
    """Background jobs and their state."""

    path = "/api/v1/jobs"
    tags = ["jobs"]

    @get("/", sync_to_thread=True, operation_id="ListJobs", opt={"action": "core.job.read"})
    def list_jobs(
        self,
        request: Request,
        session: SessionDep,
        status: Annotated[JobStatus | None, QueryParameter()] = None,
        name: Annotated[str | None, QueryParameter(max_length=100)] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
    ) -> list[JobRead]:
        """List recent jobs, newest first."""
        query = (
            jobs_in_reach(request.scope["user"]).order_by(col(Job.created_at).desc()).limit(limit)
        )
        if status is not None:
            query = query.where(Job.status == status)
        if name is not None:
            query = query.where(Job.name == name)
        return [JobRead.model_validate(job) for job in session.exec(query)]

    @get(
        "/{job_id:str}", sync_to_thread=True, operation_id="GetJob", opt={"action": "core.job.read"}
    )
    def get_job(self, request: Request, session: SessionDep, job_id: FromPath[str]) -> JobRead:
        """One job, if in reach."""
        job = session.exec(jobs_in_reach(request.scope["user"]).where(Job.id == job_id)).first()
        if job is None:
            raise NotFoundException(f"job {job_id} not found")
        return JobRead.model_validate(job)


class PluginController(Controller):
    """Installed plugins and where they are enabled."""

    tags = ["plugins"]

    @get(
        "/api/v1/plugins",
        sync_to_thread=False,
        operation_id="ListPlugins",
        opt={"action": "core.plugin.read"},
    )
    def list_plugins(self, platform: PlatformDep) -> list[PluginRead]:
        """The plugins loaded in this deployment."""
        plugins = platform.plugins
        return [
            PluginRead(
                name=name,
                label_zh=plugins.meta(name).label.zh,
                label_en=plugins.meta(name).label.en,
                version=plugins.meta(name).version,
                restricted=plugins.meta(name).restricted,
                default_enabled=plugins.meta(name).default_enabled,
                hooks=plugins.hooks_implemented(name),
            )
            for name in plugins.names
        ]

    @get(
        "/api/v1/units/{unit_id:int}/plugins",
        sync_to_thread=True,
        operation_id="ListUnitPlugins",
        opt={"action": "core.plugin.read"},
    )
    def unit_plugins(
        self, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> list[PluginState]:
        """Whether each loaded plugin is on at the unit."""
        switches = effective_plugins(session, unit)
        return [PluginState(name=n, enabled=switches.get(n, False)) for n in platform.plugins.names]

    @put(
        "/api/v1/units/{unit_id:int}/plugins/{name:str}",
        sync_to_thread=True,
        operation_id="SwitchUnitPlugin",
        opt={"action": "core.plugin.manage"},
    )
    def switch_plugin(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        name: FromPath[str],
        data: JSONBody[PluginSwitch],
    ) -> PluginState:
        """Turn a plugin on or off for the unit's subtree; its data is never deleted."""
        if name not in platform.plugins.names:
            raise DomainError(
                text(f"没有名为 {name} 的专项模块", f"No plugin named {name!r} is installed"),
                code="unknown_plugin",
                status=404,
            )
        principal = request.scope["user"]
        if platform.plugins.meta(name).restricted and not principal.can(
            "core.plugin.manage_restricted", unit
        ):
            raise DomainError(
                text(
                    "受限专项模块只能由平台管理员启用或停用",
                    "Only a platform admin may switch a restricted plugin",
                ),
                code="not_allowed",
                status=403,
            )
        switch(platform, session, unit, name, data.enabled, changed_by=principal.username)
        session.commit()
        return PluginState(name=name, enabled=data.enabled)


def switch(
    platform: PlatformDep,
    session: SessionDep,
    unit: UnitDep,
    name: str,
    enabled: bool,
    *,
    changed_by: str | None,
) -> bool:
    """Switch a plugin at a unit and tell that plugin, in the same transaction."""
    changed = set_plugin_enabled(session, unit, name, enabled, changed_by=changed_by)
    if changed:
        hook = "on_plugin_enabled" if enabled else "on_plugin_disabled"
        platform.plugins.call_one(name, hook, unit=unit, session=session)
    return changed
