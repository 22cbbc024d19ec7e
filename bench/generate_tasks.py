"""Make the tasks bench database: Chongqing's units and a million volunteers, then duty.

    python bench/generate_tasks.py [--keep | --duty-only]

Its own database, ``pingan_bench_tasks`` (``PINGAN_BENCH_URL`` may name another), never the
shared ``pingan_bench``. Steps, all with psycopg's ``COPY … FROM STDIN``:

1. units, 1,000,000 people, volunteers and memberships exactly as ``bench/generate.py`` makes
   them (its functions, reused), then each person's date of birth (ages 25–71) and skills
   (a fifth ``security``, a seventh ``first_aid``);
2. duty in whole townships (中队), taken in path order, until their
   villages hold 100,000 shifts — every village a patrol task over six weeks (the four
   before this week, this week and the next) with two points, each point two shifts a day
   (08:00–10:00 and 19:00–21:00, China time), minimum 8 and maximum 12 people;
3. 1,000,000 assignments: every shift gets 8–12 of its village's active volunteers (10 on
   average), never one person twice in a time slot, confirmed; shifts before this week are
   checked in and out;
4. for the hours area, **one ``hours_entry`` per past assignment**: a ``service`` entry of
   2.0 hours (120 minutes present) on the shift's day, at the shift's unit, with the
   volunteer's home unit, recorded at the shift's end — what confirming those check-outs
   would have written.

Secondary indexes and unique constraints of the loaded tables are dropped during the load
and rebuilt from their catalogue definitions after it, then ``VACUUM ANALYZE``. About 4–6
minutes on 2 vCPU.
"""

import argparse
import os
import random
import time
from datetime import UTC, date, datetime, timedelta

os.environ.setdefault(
    "PINGAN_BENCH_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/pingan_bench_tasks"
)

import common  # noqa: E402, F401  (puts the project on sys.path; reads PINGAN_BENCH_URL)
import generate  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from common import BENCH_URL  # noqa: E402

SHIFTS = 100_000
WEEKS_BEFORE, WEEKS_AFTER = 4, 1  # around this week
SLOTS = ((8, 10), (19, 21))  # China time
POINTS_PER_VILLAGE = 2
MIN_HEADCOUNT, MAX_HEADCOUNT = 8, 12
CHINA = timedelta(hours=8)
TABLES = ["duty_point", "task", "task_step", "shift", "assignment", "hours_entry"]


def this_monday() -> date:
    """Monday of the current week, China time."""
    today = (datetime.now(UTC) + CHINA).date()
    return today - timedelta(days=today.weekday())


def iso(moment: datetime) -> str:
    """A timestamp for COPY."""
    return moment.isoformat()


def people_details(cursor) -> float:
    """Dates of birth and skills on every person (``bench/generate.py`` leaves them empty)."""
    started = time.perf_counter()
    cursor.execute(
        """
        update person set
          birth_date = date '1955-01-01' + ((id::bigint * 7919) % 17000)::int,
          skills = (case when id % 5 = 0 then '["security"]'
                         when id % 7 = 0 then '["first_aid"]' else '[]' end)::json
        """
    )
    return time.perf_counter() - started


def busy_villages(cursor) -> list[tuple[int, str, int]]:
    """(village id, path, township id) of whole townships, in path order, enough for SHIFTS."""
    per_village = POINTS_PER_VILLAGE * len(SLOTS) * 7 * (WEEKS_BEFORE + 1 + WEEKS_AFTER)
    cursor.execute("select id, path, parent_id from unit where level = 'village' order by path")
    villages = cursor.fetchall()
    chosen, townships = [], []
    for village in villages:
        if len(chosen) * per_village >= SHIFTS and village[2] != townships[-1]:
            break
        if not townships or townships[-1] != village[2]:
            townships.append(village[2])
        chosen.append(village)
    return chosen


def active_volunteers(cursor, village_ids: list[int]) -> dict[int, list[tuple[int, int]]]:
    """Village → its active volunteers as (volunteer id, person id), by id."""
    cursor.execute(
        "select unit_id, id, person_id from volunteer where status = 'active' "
        "and unit_id = any(%s) order by unit_id, id",
        (village_ids,),
    )
    found: dict[int, list[tuple[int, int]]] = {v: [] for v in village_ids}
    for unit_id, volunteer_id, person_id in cursor.fetchall():
        found[unit_id].append((volunteer_id, person_id))
    return found


def load_duty(seed: int) -> dict[str, float]:
    """COPY points, tasks, shifts, assignments and hours entries; index; analyse."""
    rng = random.Random(seed)
    timings: dict[str, float] = {}
    engine = sa.create_engine(BENCH_URL)
    raw = engine.raw_connection()
    connection = raw.driver_connection
    monday = this_monday()
    first = monday - timedelta(weeks=WEEKS_BEFORE)
    last = monday + timedelta(weeks=WEEKS_AFTER, days=6)
    now = datetime.now(UTC)
    with connection.cursor() as cursor:
        timings["people details"] = people_details(cursor)
        villages = busy_villages(cursor)
        members = active_volunteers(cursor, [v[0] for v in villages])
        indexes = generate.secondary_indexes(cursor, TABLES)
        uniques = generate.unique_constraints(cursor, TABLES)
        for name, _ in indexes:
            cursor.execute(f'drop index "{name}"')
        for table, name, _ in uniques:
            cursor.execute(f'alter table {table} drop constraint "{name}"')
        cursor.execute("set session_replication_role = replica")
        started = time.perf_counter()
        points, tasks, steps = [], [], []
        for number, (village_id, path, _) in enumerate(villages, start=1):
            tasks.append(
                (
                    number,
                    village_id,
                    path,
                    "core.patrol",
                    f"第{number}社区日常巡逻",
                    "",
                    "in_progress",
                    first.isoformat(),
                    last.isoformat(),
                    "false",
                    "true",
                    '{"route": "社区主干道", "mode": "foot"}',
                    "[]",
                    "[]",
                    iso(now),
                    iso(now),
                )
            )
            steps.append((number, number, "new", "draft", iso(now)))
            for p in range(POINTS_PER_VILLAGE):
                points.append(
                    (number * POINTS_PER_VILLAGE + p, village_id, path, f"{p + 1}号岗", "", "true")
                )
        generate.copy(
            cursor,
            "task",
            [
                "id",
                "unit_id",
                "unit_path",
                "task_type",
                "title",
                "description",
                "status",
                "starts_on",
                "ends_on",
                "allow_signup",
                "signup_needs_approval",
                "details",
                "required_modules",
                "required_skills",
                "created_at",
                "published_at",
            ],
            tasks,
        )
        generate.copy(
            cursor, "task_step", ["id", "task_id", "from_status", "to_status", "at"], steps
        )
        generate.copy(
            cursor,
            "duty_point",
            ["id", "unit_id", "unit_path", "name", "address", "active"],
            points,
        )
        timings["tasks, points"] = time.perf_counter() - started

        started = time.perf_counter()
        shift_rows, assignment_rows, entry_rows = [], [], []
        shift_id = assignment_id = entry_id = 0
        days = (last - first).days + 1
        for number, (village_id, path, _) in enumerate(villages, start=1):
            people = members[village_id]
            for day_index in range(days):
                day = first + timedelta(days=day_index)
                for slot_index, (begin, end) in enumerate(SLOTS):
                    starts = datetime(day.year, day.month, day.day, begin, tzinfo=UTC) - CHINA
                    ends = datetime(day.year, day.month, day.day, end, tzinfo=UTC) - CHINA
                    past = ends < now
                    offset = (day_index * len(SLOTS) + slot_index) * 13
                    for p in range(POINTS_PER_VILLAGE):
                        if shift_id >= SHIFTS:
                            break
                        shift_id += 1
                        shift_rows.append(
                            (
                                shift_id,
                                number,
                                village_id,
                                path,
                                number * POINTS_PER_VILLAGE + p,
                                iso(starts),
                                iso(ends),
                                MIN_HEADCOUNT,
                                MAX_HEADCOUNT,
                                "false",
                                "[]",
                                "[]",
                                "open",
                                f"bench{shift_id:08d}",
                                iso(now),
                            )
                        )
                        # people of this slot: one window per point, never overlapping
                        wanted = rng.randint(MIN_HEADCOUNT, MAX_HEADCOUNT)
                        room = len(people) // POINTS_PER_VILLAGE
                        for k in range(min(wanted, room)):
                            volunteer_id, person_id = people[(offset + p * room + k) % len(people)]
                            assignment_id += 1
                            assignment_rows.append(
                                (
                                    assignment_id,
                                    shift_id,
                                    volunteer_id,
                                    person_id,
                                    village_id,
                                    path,
                                    village_id,
                                    path,
                                    iso(starts),
                                    iso(ends),
                                    "confirmed",
                                    "leader",
                                    "false",
                                    "[]",
                                    iso(starts - timedelta(days=3)),
                                    iso(starts - timedelta(days=3)),
                                    iso(starts) if past else None,
                                    "self" if past else None,
                                    iso(ends) if past else None,
                                    "self" if past else None,
                                )
                            )
                            if past:
                                entry_id += 1
                                entry_rows.append(
                                    (
                                        entry_id,
                                        volunteer_id,
                                        "service",
                                        assignment_id,
                                        village_id,
                                        path,
                                        village_id,
                                        path,
                                        day.isoformat(),
                                        120,
                                        "2.0",
                                        "{}",
                                        iso(ends),
                                    )
                                )
        generate.copy(
            cursor,
            "shift",
            [
                "id",
                "task_id",
                "unit_id",
                "unit_path",
                "point_id",
                "starts_at",
                "ends_at",
                "min_headcount",
                "max_headcount",
                "leader_slot",
                "required_skills",
                "required_modules",
                "status",
                "checkin_secret",
                "created_at",
            ],
            shift_rows,
        )
        generate.copy(
            cursor,
            "assignment",
            [
                "id",
                "shift_id",
                "volunteer_id",
                "person_id",
                "unit_id",
                "unit_path",
                "home_unit_id",
                "home_unit_path",
                "starts_at",
                "ends_at",
                "status",
                "source",
                "is_leader",
                "warnings",
                "created_at",
                "decided_at",
                "checked_in_at",
                "check_in_method",
                "checked_out_at",
                "check_out_method",
            ],
            assignment_rows,
        )
        generate.copy(
            cursor,
            "hours_entry",
            [
                "id",
                "volunteer_id",
                "kind",
                "assignment_id",
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
            entry_rows,
        )
        timings["shifts, assignments, hours"] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute("set session_replication_role = origin")
        cursor.execute("set maintenance_work_mem = '256MB'")
        for table, name, definition in uniques:
            cursor.execute(f'alter table {table} add constraint "{name}" {definition}')
        for _, definition in indexes:
            cursor.execute(definition)
        for table in TABLES:
            cursor.execute(
                f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(select coalesce(max(id), 1) from {table}))"
            )
        connection.commit()
        timings["indexes"] = time.perf_counter() - started
        print(
            f"{len(villages):,} villages in {len({v[2] for v in villages})} townships: "
            f"{len(tasks):,} tasks, {len(points):,} points, {len(shift_rows):,} shifts, "
            f"{len(assignment_rows):,} assignments, {len(entry_rows):,} hours entries"
        )
    connection.autocommit = True
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("vacuum analyze")
    timings["vacuum"] = time.perf_counter() - started
    raw.close()
    engine.dispose()
    return timings


def main() -> None:
    """Create, migrate and load the tasks bench database; print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2010)
    parser.add_argument("--keep", action="store_true", help="reuse an existing database")
    parser.add_argument(
        "--duty-only",
        action="store_true",
        help="keep the units and volunteers; make the duty again (people details included)",
    )
    args = parser.parse_args()
    name = BENCH_URL.rsplit("/", 1)[-1]
    if name == "pingan_bench":
        raise SystemExit("refusing to overwrite the shared pingan_bench: name another database")
    started = time.perf_counter()
    if args.duty_only:
        engine = sa.create_engine(BENCH_URL)
        with engine.begin() as connection:
            connection.execute(sa.text(f"truncate {', '.join(TABLES)} cascade"))
        engine.dispose()
        timings = load_duty(args.seed)
        print(f"database {name}: duty made again in {time.perf_counter() - started:.1f}s")
        for step, seconds in timings.items():
            print(f"  {step:<28} {seconds:6.1f}s")
        return
    if not generate.create_database(fresh=not args.keep):
        print(f"{name} exists; --keep: nothing to do")
        return
    generate.migrate()
    timings = generate.load(args.volunteers, args.seed)
    timings.update(load_duty(args.seed))
    print(f"database {name}: {time.perf_counter() - started:.1f}s")
    for step, seconds in timings.items():
        print(f"  {step:<28} {seconds:6.1f}s")


if __name__ == "__main__":
    main()
