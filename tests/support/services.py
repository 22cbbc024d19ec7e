"""The servers some tests need, where to find them, and whether their absence may skip.

Without PostgreSQL, Redis, RabbitMQ or Chromium the tests that need them skip with a reason;
with ``PINGAN_TEST_REQUIRE_SERVICES=1`` (set by ``.ci/run``) or ``CI=true`` they fail instead.
"""

import os
import shutil
import socket
from functools import cache
from urllib.parse import urlparse

import pytest

POSTGRES_URL = os.environ.get(
    "PINGAN_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("PINGAN_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP_URL = os.environ.get("PINGAN_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
CHROMIUM = os.environ.get("PINGAN_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

REQUIRED = os.environ.get("PINGAN_TEST_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true"


@cache
def _reachable(url: str) -> bool:
    parsed = urlparse(url.replace("+psycopg", ""))
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=2):
            return True
    except OSError:
        return False


def _available(name: str) -> tuple[bool, str]:
    if name == "postgresql":
        return _reachable(POSTGRES_URL), f"PostgreSQL at {POSTGRES_URL}"
    if name == "redis":
        return _reachable(REDIS_URL), f"Redis at {REDIS_URL}"
    if name == "rabbitmq":
        return _reachable(AMQP_URL), f"RabbitMQ at {AMQP_URL}"
    if name == "chromium":
        return os.path.exists(CHROMIUM), f"Chromium at {CHROMIUM}"
    if name == "redis-server":
        return shutil.which("redis-server") is not None, "the redis-server program"
    raise ValueError(name)


def require(name: str) -> None:
    """Skip (or, in CI, fail) the current test when service ``name`` is missing."""
    ok, what = _available(name)
    if ok:
        return
    if REQUIRED:
        pytest.fail(f"{what} is required here (PINGAN_TEST_REQUIRE_SERVICES) but unreachable")
    pytest.skip(f"{what} is unreachable")
