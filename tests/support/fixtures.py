"""Fixtures shared by core's and every plugin's tests."""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from core.accounts import passwords
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
    config.addinivalue_line("markers", "heavy: a test of minutes; run first (see below)")
    # Still Argon2id, at the lowest cost: hundreds of tests create accounts and sign in, and
    # the production cost (tested in test_accounts) is deliberately slow.
    passwords._hasher = PasswordHash((Argon2Hasher(memory_cost=64, time_cost=1, parallelism=1),))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Start the tests of minutes (route-by-role scans, fuzzing) first, so that with
    ``pytest -n`` they run beside the short ones instead of after them."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


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
    databases.keep_insertion_order(engine)
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


@pytest.fixture(scope="session")
def test_keys() -> dict[str, str]:
    """Key material for the test session (a server database requires explicit keys)."""
    import base64
    import secrets as random

    from core.security.secrets import new_encryption_key

    return {
        "secret_key": random.token_urlsafe(32),
        "encryption_keys": new_encryption_key(),
        "index_key": base64.urlsafe_b64encode(random.token_bytes(32)).decode(),
    }


@pytest.fixture
def settings(tmp_path: Path, database_url: str, test_keys: dict[str, str]) -> Settings:
    """Settings for a test: its own database, embedded jobs, quick retries, no scheduler."""
    return Settings(
        _env_file=None,
        var_dir=tmp_path / "var",
        database_url=database_url,
        secure_cookies=False,
        **test_keys,
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


_APPS: dict[tuple, Litestar] = {}


def _app_key(platform: Platform) -> tuple | None:
    """What the app's construction depends on: the loaded plugin modules and the cookie
    setting. None for plugins made inside a test (their routes are that test's own)."""
    loaded = platform.plugins.pm.list_name_plugin()
    if any(sys.modules.get(getattr(plugin, "__name__", "")) is not plugin for _, plugin in loaded):
        return None
    return tuple(
        sorted((name, id(plugin)) for name, plugin in loaded)
    ), platform.settings.secure_cookies


@pytest.fixture
def app(platform: Platform):
    """The web app on the test's platform.

    Building it takes a while (a thousand route handlers), so each worker builds one per
    plugin set and points it at each test's platform: everything in it reads the platform
    from ``app.state`` when a request runs.
    """
    key = _app_key(platform)
    if key is None:
        return create_app(platform=platform)
    if key not in _APPS:
        _APPS[key] = create_app(platform=platform)
    built = _APPS[key]
    built.state.platform = platform
    return built


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
        district = create_unit(
            session, name="渝中区", level=UnitLevel.district, parent=city, code="500103"
        )
        township = create_unit(
            session, name="解放碑街道", level=UnitLevel.township, parent=district, code="500103002"
        )
        village = create_unit(
            session,
            name="民族路社区",
            level=UnitLevel.village,
            parent=township,
            code="500103002001",
        )
        other_township = create_unit(
            session, name="七星岗街道", level=UnitLevel.township, parent=district, code="500103001"
        )
        other_village = create_unit(
            session,
            name="金汤街社区",
            level=UnitLevel.village,
            parent=other_township,
            code="500103001001",
        )
        other_district = create_unit(
            session, name="江北区", level=UnitLevel.district, parent=city, code="500105"
        )
        session.commit()
        return UnitTree(
            city, district, township, village, other_district, other_township, other_village
        )


@pytest.fixture
def enabled_unit(request: pytest.FixtureRequest, platform: Platform, unit_tree: UnitTree) -> Unit:
    """The district of ``unit_tree`` with the marker's plugins switched on there."""
    marker = request.node.get_closest_marker("plugins")
    with platform.session_factory() as session:
        for name in marker.args if marker else platform.plugins.names:
            set_plugin_enabled(session, unit_tree.district, name, True, changed_by="test")
        session.commit()
    return unit_tree.district


# -- accounts ----------------------------------------------------------------------------


@dataclass
class Account:
    """A test user holding one role at one unit, with an API token."""

    user_id: int
    username: str
    password: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """Authorization headers for the API."""
        return {"authorization": f"Bearer {self.token}"}


TEST_PASSWORD = "correct horse battery staple"


@pytest.fixture
def accounts(platform: Platform):
    """Factory: ``accounts("district_admin", unit)`` → an Account with that role there.

    ``role=None`` makes an account without any role (at ``unit``).
    """
    from core.accounts import services

    made: dict[tuple, Account] = {}

    def make(role: str | None, unit: Unit, username: str | None = None) -> Account:
        key = (role, unit.id, username)
        if key in made:
            return made[key]
        name = username or f"{role or 'nobody'}-{unit.id}".replace("_", "-").replace(".", "-")
        with platform.session_factory() as session:
            user, _ = services.create_user(
                session,
                platform.settings,
                username=name,
                display_name=name,
                unit=unit,
                password=TEST_PASSWORD,
            )
            if role is not None:
                services.grant_role(session, platform.policy, None, user, role, unit)
            _, token = services.issue_token(session, platform.settings, user, "test", None)
            session.commit()
            made[key] = Account(user.id, user.username, TEST_PASSWORD, token)
        return made[key]

    return make


@pytest.fixture
def admin(platform: Platform, accounts, unit_tree: UnitTree) -> Account:
    """An account holding, at the top unit, every role that may be held there (tests only)."""
    from core.accounts import services
    from core.accounts.models import User

    account = accounts("platform_admin", unit_tree.city, username="root")
    with platform.session_factory() as session:
        user = session.get(User, account.user_id)
        city = session.get(Unit, unit_tree.city.id)
        for role in platform.policy.roles:
            if platform.policy.allowed_at(role, city.level):
                services.grant_role(session, platform.policy, None, user, role, city)
        session.commit()
    return account
