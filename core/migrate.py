"""Applying, writing and checking migrations through the one Alembic environment."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlmodel import SQLModel

from core.plugins import CORE, Plugins, installed_plugins, plugin_folder_without_import

SCRIPT_LOCATION = Path(__file__).parent / "migrations"


class MigrationError(RuntimeError):
    """A migration command cannot proceed; the message says why."""


def alembic_config(plugins: Plugins) -> Config:
    """A Config whose version locations are core's and every installed plugin's.

    Blocked plugins' folders are included so that a database that once ran their migrations
    still resolves its revisions; :func:`upgrade` applies only the loaded owners' branches.
    """
    folders = dict(plugins.migration_folders())
    for plugin in installed_plugins():
        if plugin.name not in folders and (root := plugin_folder_without_import(plugin.target)):
            if (root / "migrations" / "versions").is_dir():
                folders[plugin.name] = root / "migrations" / "versions"
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", _os_joined(folders.values()))
    config.attributes["plugins"] = plugins
    config.attributes["folders"] = folders
    return config


def _os_joined(paths: object) -> str:
    import os

    return os.pathsep.join(str(path) for path in paths)


@contextmanager
def _connected(config: Config, engine: Engine) -> Iterator[Config]:
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        try:
            yield config
        finally:
            config.attributes.pop("connection", None)


def branches(plugins: Plugins) -> list[str]:
    """The branch labels to apply: core first, then each loaded plugin that has one."""
    script = ScriptDirectory.from_config(alembic_config(plugins))
    labels = {label for rev in script.walk_revisions() for label in rev.branch_labels}
    return [owner for owner in [CORE, *plugins.names] if owner in labels]


def upgrade(engine: Engine, plugins: Plugins) -> None:
    """Bring core's branch and every loaded plugin's branch to its head."""
    config = alembic_config(plugins)
    for label in branches(plugins):
        with _connected(config, engine):
            command.upgrade(config, f"{label}@head")


def heads(plugins: Plugins) -> dict[str, str]:
    """Branch label (owner) → head revision id."""
    script = ScriptDirectory.from_config(alembic_config(plugins))
    labels = {label for rev in script.walk_revisions() for label in rev.branch_labels}
    return {label: script.get_revision(f"{label}@head").revision for label in sorted(labels)}


def current(engine: Engine) -> set[str]:
    """Revision ids recorded in the database (the heads it is at)."""
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def behind(engine: Engine, plugins: Plugins) -> list[str]:
    """Loaded owners whose branch head the database has not reached."""
    script = ScriptDirectory.from_config(alembic_config(plugins))
    at = current(engine)
    applied = {rev.revision for rev in script.iterate_revisions(tuple(at), "base")} if at else set()
    return [
        owner
        for owner in branches(plugins)
        if script.get_revision(f"{owner}@head").revision not in applied
    ]


def table_filter(plugins: Plugins, owners: set[str] | None = None):
    """An Alembic ``include_object`` keeping loaded owners' tables (only ``owners``' if given).

    Tables nobody loaded declares (a blocked plugin's, ``alembic_version``) are ignored.
    """
    plugins.models  # noqa: B018 - importing the model classes fills SQLModel.metadata

    def include(obj, name, type_, reflected, compare_to):
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        if table is None:
            return True
        owner = plugins.table_owner(table)
        return owner is not None and (owners is None or owner in owners)

    return include


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write core's column types as their storage types, so migrations import nothing of ours."""
    from core.db import UTCDateTime
    from core.security.fields import Encrypted

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, Encrypted):
        return "sa.Text()"
    return False


def differences(engine: Engine, plugins: Plugins, owners: set[str] | None = None) -> list[object]:
    """What differs between the loaded owners' models and the database (empty when clean)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_object": table_filter(plugins, owners),
                "compare_type": True,
                "render_as_batch": connection.dialect.name == "sqlite",
            },
        )
        return compare_metadata(context, SQLModel.metadata)


def revision(engine: Engine, plugins: Plugins, owner: str, message: str) -> Path:
    """Autogenerate a revision for ``owner``'s tables only and return its file.

    A plugin without a branch yet gets one: based on nothing, labelled with its name, in its
    own ``migrations/versions`` folder, and depending on core's head revision.
    """
    if owner != CORE and owner not in plugins.names:
        raise MigrationError(f"no loaded plugin named {owner!r}")
    if plugins.folder(owner) is None:
        raise MigrationError(f"plugin {owner!r} has no folder of its own to hold migrations")
    config = alembic_config(plugins)
    config.attributes["owners"] = {owner}
    has_branch = owner in branches(plugins)
    options: dict[str, object] = {"message": message, "autogenerate": True}
    if has_branch:
        options["head"] = f"{owner}@head"
    else:
        folder = (
            SCRIPT_LOCATION / "versions"
            if owner == CORE
            else (plugins.folder(owner) / "migrations" / "versions")
        )
        folder.mkdir(parents=True, exist_ok=True)
        config.set_main_option(
            "version_locations", _os_joined([*config.attributes["folders"].values(), folder])
        )
        options.update(head="base", branch_label=owner, version_path=str(folder))
        if owner != CORE:
            core_head = heads(plugins).get(CORE)
            if core_head is None:
                raise MigrationError("core has no migration yet; write core's first")
            options["depends_on"] = core_head
    with _connected(config, engine):
        script = command.revision(config, **options)
    if script is None:
        raise MigrationError("alembic wrote no revision")
    return Path(script.path)
