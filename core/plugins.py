"""Loading plugins, checking what they register, and calling them per unit.

``make_plugin_manager`` builds a fresh ``pluggy.PluginManager`` (never a global one);
``Plugins`` is the typed facade the rest of core uses instead of ``pm.hook.x(...)``.
"""

import importlib.util
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import Version

import core
from core import hookspecs
from core.contributions import (
    ACTION_NAME,
    Action,
    Label,
    ReportCategory,
    Role,
    Schedule,
    SensitiveField,
    TaskType,
    TrainingModule,
)
from core.jobs.definitions import JobDefinition

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "pingan.plugins"
PLUGIN_NAME = re.compile(r"^[a-z][a-z0-9]{1,30}$")
CATEGORY_CODE = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
CONFIG_KEY_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
CORE = "core"


class StartupError(RuntimeError):
    """The platform refuses to start; the message names the plugin and what is wrong."""


@dataclass(frozen=True)
class PluginMeta:
    """What a plugin says about itself, as ``META`` in its hook module.

    Attributes:
        name: Package, entry point, URL segment and table prefix (``mediation``).
        label: Its name for people.
        version: The plugin's version.
        requires: The core versions it works with, as ``"pingan>=0.1"``.
        restricted: Only a platform admin may enable it at a unit.
        default_enabled: Switched on at new units.
    """

    name: str
    label: Label
    version: str
    requires: str = "pingan>=0.1"
    restricted: bool = False
    default_enabled: bool = False


@dataclass(frozen=True)
class InstalledPlugin:
    """An entry point in ``pingan.plugins`` and whether this deployment blocks it."""

    name: str
    target: str
    distribution: str | None
    blocked: bool


def installed_plugins(blocked: Iterable[str] = ()) -> list[InstalledPlugin]:
    """Every plugin entry point installed, without importing any plugin."""
    blocked = set(blocked)
    return sorted(
        (
            InstalledPlugin(
                name=ep.name,
                target=ep.value,
                distribution=ep.dist.name if ep.dist else None,
                blocked=ep.name in blocked,
            )
            for ep in entry_points(group=ENTRY_POINT_GROUP)
        ),
        key=lambda plugin: plugin.name,
    )


def make_plugin_manager(
    *, blocked: Iterable[str] = (), only: Iterable[str] | None = None, trace: bool = False
) -> pluggy.PluginManager:
    """Build a plugin manager with core's hooks, the installed plugins and core's defaults.

    Args:
        blocked: Plugin names the deployment blocks (``PINGAN_DISABLED_PLUGINS``).
        only: If given, every installed plugin not named here is blocked too (tests).
        trace: Log every hook call (``PINGAN_TRACE_HOOKS``).

    Raises:
        StartupError: A plugin fails to import, has no valid ``META``, needs another core
            version, or implements a hook wrongly.
    """
    pm = pluggy.PluginManager("pingan")
    pm.add_hookspecs(hookspecs)
    names = {plugin.name for plugin in installed_plugins()}
    for name in set(blocked) | (names - set(only) if only is not None else set()):
        pm.set_blocked(name)
    _load_entry_points(pm)
    from core.defaults import DEFAULT_PLUGINS

    for module in DEFAULT_PLUGINS:
        pm.register(module, name=module.__name__)  # core.defaults.menu, core.units.hooks …
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as error:
        raise StartupError(f"plugin {_owner(pm, error.plugin)!r}: {error}") from error
    if trace:
        pm.add_hookcall_monitoring(_trace_before, _trace_after)
    return pm


def _load_entry_points(pm: pluggy.PluginManager) -> None:
    # pluggy's load_setuptools_entrypoints would do, but its errors do not say which plugin
    # failed; a deployment with several third-party plugins needs the name.
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if pm.is_blocked(ep.name) or pm.has_plugin(ep.name):
            continue
        try:
            module = ep.load()
        except Exception as error:
            raise StartupError(
                f"plugin {ep.name!r} ({ep.value}) could not be imported: "
                f"{type(error).__name__}: {error}"
            ) from error
        meta = getattr(module, "META", None)
        if not isinstance(meta, PluginMeta):
            raise StartupError(f"plugin {ep.name!r} ({ep.value}) has no PluginMeta named META")
        if meta.name != ep.name or not PLUGIN_NAME.match(meta.name):
            raise StartupError(
                f"plugin {ep.name!r}: META.name is {meta.name!r}; it must equal the entry point "
                "name and be 2–31 lowercase letters or digits"
            )
        _check_compatible(meta)
        try:
            pm.register(module, name=ep.name)
        except pluggy.PluginValidationError as error:
            raise StartupError(f"plugin {ep.name!r}: {error}") from error


def _refuse_wrappers(pm: pluggy.PluginManager) -> None:
    # A wrapper sees and can change every other plugin's results; only core may wrap.
    for name, plugin in pm.list_name_plugin():
        if plugin is None or name.startswith(f"{CORE}."):
            continue
        for caller in pm.get_hookcallers(plugin) or []:
            for impl in caller.get_hookimpls():
                if impl.plugin is plugin and (impl.wrapper or impl.hookwrapper):
                    message = f"{caller.name} is a wrapper; only core may wrap"
                    raise StartupError(f"plugin {name!r}: {message}")


def _check_compatible(meta: PluginMeta) -> None:
    try:
        requirement = Requirement(meta.requires)
    except InvalidRequirement as error:
        raise StartupError(
            f"plugin {meta.name!r}: requires {meta.requires!r} is invalid"
        ) from error
    if requirement.name != "pingan":
        raise StartupError(
            f"plugin {meta.name!r}: requires must name pingan, not {requirement.name}"
        )
    if not requirement.specifier.contains(Version(core.__version__), prereleases=True):
        raise StartupError(
            f"plugin {meta.name!r} {meta.version} requires {meta.requires}, "
            f"but this is pingan {core.__version__}"
        )


def _owner(pm: pluggy.PluginManager, plugin: object) -> str:
    name = pm.get_name(plugin) or getattr(plugin, "__name__", repr(plugin))
    return CORE if name.startswith(f"{CORE}.") else name


def _trace_before(hook_name: str, hook_impls: list[Any], kwargs: dict[str, Any]) -> None:
    log.info("hook %s → %s", hook_name, [impl.plugin_name for impl in hook_impls])


def _trace_after(
    outcome: Any, hook_name: str, hook_impls: list[Any], kwargs: dict[str, Any]
) -> None:
    log.info(
        "hook %s ← %r",
        hook_name,
        outcome.get_result() if outcome.exception is None else outcome.exception,
    )


class Plugins:
    """The typed facade over a plugin manager: registries, folders and per-unit callers.

    Registries are collected on first use and checked: names carry their owner's prefix and
    are unique. Call :meth:`validate` at start-up to fail early.
    """

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm
        self._unit_hooks: dict[frozenset[str], UnitHooks] = {}

    # -- plugins ----------------------------------------------------------------------------

    @cached_property
    def names(self) -> list[str]:
        """Names of the loaded plugins (core's defaults excluded), in load order."""
        return [
            name
            for name, plugin in self.pm.list_name_plugin()
            if plugin is not None and not name.startswith(f"{CORE}.")  # None: blocked
        ]

    def module(self, name: str) -> ModuleType:
        """The hook module registered as ``name``."""
        return self.pm.get_plugin(name)

    def meta(self, name: str) -> PluginMeta:
        """The ``META`` of a loaded plugin."""
        return self.module(name).META

    def folder(self, name: str) -> Path | None:
        """The folder of a loaded plugin's hook module (``core`` for core's own).

        None for a plugin registered as an object rather than a module file: it brings no
        files of its own.
        """
        if name == CORE:
            return Path(core.__file__).parent
        source = getattr(self.module(name), "__file__", None)
        return Path(source).parent if source else None

    def hooks_implemented(self, name: str) -> list[str]:
        """Names of the hooks a loaded plugin implements."""
        return sorted(caller.name for caller in self.pm.get_hookcallers(self.module(name)) or [])

    def folders(self, relative: str) -> dict[str, Path]:
        """Owner → ``relative`` folder, for core and each loaded plugin that has one."""
        found = {}
        for owner in [CORE, *self.names]:
            folder = self.folder(owner)
            if folder is not None and (folder / relative).is_dir():
                found[owner] = folder / relative
        return found

    def migration_folders(self) -> dict[str, Path]:
        """Owner → Alembic versions folder; core's lives in ``core/migrations/versions``."""
        return self.folders("migrations/versions")

    # -- registries -------------------------------------------------------------------------

    def _collect(self, hook_name: str) -> list[tuple[str, Any]]:
        """Call a no-argument register hook plugin by plugin: ``(owner, item)`` pairs.

        Each plugin is called through its own subset caller, so hook tracing sees the call.
        """
        pairs = []
        for impl in reversed(getattr(self.pm.hook, hook_name).get_hookimpls()):
            owner = _owner(self.pm, impl.plugin)
            for result in self.call_one(impl.plugin_name, hook_name):
                pairs.extend((owner, item) for item in result or [])
        return pairs

    @cached_property
    def models(self) -> dict[str, list[type]]:
        """Owner → SQLModel table classes."""
        owned: dict[str, list[type]] = {}
        tables: dict[str, str] = {}
        for owner, model in self._collect("register_models"):
            table = model.__tablename__
            if owner != CORE and not table.startswith(f"{owner}_"):
                raise StartupError(f"plugin {owner!r}: table {table!r} must start with '{owner}_'")
            if table in tables:
                raise StartupError(
                    f"plugin {owner!r}: table {table!r} is already {tables[table]!r}'s"
                )
            tables[table] = owner
            owned.setdefault(owner, []).append(model)
        return owned

    def table_owner(self, table_name: str) -> str | None:
        """Which owner declared ``table_name``, if any."""
        for owner, models in self.models.items():
            if any(model.__tablename__ == table_name for model in models):
                return owner
        return None

    @cached_property
    def actions(self) -> dict[str, Action]:
        """Action name → action, core's and every plugin's."""
        return self._named("register_permissions", lambda action: action.name, Action, ACTION_NAME)

    @cached_property
    def task_types(self) -> dict[str, TaskType]:
        """Task type code → task type."""
        return self._named("register_task_types", lambda t: t.code, TaskType)

    @cached_property
    def training_modules(self) -> dict[str, TrainingModule]:
        """Training module code → module, each with its content, departments and roles known."""
        from core.training.catalogue import content_problem
        from core.training.departments import DEPARTMENTS
        from core.volunteers.models import TeamRole

        modules = self._named("register_training_modules", lambda m: m.code, TrainingModule)
        folders = self.folders("training")
        roles = set(self.roles) | {role.value for role in TeamRole}
        for code, module in modules.items():
            owner = self.owner_of(code)
            problem = content_problem(folders.get(owner), module)
            unknown = [d for d in module.departments if d not in DEPARTMENTS]
            unknown += [r for r in module.required_roles if r not in roles]
            if problem or unknown:
                wrong = problem or f"unknown department or role {', '.join(unknown)}"
                raise StartupError(f"plugin {owner!r}: training module {code!r}: {wrong}")
        return modules

    @cached_property
    def jobs(self) -> dict[str, JobDefinition]:
        """Job name → definition."""
        return self._named("register_jobs", lambda j: j.name, JobDefinition)

    @cached_property
    def schedules(self) -> list[Schedule]:
        """Every schedule, each naming a job of its own owner."""
        schedules = []
        for owner, schedule in self._collect("register_schedules"):
            if not isinstance(schedule, Schedule):
                raise StartupError(f"plugin {owner!r}: register_schedules returned {schedule!r}")
            if schedule.job not in self.jobs or not schedule.job.startswith(f"{owner}."):
                raise StartupError(f"plugin {owner!r}: schedule names unknown job {schedule.job!r}")
            schedules.append(schedule)
        return schedules

    @cached_property
    def roles(self) -> dict[str, Role]:
        """Role name → role. Core's roles are bare (``city_admin``), plugins' prefixed."""
        roles: dict[str, Role] = {}
        for owner, role in self._collect("register_roles"):
            if not isinstance(role, Role):
                raise StartupError(f"plugin {owner!r}: register_roles returned {role!r}")
            if owner != CORE and not role.name.startswith(f"{owner}."):
                raise StartupError(
                    f"plugin {owner!r}: role {role.name!r} must start with '{owner}.'"
                )
            if role.name in roles:
                raise StartupError(f"plugin {owner!r}: role {role.name!r} is registered twice")
            roles[role.name] = role
        return roles

    @cached_property
    def sensitive_fields(self) -> dict[tuple[str, str], SensitiveField]:
        """``(table, field)`` → sensitive field, each on a table its declarer owns."""
        fields: dict[tuple[str, str], SensitiveField] = {}
        for owner, item in self._collect("register_sensitive_fields"):
            if not isinstance(item, SensitiveField):
                raise StartupError(f"plugin {owner!r}: register_sensitive_fields returned {item!r}")
            if self.table_owner(item.table) != owner:
                raise StartupError(f"plugin {owner!r}: table {item.table!r} is not its own")
            if item.reveal_action not in self.actions:
                raise StartupError(
                    f"plugin {owner!r}: unknown reveal action {item.reveal_action!r}"
                )
            fields[(item.table, item.field)] = item
        return fields

    @cached_property
    def report_categories(self) -> dict[str, ReportCategory]:
        """Code → report category (with its label): core's, then those plugins add."""
        return self._report_categories[0]

    @cached_property
    def report_category_takers(self) -> dict[str, str]:
        """Code → the plugin that takes the category; core's untaken categories are absent."""
        return self._report_categories[1]

    @cached_property
    def _report_categories(self) -> tuple[dict[str, ReportCategory], dict[str, str]]:
        items = self._collect("register_report_categories")
        for owner, item in items:
            if not isinstance(item, ReportCategory):
                raise StartupError(
                    f"plugin {owner!r}: register_report_categories returned {item!r}"
                )
        categories: dict[str, ReportCategory] = {}
        for owner, item in items:
            if owner != CORE:
                continue
            if item.label is None or not CATEGORY_CODE.match(item.code):
                raise StartupError(
                    f"core: report category {item.code!r} needs a bare code and a label"
                )
            categories[item.code] = item
        takers: dict[str, str] = {}
        for owner, item in items:
            if owner == CORE:
                continue
            if item.label is None:
                if item.code not in categories or "." in item.code:
                    raise StartupError(
                        f"plugin {owner!r}: takes unknown report category {item.code!r}; "
                        f"core's are {sorted(c for c in categories if '.' not in c)}"
                    )
            else:
                rule = f"{owner}.<name>"
                name = item.code.removeprefix(f"{owner}.")
                if name == item.code or not CATEGORY_CODE.match(name):
                    raise StartupError(
                        f"plugin {owner!r}: report category {item.code!r} must be {rule}"
                    )
                if item.code in categories:
                    raise StartupError(f"plugin {owner!r}: report category {item.code!r} twice")
                categories[item.code] = item
            if item.code in takers:
                raise StartupError(
                    f"plugin {owner!r}: report category {item.code!r} is already taken by "
                    f"{takers[item.code]!r}; only one plugin may take a category"
                )
            takers[item.code] = owner
        return categories, takers

    @cached_property
    def config_keys(self) -> dict[str, Any]:
        """Key name → :class:`core.unitconfig.services.ConfigKey`, core's and every plugin's.

        Names are ``<area>.<rule>`` (core) or ``<plugin>.<rule>``, unique, and each default
        must be a valid value of its key's type.
        """
        from core.unitconfig.services import ConfigKey

        keys: dict[str, ConfigKey] = {}
        for owner, key in self._collect("register_config_keys"):
            if not isinstance(key, ConfigKey):
                raise StartupError(f"plugin {owner!r}: register_config_keys returned {key!r}")
            area = key.name.split(".", 1)[0]
            owned = area not in self.names if owner == CORE else area == owner
            if not CONFIG_KEY_NAME.match(key.name) or not owned:
                rule = "<area>.<rule>" if owner == CORE else f"{owner}.<rule>"
                raise StartupError(f"plugin {owner!r}: config key {key.name!r} must be {rule}")
            if key.name in keys:
                raise StartupError(f"plugin {owner!r}: config key {key.name!r} is declared twice")
            try:
                key.parse(key.dump(key.default))
            except Exception as error:
                raise StartupError(
                    f"plugin {owner!r}: config key {key.name!r} has an invalid default: {error}"
                ) from error
            keys[key.name] = key
        return keys

    def owner_of(self, name: str) -> str:
        """The owner of a dotted registry name (``mediation.case.read`` → ``mediation``)."""
        return name.split(".", 1)[0]

    def _named(
        self, hook_name: str, key: Any, kind: type, pattern: re.Pattern[str] | None = None
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for owner, item in self._collect(hook_name):
            if not isinstance(item, kind):
                raise StartupError(f"plugin {owner!r}: {hook_name} returned {item!r}")
            name = key(item)
            if not name.startswith(f"{owner}.") or (pattern and not pattern.match(name)):
                rule = pattern.pattern if pattern else f"'{owner}.<name>'"
                raise StartupError(f"plugin {owner!r}: {hook_name} name {name!r} must match {rule}")
            if name in found:
                raise StartupError(f"plugin {owner!r}: {hook_name} registers {name!r} twice")
            found[name] = item
        return found

    def routes(self, hook_name: str) -> dict[str, list[Any]]:
        """Owner → handlers from ``register_api_routes`` or ``register_page_routes``."""
        routes: dict[str, list[Any]] = {}
        for owner, handler in self._collect(hook_name):
            routes.setdefault(owner, []).append(handler)
        return routes

    def validate(self) -> None:
        """Check plugins now, so a bad one stops start-up, not a later request.

        No plugin may wrap a hook, and every registry is collected and checked.
        """
        _refuse_wrappers(self.pm)
        for attribute in (
            "models",
            "actions",
            "roles",
            "sensitive_fields",
            "task_types",
            "training_modules",
            "jobs",
            "schedules",
            "report_categories",
            "config_keys",
        ):
            getattr(self, attribute)

    # -- calls ------------------------------------------------------------------------------

    def export_volunteers(self, file_format: str, volunteers: list) -> bytes | None:
        """The file of the first plugin (core's writer last) that writes ``file_format``."""
        return self.pm.hook.export_volunteers(format=file_format, volunteers=volunteers)

    def register_commands(self, cli: Any) -> None:
        """Let every plugin add its commands to the ``pingan`` group."""
        self.pm.hook.register_commands(cli=cli)

    def call_one(self, plugin: str, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call ``hook_name`` on ``plugin`` alone (``on_plugin_enabled`` and the like)."""
        others = [p for name, p in self.pm.list_name_plugin() if name != plugin and p is not None]
        return self.pm.subset_hook_caller(hook_name, remove_plugins=others)(**kwargs)

    def for_unit(self, enabled: Iterable[str]) -> "UnitHooks":
        """Hook callers that reach core and the plugins in ``enabled`` only."""
        key = frozenset(enabled) & frozenset(self.names)
        if key not in self._unit_hooks:
            self._unit_hooks[key] = UnitHooks(self.pm, [n for n in self.names if n not in key])
        return self._unit_hooks[key]


class UnitHooks:
    """The per-unit hooks, limited to the plugins enabled there (pytest's ``FSHookProxy``).

    Plugins therefore never ask whether they are on: a disabled plugin is simply not called.
    """

    def __init__(self, pm: pluggy.PluginManager, disabled: list[str]) -> None:
        remove = [pm.get_plugin(name) for name in disabled]
        self.menu_items = pm.subset_hook_caller("menu_items", remove_plugins=remove)
        self.dashboard_figures = pm.subset_hook_caller("dashboard_figures", remove_plugins=remove)
        self.handle_event = pm.subset_hook_caller("handle_event", remove_plugins=remove)
        self.check_assignment = pm.subset_hook_caller("check_assignment", remove_plugins=remove)


def flatten(results: Iterable[list[Any] | None]) -> list[Any]:
    """Join the lists that a non-firstresult hook returns."""
    return [item for result in results for item in (result or [])]


def plugin_folder_without_import(target: str) -> Path | None:
    """The folder of an entry point's module, found without running the module itself."""
    try:
        spec = importlib.util.find_spec(target.split(":")[0])
    except (ImportError, ValueError):
        return None
    return Path(spec.origin).parent if spec and spec.origin else None
