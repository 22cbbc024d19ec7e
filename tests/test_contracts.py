"""Contracts every hook and every installed plugin keeps (datasette's test_docs and test_plugins).

Each hookspec is documented under its exact signature, has a ``test_hook_<name>`` test and a
complete docstring. Each installed plugin keeps the naming rules, names an action on every
route, has a well-formed migration branch matching its models, and vanishes from a unit where
it is switched off.
"""

import ast
import inspect
import re
from functools import cache
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from alembic.util import to_tuple
from pingan_sample.models import SampleNote
from sqlmodel import func, select

from core import hookspecs
from core.app import create_app
from core.contributions import ACTION_NAME
from core.migrate import alembic_config, differences
from core.plugins import CORE, Plugins, installed_plugins, make_plugin_manager
from core.settings import Settings
from core.units.services import set_plugin_enabled
from core.web.navigation import dashboard, unit_page
from tests.support.web import sign_in

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "plugin_hooks.md"

HOOKSPECS = {
    name: function
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(function, "pingan_spec")
}
PLUGIN_NAMES = [plugin.name for plugin in installed_plugins()]


def signature_heading(hookspec) -> str:
    """``register_models() -> list[type[SQLModel]]``: name, parameters, return, no quotes."""
    return hookspec.__name__ + str(inspect.signature(hookspec)).replace("'", "").replace('"', "")


def hook_headings() -> list[str]:
    """Every second-level heading of the hook reference that looks like a signature."""
    headings = re.findall(r"^## (.+?)\s*$", DOCS.read_text(encoding="utf-8"), flags=re.MULTILINE)
    return [heading for heading in headings if re.match(r"^\w+\(", heading)]


@cache
def defined_test_names() -> frozenset[str]:
    """Names of every test function under ``tests/`` and ``plugins/*/tests/``."""
    files = [*(ROOT / "tests").rglob("*.py"), *ROOT.glob("plugins/*/tests/**/*.py")]
    names = set()
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        names.update(
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name.startswith("test_")
        )
    return frozenset(names)


# -- hookspecs ---------------------------------------------------------------------------


def test_hookspecs_are_found():
    assert {"register_models", "menu_items", "handle_event", "on_plugin_disabled"} <= set(HOOKSPECS)


@pytest.mark.parametrize("name", sorted(HOOKSPECS))
def test_hookspec_is_documented_under_its_signature(name):
    expected = signature_heading(HOOKSPECS[name])
    documented = [heading for heading in hook_headings() if heading.startswith(f"{name}(")]
    assert documented == [expected], (
        f"docs/plugin_hooks.md needs exactly one section headed '## {expected}'"
    )


def test_every_documented_hook_exists():
    stale = [
        heading
        for heading in hook_headings()
        if heading.split("(", 1)[0] not in HOOKSPECS
        or heading != signature_heading(HOOKSPECS[heading.split("(", 1)[0]])
    ]
    assert stale == []


@pytest.mark.parametrize("name", sorted(HOOKSPECS))
def test_hookspec_has_a_test_hook_test(name):
    pattern = re.compile(rf"^test_hook_{name}(_\w+)?$")
    assert any(pattern.match(test) for test in defined_test_names()), (
        f"no test_hook_{name} or test_hook_{name}_<case> under tests/ or plugins/*/tests/"
    )


@pytest.mark.parametrize("name", sorted(HOOKSPECS))
def test_hookspec_docstring_states_params_return_and_version(name):
    hookspec = HOOKSPECS[name]
    docstring = inspect.getdoc(hookspec) or ""
    signature = inspect.signature(hookspec)
    for parameter in signature.parameters:
        assert f":param {parameter}:" in docstring, f"{name}: document :param {parameter}:"
    if signature.return_annotation not in (None, "None"):
        assert ":return:" in docstring, f"{name}: document what it returns in :return:"
    assert ".. versionadded::" in docstring
    options = hookspec.pingan_spec
    if options.get("firstresult"):
        assert "Stops at first non-None result" in docstring
    assert not options.get("historic"), "hooks are never historic"


# -- installed plugins -------------------------------------------------------------------


@pytest.fixture(scope="module")
def plugins() -> Plugins:
    return Plugins(make_plugin_manager())


@pytest.mark.parametrize("name", PLUGIN_NAMES)
def test_plugin_tables_carry_its_prefix(name, plugins):
    tables = [model.__tablename__ for model in plugins.models.get(name, [])]
    assert all(table.startswith(f"{name}_") for table in tables), tables


@pytest.mark.parametrize("name", PLUGIN_NAMES)
def test_plugin_actions_are_named_plugin_object_verb(name, plugins):
    declared = [
        action.name
        for result in plugins.call_one(name, "register_permissions")
        for action in result
    ]
    bad = [
        action
        for action in declared
        if not (ACTION_NAME.match(action) and action.startswith(f"{name}."))
    ]
    assert bad == []
    assert set(declared) <= set(plugins.actions)


@pytest.fixture(scope="module")
def app_without_database(tmp_path_factory):
    """The app with every installed plugin; building it opens no database connection."""
    var_dir = tmp_path_factory.mktemp("var")
    app = create_app(
        Settings(_env_file=None, var_dir=var_dir, embedded_scheduler=False), make_plugin_manager()
    )
    yield app
    app.state.platform.engine.dispose()


@pytest.mark.parametrize("name", PLUGIN_NAMES)
def test_plugin_routes_name_a_registered_action(name, app_without_database):
    app = app_without_database
    actions = app.state.platform.plugins.actions
    handlers = [
        (route.path, handler)
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.opt.get("owner") == name
        and not (getattr(handler.fn, "__module__", "") or "").startswith("litestar.")
    ]
    for path, handler in handlers:
        assert path.startswith(
            (f"/api/v1/units/{{unit_id:int}}/{name}", f"/units/{{unit_id:int}}/{name}")
        )
        assert handler.opt.get("action") in actions, f"{path} names no registered action"


@pytest.mark.parametrize("name", PLUGIN_NAMES)
def test_plugin_migration_branch_is_labelled_and_depends_on_core(name, plugins):
    folders = plugins.migration_folders()
    if name not in folders:
        assert not plugins.models.get(name), f"{name} declares tables but has no migration branch"
        return
    script = ScriptDirectory.from_config(alembic_config(plugins))
    own = [rev for rev in script.walk_revisions() if Path(rev.path).parent == folders[name]]
    assert own, f"{folders[name]} holds no revision"
    bases = [rev for rev in own if rev.down_revision is None]
    assert len(bases) == 1, f"{name} has {len(bases)} first revisions"
    assert set(to_tuple(bases[0].branch_labels)) == {name}
    dependencies = [script.get_revision(dep) for dep in to_tuple(bases[0].dependencies)]
    assert any(Path(dep.path).parent == folders[CORE] for dep in dependencies), (
        f"{name}'s first revision must depends_on a core revision"
    )
    assert Path(script.get_revision(f"{name}@head").path).parent == folders[name]


@pytest.mark.parametrize("name", PLUGIN_NAMES)
def test_plugin_models_match_its_migrations(name, platform):
    assert name in platform.plugins.names
    assert differences(platform.engine, platform.plugins, owners={name}) == []


# -- a unit where a plugin is off --------------------------------------------------------


def platform_principal(platform, user_id: int):
    """The principal a signed-in request of ``user_id`` would carry."""
    from core.accounts.models import User
    from core.accounts.services import principal_for

    with platform.session_factory() as session:
        return principal_for(session, session.get(User, user_id), platform.policy, "session")


def _menu_links(html: str) -> str:
    """The navigation menu of a page (the plugins table lists every plugin's name anyway)."""
    match = re.search(r'<nav class="menu".*?</nav>', html, flags=re.DOTALL)
    return match.group(0) if match else ""


def _sample_modules(modules) -> list[str]:
    """The sample plugin's codes among a unit's catalogue (core's modules are always there)."""
    return [module.code for module in modules if module.code.startswith("sample.")]


@pytest.mark.plugins("sample")
@pytest.mark.anyio
async def test_plugin_disabled_at_a_unit_vanishes_there_and_keeps_its_data(
    client, platform, unit_tree, accounts
):
    with platform.session_factory() as session:
        set_plugin_enabled(session, unit_tree.district, "sample", True, changed_by="test")
        session.commit()
    editor = accounts("sample.editor", unit_tree.city)  # sees every unit; may read and pin notes
    principal = platform_principal(platform, editor.user_id)
    await sign_in(client, editor.username, editor.password)
    client.headers.update(editor.headers)
    township, village = unit_tree.township, unit_tree.village
    pinned = await client.post(
        f"/api/v1/units/{township.id}/sample/notes/", json={"text": "消防通道勿堵"}
    )
    assert pinned.status_code == 201

    with platform.session_factory() as session:
        set_plugin_enabled(session, township, "sample", False, changed_by="test")
        session.commit()

    for unit in (township, village, unit_tree.other_district):
        api = f"/api/v1/units/{unit.id}/sample/notes/"
        assert (await client.get(api)).status_code == 404
        assert (await client.post(api, json={"text": "x"})).status_code == 404
        assert (await client.get(f"/units/{unit.id}/sample/")).status_code == 404
        home = await client.get(f"/units/{unit.id}/")
        assert home.status_code == 200
        assert "/sample/" not in _menu_links(home.text) and "/sample/" not in home.text
        with platform.session_factory() as session:
            menu = unit_page(platform, session, unit, principal).menu
            assert all(item.url != f"/units/{unit.id}/sample/" for item in menu)
            assert dashboard(platform, session, unit, principal) == []
            assert _sample_modules(platform.training_modules(session, unit)) == []

    still_on = unit_tree.other_township  # the township's sibling under the same district
    assert (await client.get(f"/api/v1/units/{still_on.id}/sample/notes/")).status_code == 200
    assert (await client.get(f"/units/{still_on.id}/sample/")).status_code == 200
    assert f'href="/units/{still_on.id}/sample/"' in _menu_links(
        (await client.get(f"/units/{still_on.id}/")).text
    )
    with platform.session_factory() as session:
        assert _sample_modules(platform.training_modules(session, still_on)) == [
            "sample.notice_etiquette"
        ]
        assert [f.label.zh for f in dashboard(platform, session, still_on, principal)] == ["便签"]
        kept = session.exec(select(func.count()).where(SampleNote.unit_id == township.id)).one()
    assert kept == 1  # switching off deleted nothing

    with platform.session_factory() as session:
        set_plugin_enabled(session, township, "sample", True, changed_by="test")
        session.commit()
    again = await client.get(f"/api/v1/units/{township.id}/sample/notes/")
    assert [note["text"] for note in again.json()] == ["消防通道勿堵"]
