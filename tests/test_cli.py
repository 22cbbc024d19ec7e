"""The ``pingan`` command line."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

import core
from core import hookspecs
from core.cli import CliState, cli
from core.migrate import heads
from core.plugins import Plugins, make_plugin_manager
from core.settings import Settings
from tests.support.server import free_port


def invoke(settings: Settings, *args: str, pm=None):
    pm = pm or make_plugin_manager()
    return CliRunner().invoke(cli, list(args), obj=CliState(settings=settings, pm=pm))


@pytest.fixture
def fresh_settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, var_dir=tmp_path / "var")


def test_version_prints_the_package_version(fresh_settings):
    result = invoke(fresh_settings, "--version")
    assert result.exit_code == 0
    assert result.output.strip() == f"pingan, version {core.__version__}"


def test_db_upgrade_then_check_is_clean(fresh_settings):
    result = invoke(fresh_settings, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "core" in result.output and "sample" in result.output
    check = invoke(fresh_settings, "db", "check")
    assert check.exit_code == 0, check.output
    assert "matches" in check.output


def test_db_check_fails_on_a_database_that_is_behind(fresh_settings):
    result = invoke(fresh_settings, "db", "check")
    assert result.exit_code == 1
    assert "not at head: core" in result.output


def test_plugins_lists_the_bundled_plugins_with_versions_hooks_and_heads(fresh_settings):
    invoke(fresh_settings, "db", "upgrade")
    result = invoke(fresh_settings, "plugins")
    assert result.exit_code == 0, result.output
    for name, label in [
        ("mediation", "人民调解"),
        ("antidrug", "禁毒"),
        ("fire", "消防安全"),
        ("correction", "社区矫正"),
        ("insurance", "保险与经费"),
    ]:
        assert f"{name}  0.1.0  {label}" in result.output
    every_hook = sorted(
        name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "pingan_spec")
    )
    sample = result.output.split("sample  1.0.0")[1].splitlines()[1]
    assert sample == f"  hooks: {', '.join(every_hook)}"  # the sample plugin uses every hook
    sample_head = heads(Plugins(make_plugin_manager()))["sample"]
    assert f"migration head: {sample_head}" in result.output


def test_plugins_list_marks_blocked_plugins(fresh_settings):
    settings = fresh_settings.model_copy(update={"disabled_plugins": ["sample"]})
    invoke(settings, "db", "upgrade", pm=make_plugin_manager(blocked=["sample"]))
    result = invoke(settings, "plugins", "list", pm=make_plugin_manager(blocked=["sample"]))
    assert "sample  (blocked)  pingan_sample.plugin" in result.output


def test_plugins_enable_and_disable_at_a_unit_by_code(fresh_settings):
    from core.demo.loader import load_demo
    from core.platform import build_platform

    invoke(fresh_settings, "db", "upgrade")
    platform = build_platform(fresh_settings, make_plugin_manager())
    load_demo(platform)
    result = invoke(fresh_settings, "plugins", "disable", "fire", "--unit", "500103")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "fire disabled at 渝中区"
    again = invoke(fresh_settings, "plugins", "disable", "fire", "--unit", "500103")
    assert again.output.strip() == "fire disabled at 渝中区 (already)"
    listing = invoke(fresh_settings, "plugins", "list")
    assert "渝中区#4 (off)" in listing.output
    assert invoke(fresh_settings, "plugins", "enable", "fire", "--unit", "500103").exit_code == 0
    unknown = invoke(fresh_settings, "plugins", "enable", "nope", "--unit", "500103")
    assert unknown.exit_code == 1 and "no plugin named 'nope'" in unknown.output
    nowhere = invoke(fresh_settings, "plugins", "enable", "fire", "--unit", "999")
    assert nowhere.exit_code == 1 and "no unit with id or code '999'" in nowhere.output


def test_worker_refuses_to_run_without_a_broker(fresh_settings):
    result = invoke(fresh_settings, "worker")
    assert result.exit_code == 2
    assert "PINGAN_BROKER_URL" in result.output


def test_db_revision_writes_a_new_plugin_branch_for_its_own_tables_only(tmp_path, monkeypatch):
    """A third-party plugin without migrations gets a branch that depends on core's head."""
    package = tmp_path / "pingan_ledgerdemo"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "plugin.py").write_text(
        "from sqlmodel import Field, SQLModel\n"
        "from core.contributions import Label\n"
        "from core.hookspecs import hookimpl\n"
        "from core.plugins import PluginMeta\n"
        "META = PluginMeta(name='ledgerdemo', label=Label('账本', 'Ledger'), version='0.1')\n"
        "class LedgerdemoEntry(SQLModel, table=True):\n"
        "    __tablename__ = 'ledgerdemo_entry'\n"
        "    id: int | None = Field(default=None, primary_key=True)\n"
        "    amount_fen: int\n"
        "@hookimpl\n"
        "def register_models():\n"
        "    return [LedgerdemoEntry]\n"
    )
    dist = tmp_path / "pingan_ledgerdemo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: pingan-ledgerdemo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[pingan.plugins]\nledgerdemo = pingan_ledgerdemo.plugin\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    settings = Settings(_env_file=None, var_dir=tmp_path / "var")

    assert invoke(settings, "db", "upgrade").exit_code == 0
    result = invoke(settings, "db", "revision", "--plugin", "ledgerdemo", "-m", "ledger entries")
    assert result.exit_code == 0, result.output
    written = list((package / "migrations" / "versions").glob("*.py"))
    assert len(written) == 1
    source = written[0].read_text()
    assert "branch_labels: str | Sequence[str] | None = ('ledgerdemo',)" in source
    assert "create_table('ledgerdemo_entry'" in source
    assert "sample_note" not in source and "'unit'" not in source
    core_head = heads(Plugins(make_plugin_manager()))["core"]
    assert f"depends_on: str | Sequence[str] | None = '{core_head}'" in source

    assert invoke(settings, "db", "upgrade").exit_code == 0
    assert invoke(settings, "db", "check").exit_code == 0


def test_a_command_on_a_database_never_upgraded_says_what_to_run(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGAN_")}
    env["PINGAN_VAR_DIR"] = str(tmp_path / "var")
    result = subprocess.run(
        [sys.executable, "-c", "from core.cli import main; main()", "plugins"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "no such table" in result.stderr and "pingan db upgrade" in result.stderr


def test_the_web_process_factory_freezes_its_start_up_objects(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGAN_")}
    env["PINGAN_VAR_DIR"] = str(tmp_path / "var")
    script = (
        "import gc; from core.app import serve; app = serve(); "
        "print(gc.get_freeze_count(), len(app.routes))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    frozen, routes = map(int, result.stdout.split())
    assert frozen > 100_000 and routes > 300  # the app and everything it holds


def test_run_serves_health_and_a_chinese_home_page_from_a_cold_start(tmp_path):
    """The README's first command, minus the install: how long until /health answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PINGAN_")}
    env["PINGAN_VAR_DIR"] = str(tmp_path / "var")
    started = time.monotonic()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from core.cli import main; main()",
            "run",
            "--demo",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        health = None
        while time.monotonic() - started < 60 and process.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None, process.stdout.read1().decode() if process.stdout else ""
        elapsed = time.monotonic() - started
        assert health.json()["database"]["ok"] and health.json()["broker"]["ok"]
        home = httpx.get(f"http://127.0.0.1:{port}/", follow_redirects=True)
        assert home.url.path == "/login"
        assert '<html lang="zh-CN">' in home.text and "登录" in home.text
        print(f"pingan run --demo answered /health after {elapsed:.2f}s from a cold start")
    finally:
        process.terminate()
        process.wait(timeout=20)
    output = process.stdout.read().decode()
    assert "demo logins (shown once):" in output
    assert re.search(r"^  yuzhong +\S{12} +district_admin @ 渝中区$", output, re.M)
    assert re.search(r"platform administrator: admin / one-time password \S{16}", output)
