"""The ``pingan`` command line."""

import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field

import click

import core
from core.plugins import StartupError, installed_plugins, make_plugin_manager
from core.settings import Settings

log = logging.getLogger("pingan")

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class CliState:
    """What every command shares: the settings, the plugin manager, a platform on demand."""

    settings: Settings
    pm: object
    _platform: object = field(default=None, repr=False)

    @property
    def platform(self):
        """The assembled platform, built on first use."""
        if self._platform is None:
            from core.platform import build_platform

            self._platform = build_platform(self.settings, self.pm)
        return self._platform


pass_state = click.make_pass_decorator(CliState)


@click.group()
@click.version_option(core.__version__, prog_name="pingan")
def cli() -> None:
    """Pingan (平安): task and case management for the public-safety volunteer service."""


@cli.command()
@click.option("--host", default=None, help="Interface to listen on (default: PINGAN_HOST).")
@click.option("--port", type=int, default=None, help="Port (default: PINGAN_PORT, 8000).")
@click.option("--demo", is_flag=True, help="Load demo data into an empty database.")
@pass_state
def run(state: CliState, host: str | None, port: int | None, demo: bool) -> None:
    """Migrate, then serve pages, API, jobs and schedule in this process."""
    import uvicorn

    from core.app import create_app
    from core.migrate import upgrade
    from core.platform import freeze_startup_objects

    started = time.monotonic()
    host = host or state.settings.host
    port = port or state.settings.port
    # The run address is where links point unless PINGAN_PUBLIC_URL says otherwise.
    state.settings = state.settings.model_copy(update={"host": host, "port": port})
    if host in LOOPBACK and "PINGAN_SECURE_COOKIES" not in os.environ:
        # A plain-http run on this machine: browsers drop Secure cookies over http.
        state.settings = state.settings.model_copy(update={"secure_cookies": False})
    platform = state.platform
    upgrade(platform.engine, platform.plugins)
    if demo:
        from core.demo.loader import load_demo

        logins = load_demo(platform)
        if logins is None:
            click.echo("demo data not loaded: the database already has units")
        else:
            click.echo("demo data loaded: Chongqing's 38 districts and counties; 渝中区 in detail")
            click.echo("demo logins (shown once):")
            for username, password, role in logins:
                click.echo(f"  {username:<12} {password}   {role}")
    from core.accounts.bootstrap import ensure_platform_admin

    admin = ensure_platform_admin(platform)
    if admin:
        click.echo(
            f"platform administrator: {admin[0]} / one-time password {admin[1]} "
            "(shown once; change it at first sign-in)"
        )
    app = create_app(platform=platform)
    freeze_startup_objects()
    click.echo(
        f"Pingan {core.__version__} on http://{host}:{port}/ "
        f"(database: {platform.engine.dialect.name}, jobs: "
        f"{'embedded' if state.settings.embedded_jobs else 'broker'}; "
        f"ready in {time.monotonic() - started:.1f}s)"
    )
    uvicorn.run(app, host=host, port=port, log_level="info")


@cli.command()
@click.option(
    "--threads", type=int, default=None, help="Job threads (default: PINGAN_WORKER_THREADS)."
)
@pass_state
def worker(state: CliState, threads: int | None) -> None:
    """Run background jobs from the broker until stopped (production)."""
    if state.settings.embedded_jobs:
        raise click.UsageError(
            "pingan worker needs PINGAN_BROKER_URL (redis:// or amqp://); "
            "on the embedded default, pingan run executes jobs itself"
        )
    from core.platform import freeze_startup_objects

    platform = state.platform
    freeze_startup_objects()
    platform.jobs.start_worker(threads)
    click.echo(f"worker consuming {sorted(platform.jobs.broker.get_declared_queues())}")
    _wait_for_signal()
    platform.jobs.stop_worker()


@cli.command()
@pass_state
def scheduler(state: CliState) -> None:
    """Record periodic jobs when due and re-send stale ones (run exactly one)."""
    from core.scheduler import make_scheduler

    platform = state.platform
    platform.jobs.resend_stale()
    blocking = make_scheduler(platform, blocking=True)
    click.echo(f"scheduler: {len(platform.plugins.schedules)} schedule(s)")
    signal.signal(signal.SIGTERM, lambda *_: blocking.shutdown(wait=False))
    try:
        blocking.start()
    except KeyboardInterrupt:
        pass


def _wait_for_signal() -> None:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()


@cli.group()
def db() -> None:
    """Database migrations."""


@db.command("upgrade")
@pass_state
def db_upgrade(state: CliState) -> None:
    """Apply core's and every loaded plugin's migrations."""
    from core.migrate import branches, upgrade

    platform = state.platform
    upgrade(platform.engine, platform.plugins)
    click.echo(f"database at head for: {', '.join(branches(platform.plugins))}")


@db.command("revision")
@click.option("--plugin", "owner", default="core", show_default=True, help="Whose tables.")
@click.option("-m", "--message", required=True, help="What the revision does.")
@pass_state
def db_revision(state: CliState, owner: str, message: str) -> None:
    """Autogenerate a revision for one owner's tables (core or a plugin)."""
    from core.migrate import MigrationError, revision

    platform = state.platform
    try:
        path = revision(platform.engine, platform.plugins, owner, message)
    except MigrationError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"wrote {path}")


@db.command("check")
@pass_state
def db_check(state: CliState) -> None:
    """Fail if a loaded branch is behind or models and database differ."""
    from core.migrate import behind, differences

    platform = state.platform
    lagging = behind(platform.engine, platform.plugins)
    diffs = differences(platform.engine, platform.plugins)
    if lagging:
        click.echo(f"not at head: {', '.join(lagging)} (run pingan db upgrade)", err=True)
    for diff in diffs:
        click.echo(f"differs: {diff}", err=True)
    if lagging or diffs:
        sys.exit(1)
    click.echo("database matches the models")


@cli.group(invoke_without_command=True)
@click.pass_context
def plugins(context: click.Context) -> None:
    """Installed plugins: name, version, hooks, migration head, where enabled."""
    if context.invoked_subcommand is None:
        context.invoke(plugins_list)


@plugins.command("list")
@pass_state
def plugins_list(state: CliState) -> None:
    """List every installed plugin and its state."""
    from sqlmodel import select

    from core.migrate import heads
    from core.units.models import Unit, UnitPlugin

    platform = state.platform
    branch_heads = heads(platform.plugins)
    with platform.session_factory() as session:
        switches = session.exec(
            select(UnitPlugin, Unit).join(Unit, Unit.id == UnitPlugin.unit_id)
        ).all()
    for installed in installed_plugins(state.settings.disabled_plugins):
        if installed.name not in platform.plugins.names:
            click.echo(f"{installed.name}  (blocked)  {installed.target}")
            continue
        meta = platform.plugins.meta(installed.name)
        places = [
            f"{unit.name}#{unit.id}{'' if row.enabled else ' (off)'}"
            for row, unit in switches
            if row.plugin == installed.name
        ]
        click.echo(f"{meta.name}  {meta.version}  {meta.label.zh} / {meta.label.en}")
        click.echo(f"  hooks: {', '.join(platform.plugins.hooks_implemented(meta.name)) or '-'}")
        click.echo(f"  migration head: {branch_heads.get(meta.name, '-')}")
        click.echo(f"  enabled at: {', '.join(places) or 'nowhere'}")


def _switch(state: CliState, name: str, unit_ref: str, enabled: bool) -> None:
    from core.web.api import switch

    platform = state.platform
    if name not in platform.plugins.names:
        raise click.ClickException(f"no plugin named {name!r} is installed and unblocked")
    with platform.session_factory() as session:
        unit = _find_unit(session, unit_ref)
        changed = switch(platform, session, unit, name, enabled, changed_by="cli")
        session.commit()
    state_word = "enabled" if enabled else "disabled"
    click.echo(f"{name} {state_word} at {unit.name}" + ("" if changed else " (already)"))


def _find_unit(session, unit_ref: str):
    from sqlmodel import select

    from core.units.models import Unit

    number = int(unit_ref) if unit_ref.isdigit() else None
    unit = session.exec(select(Unit).where((Unit.code == unit_ref) | (Unit.id == number))).first()
    if unit is None:
        raise click.ClickException(f"no unit with id or code {unit_ref!r}")
    return unit


@plugins.command("enable")
@click.argument("name")
@click.option("--unit", "unit_ref", required=True, help="Unit id or division code.")
@pass_state
def plugins_enable(state: CliState, name: str, unit_ref: str) -> None:
    """Enable a plugin for a unit and its subtree."""
    _switch(state, name, unit_ref, True)


@plugins.command("disable")
@click.argument("name")
@click.option("--unit", "unit_ref", required=True, help="Unit id or division code.")
@pass_state
def plugins_disable(state: CliState, name: str, unit_ref: str) -> None:
    """Disable a plugin for a unit and its subtree (its data stays)."""
    _switch(state, name, unit_ref, False)


@cli.group()
def user() -> None:
    """Accounts."""


@user.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="The person's name.")
@click.option("--unit", "unit_ref", required=True, help="Unit id or division code.")
@click.option("--role", "roles", multiple=True, help="Role to grant at that unit (repeatable).")
@pass_state
def user_create(
    state: CliState, username: str, display_name: str, unit_ref: str, roles: tuple[str, ...]
) -> None:
    """Create an account with a one-time password (printed once)."""
    from core.accounts import services
    from core.errors import DomainError

    platform = state.platform
    with platform.session_factory() as session:
        unit = _find_unit(session, unit_ref)
        try:
            account, one_time = services.create_user(
                session, platform.settings, username=username, display_name=display_name, unit=unit
            )
            for role in roles:
                services.grant_role(session, platform.policy, None, account, role, unit)
        except DomainError as error:
            details = "; ".join(f"{e.field}: {e.message}" for e in error.errors)
            raise click.ClickException(
                f"{error.message}{' (' + details + ')' if details else ''}"
            ) from error
        session.commit()
    click.echo(f"created {account.username} at {unit.name}; one-time password: {one_time}")


@cli.group("import")
def import_group() -> None:
    """Bulk imports from XLSX or CSV files, run in this process with a progress bar."""


def _import_file(
    state: CliState, kind: str, path: str, unit_ref: str | None, errors_path: str | None
) -> None:
    from pathlib import Path

    from sqlmodel import select

    from core.audit.recorder import ACTOR, AuditActor
    from core.errors import DomainError
    from core.files.models import StoredFile
    from core.imports.models import ImportBatch, ImportStatus
    from core.imports.services import check_upload, create_batch, run_batch
    from core.units.models import Unit

    platform = state.platform
    file = Path(path)
    with platform.session_factory() as session:
        session.info[ACTOR] = AuditActor(None, "cli", "localhost", None)
        if unit_ref:
            unit = _find_unit(session, unit_ref)
        else:
            unit = session.exec(
                select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id)
            ).first()
            if unit is None:
                raise click.ClickException("no units yet: import into an initialised database")
        content = file.read_bytes()
        try:
            total = check_upload(kind, file.name, content, count=True)
        except DomainError as error:
            details = "; ".join(e.message for e in error.errors if e.message != error.message)
            raise click.ClickException(
                f"{error.message}{': ' + details if details else ''}"
            ) from error
        batch = create_batch(
            session,
            kind=kind,
            unit=unit,
            name=file.name,
            content=content,
            by_user_id=None,
            rows_total=total,
        )
        session.commit()
        batch_id, unit_name = batch.id, unit.name
    del content

    with click.progressbar(
        length=max(total, 1),
        label=f"importing {kind} into {unit_name}",
        show_pos=True,
        show_percent=True,
    ) as bar:

        def progress(done: int, rows_total: int) -> None:
            bar.length = max(rows_total, 1)
            bar.update(done - bar.pos)

        run_batch(
            platform.session_factory,
            platform.keyring,
            platform.plugins,
            batch_id,
            progress=progress,
            actor=AuditActor(None, "cli", "localhost", None),
        )
    with platform.session_factory() as session:
        batch = session.get(ImportBatch, batch_id)
        if batch.status != ImportStatus.done:
            raise click.ClickException(f"import {batch_id} {batch.status}: {batch.message}")
        click.echo(
            f"import {batch_id}: {batch.rows_done} rows, {batch.created} created, "
            f"{batch.updated} updated, {batch.refused} refused"
        )
        if batch.error_file_id is not None:
            stored = session.get(StoredFile, batch.error_file_id)
            if errors_path:
                Path(errors_path).write_bytes(stored.content)
                click.echo(f"refused rows and reasons written to {errors_path}")
            else:
                click.echo(
                    f"refused rows and reasons: /units/{batch.unit_id}/imports/{kind}?batch="
                    f"{batch_id} (or run again with --errors FILE.xlsx)"
                )


@import_group.command("volunteers")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option("--unit", "unit_ref", required=True, help="Importing unit: id or division code.")
@click.option("--errors", "errors_path", default=None, help="Write refused rows to this XLSX.")
@pass_state
def import_volunteers(state: CliState, path: str, unit_ref: str, errors_path: str | None) -> None:
    """Import volunteers from FILE; a row already imported (same ID number) is updated."""
    _import_file(state, "volunteers", path, unit_ref, errors_path)


@import_group.command("units")
@click.argument("path", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option("--unit", "unit_ref", default=None, help="Importing unit (default: the top unit).")
@click.option("--errors", "errors_path", default=None, help="Write refused rows to this XLSX.")
@pass_state
def import_units(state: CliState, path: str, unit_ref: str | None, errors_path: str | None) -> None:
    """Import units from FILE: each row is created or updated by its code."""
    _import_file(state, "units", path, unit_ref, errors_path)


@cli.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@pass_state
def audit_verify(state: CliState) -> None:
    """Check that no audit entry was altered, inserted or removed in the chain."""
    from core.audit.verify import verify_chain

    with state.platform.session_factory() as session:
        report = verify_chain(session)
    if not report.ok:
        click.echo(
            f"audit chain BROKEN at entry {report.broken_at}: {report.problem} "
            f"({report.checked} entries verified before it)",
            err=True,
        )
        sys.exit(1)
    click.echo(f"audit chain intact: {report.checked} entries")


@cli.group()
def keys() -> None:
    """Field-encryption keys."""


@keys.command("new")
def keys_new() -> None:
    """Print a new key entry to put first in PINGAN_ENCRYPTION_KEYS."""
    from core.security.secrets import new_encryption_key

    click.echo(new_encryption_key())


@keys.command("rotate")
@pass_state
def keys_rotate(state: CliState) -> None:
    """Re-encrypt every encrypted value with the current (first) key."""
    from core.security.rotation import rotate

    counts = rotate(state.platform)
    for table, count in counts.items():
        click.echo(f"{table}: {count} value(s) re-encrypted")
    click.echo(f"all encrypted values now use key {state.platform.keyring.current}")


def main() -> None:
    """Entry point: load plugins (they may add commands), then run the command."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = Settings()
    try:
        pm = make_plugin_manager(blocked=settings.disabled_plugins, trace=settings.trace_hooks)
        from core.plugins import Plugins

        Plugins(pm).register_commands(cli)
    except StartupError as error:
        click.echo(f"pingan: cannot start: {error}", err=True)
        sys.exit(2)
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        cli(obj=CliState(settings=settings, pm=pm), prog_name="pingan")
    except StartupError as error:
        click.echo(f"pingan: cannot start: {error}", err=True)
        sys.exit(2)
    except (OperationalError, ProgrammingError) as error:
        # Most often a new database, or one older than this release: say what to do.
        click.echo(f"pingan: database error: {error.orig}", err=True)
        click.echo("pingan: if the database is new or behind, run: pingan db upgrade", err=True)
        sys.exit(1)
