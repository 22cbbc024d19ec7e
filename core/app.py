"""The application factory."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pluggy
from anyio import to_thread
from litestar import Litestar, Router
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

import core
from core.accounts.pages import AccountPages, SignInPages, UserPages
from core.accounts.routes import AuthController, UserController
from core.audit.pages import AuditPages
from core.audit.routes import AuditController
from core.certificates import routes as certificate_routes
from core.coverage import routes as coverage_routes
from core.hours import routes as hours_routes
from core.imports import routes as import_routes
from core.people.routes import PersonController
from core.platform import Platform, build_platform, freeze_startup_objects
from core.plugins import CORE, StartupError
from core.recruitment import routes as recruitment_routes
from core.reports import routes as report_routes
from core.scheduler import make_scheduler
from core.settings import Settings
from core.tasks import routes as task_routes
from core.templates import make_environment
from core.training import routes as training_routes
from core.unitconfig import routes as unitconfig_routes
from core.units import routes as unit_routes
from core.volunteers import routes as volunteer_routes
from core.web.api import JobController, PluginController
from core.web.auth import (
    AUTHENTICATED,
    AuthMiddleware,
    PasswordChangeRequired,
    SignInRequired,
    authorize,
    redirect_to_password_change,
    redirect_to_sign_in,
)
from core.web.deps import provide_platform, provide_session, provide_unit
from core.web.errors import EXCEPTION_HANDLERS
from core.web.headers import add_security_headers
from core.web.health import health
from core.web.locale import LocaleMiddleware
from core.web.pages import HomePages
from core.web.validation import InputPlugin

log = logging.getLogger(__name__)

CORE_ROUTES = [
    *unit_routes.ROUTES,
    *volunteer_routes.ROUTES,
    *recruitment_routes.ROUTES,
    *import_routes.ROUTES,
    *coverage_routes.ROUTES,
    *certificate_routes.ROUTES,
    *training_routes.ROUTES,
    *unitconfig_routes.ROUTES,
    *task_routes.ROUTES,
    *hours_routes.ROUTES,
    *report_routes.ROUTES,
    health,
    HomePages,
    SignInPages,
    AccountPages,
    UserPages,
    AuditPages,
    AuthController,
    UserController,
    PersonController,
    AuditController,
    JobController,
    PluginController,
]


def create_app(
    settings: Settings | None = None,
    pm: pluggy.PluginManager | None = None,
    *,
    platform: Platform | None = None,
) -> Litestar:
    """Build the web application for ``platform`` (built from ``settings`` and ``pm`` if absent).

    Middleware, dependencies and the lifespan read the platform from ``app.state.platform``
    when they run, never from what they captured here: the state is the one place naming it.

    Routes of every loaded plugin are mounted now; the one guard, ``authorize``, answers 404
    where the plugin is not enabled, so switching a plugin at a unit never re-routes the app.

    Raises:
        core.plugins.StartupError: A plugin is broken, or a route names no action.
    """
    platform = platform or build_platform(settings, pm)
    environment = make_environment(platform.plugins.folders("templates"), platform.translator)
    app = Litestar(
        route_handlers=[*CORE_ROUTES, *_plugin_routers(platform), *_static_routers(platform)],
        dependencies={
            "platform": Provide(provide_platform, sync_to_thread=False),
            "session": Provide(provide_session),
            "unit": Provide(provide_unit, sync_to_thread=True),
        },
        exception_handlers={
            **EXCEPTION_HANDLERS,
            PasswordChangeRequired: redirect_to_password_change,
            SignInRequired: redirect_to_sign_in,
        },
        guards=[authorize],
        before_send=[add_security_headers],
        middleware=[
            LocaleMiddleware(),
            AuthMiddleware(),
        ],
        csrf_config=CSRFConfig(
            secret=platform.secrets.secret_key,
            cookie_name="pingan_csrf",
            cookie_secure=platform.settings.secure_cookies,
            cookie_httponly=True,
            cookie_samesite="strict",
            exclude=["/api/"],
        ),
        plugins=[InputPlugin()],
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(environment)),
        openapi_config=OpenAPIConfig(
            title="Pingan API",
            version=core.__version__,
            path="/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        state=State({"platform": platform}),
        lifespan=[_lifespan],
    )
    _check_actions(app, platform)
    return app


def serve() -> Litestar:
    """The app of a web process: ``uvicorn --factory core.app:serve``.

    Built from the environment's settings, its start-up objects then frozen out of the
    garbage collector's way (:func:`core.platform.freeze_startup_objects`).
    """
    app = create_app()
    freeze_startup_objects()
    return app


def _plugin_routers(platform: Platform) -> list[Router]:
    routers = []
    for owner, handlers in platform.plugins.routes("register_api_routes").items():
        routers.append(
            Router(
                path=f"/api/v1/units/{{unit_id:int}}/{owner}",
                route_handlers=handlers,
                tags=[owner],
                opt={"owner": owner},
            )
        )
    for owner, handlers in platform.plugins.routes("register_page_routes").items():
        routers.append(
            Router(
                path=f"/units/{{unit_id:int}}/{owner}",
                route_handlers=handlers,
                include_in_schema=False,
                opt={"owner": owner},
            )
        )
    return routers


def _static_routers(platform: Platform) -> list[Router]:
    return [
        create_static_files_router(
            path="/static" if owner == CORE else f"/static/{owner}",
            directories=[folder],
            name=f"static-{owner}",
            opt={"action": None},
            include_in_schema=False,
        )
        for owner, folder in platform.plugins.folders("static").items()
    ]


def _check_actions(app: Litestar, platform: Platform) -> None:
    """Refuse to start if a route does not say which action it performs (deny by default).

    ``opt={"action": None}`` marks a deliberately public route, ``AUTHENTICATED`` one open to
    any signed-in user.
    """
    known = platform.plugins.actions
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if _is_framework_route(handler):
                continue
            owner = handler.opt.get("owner", CORE)
            if "action" not in handler.opt:
                raise StartupError(f"{owner}: route {route.path} declares no action in opt")
            action = handler.opt["action"]
            if action not in (None, AUTHENTICATED) and action not in known:
                raise StartupError(f"{owner}: route {route.path} names unknown action {action!r}")


def _is_framework_route(handler: object) -> bool:
    fn = getattr(handler, "fn", None)
    fn = getattr(fn, "func", fn)  # sync_to_thread wraps the function in litestar's AsyncCallable
    module = getattr(fn, "__module__", "") or ""
    return module.startswith("litestar.")


@asynccontextmanager
async def _lifespan(app: Litestar) -> AsyncIterator[None]:
    """The embedded default's job worker and scheduler, for as long as the app serves."""
    platform: Platform = app.state.platform
    scheduler = None
    if platform.settings.embedded_jobs:
        # The in-process broker's queue died with the last process: send every
        # unfinished job again before taking new work.
        await to_thread.run_sync(platform.jobs.resend_stale, timedelta(0))
        platform.jobs.start_worker()
        if platform.settings.embedded_scheduler:
            scheduler = make_scheduler(platform)
            scheduler.start()
    try:
        yield
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        if platform.settings.embedded_jobs:
            await to_thread.run_sync(platform.jobs.stop_worker)
