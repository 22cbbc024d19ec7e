"""Every hook, exercised through the real platform: the sample plugin, plus inline plugins.

The sample plugin (``tests/sample_plugin``) implements every hook; these tests drive it the way
a deployment does (HTTP with a signed-in user, the CLI, events, the scheduler), never by
calling its functions. Inline plugins are registered on the test's own ``pm`` before the
platform is built from it.
"""

import re
import time
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import anyio
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from pingan_sample.models import SampleNote
from sqlmodel import select

from core.app import create_app
from core.cli import cli
from core.contributions import (
    Action,
    DomainEvent,
    Figure,
    Label,
    MenuItem,
    Role,
    SensitiveField,
    TaskType,
    TrainingModule,
)
from core.hookspecs import hookimpl
from core.jobs import Job, JobStatus
from core.migrate import current, heads
from core.platform import build_platform
from core.plugins import PluginMeta, Plugins, StartupError
from core.scheduler import make_scheduler, record_run
from core.settings import Settings
from core.units.services import set_plugin_enabled
from core.web.navigation import dashboard, unit_page
from tests.support.web import sign_in

pytestmark = pytest.mark.plugins("sample")

NOWHERE = Path(__file__).parent / "inline-plugin" / "plugin.py"  # no templates/, static/ …


def inline_plugin(name: str, **hooks) -> ModuleType:
    """A plugin module with ``META`` and the given functions as hook implementations."""
    module = ModuleType(f"inline_{name}")
    module.__file__ = str(NOWHERE)
    module.META = PluginMeta(name=name, label=Label(f"临时{name}", f"Inline {name}"), version="0")
    for hook_name, function in hooks.items():
        setattr(module, hook_name, hookimpl(function))
    return module


def notes_at(platform, unit) -> list[str]:
    with platform.session_factory() as session:
        return list(
            session.exec(
                select(SampleNote.text).where(SampleNote.unit_id == unit.id).order_by(SampleNote.id)
            )
        )


def switch(platform, unit, plugin: str, enabled: bool) -> None:
    with platform.session_factory() as session:
        set_plugin_enabled(session, unit, plugin, enabled, changed_by="test")
        session.commit()


def menu_nav(html: str) -> str:
    match = re.search(r'<nav class="menu".*?</nav>', html, flags=re.DOTALL)
    return match.group(0) if match else ""


def figures_section(html: str) -> str:
    match = re.search(r'<section class="figures".*?</section>', html, flags=re.DOTALL)
    return match.group(0) if match else ""


@pytest.fixture
def offline_settings(tmp_path) -> Settings:
    """Settings for start-up checks that fail before any database is touched."""
    return Settings(_env_file=None, var_dir=tmp_path, embedded_scheduler=False)


class Allowed:
    """An actor allowed exactly the given actions, everywhere."""

    def __init__(self, *actions: str) -> None:
        self.actions = set(actions)

    def can(self, action: str, unit=None) -> bool:
        return action in self.actions


@pytest.fixture
def editor(accounts, unit_tree):
    """A user holding the sample plugin's ``sample.editor`` role at the top unit."""
    return accounts("sample.editor", unit_tree.city)


# -- register_models ---------------------------------------------------------------------


def test_hook_register_models_tables_exist_after_migration_and_are_owned(platform):
    tables = set(sa.inspect(platform.engine).get_table_names())
    assert {"sample_note", "sample_tally"} <= tables
    assert platform.plugins.table_owner("sample_note") == "sample"
    assert platform.plugins.table_owner("sample_tally") == "sample"
    assert [model.__tablename__ for model in platform.plugins.models["sample"]] == [
        "sample_note",
        "sample_tally",
    ]
    assert heads(platform.plugins)["sample"] in current(platform.engine)  # its branch is applied


# -- register_api_routes -----------------------------------------------------------------


@pytest.mark.anyio
async def test_hook_register_api_routes_notes_work_where_enabled(
    client, enabled_unit, unit_tree, editor
):
    district, village = enabled_unit, unit_tree.village
    notes = f"/api/v1/units/{district.id}/sample/notes/"
    created = await client.post(notes, json={"text": "周六义务理发"}, headers=editor.headers)
    assert created.status_code == 201
    assert created.json() == {
        "id": created.json()["id"],
        "unit_id": district.id,
        "text": "周六义务理发",
        "contact": None,
    }
    below = await client.post(
        f"/api/v1/units/{village.id}/sample/notes/",
        json={"text": "楼道灯坏了"},
        headers=editor.headers,
    )
    assert below.status_code == 201  # enabled at the district: the whole subtree has it

    listed = await client.get(notes, headers=editor.headers)
    assert [note["text"] for note in listed.json()] == ["周六义务理发"]
    listed = await client.get(f"/api/v1/units/{village.id}/sample/notes/", headers=editor.headers)
    assert [note["text"] for note in listed.json()] == ["楼道灯坏了"]


@pytest.mark.anyio
async def test_hook_register_api_routes_answer_404_where_not_enabled(
    client, enabled_unit, unit_tree, editor
):
    elsewhere = unit_tree.other_district  # the editor sees it: 404 because the plugin is off
    notes = f"/api/v1/units/{elsewhere.id}/sample/notes/"
    assert (await client.get(notes, headers=editor.headers)).status_code == 404
    refused = await client.post(notes, json={"text": "x"}, headers=editor.headers)
    assert refused.status_code == 404
    assert refused.json()["code"] == "not_found"
    assert (
        await client.get(f"/api/v1/units/{unit_tree.city.id}/sample/notes/", headers=editor.headers)
    ).status_code == 404
    assert (await client.get(notes)).status_code == 404  # off is 404 even before signing in


# -- register_page_routes ----------------------------------------------------------------


@pytest.mark.anyio
async def test_hook_register_page_routes_render_the_plugin_template_in_core_layout(
    client, enabled_unit, editor
):
    await sign_in(client, editor.username, editor.password)
    page = await client.get(f"/units/{enabled_unit.id}/sample/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<h1 class="sample-title">邻里便签</h1>' in page.text  # its own template
    assert 'class="topbar"' in page.text and "平安建设志愿服务平台" in page.text  # core:base.html
    assert "还没有便签" in page.text
    assert f"<span>{enabled_unit.name}</span>" in page.text  # core's breadcrumb from unit_page

    english = await client.get(f"/units/{enabled_unit.id}/sample/?lang=en")
    assert '<html lang="en">' in english.text
    assert '<h1 class="sample-title">Neighbourhood notes</h1>' in english.text  # its own catalogue
    assert "No notes yet" in english.text

    stylesheet = await client.get("/static/sample/sample.css")
    assert stylesheet.status_code == 200


@pytest.mark.anyio
async def test_hook_register_page_routes_answer_404_where_not_enabled(
    client, enabled_unit, unit_tree, editor
):
    await sign_in(client, editor.username, editor.password)
    page = await client.get(
        f"/units/{unit_tree.other_district.id}/sample/", headers={"accept": "text/html"}
    )
    assert page.status_code == 404
    assert "text/html" in page.headers["content-type"]


# -- register_permissions ----------------------------------------------------------------


def test_hook_register_permissions_actions_are_registered(platform):
    actions = platform.plugins.actions
    assert actions["sample.note.read"].description == Label("查看便签", "Read notes")
    assert actions["sample.note.create"].sensitive is False
    assert actions["sample.note.reveal"].sensitive is True
    assert {name for name in actions if name.startswith("sample.")} == {
        "sample.note.read",
        "sample.note.create",
        "sample.note.reveal",
    }


@pytest.mark.anyio
async def test_hook_register_permissions_decide_who_may_call_the_routes(
    client, enabled_unit, accounts
):
    reader = accounts("sample.reader", enabled_unit)  # sample.note.read, not sample.note.create
    notes = f"/api/v1/units/{enabled_unit.id}/sample/notes/"
    assert (await client.get(notes, headers=reader.headers)).status_code == 200
    assert (await client.post(notes, json={"text": "x"}, headers=reader.headers)).status_code == 403
    assert (await client.get(notes)).status_code == 401


def test_hook_register_permissions_routes_name_the_plugins_actions(app):
    named = {
        handler.opt.get("action")
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.opt.get("owner") == "sample" and "action" in handler.opt
    }
    assert named == {"sample.note.read", "sample.note.create"}


def test_hook_register_permissions_refuses_another_plugins_namespace(pm, offline_settings):
    pm.register(
        inline_plugin(
            "intruder",
            register_permissions=lambda: [Action("sample.note.delete", Label("删", "Delete"))],
        ),
        name="intruder",
    )
    with pytest.raises(StartupError, match="'intruder'.*sample.note.delete"):
        build_platform(offline_settings, pm)


# -- register_roles ----------------------------------------------------------------------


def test_hook_register_roles_sample_roles_allow_their_default_actions(platform):
    assert platform.plugins.roles["sample.editor"].label == Label("便签编辑", "Notice editor")
    assert platform.policy.actions("sample.reader") == {"core.unit.read", "sample.note.read"}
    assert platform.policy.actions("sample.editor") == {
        "core.unit.read",
        "sample.note.read",
        "sample.note.create",
    }
    assert platform.policy.allowed_at("sample.reader", "village")  # no levels: any level


# An inline "desk" plugin shows patterns, levels and the refusals.


def desk_plugin(*roles: Role, fields: tuple[SensitiveField, ...] = ()) -> ModuleType:
    class DeskCase:  # stands for a SQLModel class: core reads only the table name
        __tablename__ = "desk_case"

    return inline_plugin(
        "desk",
        register_models=lambda: [DeskCase],
        register_permissions=lambda: [
            Action("desk.case.read", Label("查看案件", "Read cases")),
            Action("desk.case.close", Label("结案", "Close cases")),
            Action("desk.party.reveal", Label("查看当事人", "See parties"), sensitive=True),
        ],
        register_roles=lambda: list(roles),
        register_sensitive_fields=lambda: list(fields),
    )


def test_hook_register_roles_adds_a_department_role_with_its_default_actions(pm, offline_settings):
    clerk = Role(
        "desk.clerk",
        Label("窗口员", "Clerk"),
        ("desk.case.*", "core.unit.read"),
        levels=("township",),
    )
    pm.register(desk_plugin(clerk), name="desk")
    platform = build_platform(offline_settings, pm)
    try:
        assert platform.plugins.roles["desk.clerk"] == clerk
        assert platform.policy.actions("desk.clerk") == {
            "desk.case.read",
            "desk.case.close",
            "core.unit.read",
        }
        assert platform.policy.allowed_at("desk.clerk", "township")
        assert not platform.policy.allowed_at("desk.clerk", "city")
    finally:
        platform.engine.dispose()


@pytest.mark.parametrize(
    ("role", "message"),
    [
        (
            Role("clerk", Label("窗口员", "Clerk"), ("desk.case.read",)),
            "plugin 'desk': role 'clerk' must start with 'desk.'",
        ),
        (
            Role("desk.clerk", Label("窗口员", "Clerk"), ("desk.case.burn",)),
            "role 'desk.clerk' names unknown action 'desk.case.burn'",
        ),
    ],
    ids=["without-prefix", "unknown-action"],
)
def test_hook_register_roles_refuses_bad_roles(pm, offline_settings, role, message):
    pm.register(desk_plugin(role), name="desk")
    with pytest.raises(StartupError) as refused:
        build_platform(offline_settings, pm)
    assert message in str(refused.value)


# -- register_sensitive_fields -----------------------------------------------------------


@pytest.mark.anyio
async def test_hook_register_sensitive_fields_sample_contact_is_masked_and_encrypted(
    client, platform, enabled_unit, editor
):
    assert (
        platform.plugins.sensitive_fields[("sample_note", "contact")].reveal_action
        == "sample.note.reveal"
    )
    notes = f"/api/v1/units/{enabled_unit.id}/sample/notes/"
    created = await client.post(
        notes, json={"text": "寻狗", "contact": "13812345678"}, headers=editor.headers
    )
    assert created.json()["contact"] == "138****5678"
    assert [
        note["contact"] for note in (await client.get(notes, headers=editor.headers)).json()
    ] == ["138****5678"]
    with platform.engine.connect() as connection:
        stored = connection.execute(sa.text("SELECT contact FROM sample_note")).scalar_one()
    assert "13812345678" not in str(stored)  # encrypted at rest
    with platform.session_factory() as session:
        assert session.exec(select(SampleNote.contact)).one() == "13812345678"


def test_hook_register_sensitive_fields_registers_fields_of_its_own_tables(pm, offline_settings):
    phone = SensitiveField("desk_case", "phone", "phone", "desk.party.reveal")
    pm.register(desk_plugin(fields=(phone,)), name="desk")
    platform = build_platform(offline_settings, pm)
    try:
        assert platform.plugins.sensitive_fields[("desk_case", "phone")] == phone
    finally:
        platform.engine.dispose()


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (
            SensitiveField("person", "phone", "phone", "desk.party.reveal"),
            "plugin 'desk': table 'person' is not its own",
        ),
        (
            SensitiveField("desk_case", "phone", "phone", "desk.party.peek"),
            "plugin 'desk': unknown reveal action 'desk.party.peek'",
        ),
    ],
    ids=["another-owners-table", "unknown-reveal-action"],
)
def test_hook_register_sensitive_fields_refuses_bad_fields(pm, offline_settings, field, message):
    pm.register(desk_plugin(fields=(field,)), name="desk")
    with pytest.raises(StartupError) as refused:
        build_platform(offline_settings, pm)
    assert message in str(refused.value)


# -- register_task_types -----------------------------------------------------------------


def test_hook_register_task_types_registers_litter_picking(platform):
    task_type = platform.plugins.task_types["sample.litter_pick"]
    assert task_type.label == Label("捡拾垃圾", "Litter picking")
    assert (task_type.risky, task_type.required_modules) == (False, ())


@pytest.mark.anyio
async def test_hook_register_task_types_the_types_fields_are_asked_and_checked(
    client, enabled_unit, unit_tree, accounts
):
    leader = accounts("village_leader", unit_tree.village)
    start = date.today() + timedelta(days=7)
    body = {
        "task_type": "sample.litter_pick",
        "title": "江边捡拾垃圾",
        "starts_on": start.isoformat(),
        "ends_on": start.isoformat(),
    }
    url = f"/api/v1/units/{unit_tree.village.id}/tasks"
    refused = await client.post(
        url, json={**body, "details": {"bags": "many"}}, headers=leader.headers
    )
    assert [(e["field"], e["rule"]) for e in refused.json()["errors"]] == [
        ("details.bags", "int_parsing")
    ]
    made = await client.post(url, json={**body, "details": {"bags": 20}}, headers=leader.headers)
    assert made.status_code == 201, made.text
    assert (made.json()["task_type_name"], made.json()["details"]) == ("捡拾垃圾", {"bags": 20})


def test_hook_register_task_types_refuses_a_duplicate_code(pm, offline_settings):
    twice = [TaskType("twice.patrol", Label("巡逻", "Patrol"))] * 2
    pm.register(inline_plugin("twice", register_task_types=lambda: twice), name="twice")
    with pytest.raises(StartupError, match="'twice'.*twice.patrol"):
        build_platform(offline_settings, pm)


# -- register_training_modules -----------------------------------------------------------


def test_hook_register_training_modules_lists_the_module_with_its_content(platform, enabled_unit):
    module = platform.plugins.training_modules["sample.notice_etiquette"]
    assert (module.title.zh, module.hours, module.minutes) == ("便签礼仪", 0.5, 30)
    assert (module.valid_days, module.departments) == (365, ("comprehensive",))
    assert module.required_roles == ("sample.editor",)
    assert (len(module.quiz.questions), module.quiz.pass_mark) == (3, 2)
    with platform.session_factory() as session:
        assert module in platform.training_modules(session, enabled_unit)
    content = platform.plugins.folder("sample") / "training" / module.content
    assert content.is_file()
    assert content.read_text(encoding="utf-8").startswith("# 便签礼仪")


@pytest.mark.parametrize(
    ("module", "message"),
    [
        (TrainingModule("trainer.x", Label("甲", "A"), "missing.md"), "is not a file"),
        (TrainingModule("trainer.x", Label("甲", "A"), "../../pyproject.toml.md"), "not a file"),
        (
            TrainingModule("trainer.x", Label("甲", "A"), "x.md", departments=("choir",)),
            "unknown department or role choir",
        ),
        (
            TrainingModule("trainer.x", Label("甲", "A"), "x.md", required_roles=("bishop",)),
            "unknown department or role bishop",
        ),
    ],
    ids=["missing content", "content outside", "unknown department", "unknown role"],
)
def test_hook_register_training_modules_refuses_bad_content_departments_and_roles(
    pm, offline_settings, tmp_path, module, message
):
    (tmp_path / "training").mkdir()
    (tmp_path / "training" / "x.md").write_text("# 甲", encoding="utf-8")
    plugin = inline_plugin("trainer", register_training_modules=lambda: [module])
    plugin.__file__ = str(tmp_path / "plugin.py")
    pm.register(plugin, name="trainer")
    with pytest.raises(StartupError, match=f"'trainer'.*trainer.x.*{message}"):
        build_platform(offline_settings, pm)


def test_hook_register_training_modules_refuses_a_code_without_the_plugin_prefix(
    pm, offline_settings
):
    module = TrainingModule("etiquette", Label("礼仪", "Etiquette"), "etiquette.md")
    pm.register(
        inline_plugin("trainer", register_training_modules=lambda: [module]), name="trainer"
    )
    with pytest.raises(StartupError, match="'trainer'.*etiquette"):
        build_platform(offline_settings, pm)


# -- register_jobs -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_hook_register_jobs_a_new_note_is_counted_by_the_embedded_worker(
    client, platform, enabled_unit, admin
):
    assert platform.jobs.actors["sample.count_notes"].queue_name == "sample"
    created = await client.post(
        f"/api/v1/units/{enabled_unit.id}/sample/notes/",
        json={"text": "失物招领"},
        headers=admin.headers,
    )
    assert created.status_code == 201
    listed = await client.get(
        "/api/v1/jobs", params={"name": "sample.count_notes"}, headers=admin.headers
    )
    [job] = listed.json()
    assert job["unit_id"] == enabled_unit.id

    deadline = time.monotonic() + 10
    while job["status"] != JobStatus.done:
        assert job["status"] != JobStatus.failed, job["error"]
        assert time.monotonic() < deadline, f"job still {job['status']} after 10 s"
        await anyio.sleep(0.02)
        job = (await client.get(f"/api/v1/jobs/{job['id']}", headers=admin.headers)).json()
    assert (job["attempts"], job["result"]) == (1, 1)  # one note counted, in one run


# -- register_schedules ------------------------------------------------------------------


def test_hook_register_schedules_the_heartbeat_is_scheduled_and_runs(platform, worker, broker):
    [schedule] = [s for s in platform.plugins.schedules if s.job.startswith("sample.")]
    assert (schedule.job, schedule.every_seconds, schedule.cron) == ("sample.heartbeat", 3600, None)
    scheduler = make_scheduler(platform)  # not started
    assert scheduler.get_job("sample.heartbeat") is not None

    record_run(platform, "sample.heartbeat")  # what the scheduler does when it is due
    broker.join("sample", fail_fast=True)
    with platform.session_factory() as session:
        [run] = session.exec(select(Job).where(Job.name == "sample.heartbeat")).all()
    assert (run.status, run.result) == (JobStatus.done, "ok")


# -- register_commands -------------------------------------------------------------------


@pytest.fixture
def root_cli(monkeypatch):
    """``core.cli.cli`` with its command table restored after the test."""
    monkeypatch.setattr(cli, "commands", dict(cli.commands))
    return cli


def test_hook_register_commands_adds_sample_hello(pm, root_cli):
    plugins = Plugins(pm)
    plugins.register_commands(root_cli)
    plugins.register_commands(root_cli)  # a second registration replaces, never breaks
    result = CliRunner().invoke(root_cli, ["sample-hello", "--name", "张三"])
    assert result.exit_code == 0, result.output
    assert result.output == "你好，张三！\n"
    assert "sample-hello" in CliRunner().invoke(root_cli, ["--help"]).output


# -- menu_items --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_hook_menu_items_home_page_shows_the_entry_where_enabled(
    client, enabled_unit, unit_tree, editor
):
    await sign_in(client, editor.username, editor.password)
    menu = menu_nav((await client.get(f"/units/{enabled_unit.id}/")).text)
    assert f'<a href="/units/{enabled_unit.id}/sample/" data-icon="note">邻里便签</a>' in menu
    english = menu_nav((await client.get(f"/units/{enabled_unit.id}/?lang=en")).text)
    assert f'<a href="/units/{enabled_unit.id}/sample/" data-icon="note">Notes</a>' in english

    elsewhere = unit_tree.other_district
    menu = menu_nav((await client.get(f"/units/{elsewhere.id}/")).text)
    assert f'href="/units/{elsewhere.id}/"' in menu  # core's own entry is there
    assert "/sample/" not in menu and "Notes" not in menu


@pytest.mark.anyio
async def test_hook_menu_items_entry_needs_its_required_action(client, enabled_unit, accounts):
    office = accounts("district_admin", enabled_unit)  # may see the unit, not read notes
    await sign_in(client, office.username, office.password)
    page = await client.get(f"/units/{enabled_unit.id}/")
    assert page.status_code == 200
    assert f'href="/units/{enabled_unit.id}/"' in menu_nav(page.text)
    assert "/sample/" not in menu_nav(page.text)


def test_hook_menu_items_core_drops_entries_the_actor_may_not_use(pm, settings, request):
    def menu_items(unit, actor):
        return [
            MenuItem(Label("公开", "Public"), "/public", order=10),
            MenuItem(
                Label("机密", "Secret"), "/secret", required_action="inline.secret.read", order=20
            ),
            MenuItem(
                Label("分组", "Group"),
                "/group",
                order=30,
                children=(
                    MenuItem(Label("子项", "Child"), "/child"),
                    MenuItem(
                        Label("隐藏", "Hidden"), "/hidden", required_action="inline.secret.read"
                    ),
                ),
            ),
        ]

    pm.register(inline_plugin("inline", menu_items=menu_items), name="inline")
    platform = request.getfixturevalue("platform")
    unit = request.getfixturevalue("unit_tree").district
    switch(platform, unit, "inline", True)
    with platform.session_factory() as session:
        anonymous = unit_page(platform, session, unit, None).menu
        trusted = unit_page(platform, session, unit, Allowed("inline.secret.read")).menu
    urls = [item.url for item in anonymous]
    assert "/public" in urls and "/secret" not in urls
    [group] = [item for item in anonymous if item.url == "/group"]
    assert [child.url for child in group.children] == ["/child"]
    assert {"/public", "/secret", "/group"} <= {item.url for item in trusted}
    orders = [item.order for item in anonymous]
    assert orders == sorted(orders)  # core sorts by order, whoever declared the entry


# -- dashboard_figures -------------------------------------------------------------------


@pytest.mark.anyio
async def test_hook_dashboard_figures_count_the_units_notes(
    client, platform, enabled_unit, unit_tree, editor
):
    for text in ("一", "二"):
        await client.post(
            f"/api/v1/units/{enabled_unit.id}/sample/notes/",
            json={"text": text},
            headers=editor.headers,
        )
    await sign_in(client, editor.username, editor.password)
    figures = figures_section((await client.get(f"/units/{enabled_unit.id}/")).text)
    assert f'<a href="/units/{enabled_unit.id}/sample/">2</a>' in figures and "便签" in figures
    with platform.session_factory() as session:
        assert dashboard(platform, session, enabled_unit, None) == [
            Figure(Label("便签", "Notes"), 2, url=f"/units/{enabled_unit.id}/sample/")
        ]
    assert figures_section((await client.get(f"/units/{unit_tree.other_district.id}/")).text) == ""


def test_hook_dashboard_figures_core_drops_figures_the_actor_may_not_see(pm, settings, request):
    def dashboard_figures(unit, actor, session):
        return [
            Figure(Label("公开", "Public"), 1),
            Figure(Label("机密", "Secret"), 2, required_action="gauge.secret.read"),
        ]

    pm.register(inline_plugin("gauge", dashboard_figures=dashboard_figures), name="gauge")
    platform = request.getfixturevalue("platform")
    unit = request.getfixturevalue("unit_tree").district
    switch(platform, unit, "gauge", True)
    with platform.session_factory() as session:
        assert [f.value for f in dashboard(platform, session, unit, None)] == [1]
        assert [
            f.value for f in dashboard(platform, session, unit, Allowed("gauge.secret.read"))
        ] == [1, 2]


# -- handle_event ------------------------------------------------------------------------


def test_hook_handle_event_writes_in_the_events_transaction(platform, enabled_unit):
    event = DomainEvent("core.report.submitted", unit_id=enabled_unit.id, payload={"report_id": 1})
    with platform.session_factory() as session:
        platform.emit(session, event)
        session.flush()
        assert session.exec(select(SampleNote.text)).all() == ["event core.report.submitted"]
        session.rollback()  # the change that caused the event failed
    assert notes_at(platform, enabled_unit) == []

    with platform.session_factory() as session:
        platform.emit(session, event)
        session.commit()
    assert notes_at(platform, enabled_unit) == ["event core.report.submitted"]


def test_hook_handle_event_is_not_called_where_the_plugin_is_off(platform, enabled_unit, unit_tree):
    switch(platform, unit_tree.township, "sample", False)
    for unit in (unit_tree.other_district, unit_tree.township, unit_tree.village):
        with platform.session_factory() as session:
            platform.emit(session, DomainEvent("core.report.submitted", unit_id=unit.id))
            assert not session.new
            session.commit()
        assert notes_at(platform, unit) == []


def test_hook_handle_event_reaches_only_plugins_enabled_at_the_events_unit(pm, settings, request):
    heard = []
    pm.register(
        inline_plugin("ear", handle_event=lambda event, session: heard.append(event.unit_id)),
        name="ear",
    )
    platform = request.getfixturevalue("platform")
    tree = request.getfixturevalue("unit_tree")
    switch(platform, tree.district, "sample", True)
    switch(platform, tree.other_district, "ear", True)
    for unit in (tree.district, tree.other_district):
        with platform.session_factory() as session:
            platform.emit(session, DomainEvent("core.person.registered", unit_id=unit.id))
            session.commit()
    assert heard == [tree.other_district.id]
    assert notes_at(platform, tree.district) == ["event core.person.registered"]
    assert notes_at(platform, tree.other_district) == []


# -- on_plugin_enabled / on_plugin_disabled ----------------------------------------------


@pytest.fixture
def spied(pm, settings, request):
    """The platform with an extra inline plugin ``spy`` recording its own switch hooks.

    Registering on ``pm`` must precede building the platform, hence ``getfixturevalue``
    (``settings`` is requested up front: it carries the database parametrisation).
    """
    calls = []
    pm.register(
        inline_plugin(
            "spy",
            on_plugin_enabled=lambda unit, session: calls.append(("enabled", unit.id)),
            on_plugin_disabled=lambda unit, session: calls.append(("disabled", unit.id)),
        ),
        name="spy",
    )
    platform = request.getfixturevalue("platform")
    return (
        platform,
        request.getfixturevalue("unit_tree"),
        request.getfixturevalue("admin").headers,
        calls,
    )


@pytest.mark.anyio
async def test_hook_on_plugin_enabled_is_called_for_the_switched_plugin_only(spied):
    platform, tree, headers, calls = spied
    async with AsyncTestClient(create_app(platform=platform)) as client:
        client.headers.update(headers)  # the platform admin's bearer token
        switched = await client.put(
            f"/api/v1/units/{tree.district.id}/plugins/sample", json={"enabled": True}
        )
        assert switched.json() == {"name": "sample", "enabled": True}
        assert notes_at(platform, tree.district) == ["board opened"]
        assert calls == []

        await client.put(f"/api/v1/units/{tree.district.id}/plugins/sample", json={"enabled": True})
        assert notes_at(platform, tree.district) == ["board opened"]  # unchanged: not called again

        await client.put(
            f"/api/v1/units/{tree.other_district.id}/plugins/spy", json={"enabled": True}
        )
    assert calls == [("enabled", tree.other_district.id)]
    assert notes_at(platform, tree.other_district) == []


@pytest.mark.anyio
async def test_hook_on_plugin_disabled_is_called_for_the_switched_plugin_only_and_keeps_data(spied):
    platform, tree, headers, calls = spied
    unit = tree.district
    async with AsyncTestClient(create_app(platform=platform)) as client:
        client.headers.update(headers)  # the platform admin's bearer token
        await client.put(f"/api/v1/units/{unit.id}/plugins/sample", json={"enabled": True})
        await client.post(f"/api/v1/units/{unit.id}/sample/notes/", json={"text": "留言"})
        switched = await client.put(
            f"/api/v1/units/{unit.id}/plugins/sample", json={"enabled": False}
        )
        assert switched.json() == {"name": "sample", "enabled": False}
        assert (await client.get(f"/api/v1/units/{unit.id}/sample/notes/")).status_code == 404
        assert calls == []

        for enabled in (True, False):
            await client.put(f"/api/v1/units/{unit.id}/plugins/spy", json={"enabled": enabled})
    assert calls == [("enabled", unit.id), ("disabled", unit.id)]
    assert notes_at(platform, unit) == ["board opened", "留言", "board closed"]  # nothing deleted


# -- check_assignment --------------------------------------------------------------------


@pytest.fixture
def duty(platform, enabled_unit, unit_tree, accounts):
    """A published patrol at the village (sample on from the district), two volunteers of
    the village, and its leader's API headers."""
    from tests.support.tasks_world import TasksWorld, at, next_monday

    world = TasksWorld(platform)
    task = world.task(unit_tree.village)
    shift = world.shift(task, at(next_monday(), 9), max_headcount=3)
    members = [world.volunteer(unit_tree.village) for _ in range(2)]
    return shift, members, accounts("village_leader", unit_tree.village).headers


def pin(platform, unit, text: str) -> None:
    with platform.session_factory() as session:
        session.add(SampleNote(unit_id=unit.id, text=text))
        session.commit()


@pytest.mark.anyio
async def test_hook_check_assignment_a_blocking_refusal_refuses_and_names_the_rule(
    client, platform, unit_tree, duty
):
    shift, (marked, other), headers = duty
    pin(platform, unit_tree.village, f"refuse:{marked.person_id}")
    url = f"/api/v1/shifts/{shift.id}/assignments"
    refused = await client.post(url, json={"volunteer_id": marked.volunteer_id}, headers=headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_eligible"
    assert refused.json()["errors"] == [
        {"field": "volunteer_id", "rule": "sample.marked", "message": "便签上注明不宜安排"}
    ]
    # a warning does not let it through either way; another person is not concerned
    confirmed = await client.post(
        url, json={"volunteer_id": marked.volunteer_id, "confirm_warnings": True}, headers=headers
    )
    assert confirmed.status_code == 409
    assert (
        await client.post(url, json={"volunteer_id": other.volunteer_id}, headers=headers)
    ).status_code == 201


@pytest.mark.anyio
async def test_hook_check_assignment_a_warning_comes_back_and_is_kept_when_overridden(
    client, platform, unit_tree, duty
):
    shift, (member, _), headers = duty
    pin(platform, unit_tree.village, f"warn:{member.person_id}")
    url = f"/api/v1/shifts/{shift.id}/assignments"
    first = await client.post(url, json={"volunteer_id": member.volunteer_id}, headers=headers)
    assert (first.status_code, first.json()["code"]) == (409, "confirm_warnings")
    assert [(e["field"], e["rule"]) for e in first.json()["errors"]] == [
        ("confirm_warnings", "sample.reminder")
    ]
    again = await client.post(
        url, json={"volunteer_id": member.volunteer_id, "confirm_warnings": True}, headers=headers
    )
    assert again.status_code == 201, again.text
    (assignment,) = again.json()["assignments"]
    assert assignment["warnings"] == [
        "sample.reminder: 便签上有提醒事项 / A note asks to check first"
    ]


@pytest.mark.anyio
async def test_hook_check_assignment_is_not_called_where_the_plugin_is_disabled(
    client, platform, unit_tree, duty
):
    shift, (member, _), headers = duty
    pin(platform, unit_tree.village, f"refuse:{member.person_id}")
    switch(platform, unit_tree.village, "sample", False)
    made = await client.post(
        f"/api/v1/shifts/{shift.id}/assignments",
        json={"volunteer_id": member.volunteer_id},
        headers=headers,
    )
    assert made.status_code == 201, made.text


def test_hook_check_assignment_receives_the_proposed_assignment(pm, settings, request):
    from core.people.models import Person
    from core.tasks.assignments import assign
    from core.tasks.models import Shift
    from core.training.models import QualificationSource
    from core.training.qualifications import grant
    from tests.support.tasks_world import TasksWorld, at, next_monday, principal_of

    seen = []
    pm.register(
        inline_plugin("gate", check_assignment=lambda check, session: seen.append(check) or []),
        name="gate",
    )
    platform = request.getfixturevalue("platform")
    tree = request.getfixturevalue("unit_tree")
    switch(platform, tree.township, "gate", True)
    world = TasksWorld(platform)
    task = world.task(
        tree.village,
        task_type="core.emergency_rescue",
        details={"incident": "flood", "assembly_point": "朝天门"},
    )
    start = at(next_monday(), 9)
    shift = world.shift(task, start, required_modules=[])
    member = world.volunteer(tree.village)
    elsewhere = world.shift(world.task(tree.other_village), start)
    leader = principal_of(platform, ("township_leader", tree.township))
    with platform.session_factory() as session:
        # core's training gate asks for the task type's module: the member holds it
        grant(
            session,
            session.get(Person, member.person_id),
            platform.plugins.training_modules["core.emergency_rescue"],
            granted_on=start.date() - timedelta(days=30),
            source=QualificationSource.manual,
            granted_by_id=None,
        )
        assign(platform, session, leader, session.get(Shift, shift.id), member.volunteer_id)
        session.commit()
    (check,) = seen
    assert (check.volunteer_id, check.person_id, check.unit_id, check.home_unit_id) == (
        member.volunteer_id,
        member.person_id,
        tree.village.id,
        tree.village.id,
    )
    assert (check.task_type, check.risky, check.required_modules) == (
        "core.emergency_rescue",
        True,
        ("core.emergency_rescue",),
    )
    assert (check.starts_at, check.ends_at) == (start, start + timedelta(hours=2))
    # the other township's shift: "gate" is not enabled there, so it is not asked
    other = world.volunteer(tree.other_village)
    city = principal_of(platform, ("city_admin", tree.city))
    with platform.session_factory() as session:
        assign(platform, session, city, session.get(Shift, elsewhere.id), other.volunteer_id)
        session.rollback()
    assert len(seen) == 1


# -- export_volunteers -------------------------------------------------------------------


def _export_world(request, pm):
    """The platform built from ``pm`` (after inline plugins were registered), a volunteer in
    the district and a district office allowed to export."""
    from core.people.identity import check_digit
    from core.people.services import PersonDetails, create_person
    from core.units.models import Unit
    from core.volunteers.services import enroll

    platform = request.getfixturevalue("platform")
    tree = request.getfixturevalue("unit_tree")
    with platform.session_factory() as session:
        village = session.get(Unit, tree.village.id)
        first17 = "50010319900101123"
        person = create_person(
            session,
            platform.keyring,
            village,
            PersonDetails(name="张三", id_number=first17 + check_digit(first17)),
        )
        enroll(session, person, village)
        session.commit()
    office = request.getfixturevalue("accounts")("district_admin", tree.district)
    return platform, tree, office


def test_hook_export_volunteers_core_writes_xlsx_and_csv_and_runs_last(platform):
    hook = platform.plugins.pm.hook.export_volunteers
    [core_impl] = [impl for impl in hook.get_hookimpls() if impl.plugin_name.startswith("core.")]
    assert core_impl.trylast and hook.spec.opts["firstresult"]
    table = [["姓名", "证件号码"], ["张三", "500103199001011234"]]
    xlsx = hook(format="xlsx", volunteers=table)
    assert xlsx[:2] == b"PK"  # a zip: the workbook
    assert hook(format="csv", volunteers=table).decode("utf-8-sig").splitlines() == [
        "姓名,证件号码",
        "张三,500103199001011234",
    ]
    assert hook(format="pdf", volunteers=table) is None  # nobody writes it


@pytest.mark.anyio
async def test_hook_export_volunteers_a_plugin_replaces_cores_xlsx(pm, settings, request):
    received = []

    def export_volunteers(format, volunteers):
        received.append((format, volunteers))
        return b"provincial workbook" if format == "xlsx" else None

    pm.register(inline_plugin("province", export_volunteers=export_volunteers), name="province")
    platform, tree, office = _export_world(request, pm)
    async with AsyncTestClient(create_app(platform=platform)) as client:
        response = await client.post(
            "/api/v1/volunteers/export",
            json={"unit_id": tree.district.id, "reason": "报送省级平台"},
            headers=office.headers,
        )
        assert response.status_code == 200, response.text
        assert response.content == b"provincial workbook"
        [(fmt, rows)] = received
        assert fmt == "xlsx" and rows[0][:2] == ["姓名", "性别"] and rows[1][0] == "张三"

        csv_export = await client.post(
            "/api/v1/volunteers/export",
            json={"format": "csv", "reason": "核对名单"},
            headers=office.headers,
        )
        assert csv_export.content.decode("utf-8-sig").startswith("姓名,")  # core's, as before
    from core.audit.models import AuditEntry

    with platform.session_factory() as session:
        audited = session.exec(select(AuditEntry).where(AuditEntry.event == "export")).all()
    # The replaced export is audited like core's own.
    assert [entry.after["format"] for entry in audited] == ["xlsx", "csv"]


@pytest.mark.anyio
async def test_hook_export_volunteers_a_plugin_adds_a_format(pm, settings, request):
    import json

    def export_volunteers(format, volunteers):
        if format != "json":
            return None
        header, *rows = volunteers
        records = [dict(zip(header, row, strict=True)) for row in rows]
        return json.dumps(records, ensure_ascii=False).encode()

    pm.register(inline_plugin("jsonout", export_volunteers=export_volunteers), name="jsonout")
    platform, tree, office = _export_world(request, pm)
    async with AsyncTestClient(create_app(platform=platform)) as client:
        response = await client.post(
            "/api/v1/volunteers/export",
            json={"format": "json", "reason": "对接区里的系统"},
            headers=office.headers,
        )
        assert response.status_code == 200, response.text
        [row] = json.loads(response.content)
        assert row["姓名"] == "张三" and row["证件号码"].startswith("500103")
        xlsx = await client.post(
            "/api/v1/volunteers/export",
            json={"format": "xlsx", "reason": "照常导出"},
            headers=office.headers,
        )
        assert xlsx.content[:2] == b"PK"
