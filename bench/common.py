"""What the benchmarks share: the bench database, a platform on it, timing and printing.

The database is ``PINGAN_BENCH_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/
pingan_bench``), made by ``bench/generate.py``. Figures are printed as ratios against a
baseline measured in the same run, so they compare across machines.
"""

import base64
import hashlib
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_URL = os.environ.get(
    "PINGAN_BENCH_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/pingan_bench"
)


def _key(label: str, size: int = 32) -> str:
    """A fixed key for the bench database only (never a deployment's)."""
    return base64.urlsafe_b64encode(hashlib.sha256(label.encode()).digest()[:size]).decode()


BENCH_KEYS = {
    "secret_key": _key("pingan-bench-secret"),
    "encryption_keys": "kbench1:" + _key("pingan-bench-encryption"),
    "index_key": _key("pingan-bench-index"),
}


def admin_url(url: str = BENCH_URL) -> tuple[str, str]:
    """The maintenance database's URL and the bench database's name."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    return parsed.set(database="postgres").render_as_string(hide_password=False), parsed.database


def settings():
    """Settings on the bench database (in-process jobs, no scheduler)."""
    from core.settings import Settings

    return Settings(
        _env_file=None,
        database_url=BENCH_URL,
        var_dir=Path("/tmp/pingan-bench-var"),
        embedded_scheduler=False,
        **BENCH_KEYS,
    )


def platform():
    """A platform on the bench database, its start-up objects frozen as in a served process."""
    from core.platform import build_platform, freeze_startup_objects

    built = build_platform(settings())
    freeze_startup_objects()
    return built


def city_principal(actions: set[str]):
    """Someone holding ``actions`` at the city unit (id 1), as a grant would give them."""
    from core.accounts.principal import Grant, Principal

    grant = Grant(0, "city_admin", 1, "1.", frozenset(actions))
    return Principal(0, "bench", "bench", 1, [grant], via="token")


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Seconds one call takes, and its result."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def runs(fn: Callable[[], Any], repeat: int, warmup: int = 1) -> list[float]:
    """Seconds of ``repeat`` calls after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    return [timed(fn)[0] for _ in range(repeat)]


def median_ms(samples: list[float]) -> float:
    """The median in milliseconds."""
    return statistics.median(samples) * 1000


def p95_ms(samples: list[float]) -> float:
    """The 95th percentile in milliseconds."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000


def table(rows: list[list[Any]], headers: list[str]) -> str:
    """A plain-text table (also valid Markdown)."""
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in cells
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> str:
    """A one-line description of where the run happened."""
    import platform as host

    from sqlalchemy import create_engine, text

    engine = create_engine(BENCH_URL)
    with engine.connect() as connection:
        version = connection.execute(text("show server_version")).scalar()
        buffers = connection.execute(text("show shared_buffers")).scalar()
    engine.dispose()
    return (
        f"{host.node()} · {os.cpu_count()} CPU · Python {host.python_version()} · "
        f"PostgreSQL {version} (shared_buffers {buffers})"
    )
