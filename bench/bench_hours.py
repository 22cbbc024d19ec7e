"""Hours totals and star levels of every volunteer, recomputed, beside a plain SQL aggregate.

Runs on ``PINGAN_BENCH_TASKS_URL`` (default ``…/pingan_bench_tasks``), the database
``bench/generate_tasks.py`` makes: 1,000,000 volunteers, a million assignments and one ledger
entry per past one. Where its ledger is empty, ledger rows are generated here with COPY
instead: 0–6 entries per volunteer (about three on average), at the volunteer's own unit,
0.5–4 hours each, plus a few corrections. Two districts get star thresholds of their own (a
unit setting) so the per-unit rule is exercised.

Measured, each the median of ``--repeat`` runs, the baseline in the same run:

* baseline: ``SELECT volunteer_id, sum(hours) … GROUP BY volunteer_id`` over the whole ledger,
  read to the end on the server (``count(*)`` over it);
* baseline with the write: the same aggregate written into a fresh table
  (``CREATE TEMP TABLE … AS``), what any recomputation must at least do;
* :func:`core.hours.totals.recompute` into an empty ``volunteer_hours`` (every row inserted);
* the same with nothing changed since (the nightly case: nothing rewritten);
* the same after new hours for 1 % of the volunteers (removed again at the end).
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402
from common import table  # noqa: E402

MARK = "bench_hours"  # the reason of the entries the run adds, and removes again
common.BENCH_URL = os.environ.get(
    "PINGAN_BENCH_TASKS_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/pingan_bench_tasks"
)


def ensure_database() -> None:
    """Stop with a hint when the tasks bench database is missing; otherwise migrate it."""
    url, name = common.admin_url(common.BENCH_URL)
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(
            sa.text("select 1 from pg_database where datname = :n"), {"n": name}
        ).first()
    engine.dispose()
    if not exists:
        sys.exit(f"{name} does not exist: run bench/generate_tasks.py first")
    from core.db import make_engine
    from core.migrate import upgrade
    from core.plugins import Plugins, make_plugin_manager

    engine = make_engine(common.BENCH_URL)
    upgrade(engine, Plugins(make_plugin_manager()))
    engine.dispose()


def generate_ledger(engine: sa.Engine, seed: int) -> int:
    """COPY ledger rows for every volunteer (when the ledger is empty); return the count."""
    with engine.connect() as connection:
        present = connection.execute(sa.text("select count(*) from hours_entry")).scalar()
        if present:
            return present
        volunteers = connection.execute(
            sa.text("select id, unit_id, unit_path from volunteer order by id")
        ).all()
    rng = random.Random(seed)
    first = date(2025, 1, 1)
    stamp = "2026-01-15 00:00:00+00"

    def rows():
        entry_id = 0
        for volunteer_id, unit_id, path in volunteers:
            for _ in range(rng.choice((0, 1, 2, 3, 3, 4, 5, 6))):
                entry_id += 1
                day = first + timedelta(days=rng.randrange(365))
                minutes = rng.choice((30, 60, 90, 120, 150, 180, 240))
                yield (
                    entry_id,
                    volunteer_id,
                    "service",
                    None,
                    unit_id,
                    path,
                    unit_id,
                    path,
                    day.isoformat(),
                    minutes,
                    f"{minutes / 60:.1f}",
                    "{}",
                    stamp,
                )
                if entry_id % 97 == 0:  # a correction now and then
                    entry_id += 1
                    yield (
                        entry_id,
                        volunteer_id,
                        "correction",
                        entry_id - 1,
                        unit_id,
                        path,
                        unit_id,
                        path,
                        day.isoformat(),
                        None,
                        "0.5",
                        "{}",
                        stamp,
                    )

    from generate import copy

    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        started = time.perf_counter()
        count = copy(
            cursor,
            "hours_entry",
            [
                "id",
                "volunteer_id",
                "kind",
                "corrects_id",
                "unit_id",
                "unit_path",
                "home_unit_id",
                "home_unit_path",
                "service_date",
                "minutes_present",
                "hours",
                "rule",
                "recorded_at",
            ],
            rows(),
        )
        cursor.execute("select setval('hours_entry_id_seq', (select max(id) from hours_entry))")
        raw.commit()
        print(f"COPY'd {count:,} ledger rows in {time.perf_counter() - started:.1f} s", flush=True)
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("vacuum analyze hours_entry"))
        connection.execute(sa.text("vacuum analyze unit_setting"))
    return count


def ensure_star_settings(engine: sa.Engine) -> None:
    """Three districts count stars by thresholds of their own (when none has yet)."""
    with engine.begin() as connection:
        present = connection.execute(
            sa.text("select count(*) from unit_setting where key = 'hours.star_thresholds'")
        ).scalar()
        if present:
            return
        districts = connection.execute(
            sa.text("select id, path from unit where level = 'district' order by id limit 3")
        ).all()
        for (unit_id, path), thresholds in zip(
            districts, ([2, 6, 12], [4, 8, 16, 30]), strict=False
        ):
            connection.execute(
                sa.text(
                    "insert into unit_setting (unit_id, unit_path, key, value, valid_from,"
                    " set_at) values (:unit, :path, 'hours.star_thresholds', :value,"
                    " '2020-01-01', now())"
                ),
                {"unit": unit_id, "path": path, "value": f'{{"hours": {thresholds}}}'},
            )


def main() -> None:
    """Generate what is missing, measure, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    ensure_database()
    from core.db import make_engine, make_session_factory
    from core.hours.totals import recompute

    engine = make_engine(common.BENCH_URL)
    entries = generate_ledger(engine, args.seed)
    ensure_star_settings(engine)
    with engine.connect() as connection:
        volunteers = connection.execute(sa.text("select count(*) from volunteer")).scalar()
    print(common.machine(), flush=True)
    print(f"{volunteers:,} volunteers, {entries:,} ledger entries", flush=True)
    sessions = make_session_factory(engine)

    def aggregate() -> int:
        with engine.connect() as connection:
            return connection.execute(
                sa.text(
                    "select count(*) from (select volunteer_id, sum(hours) as total"
                    " from hours_entry group by volunteer_id) as totals"
                )
            ).scalar()

    def aggregate_written() -> int:
        with engine.begin() as connection:
            connection.execute(sa.text("drop table if exists bench_totals"))
            connection.execute(
                sa.text(
                    "create temp table bench_totals as select volunteer_id, sum(hours) as total"
                    " from hours_entry group by volunteer_id"
                )
            )
            return connection.execute(sa.text("select count(*) from bench_totals")).scalar()

    def empty_totals() -> None:
        with engine.begin() as connection:
            connection.execute(sa.text("truncate volunteer_hours"))

    def recomputed() -> int:
        with sessions() as session:
            written = recompute(session)
            session.commit()
            return written

    def new_hours_for_one_percent() -> None:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "insert into hours_entry (volunteer_id, kind, unit_id, unit_path,"
                    " home_unit_id, home_unit_path, service_date, hours, rule, reason,"
                    " recorded_at) select id, 'service', unit_id, unit_path, unit_id,"
                    " unit_path, date '2026-01-10', 2.0, '{}', :mark, now() from volunteer"
                    " where id % 100 = 7"
                ),
                {"mark": MARK},
            )

    def remove_added_hours() -> None:
        """Leave the database as it was (a plain DELETE: the ORM guard is the session's)."""
        with engine.begin() as connection:
            connection.execute(
                sa.text("delete from hours_entry where reason = :mark"), {"mark": MARK}
            )

    remove_added_hours()
    samples: dict[str, list[float]] = {key: [] for key in ("agg", "aggw", "cold", "warm", "delta")}
    written: dict[str, int] = {}
    aggregate()  # warm the cache
    for _ in range(args.repeat):
        samples["agg"].append(common.timed(aggregate)[0])
        samples["aggw"].append(common.timed(aggregate_written)[0])
        empty_totals()
        seconds, written["cold"] = common.timed(recomputed)
        samples["cold"].append(seconds)
        seconds, written["warm"] = common.timed(recomputed)
        samples["warm"].append(seconds)
        new_hours_for_one_percent()
        seconds, written["delta"] = common.timed(recomputed)
        samples["delta"].append(seconds)
    with engine.connect() as connection:
        stars = connection.execute(
            sa.text("select star_level, count(*) from volunteer_hours group by 1 order by 1")
        ).all()
    base = statistics.median(samples["agg"])
    rows = []
    labels = {
        "agg": "baseline: SQL aggregate of the ledger (GROUP BY volunteer_id, read on server)",
        "aggw": "baseline + write: the aggregate into a fresh table (CREATE TEMP TABLE AS)",
        "cold": "recompute() into an empty volunteer_hours (totals + per-unit star levels)",
        "warm": "recompute() again, nothing changed (no row rewritten)",
        "delta": "recompute() after new hours for 1 % of the volunteers",
    }
    for key, label in labels.items():
        seconds = statistics.median(samples[key])
        rows.append(
            [label, f"{seconds:.2f} s", f"{seconds / base:.2f}×", f"{written.get(key, '')}"]
        )
    print(table(rows, ["what", "median", "÷ baseline", "rows written (last run)"]))
    print("star levels:", ", ".join(f"{level}★ {count:,}" for level, count in stars))
    remove_added_hours()
    engine.dispose()


if __name__ == "__main__":
    main()
