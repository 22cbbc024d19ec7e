"""Fixtures shared by core's and every plugin's tests."""

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from core.app import create_app
from core.platform import Platform, build_platform
from core.plugins import make_plugin_manager
from core.settings import Settings
from core.units.models import Unit, UnitLevel
from core.units.services import create_unit, set_plugin_enabled
from tests.support import databases, services

BACKENDS = [b for b in os.environ.get("PINGAN_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "plugins(*names): load only these plugin entry points")


@pytest.fixture(autouse=True)
def _no_deployment_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep a developer's or CI's own PINGAN_* settings out of the tests."""
    for name in list(os.environ):
        if name.startswith("PINGAN_") and not name.startswith("PINGAN_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def pm(request: pytest.FixtureRequest):
    """A fresh plugin manager; ``@pytest.mark.plugins("a", "b")`` loads only those plugins."""
    marker = request.node.get_closest_marker("plugins")
    return make_plugin_manager(only=marker.args if marker else None)


# -- databases ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per test session with every installed plugin's branch."""
    return databases.migrate_new_sqlite(tmp_path_factory.mktemp("template") / "template.sqlite3")


@pytest.fixture(scope="session")
def postgres_database(worker_id: str):
    """A PostgreSQL database for this xdist worker, migrated once; dropped at the end."""
    services.require("postgresql")
    name = f"pingan_test_{worker_id}_{os.getpid()}"  # concurrent runs never share one
    url = databases.create_postgres_database(services.POSTGRES_URL, name)
    from core.db import make_engine
    from core.migrate import upgrade
    from core.plugins import Plugins

    engine = make_engine(url)
    upgrade(engine, Plugins(make_plugin_manager()))
    engine.dispose()
    yield url
    databases.drop_postgres_database(services.POSTGRES_URL, name)


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path):
    """The URL of an empty, fully migrated database: SQLite and PostgreSQL in turn."""
    if request.param == "sqlite":
        yield databases.copy_sqlite(sqlite_template, tmp_path / "pingan.sqlite3")
        return
    url = request.getfixturevalue("postgres_database")
    yield url
    from core.db import make_engine

    engine = make_engine(url)
    databases.empty_tables(engine)
    engine.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Settings for a test: its own database, embedded jobs, quick retries, no scheduler."""
    return Settings(
        _env_file=None,
        var_dir=tmp_path / "var",
        database_url=database_url,
        embedded_scheduler=False,
        job_max_retries=2,
        job_min_backoff_ms=10,
        job_max_backoff_ms=50,
        worker_threads=2,
    )


@pytest.fixture
def platform(settings: Settings, pm) -> Platform:
    """The assembled platform on the test's database and an in-process StubBroker."""
    built = build_platform(settings, pm)
    yield built
    built.jobs.stop_worker()
    built.engine.dispose()


@pytest.fixture
def session(platform: Platform):
    with platform.session_factory() as session:
        yield session


@pytest.fixture
def worker(platform: Platform):
    """In-process worker threads consuming the StubBroker; use ``broker.join(queue)``."""
    yield platform.jobs.start_worker()
    platform.jobs.stop_worker()


@pytest.fixture
def broker(platform: Platform):
    return platform.jobs.broker


# -- web ---------------------------------------------------------------------------------


@pytest.fixture
def app(platform: Platform):
    return create_app(platform=platform)


@pytest.fixture
async def client(app):
    """An async client; entering it runs the app's lifespan (the embedded job worker)."""
    async with AsyncTestClient(app) as test_client:
        yield test_client


# -- units -------------------------------------------------------------------------------


@dataclass
class UnitTree:
    """City → district → township → village, and a sibling at each level below the city."""

    city: Unit
    district: Unit
    township: Unit
    village: Unit
    other_district: Unit
    other_township: Unit
    other_village: Unit


@pytest.fixture
def unit_tree(platform: Platform) -> UnitTree:
    with platform.session_factory() as session:
        city = create_unit(session, name="重庆市", level=UnitLevel.city, code="500000")
        district = create_unit(session, name="渝中区", level=UnitLevel.district, parent=city, code="500103")
        township = create_unit(session, name="解放碑街道", level=UnitLevel.township, parent=district, code="500103002")
        village = create_unit(session, name="民族路社区", level=UnitLevel.village, parent=township, code="500103002001")
        other_township = create_unit(session, name="七星岗街道", level=UnitLevel.township, parent=district, code="500103001")
        other_village = create_unit(session, name="金汤街社区", level=UnitLevel.village, parent=other_township, code="500103001001")
        other_district = create_unit(session, name="江北区", level=UnitLevel.district, parent=city, code="500105")
        session.commit()
        return UnitTree(city, district, township, village, other_district, other_township, other_village)


@pytest.fixture
def enabled_unit(request: pytest.FixtureRequest, platform: Platform, unit_tree: UnitTree) -> Unit:
    """The district of ``unit_tree`` with the marker's plugins switched on there."""
    marker = request.node.get_closest_marker("plugins")
    with platform.session_factory() as session:
        for name in marker.args if marker else platform.plugins.names:
            set_plugin_enabled(session, unit_tree.district, name, True, changed_by="test")
        session.commit()
    return unit_tree.district
