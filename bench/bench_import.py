"""(a) Bulk import rate through the platform, beside PostgreSQL COPY of the same rows.

    python bench/bench_import.py [--rows 20000] [--profile 2000]

On the database made by ``bench/generate.py`` (1 M volunteers already there), a district
office imports ``--rows`` new volunteers (name, resident ID, mobile, team code of one of the
district's villages):

1. **importer**: ``core.imports.services.create_batch`` + ``run_batch`` on a CSV upload,
   the way the import job runs it (chunks of 500 rows, one transaction each, audit on);
2. **core write path**: ``core.people.services.create_person`` +
   ``core.volunteers.services.enroll`` per row, 500 rows per transaction, audit on (what an
   importer without its own bulk path would do);
3. **COPY** (the baseline): the very rows method 1 stored — people, volunteers and team
   memberships, ciphertexts and all — are read back, deleted, and loaded again into the same
   tables (same indexes, constraints, foreign keys) with ``COPY … FROM STDIN``.

Goal: the platform's import ≥ 1/4 of COPY's rate. A cProfile of ``--profile`` rows through
the importer is printed (top functions by own time) to show where the time goes. Everything
the run adds is deleted at the end, so the database stays as generated.
"""

import argparse
import cProfile
import csv
import io
import pstats
import random
import time

import common
import sqlalchemy as sa
from common import table

TABLES = ("person", "volunteer", "team_membership")


def resident_id(serial: int) -> str:
    """A valid 18-character resident ID, unique per serial (birth 1960–1999)."""
    from datetime import date, timedelta

    from core.people.identity import check_digit

    born = date(1960, 1, 1) + timedelta(days=serial // 1000 % 14_000)
    first17 = f"500103{born:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_digit(first17)


def make_rows(rng: random.Random, count: int, first_serial: int, villages: list) -> list[list]:
    """Rows of the upload: name, resident ID, team code, mobile."""
    from generate import GIVEN, SURNAMES

    rows = []
    for i in range(count):
        serial = first_serial + i
        rows.append(
            [
                rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                resident_id(serial),
                rng.choice(villages).code,
                f"139{serial % 100_000_000:08d}",
            ]
        )
    return rows


def csv_bytes(rows: list[list]) -> bytes:
    """The rows as the CSV a district office would upload."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["姓名", "身份证号", "队伍代码", "手机号"])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def high_water(session) -> dict[str, int]:
    """The highest id of every table the run writes to."""
    marks = {}
    for name in (*TABLES, "audit_entry", "stored_file", "import_batch", "job"):
        if name == "job":
            continue
        marks[name] = session.execute(sa.text(f"select coalesce(max(id), 0) from {name}")).scalar()
    return marks


def through_importer(platform, district, rows) -> tuple[float, int]:
    """Import ``rows`` through the platform importer; (seconds, created)."""
    from core.audit.recorder import AuditActor
    from core.imports.models import ImportBatch
    from core.imports.services import create_batch, run_batch

    with platform.session_factory() as session:
        batch = create_batch(
            session,
            kind="volunteers",
            unit=district,
            name="bench.csv",
            content=csv_bytes(rows),
            by_user_id=None,
            rows_total=len(rows),
        )
        session.commit()
        batch_id = batch.id
    actor = AuditActor(None, "bench", "127.0.0.1", "core.volunteer.import")
    with platform.session_factory() as session:
        audited = session.execute(sa.text("select coalesce(max(id), 0) from audit_entry")).scalar()
    started = time.perf_counter()
    finished = run_batch(
        platform.session_factory, platform.keyring, platform.plugins, batch_id, actor=actor
    )
    seconds = time.perf_counter() - started
    with platform.session_factory() as session:
        batch = session.get(ImportBatch, batch_id)
        assert finished and batch.status == "done", (batch.status, batch.message)
        assert batch.refused == 0, f"{batch.refused} rows refused: {batch.message}"
        entries = session.execute(
            sa.text(
                "select event, count(*) from audit_entry where id > :after group by event"
                " order by event"
            ),
            {"after": audited},
        ).all()
        print(
            f"importer: {len(rows):,} rows audited by "
            + ", ".join(f"{count} {event}" for event, count in entries)
            + " entries"
        )
        return seconds, batch.created


def through_services(platform, district, rows) -> tuple[float, int]:
    """Import ``rows`` through the core services, 500 a transaction."""
    from core.audit.recorder import ACTOR, AuditActor
    from core.people.services import PersonDetails, create_person
    from core.units.models import Unit
    from core.volunteers.services import enroll

    started = time.perf_counter()
    with platform.session_factory() as session:
        teams = {u.code: u for u in session.execute(sa.select(Unit)).scalars()}
        for start in range(0, len(rows), 500):
            session.info[ACTOR] = AuditActor(None, "bench", "127.0.0.1", "core.volunteer.import")
            for name, id_number, team_code, phone in rows[start : start + 500]:
                team = teams[team_code]
                person = create_person(
                    session,
                    platform.keyring,
                    team,
                    PersonDetails(name=name, id_number=id_number, phone=phone),
                )
                enroll(session, person, team)
            session.commit()
    return time.perf_counter() - started, len(rows)


def copy_again(platform, marks: dict[str, int]) -> tuple[float, int]:
    """Read back the rows added since ``marks``, delete them, COPY them in again (timed)."""
    raw = platform.engine.raw_connection()
    connection = raw.driver_connection
    dumps: dict[str, bytes] = {}
    count = 0
    with connection.cursor() as cursor:
        for name in TABLES:
            buffer = bytearray()
            with cursor.copy(
                f"COPY (SELECT * FROM {name} WHERE id > {marks[name]}) TO STDOUT"
            ) as out:
                for block in out:
                    buffer += block
            dumps[name] = bytes(buffer)
            count += dumps[name].count(b"\n")
        for name in reversed(TABLES):
            cursor.execute(f"delete from {name} where id > {marks[name]}")
        connection.commit()
        started = time.perf_counter()
        for name in TABLES:
            with cursor.copy(f"COPY {name} FROM STDIN") as into:
                into.write(dumps[name])
        connection.commit()
        seconds = time.perf_counter() - started
    raw.close()
    return seconds, count


def clean(platform, marks: dict[str, int]) -> None:
    """Delete everything the run added."""
    with platform.engine.begin() as connection:
        connection.execute(sa.text(f"delete from import_batch where id > {marks['import_batch']}"))
        for name in ("team_membership", "volunteer", "person", "audit_entry", "stored_file"):
            connection.execute(sa.text(f"delete from {name} where id > {marks[name]}"))
        connection.execute(sa.text("delete from number_sequence where year >= 2025"))
        connection.execute(sa.text("delete from job"))


def profile(platform, district, rows, top: int = 18) -> str:
    """A cProfile of ``rows`` through the importer, printed two ways."""
    profiler = cProfile.Profile()
    profiler.enable()
    through_importer(platform, district, rows)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(
        r"core/|sqlalchemy/orm/session.py|psycopg/cursor", top
    )
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main() -> None:
    """Run the methods, then print rates against COPY and the profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--profile", type=int, default=2_000, help="rows to profile (0: none)")
    parser.add_argument("--skip-services", action="store_true")
    args = parser.parse_args()
    print(common.machine())
    platform = common.platform()
    from core.units.models import Unit

    try:
        import core.imports.services  # noqa: F401

        have_importer = hasattr(core.imports.services, "run_batch")
    except ImportError:
        have_importer = False
    rng = random.Random(3)
    with platform.session_factory() as session:
        district = session.execute(sa.select(Unit).where(Unit.code == "500103")).scalar_one()
        villages = (
            session.execute(
                sa.select(Unit).where(
                    Unit.level == "village",
                    Unit.path >= district.path,
                    Unit.path < district.path[:-1] + "/",
                )
            )
            .scalars()
            .all()
        )
        marks = high_water(session)
    results = []
    try:
        serial = 1
        if have_importer:
            rows = make_rows(rng, args.rows, serial, villages)
            serial += args.rows
            seconds, created = through_importer(platform, district, rows)
            assert created == args.rows
            results.append(["importer (core.imports run_batch)", args.rows, seconds])
            copy_seconds, copied = copy_again(platform, marks)
            results.append(["baseline: COPY of the same rows (3 tables)", copied, copy_seconds])
            clean(platform, marks)
        if not args.skip_services:
            rows = make_rows(rng, args.rows, serial, villages)
            serial += args.rows
            seconds, created = through_services(platform, district, rows)
            results.append(["core write path (create_person + enroll)", args.rows, seconds])
            if not have_importer:
                copy_seconds, copied = copy_again(platform, marks)
                results.append(["baseline: COPY of the same rows (3 tables)", copied, copy_seconds])
            clean(platform, marks)
        report = None
        if args.profile and have_importer:
            rows = make_rows(rng, args.profile, serial, villages)
            report = profile(platform, district, rows)
            clean(platform, marks)
    finally:
        clean(platform, marks)
    copy_row = next(r for r in results if r[0].startswith("baseline"))
    copy_rate = args.rows / copy_row[2]  # volunteers per second (each = 3 rows)
    lines = []
    for name, _count, seconds in results:
        rate = args.rows / seconds
        lines.append(
            [name, f"{seconds:.2f} s", f"{rate:,.0f} volunteers/s", f"{rate / copy_rate:.3f}"]
        )
    print(f"\n{args.rows:,} new volunteers (a person, a volunteer and a team membership each)\n")
    print(table(lines, ["method", "time", "rate", "÷ COPY"]))
    platform_rate = args.rows / results[0][2]
    print(
        f"\ngoal: ≥ 0.25 of COPY → {platform_rate / copy_rate:.3f} "
        f"({'met' if platform_rate / copy_rate >= 0.25 else 'NOT met'})"
    )
    if report:
        print(f"\nprofile of {args.profile:,} rows through the importer (by own time):")
        print("\n".join(line[:160] for line in report.splitlines() if line.strip()))


if __name__ == "__main__":
    main()
