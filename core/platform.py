"""Everything a process needs, assembled once: settings, plugins, database and jobs.

The web app, the worker, the scheduler and the CLI each build one ``Platform``; tests build
theirs with their own plugin manager, engine and broker. Nothing here is global.
"""

import gc
from dataclasses import dataclass
from functools import cached_property

import dramatiq
import pluggy
from sqlalchemy import Engine
from sqlmodel import Session

from core.accounts.policy import Policy
from core.audit.recorder import SENSITIVE
from core.contributions import DomainEvent, TrainingModule
from core.db import SessionFactory, make_engine, make_session_factory
from core.i18n import Translator, load_translations
from core.jobs.outbox import SENDER
from core.jobs.runtime import JobRuntime
from core.plugins import CORE, Plugins, UnitHooks, make_plugin_manager
from core.security.fields import Keyring, attach_keyring
from core.security.secrets import Secrets, load_secrets
from core.settings import Settings
from core.training.catalogue import SESSION_CATALOGUE
from core.units.models import Unit
from core.units.services import enabled_plugins


@dataclass
class Platform:
    """The assembled parts of one Pingan process."""

    settings: Settings
    plugins: Plugins
    engine: Engine
    session_factory: SessionFactory
    jobs: JobRuntime
    policy: Policy
    secrets: Secrets
    keyring: Keyring

    @cached_property
    def translator(self) -> Translator:
        """Gettext over core's and every loaded plugin's catalogues."""
        return Translator(load_translations(self.plugins.folders("translations").values()))

    def unit_hooks(self, session: Session, unit: Unit) -> UnitHooks:
        """The per-unit hooks of the plugins enabled at ``unit``."""
        return self.plugins.for_unit(enabled_plugins(session, unit))

    def training_modules(self, session: Session, unit: Unit) -> list[TrainingModule]:
        """The training catalogue at ``unit``: core's modules and those of plugins enabled there."""
        owners = enabled_plugins(session, unit) | {CORE}
        return [
            module
            for code, module in self.plugins.training_modules.items()
            if self.plugins.owner_of(code) in owners
        ]

    def emit(self, session: Session, event: DomainEvent) -> None:
        """Tell the plugins enabled at the event's unit, inside ``session``'s transaction."""
        unit = session.get(Unit, event.unit_id)
        if unit is None:
            raise ValueError(f"event {event.name} names unknown unit {event.unit_id}")
        self.unit_hooks(session, unit).handle_event(event=event, session=session)


def build_platform(
    settings: Settings | None = None,
    pm: pluggy.PluginManager | None = None,
    *,
    engine: Engine | None = None,
    broker: dramatiq.Broker | None = None,
) -> Platform:
    """Assemble a platform; any part not given is built from ``settings``.

    Raises:
        core.plugins.StartupError: A plugin is broken, incompatible or registers bad names.
        core.security.secrets.SecretsError: Keys are missing (server database) or malformed.
    """
    settings = settings or Settings()
    if pm is None:
        pm = make_plugin_manager(blocked=settings.disabled_plugins, trace=settings.trace_hooks)
    plugins = Plugins(pm)
    plugins.validate()
    engine = engine or make_engine(
        settings.effective_database_url, pool_size=settings.database_pool_size
    )
    secrets = load_secrets(settings)
    keyring = Keyring(secrets)
    attach_keyring(engine, keyring)
    policy = Policy(plugins.roles, plugins.actions, settings.policy_file)
    session_info: dict[str, object] = {
        SENSITIVE: {key: field.kind for key, field in plugins.sensitive_fields.items()}
    }
    session_factory = make_session_factory(engine, session_info)
    jobs = JobRuntime(settings, session_factory, list(plugins.jobs.values()), plugins, broker)
    session_info[SENDER] = jobs
    session_info[SESSION_CATALOGUE] = plugins.training_modules
    return Platform(settings, plugins, engine, session_factory, jobs, policy, secrets, keyring)


def freeze_startup_objects() -> None:
    """Keep what a process built at start-up out of the garbage collector's way.

    Modules, plugins, a thousand route handlers and their models, templates: they live as
    long as the process, yet every full collection would walk them again. ``gc.freeze()``
    moves them into the permanent generation; measured on the city's coverage roll-up
    (12,229 units, bench/README.md (b)) this takes the platform from 1.9× to 1.0× the
    hand-written SQL. Call it once per process, after building the platform and the app,
    never in code that builds platforms repeatedly (tests): frozen cycles are never freed.
    """
    gc.collect()
    gc.freeze()
