"""Every hook a Pingan plugin can implement.

Hooks are called with keyword arguments only. ``register_*`` hooks run once at start-up and
return registries of objects that core checks (names, prefixes, duplicates) before it serves
anything; the per-unit hooks (``menu_items``, ``dashboard_figures``, ``handle_event``,
``check_assignment``) are
called only for plugins enabled at the unit concerned. Plugins declare; core decides:
no hook answers "is this allowed?" except :func:`check_assignment`, which adds reasons to
refuse that core weighs and shows.

A plugin brings some things by layout rather than by hook, next to its ``plugin.py``:
``templates/<name>/`` (jinja2), ``static/`` (served at ``/static/<name>/``),
``migrations/versions/`` (its Alembic branch), ``training/`` (module content) and
``translations/`` (babel catalogues). See ``docs/plugin_hooks.md``.
"""

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    import click
    from litestar import Router
    from litestar.handlers import HTTPRouteHandler
    from sqlmodel import Session, SQLModel

    from core.contributions import (
        Action,
        AssignmentCheck,
        DomainEvent,
        Figure,
        MenuItem,
        Refusal,
        ReportCategory,
        Role,
        Schedule,
        SensitiveField,
        TaskType,
        TrainingModule,
    )
    from core.jobs.definitions import JobDefinition
    from core.unitconfig.services import ConfigKey
    from core.units.models import Unit

hookspec = pluggy.HookspecMarker("pingan")
hookimpl = pluggy.HookimplMarker("pingan")


@hookspec
def register_models() -> "list[type[SQLModel]]":
    """Return the plugin's SQLModel table classes.

    Table names must start with ``<plugin>_``. The tables themselves are created by the
    plugin's own Alembic branch in ``migrations/versions/``; this list tells core which tables
    the plugin owns (for ``pingan db revision --plugin`` and ``pingan db check``).

    :return: Table classes (``table=True``).

    .. versionadded:: 0.1
    """


@hookspec
def register_api_routes() -> "list[type | Router | HTTPRouteHandler]":
    """Return controllers, routers or route handlers for the JSON API.

    Core mounts them under ``/api/v1/units/{unit_id:int}/<plugin>``, guarded so that they
    answer 404 where the plugin is not enabled. Every handler must name the action it performs
    in ``opt={"action": "<plugin>.<object>.<verb>"}``; a handler without one is refused at
    start-up.

    :return: Litestar controllers, routers or handlers.

    .. versionadded:: 0.1
    """


@hookspec
def register_page_routes() -> "list[type | Router | HTTPRouteHandler]":
    """Return controllers, routers or route handlers for server-rendered pages.

    Mounted like :func:`register_api_routes`, but under ``/units/{unit_id:int}/<plugin>`` and
    left out of the OpenAPI schema. Templates are found as ``"<plugin>/<file>.html"`` and
    core's as ``"core:base.html"``.

    :return: Litestar controllers, routers or handlers.

    .. versionadded:: 0.1
    """


@hookspec
def register_permissions() -> "list[Action]":
    """Return the actions the plugin's routes and menu items name.

    Names are ``<plugin>.<object>.<verb>``; ``sensitive=True`` marks actions that reveal or
    export personal data. Roles are mapped to actions by configuration, never by the plugin.

    :return: Actions.

    .. versionadded:: 0.1
    """


@hookspec
def register_roles() -> "list[Role]":
    """Return the roles the plugin brings (department roles such as ``mediation.mediator``).

    Names are ``<plugin>.<role>``; the default actions must be the plugin's own or core's.
    Users hold roles at units and reach the unit's subtree. The deployment's policy file may
    change which actions a role allows.

    :return: Roles.

    .. versionadded:: 0.1
    """


@hookspec
def register_sensitive_fields() -> "list[SensitiveField]":
    """Return the fields of the plugin's tables that hold personal data.

    Core masks them in every response and export unless the caller reveals them, which needs
    ``reveal_action`` and a reason, and is written to the audit trail. Store them with
    ``core.security.fields.Encrypted`` so they are encrypted at rest.

    :return: Sensitive fields of tables named ``<plugin>_…``.

    .. versionadded:: 0.1
    """


@hookspec
def register_task_types() -> "list[TaskType]":
    """Return the kinds of task the plugin adds (codes ``<plugin>.<type>``).

    :return: Task types.

    .. versionadded:: 0.1
    """


@hookspec
def register_training_modules() -> "list[TrainingModule]":
    """Return the training modules the plugin brings; content lives in its ``training/``.

    Codes are ``<plugin>.<module>``. A module disappears from a unit's catalogue where the
    plugin is not enabled.

    :return: Training modules.

    .. versionadded:: 0.1
    """


@hookspec
def register_jobs() -> "list[JobDefinition]":
    """Return the plugin's background jobs, made with :func:`core.jobs.job`.

    Job names are ``<plugin>.<job>``. Core declares them on the deployment's broker after it
    is configured, so defining a job never binds it to a broker at import time. Jobs take ids,
    and must be idempotent: they may run more than once.

    :return: Job definitions.

    .. versionadded:: 0.1
    """


@hookspec
def register_schedules() -> "list[Schedule]":
    """Return when periodic jobs should run (deadline sweeps, reminders, statistics).

    The single scheduler records each due run as a job row, so runs survive a broker outage.
    Sweeps should recompute what is due from the database so a missed run heals itself.

    :return: Schedules naming jobs from :func:`register_jobs`.

    .. versionadded:: 0.1
    """


@hookspec
def register_report_categories() -> "list[ReportCategory]":
    """Return the report categories the plugin takes: new ones, or core's by code.

    A :class:`~core.contributions.ReportCategory` with a label adds a category named
    ``<plugin>.<name>``; one without a label takes a category core declares (``clue``,
    ``opinion``, ``hazard``, ``dispute``). A report of a category the plugin takes, submitted
    where the plugin is enabled, is recorded as routed to it, and the plugin hears of it
    through :func:`handle_event` (event ``core.report.submitted``, payload ``report_id`` and
    ``category``). The handling office still triages and answers the report; the plugin does
    its own work on it (a mediation lead, a hazard inspection). At most one plugin takes each
    category, so routing never depends on plugin order.

    :return: Report categories.

    .. versionadded:: 0.2
    """


@hookspec
def register_config_keys() -> "list[ConfigKey]":
    """Return the per-unit settings the plugin reads (deadlines, limits, local rules).

    Each :class:`~core.unitconfig.services.ConfigKey` is named ``<plugin>.<rule>`` and holds a
    label, a pydantic type, a default and a help text. Offices set values per unit from a
    date on, for the unit's whole subtree, on the unit's settings page; the plugin reads the
    value in force with :func:`core.unitconfig.services.setting`. The default must be valid
    for the type.

    :return: Configuration keys.

    .. versionadded:: 0.2
    """


@hookspec
def register_commands(cli: "click.Group") -> None:
    """Add commands to the ``pingan`` command line.

    :param cli: The root ``click`` group; add commands or groups to it.

    .. versionadded:: 0.1
    """


@hookspec
def menu_items(unit: "Unit", actor: object | None) -> "list[MenuItem]":
    """Return navigation entries for a unit's pages.

    Called only for plugins enabled at ``unit``. Core drops the entries whose
    ``required_action`` the actor may not perform, so plugins never check permissions.

    :param unit: The unit whose pages are shown.
    :param actor: Who is looking (``None`` for an anonymous visitor).
    :return: Menu items.

    .. versionadded:: 0.1
    """


@hookspec
def dashboard_figures(unit: "Unit", actor: object | None, session: "Session") -> "list[Figure]":
    """Return figures for a unit's dashboard, computed for that unit's subtree.

    Called only for plugins enabled at ``unit``; filtered like :func:`menu_items`.

    :param unit: The unit whose dashboard is shown.
    :param actor: Who is looking (``None`` for an anonymous visitor).
    :param session: A read-only database session.
    :return: Figures.

    .. versionadded:: 0.1
    """


@hookspec
def handle_event(event: "DomainEvent", session: "Session") -> None:
    """React to a domain event, inside the transaction that caused it.

    One hook for every event: look at ``event.name``. Called only for plugins enabled at
    ``event.unit_id``. Whatever the plugin writes through ``session`` commits or rolls back
    with the change that caused the event; slow work belongs in a job recorded with
    :func:`core.jobs.enqueue`, which is sent only after that commit.

    :param event: What happened.
    :param session: The session of the transaction that caused it.

    .. versionadded:: 0.1
    """


@hookspec
def check_assignment(check: "AssignmentCheck", session: "Session") -> "list[Refusal]":
    """Add a rule to the eligibility check of a volunteer for a shift.

    Called only for plugins enabled at ``check.unit_id``, after core's own rules (status,
    age, overlap, rest) and before anything is written, for every assignment however it is
    made: by a leader, by sign-up, by cross-region dispatch. Core refuses the assignment when
    any answer holds a blocking :class:`~core.contributions.Refusal` and shows every message,
    blocking or not, to whoever assigns; a plugin never refuses by raising. Answer quickly:
    the check runs inside the assigning request.

    :param check: The proposed assignment.
    :param session: The assigning transaction's session (read; do not write).
    :return: Refusals and warnings; an empty list when the rule is satisfied.

    .. versionadded:: 0.2
    """


@hookspec(firstresult=True)
def export_volunteers(format: str, volunteers: list) -> "bytes | None":
    """Write the national registry export of volunteers as a file in ``format``.

    Stops at first non-None result. Core's own implementation runs last (``trylast``) and
    writes ``xlsx`` (every cell text, never a formula) and ``csv`` (cells escaped with
    ``core.security.csv.safe_cell``); a plugin replaces it by returning bytes for those
    formats, or adds a format, and returns None for formats it does not write. Called once
    per export, after core has checked ``core.volunteer.export`` and before it audits the
    export; the implementation must not filter, reorder or log the rows.

    :param format: The file format asked for: ``xlsx``, ``csv`` or one a plugin writes
        (lowercase letters and digits).
    :param volunteers: The export table: the header row first (the configured columns'
        headers, in order), then one row per volunteer, each a list of cell texts in the same
        order. ID numbers and phones are in clear: keep the bytes out of logs and caches.
    :return: The file's content, or None when this implementation does not write ``format``.

    .. versionadded:: 0.1
    """


@hookspec
def on_plugin_enabled(unit: "Unit", session: "Session") -> None:
    """Prepare the plugin's data for a unit where it has just been enabled.

    Called for the toggled plugin only, in the transaction that enables it.

    :param unit: The unit (its whole subtree is now covered).
    :param session: The enabling transaction's session.

    .. versionadded:: 0.1
    """


@hookspec
def on_plugin_disabled(unit: "Unit", session: "Session") -> None:
    """Tidy up after the plugin has been disabled at a unit. Never delete domain data.

    Called for the toggled plugin only, in the transaction that disables it.

    :param unit: The unit.
    :param session: The disabling transaction's session.

    .. versionadded:: 0.1
    """
