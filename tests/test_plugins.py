"""Loading plugins: discovery, blocking, refusing broken ones, registry checks, tracing, enabling.

Broken and incompatible plugins are real distributions written into ``tmp_path`` (a
``*.dist-info`` folder and a module) so that ``importlib.metadata`` finds them like any other;
registry mistakes are inline plugins registered on the test's own ``pm``.
"""

import logging
import sys
from pathlib import Path
from types import ModuleType

import pluggy
import pytest
import sqlalchemy as sa
from click import Group
from litestar import get
from pingan_sample.models import SampleNote
from sqlmodel import func, select

from core.app import create_app
from core.cli import cli
from core.contributions import Action, Label, Schedule
from core.hookspecs import hookimpl
from core.jobs import job
from core.platform import build_platform
from core.plugins import (
    PluginMeta,
    Plugins,
    StartupError,
    flatten,
    installed_plugins,
    make_plugin_manager,
)
from core.settings import Settings
from core.units.models import Unit, UnitLevel, UnitPlugin
from core.units.services import create_unit, enabled_plugins, set_plugin_enabled
from core.web.api import switch
from tests.support.databases import migrate_new_sqlite
from tests.support.web import sign_in

#: name → (label zh, label en, version, entry point target, distribution)
KNOWN = {
    "mediation": ("人民调解", "People's mediation", "0.1.0", "plugins.mediation.plugin", "pingan"),
    "antidrug": ("禁毒", "Anti-drug", "0.1.0", "plugins.antidrug.plugin", "pingan"),
    "fire": ("消防安全", "Fire safety", "0.1.0", "plugins.fire.plugin", "pingan"),
    "correction": (
        "社区矫正",
        "Community correction",
        "0.1.0",
        "plugins.correction.plugin",
        "pingan",
    ),
    "insurance": (
        "保险与经费",
        "Insurance and finance",
        "0.1.0",
        "plugins.insurance.plugin",
        "pingan",
    ),
    "sample": (
        "邻里便签",
        "Neighbourhood notes",
        "1.0.0",
        "pingan_sample.plugin",
        "pingan-sample-plugin",
    ),
}

NOWHERE = Path(__file__).parent / "inline-plugin" / "plugin.py"  # no templates/, static/ …


def inline_plugin(name: str, **hooks) -> ModuleType:
    """A plugin module with ``META`` and the given functions as hook implementations."""
    module = ModuleType(f"inline_{name}")
    module.__file__ = str(NOWHERE)
    module.META = PluginMeta(name=name, label=Label(f"临时{name}", f"Inline {name}"), version="0")
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    return module


@pytest.fixture
def offline_settings(tmp_path) -> Settings:
    """Settings for start-up checks that fail before any database is touched."""
    return Settings(_env_file=None, var_dir=tmp_path / "var", embedded_scheduler=False)


@pytest.fixture
def root_cli(monkeypatch):
    """``core.cli.cli`` with its command table restored after the test."""
    monkeypatch.setattr(cli, "commands", dict(cli.commands))
    return cli


# -- discovery ---------------------------------------------------------------------------


def test_plugins_are_discovered_through_entry_points():
    installed = {plugin.name: plugin for plugin in installed_plugins(blocked=["fire"])}
    assert set(KNOWN) <= set(installed)
    for name, (*_, target, distribution) in KNOWN.items():
        assert (installed[name].target, installed[name].distribution) == (target, distribution)
        assert installed[name].blocked is (name == "fire")


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_plugin_meta_is_read_from_its_hook_module(name):
    plugins = Plugins(make_plugin_manager(only=[name]))
    assert plugins.names == [name]
    meta = plugins.meta(name)
    label_zh, label_en, version, target, _ = KNOWN[name]
    assert (meta.name, meta.label.zh, meta.label.en, meta.version) == (
        name,
        label_zh,
        label_en,
        version,
    )
    assert meta.requires.startswith("pingan")
    assert plugins.module(name).__name__ == target


def test_only_loads_the_named_plugins_and_blocks_the_rest():
    pm = make_plugin_manager(only=["fire", "sample"])
    assert sorted(Plugins(pm).names) == ["fire", "sample"]
    assert pm.is_blocked("mediation") and not pm.is_blocked("sample")
    bare = Plugins(make_plugin_manager(only=[]))
    assert bare.names == []
    assert bare.actions and all(name.startswith("core.") for name in bare.actions)  # core stays


# -- blocking ----------------------------------------------------------------------------


class TestBlockedSample:
    """``make_plugin_manager(blocked=["sample"])``: the deployment has no sample plugin at all."""

    @pytest.fixture
    def pm(self):
        return make_plugin_manager(blocked=["sample"])

    def test_registries_hold_nothing_of_it(self, pm, platform, root_cli):
        plugins = platform.plugins
        assert pm.is_blocked("sample") and "sample" not in plugins.names
        assert {"mediation", "fire"} <= set(plugins.names)
        for registry in (
            plugins.actions,
            plugins.roles,
            plugins.jobs,
            plugins.task_types,
            plugins.training_modules,
        ):
            assert not [name for name in registry if name.startswith("sample.")]
        assert not [s for s in plugins.schedules if s.job.startswith("sample.")]
        assert "sample" not in plugins.models and plugins.table_owner("sample_note") is None
        assert not [key for key in plugins.sensitive_fields if key[0].startswith("sample_")]
        assert not [name for name in platform.jobs.actors if name.startswith("sample.")]
        plugins.register_commands(root_cli)
        assert "sample-hello" not in root_cli.commands

    @pytest.mark.anyio
    async def test_routes_menu_figures_and_training_are_gone(
        self, platform, client, unit_tree, admin
    ):
        district = unit_tree.district
        with platform.session_factory() as session:  # a switch left from before the block
            set_plugin_enabled(session, district, "sample", True, changed_by="test")
            session.commit()
        assert "sample.editor" not in platform.policy.roles  # its roles went with it
        await sign_in(client, admin.username, admin.password)
        client.headers.update(admin.headers)
        assert (await client.get(f"/api/v1/units/{district.id}/sample/notes/")).status_code == 404
        assert (
            await client.post(f"/api/v1/units/{district.id}/sample/notes/", json={"text": "x"})
        ).status_code == 404
        assert (await client.get(f"/units/{district.id}/sample/")).status_code == 404
        assert (await client.get("/static/sample/sample.css")).status_code == 404
        home = await client.get(f"/units/{district.id}/")
        assert home.status_code == 200 and "/sample/" not in home.text
        listed = await client.get("/api/v1/plugins")
        assert "sample" not in {plugin["name"] for plugin in listed.json()}
        with platform.session_factory() as session:
            hooks = platform.unit_hooks(session, district)  # what plugins return, before filtering
            assert all(
                "/sample/" not in item.url
                for item in flatten(hooks.menu_items(unit=district, actor=None))
            )
            figures = flatten(hooks.dashboard_figures(unit=district, actor=None, session=session))
            assert figures and all("/sample/" not in (figure.url or "") for figure in figures)
            catalogue = platform.training_modules(session, district)
            assert [m.code for m in catalogue if not m.code.startswith("core.")] == []

    def test_a_fresh_database_gets_no_table_of_it(self, pm, tmp_path):
        from core.db import make_engine

        path = migrate_new_sqlite(tmp_path / "blocked.sqlite3", Plugins(pm))
        engine = make_engine(f"sqlite:///{path}")
        try:
            tables = set(sa.inspect(engine).get_table_names())
        finally:
            engine.dispose()
        assert {"unit", "unit_plugin", "job"} <= tables
        assert not [table for table in tables if table.startswith("sample_")]


def test_pingan_disabled_plugins_blocks_for_the_deployment(monkeypatch, tmp_path):
    monkeypatch.setenv("PINGAN_DISABLED_PLUGINS", "sample, fire")
    platform = build_platform(Settings(_env_file=None, var_dir=tmp_path, embedded_scheduler=False))
    try:
        assert "sample" not in platform.plugins.names and "fire" not in platform.plugins.names
        assert "mediation" in platform.plugins.names
    finally:
        platform.engine.dispose()


# -- broken and incompatible plugins -----------------------------------------------------


@pytest.fixture
def distribution(tmp_path, monkeypatch):
    """Install a one-module distribution with a ``pingan.plugins`` entry point into ``tmp_path``."""
    modules = []

    def install(entry_point: str, module: str, source: str) -> None:
        info = tmp_path / f"{module}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 1.0\n",
            encoding="utf-8",
        )
        (info / "entry_points.txt").write_text(
            f"[pingan.plugins]\n{entry_point} = {module}\n", encoding="utf-8"
        )
        (tmp_path / f"{module}.py").write_text(source, encoding="utf-8")
        modules.append(module)
        monkeypatch.syspath_prepend(str(tmp_path))

    yield install
    for module in modules:
        sys.modules.pop(module, None)


META_SOURCE = """
from core.contributions import Label
from core.plugins import PluginMeta
from core.hookspecs import hookimpl

META = PluginMeta(name={name!r}, label=Label("测试", "Test"), version="1.0", requires={requires!r})
"""


@pytest.mark.parametrize(
    ("entry_point", "source", "message"),
    [
        (
            "broken",
            "import pingan_no_such_module\n",
            "plugin 'broken' (pingan_broken) could not be imported: ModuleNotFoundError",
        ),
        (
            "future",
            META_SOURCE.format(name="future", requires="pingan>=99"),
            "plugin 'future' 1.0 requires pingan>=99, but this is pingan",
        ),
        ("nometa", "X = 1\n", "plugin 'nometa' (pingan_nometa) has no PluginMeta named META"),
        (
            "renamed",
            META_SOURCE.format(name="other", requires="pingan>=0.1"),
            "plugin 'renamed': META.name is 'other'",
        ),
        (
            "typo",
            META_SOURCE.format(name="typo", requires="pingan>=0.1")
            + "\n@hookimpl\ndef menu_itemz(unit, actor):\n    return []\n",
            "plugin 'typo': unknown hook 'menu_itemz'",
        ),
        (
            "badargs",
            META_SOURCE.format(name="badargs", requires="pingan>=0.1")
            + "\n@hookimpl\ndef menu_items(unit, user):\n    return []\n",
            "plugin 'badargs'",
        ),
    ],
    ids=[
        "import-error",
        "incompatible",
        "no-meta",
        "meta-name-differs",
        "unknown-hook",
        "wrong-arguments",
    ],
)
def test_a_faulty_plugin_is_refused_with_its_name(
    distribution, entry_point, source, message, offline_settings
):
    distribution(entry_point, f"pingan_{entry_point}", source)
    assert entry_point in {plugin.name for plugin in installed_plugins()}
    with pytest.raises(StartupError) as refused:
        make_plugin_manager()
    assert message in str(refused.value)
    with pytest.raises(StartupError, match=f"'{entry_point}'"):
        create_app(offline_settings)  # the app factory refuses to start the same way


def test_a_blocked_faulty_plugin_is_never_imported(distribution):
    distribution("broken", "pingan_broken", "raise SystemExit('imported!')\n")
    pm = make_plugin_manager(blocked=["broken"])
    assert "pingan_broken" not in sys.modules
    assert "broken" not in Plugins(pm).names


# -- registry validation -----------------------------------------------------------------


def _hello():
    return "hi"


def _bare_route():
    @get("/bare", sync_to_thread=False)
    def bare() -> str:
        return "no action"

    return [bare]


def _unknown_action_route():
    @get("/ghost", sync_to_thread=False, opt={"action": "inline.ghost.read"})
    def ghost() -> str:
        return "unknown action"

    return [ghost]


class InlineNote:
    """Stands for a SQLModel class with a correctly prefixed table."""

    __tablename__ = "inline_note"


class Unprefixed:
    """Stands for a SQLModel class: core reads only the table name (and this adds no table)."""

    __tablename__ = "note"


@pytest.mark.plugins()  # only core and the inline plugin
@pytest.mark.parametrize(
    ("hooks", "message"),
    [
        (
            {"register_models": lambda: [Unprefixed]},
            "plugin 'inline': table 'note' must start with 'inline_'",
        ),
        (
            {"register_permissions": lambda: [Action("inline.read", Label("看", "Read"))]},
            "'inline.read' must match",
        ),
        (
            {"register_permissions": lambda: [Action("other.note.read", Label("看", "Read"))]},
            "'other.note.read' must match",
        ),
        (
            {"register_jobs": lambda: [job("inline.tick")(_hello), job("inline.tick")(_hello)]},
            "registers 'inline.tick' twice",
        ),
        (
            {
                "register_jobs": lambda: [job("inline.tick")(_hello)],
                "register_schedules": lambda: [Schedule(job="inline.tock", every_seconds=60)],
            },
            "schedule names unknown job 'inline.tock'",
        ),
        (
            {"register_api_routes": _bare_route},
            "inline: route /api/v1/units/{unit_id:int}/inline/bare declares no action",
        ),
        (
            {"register_page_routes": _bare_route},
            "inline: route /units/{unit_id:int}/inline/bare declares no action",
        ),
        (
            {"register_api_routes": _unknown_action_route},
            "names unknown action 'inline.ghost.read'",
        ),
        (
            {"register_models": lambda: [InlineNote, InlineNote]},
            "table 'inline_note' is already 'inline''s",
        ),
    ],
    ids=[
        "table-without-prefix",
        "action-not-three-parts",
        "action-of-another-owner",
        "duplicate-job",
        "schedule-of-unknown-job",
        "api-route-without-action",
        "page-route-without-action",
        "route-with-unknown-action",
        "same-table-twice",
    ],
)
def test_registry_mistakes_stop_create_app(pm, offline_settings, hooks, message):
    pm.register(inline_plugin("inline", **hooks), name="inline")
    with pytest.raises(StartupError) as refused:
        create_app(offline_settings, pm)
    assert message in str(refused.value)


@pytest.mark.plugins()
def test_a_plugin_hook_wrapper_stops_create_app(pm, offline_settings):
    def menu_items(unit, actor):
        return (yield)

    module = inline_plugin("inline")
    module.menu_items = pluggy.HookimplMarker("pingan")(wrapper=True)(menu_items)
    pm.register(module, name="inline")
    with pytest.raises(StartupError) as refused:
        create_app(offline_settings, pm)
    assert "plugin 'inline': menu_items is a wrapper; only core may wrap" in str(refused.value)


@pytest.mark.plugins()
def test_a_correct_inline_plugin_starts(pm, offline_settings):
    pm.register(
        inline_plugin(
            "inline",
            register_permissions=lambda: [Action("inline.note.read", Label("看", "Read"))],
            register_jobs=lambda: [job("inline.tick")(_hello)],
            register_schedules=lambda: [Schedule(job="inline.tick", cron="0 3 * * *")],
        ),
        name="inline",
    )
    app = create_app(offline_settings, pm)
    assert "inline.tick" in app.state.platform.jobs.actors
    app.state.platform.engine.dispose()


# -- tracing -----------------------------------------------------------------------------


def _trace(caplog, plugins: Plugins) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="core.plugins"):
        plugins.register_commands(Group())
    return [record.getMessage() for record in caplog.records if record.name == "core.plugins"]


def test_trace_logs_the_register_hooks_at_start_up(caplog):
    with caplog.at_level(logging.INFO, logger="core.plugins"):
        Plugins(make_plugin_manager(only=["sample"], trace=True)).validate()
    traced = [record.getMessage() for record in caplog.records if record.name == "core.plugins"]
    assert "hook register_models → ['sample']" in traced
    assert "hook register_permissions → ['core.defaults.permissions']" in traced


def test_trace_logs_every_hook_call_and_result(caplog):
    assert _trace(caplog, Plugins(make_plugin_manager(only=["sample"]))) == []
    traced = _trace(caplog, Plugins(make_plugin_manager(only=["sample"], trace=True)))
    assert traced == ["hook register_commands → ['sample']", "hook register_commands ← []"]


def test_pingan_trace_hooks_turns_tracing_on(caplog, monkeypatch, tmp_path):
    monkeypatch.setenv("PINGAN_TRACE_HOOKS", "1")
    platform = build_platform(Settings(_env_file=None, var_dir=tmp_path, embedded_scheduler=False))
    try:
        assert "hook register_commands → " in _trace(caplog, platform.plugins)[0]
    finally:
        platform.engine.dispose()


# -- enabling at units -------------------------------------------------------------------


def _on(session, unit) -> bool:
    return "sample" in enabled_plugins(session, unit)


@pytest.mark.plugins("sample")
def test_unit_switch_covers_the_whole_subtree(session, unit_tree):
    t = unit_tree
    set_plugin_enabled(session, t.district, "sample", True, changed_by="test")
    assert [
        _on(session, u)
        for u in (t.district, t.township, t.village, t.other_township, t.other_village)
    ] == [True] * 5
    assert [_on(session, u) for u in (t.city, t.other_district)] == [False, False]


@pytest.mark.plugins("sample")
def test_unit_switch_nearest_to_the_unit_wins(session, unit_tree):
    t = unit_tree
    assert set_plugin_enabled(session, t.district, "sample", True, changed_by="test") is True
    assert set_plugin_enabled(session, t.township, "sample", False, changed_by="test") is True
    assert (_on(session, t.township), _on(session, t.village), _on(session, t.other_township)) == (
        False,
        False,
        True,
    )
    assert set_plugin_enabled(session, t.village, "sample", True, changed_by="test") is True
    assert (_on(session, t.township), _on(session, t.village)) == (False, True)
    assert (
        set_plugin_enabled(session, t.district, "sample", True, changed_by="test") is False
    )  # already on
    set_plugin_enabled(session, t.district, "sample", False, changed_by="test")
    assert (_on(session, t.other_township), _on(session, t.village)) == (
        False,
        True,
    )  # the village's own switch
    set_plugin_enabled(session, t.city, "sample", True, changed_by="test")
    assert (_on(session, t.other_district), _on(session, t.district), _on(session, t.township)) == (
        True,
        False,
        False,
    )


@pytest.mark.plugins("sample")
def test_unit_default_plugins_seed_new_units_unless_inherited(session):
    def rows(unit):
        return session.exec(select(UnitPlugin.plugin).where(UnitPlugin.unit_id == unit.id)).all()

    city = create_unit(session, name="重庆市", level=UnitLevel.city, default_plugins=["sample"])
    district = create_unit(
        session, name="渝中区", level=UnitLevel.district, parent=city, default_plugins=["sample"]
    )
    assert (rows(city), rows(district)) == (
        ["sample"],
        [],
    )  # the district inherits the city's switch
    assert _on(session, district)
    set_plugin_enabled(session, city, "sample", False, changed_by="test")
    another = create_unit(
        session, name="江北区", level=UnitLevel.district, parent=city, default_plugins=["sample"]
    )
    assert rows(another) == ["sample"] and _on(session, another)
    plain = create_unit(session, name="沙坪坝区", level=UnitLevel.district, parent=city)
    assert rows(plain) == [] and not _on(session, plain)


@pytest.mark.plugins("sample")
def test_unit_switching_off_deletes_no_rows(platform, session, unit_tree):
    district, village = unit_tree.district, unit_tree.village
    switch(platform, session, district, "sample", True, changed_by="test")
    session.add_all(
        [SampleNote(unit_id=district.id, text="甲"), SampleNote(unit_id=village.id, text="乙")]
    )
    session.commit()

    def count() -> int:
        return session.exec(select(func.count()).select_from(SampleNote)).one()

    before = count()
    assert switch(platform, session, district, "sample", False, changed_by="test") is True
    session.commit()
    assert count() == before + 1  # on_plugin_disabled added its note; nothing went
    row = session.exec(select(UnitPlugin).where(UnitPlugin.unit_id == district.id)).one()
    assert (row.plugin, row.enabled, row.changed_by) == ("sample", False, "test")
    assert session.get(Unit, village.id) is not None
