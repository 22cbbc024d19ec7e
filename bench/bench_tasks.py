"""(d) Assigning and the duty matrix at Chongqing scale.

    python bench/generate_tasks.py     # once: its own database, pingan_bench_tasks
    python bench/bench_tasks.py [--calls 200]

On the database ``bench/generate_tasks.py`` makes (1,000,000 volunteers, 100,000 shifts,
1,000,000 assignments, an hours entry per past assignment), two measurements, each against a
baseline timed in the same run through the same sessions:

* **the eligibility and conflict check of one assignment** — what ``assign`` does before it
  writes: lock the shift's and the volunteer's rows, read the task, and run every rule (active,
  age, skills, overlap, rest, daily maximum, headcount, the per-unit settings, the plugins
  enabled at the unit) — for a random active volunteer of a busy village and a random shift of
  that village in this week or the next, in a transaction rolled back. Baseline: the plain
  indexed ``SELECT`` of that volunteer's holding assignments overlapping the shift. Also shown:
  the whole ``assign`` (the check, the insert, the event and the notification job), rolled
  back. Goal: median under 5 ms.
* **the duty-matrix page data of one 中队 for one week** — ``core.tasks.matrix.duty_matrix``
  for the busiest township this week and for random busy townships. Baseline: the same
  data by two hand-written ``SELECT``s (the week's shifts of the subtree with their points
  and tasks; the people holding them, with their names), rows fetched, nothing assembled.
  Also shown: the ranked suggestions for one gap (what the page computes when a gap is
  tapped). Goal: under 100 ms.
"""

import argparse
import os
import random
from datetime import timedelta

os.environ.setdefault(
    "PINGAN_BENCH_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/pingan_bench_tasks"
)

import common  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from common import median_ms, p95_ms, runs, table, timed  # noqa: E402

OVERLAP_SQL = sa.text(
    """
    select id, starts_at, ends_at from assignment
    where volunteer_id = :volunteer and starts_at >= :low and starts_at < :high
      and ends_at > :start and status in ('requested', 'confirmed')
    """
)
WEEK_SHIFTS_SQL = sa.text(
    """
    select s.id, s.task_id, s.point_id, s.starts_at, s.ends_at, s.min_headcount,
           s.max_headcount, s.leader_slot, p.name, t.title
    from shift s join duty_point p on p.id = s.point_id join task t on t.id = s.task_id
    where s.unit_path >= :low and s.unit_path < :high
      and s.starts_at >= :start and s.starts_at < :end and s.status = 'open'
      and t.status in ('published', 'in_progress', 'completed')
    """
)
WEEK_PEOPLE_SQL = sa.text(
    """
    select a.id, a.shift_id, a.status, a.is_leader, a.source, p.name
    from assignment a join person p on p.id = a.person_id
    where a.shift_id = any(:shifts) and a.status in ('requested', 'confirmed')
    """
)


def pairs(session, rng: random.Random, count: int) -> list[tuple[int, int]]:
    """(shift id, volunteer id): a shift still to come and an active volunteer of its unit."""
    from core.units.models import utcnow

    shifts = session.execute(
        sa.text("select id, unit_id from shift where starts_at > :now order by id limit 20000"),
        {"now": utcnow()},
    ).all()
    chosen = rng.sample(shifts, min(count, len(shifts)))
    units = sorted({unit_id for _, unit_id in chosen})
    people: dict[int, list[int]] = {}
    for unit_id, volunteer_id in session.execute(
        sa.text("select unit_id, id from volunteer where status = 'active' and unit_id = any(:u)"),
        {"u": units},
    ).all():
        people.setdefault(unit_id, []).append(volunteer_id)
    return [(shift_id, rng.choice(people[unit_id])) for shift_id, unit_id in chosen]


def time_each(platform, work, items, warmup: int = 5) -> list[float]:
    """Seconds of ``work(session, item)`` for each item, each in its own rolled-back session."""

    def once(item):
        with platform.session_factory() as session:
            work(session, item)
            session.rollback()

    for item in items[:warmup]:
        once(item)
    return [timed(lambda item=item: once(item))[0] for item in items]


def main() -> None:
    """Time the check and the matrix; print medians and ratios against the baselines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200, help="assignments to check")
    parser.add_argument("--weeks", type=int, default=30, help="matrix calls per township")
    args = parser.parse_args()
    print(common.machine())
    print(f"database {common.BENCH_URL.rsplit('/', 1)[-1]}")
    platform = common.platform()
    from core.tasks.assignments import assign, lock_shift, lock_volunteer
    from core.tasks.eligibility import check_eligibility
    from core.tasks.matrix import duty_matrix, suggest
    from core.tasks.models import Shift
    from core.tasks.rules import LONGEST_SHIFT, local_date, local_midnight, week_of
    from core.units.models import Unit, utcnow

    rng = random.Random(5)
    principal = common.city_principal(
        {"core.task.read", "core.assignment.manage", "core.assignment.dispatch"}
    )
    with platform.session_factory() as session:
        counts = {
            table_name: session.execute(sa.text(f"select count(*) from {table_name}")).scalar()
            for table_name in ("volunteer", "shift", "assignment", "hours_entry")
        }
        work = pairs(session, rng, args.calls)
    print(", ".join(f"{name} {count:,}" for name, count in counts.items()))

    # -- the eligibility and conflict check ---------------------------------------------------

    outcomes: dict[str, int] = {}

    def check(session, item):
        shift, task, unit = lock_shift(session, item[0])
        volunteer, person = lock_volunteer(session, item[1])
        result = check_eligibility(
            platform, session, shift, task, volunteer, person=person, unit=unit
        )
        key = ",".join(sorted(set(result.rules()))) or "eligible"
        outcomes[key] = outcomes.get(key, 0) + 1

    def baseline(session, item):
        shift = session.get(Shift, item[0])
        session.execute(
            OVERLAP_SQL,
            {
                "volunteer": item[1],
                "low": shift.starts_at - LONGEST_SHIFT,
                "high": shift.ends_at,
                "start": shift.starts_at,
            },
        ).all()

    def assign_whole(session, item):
        try:
            assign(platform, session, principal, session.get(Shift, item[0]), item[1])
        except Exception:  # refused by a rule: the refusal is the work done
            pass

    rounds = {"baseline": [], "check": [], "assign": []}
    for _ in range(2):  # interleaved, so load changes hit every case alike
        rounds["baseline"] += time_each(platform, baseline, work)
        rounds["check"] += time_each(platform, check, work)
        rounds["assign"] += time_each(platform, assign_whole, work)
    base = median_ms(rounds["baseline"])
    rows = [
        [
            "baseline: indexed SELECT of the volunteer's overlapping holding assignments",
            f"{base:.2f}",
            f"{p95_ms(rounds['baseline']):.2f}",
            "1.00×",
        ],
        [
            "**eligibility and conflict check** (row locks, every rule, plugins)",
            f"{median_ms(rounds['check']):.2f}",
            f"{p95_ms(rounds['check']):.2f}",
            f"{median_ms(rounds['check']) / base:.2f}×",
        ],
        [
            "whole `assign` (check + insert + event + job), rolled back",
            f"{median_ms(rounds['assign']):.2f}",
            f"{p95_ms(rounds['assign']):.2f}",
            f"{median_ms(rounds['assign']) / base:.2f}×",
        ],
    ]
    print(f"\none assignment, {len(work)} (shift, volunteer) pairs × 2 rounds; outcomes {outcomes}")
    print(table(rows, ["one assignment", "median ms", "p95 ms", "vs baseline"]))

    # -- the duty matrix of a 中队 for one week ------------------------------------------------

    monday = week_of(local_date(utcnow()))
    low, high = local_midnight(monday), local_midnight(monday + timedelta(days=7))
    with platform.session_factory() as session:
        busy = session.execute(
            sa.text(
                "select split_part(unit_path, '.', 3)::int as township, count(*) from shift "
                "where starts_at >= :low and starts_at < :high group by 1 order by 2 desc"
            ),
            {"low": low, "high": high},
        ).all()
        townships = [session.get(Unit, township) for township, _ in busy]
    heaviest = townships[0]
    others = rng.sample(townships[1:], min(4, len(townships) - 1))

    def matrix_of(unit):
        def run():
            with platform.session_factory() as session:
                return duty_matrix(session, unit, monday)

        return run

    def baseline_of(unit):
        def run():
            with platform.session_factory() as session:
                shifts = session.execute(
                    WEEK_SHIFTS_SQL,
                    {"low": unit.path, "high": unit.path[:-1] + "/", "start": low, "end": high},
                ).all()
                people = session.execute(
                    WEEK_PEOPLE_SQL, {"shifts": [row.id for row in shifts]}
                ).all()
                return shifts, people

        return run

    rows = []
    for unit in [heaviest, *others]:
        base_runs = runs(baseline_of(unit), args.weeks, warmup=3)
        matrix_runs = runs(matrix_of(unit), args.weeks, warmup=3)
        matrix = matrix_of(unit)()
        cells = sum(len(c) for c in matrix.cells.values())
        people = sum(len(c.people) for cs in matrix.cells.values() for c in cs)
        rows.append(
            [
                f"{unit.name} ({cells} shifts, {people} people, {matrix.gaps} gaps)",
                f"{median_ms(base_runs):.1f}",
                f"{median_ms(matrix_runs):.1f}",
                f"{p95_ms(matrix_runs):.1f}",
                f"{median_ms(matrix_runs) / median_ms(base_runs):.2f}×",
            ]
        )
    print(f"\nduty matrix of a 中队, week of {monday}, {args.weeks} calls each")
    print(
        table(
            rows,
            ["中队 week", "baseline SQL median ms", "duty_matrix median ms", "p95 ms", "ratio"],
        )
    )

    with platform.session_factory() as session:
        gaps = (
            session.execute(
                sa.text(
                    "select s.id from shift s where s.unit_path >= :low "
                    "and s.unit_path < :high and s.starts_at > :now and s.max_headcount > "
                    "(select count(*) from assignment a where a.shift_id = s.id "
                    "and a.status in ('requested', 'confirmed')) order by s.starts_at limit 40"
                ),
                {"low": heaviest.path, "high": heaviest.path[:-1] + "/", "now": utcnow()},
            )
            .scalars()
            .all()
        )

    def suggest_for(shift_id):
        with platform.session_factory() as session:
            return suggest(platform, session, principal, session.get(Shift, shift_id))

    samples = [timed(lambda s=s: suggest_for(s))[0] for s in gaps[:20]]
    print(
        f"\nsuggestions for a shift with room in {heaviest.name} (pool: the 中队's people): "
        f"median {median_ms(samples):.1f} ms, p95 {p95_ms(samples):.1f} ms, "
        f"{len(samples)} shifts"
    )


if __name__ == "__main__":
    main()
