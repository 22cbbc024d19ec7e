"""(b) The coverage roll-up for every unit, beside a hand-written SQL aggregate.

    python bench/bench_coverage.py [--repeat 15]

Runs on the database made by ``bench/generate.py`` (12,229 units, 1 M volunteers). Each
repetition runs every variant once, in turn, so load from elsewhere on the machine falls on
all of them alike; medians are compared with the baseline:

* **baseline**: one hand-written SQL statement: active volunteers grouped by unit path, each
  count added to every id on its path (``unnest(string_to_array(path))``), joined back to the
  units with their population (own, else the sum of the villages below);
* **platform**: ``core.coverage.services.compute_coverage`` (what the pages, API and export
  call): an indexed ``GROUP BY unit_path`` over the subtree's path range, the units, and the
  roll-up in Python;
* two alternatives measured to choose the platform's way: ``GROUP BY unit_id`` then a Python
  roll-up over parent links, and a single SQL aggregate joining units to volunteers on the
  path prefix.

Goal: the platform within 1.5× the baseline.
"""

import argparse
import random

import common
import sqlalchemy as sa
from common import median_ms, table, timed

BASELINE_SQL = """
with counts as (
    select unit_path, count(*) as n from volunteer
    where status = 'active' and unit_path >= :low and unit_path < :high
    group by unit_path
), rolled as (
    select a.id::int as unit_id, sum(c.n) as volunteers
    from counts c cross join lateral unnest(string_to_array(rtrim(c.unit_path, '.'), '.')) a(id)
    group by a.id
), villages as (
    select a.id::int as unit_id, sum(u.population) as population
    from unit u cross join lateral unnest(string_to_array(rtrim(u.path, '.'), '.')) a(id)
    where u.level = 'village' and u.active and u.path >= :low and u.path < :high
    group by a.id
)
select u.id, coalesce(r.volunteers, 0), coalesce(u.population, v.population)
from unit u left join rolled r on r.unit_id = u.id left join villages v on v.unit_id = u.id
where u.path >= :low and u.path < :high
"""

PREFIX_JOIN_SQL = """
select u.id, count(v.id), u.population
from unit u left join volunteer v
  on v.unit_path >= u.path and v.unit_path < left(u.path, -1) || '/' and v.status = 'active'
where u.path >= :low and u.path < :high
group by u.id
"""


def baseline(session, root) -> dict[int, int]:
    """Rolled-up active volunteers per unit by the hand-written SQL."""
    low, high = root.subtree_bounds()
    rows = session.execute(sa.text(BASELINE_SQL), {"low": low, "high": high}).all()
    return {uid: int(n) for uid, n, _ in rows}


def platform_way(session, root) -> dict[int, int]:
    """Rolled-up active volunteers per unit as the platform computes them."""
    from core.coverage.services import compute_coverage

    coverage = compute_coverage(session, root)
    return {uid: row.volunteers for uid, row in coverage.rows.items()}


def by_unit_id(session, root) -> dict[int, int]:
    """GROUP BY unit_id, then add each count to its ancestors through parent links."""
    from core.access import path_in
    from core.units.models import Unit
    from core.volunteers.models import Volunteer

    units = session.execute(
        sa.select(Unit.id, Unit.parent_id, Unit.path).where(path_in(Unit.path, root.path))
    ).all()
    parent = {uid: pid for uid, pid, _ in units}
    counts = session.execute(
        sa.select(Volunteer.unit_id, sa.func.count())
        .where(path_in(Volunteer.unit_path, root.path), Volunteer.status == "active")
        .group_by(Volunteer.unit_id)
    ).all()
    totals = dict.fromkeys(parent, 0)
    for uid, n in counts:
        current = uid
        while current is not None and current in totals:
            totals[current] += n
            current = parent[current]
    return totals


def prefix_join(session, root) -> dict[int, int]:
    """Rolled-up active volunteers per unit by one join on the path prefix."""
    low, high = root.subtree_bounds()
    rows = session.execute(sa.text(PREFIX_JOIN_SQL), {"low": low, "high": high}).all()
    return {uid: int(n) for uid, n, _ in rows}


def main() -> None:
    """Run every variant in turn and print the medians against the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--no-prefix-join", action="store_true", help="skip the slow variant")
    args = parser.parse_args()
    print(common.machine())
    platform = common.platform()
    from core.coverage.export import coverage_workbook
    from core.coverage.services import compute_coverage, unit_figure
    from core.units.models import Unit

    variants = {
        "baseline: hand-written SQL aggregate": baseline,
        "platform: GROUP BY unit_path + Python roll-up": platform_way,
        "alternative: GROUP BY unit_id + parent walk": by_unit_id,
    }
    if not args.no_prefix_join:
        variants["alternative: one SQL join on the path prefix"] = prefix_join
    rng = random.Random(7)
    with platform.session_factory() as session:
        city = session.get(Unit, 1)
        districts = session.execute(sa.select(Unit).where(Unit.level == "district")).scalars().all()
        units = session.execute(sa.select(sa.func.count()).select_from(Unit)).scalar_one()
        volunteers = session.execute(sa.text("select count(*) from volunteer")).scalar_one()
        print(f"{units:,} units, {volunteers:,} volunteers\n")
        # Same answers first.
        expected = baseline(session, city)
        for name, fn in variants.items():
            assert fn(session, city) == expected, name
        samples: dict[str, list[float]] = {name: [] for name in variants}
        district_samples: dict[str, list[float]] = {name: [] for name in variants}
        figure, export = [], []
        for fn in variants.values():  # warm the cache
            fn(session, city)
        for _ in range(args.repeat):
            district = rng.choice(districts)
            for name, fn in variants.items():
                if name.endswith("prefix") and len(samples[name]) >= 3:
                    continue  # slow; three runs tell enough
                samples[name].append(timed(lambda fn=fn: fn(session, city))[0])
                district_samples[name].append(timed(lambda fn=fn, d=district: fn(session, d))[0])
            figure.append(timed(lambda: unit_figure(session, city))[0])
        for _ in range(3):
            export.append(timed(lambda: coverage_workbook(compute_coverage(session, city)))[0])
    base = median_ms(samples["baseline: hand-written SQL aggregate"])
    base_district = median_ms(district_samples["baseline: hand-written SQL aggregate"])
    rows = []
    for name in variants:
        city_ms, district_ms = median_ms(samples[name]), median_ms(district_samples[name])
        rows.append(
            [
                name,
                f"{city_ms:.0f} ms",
                f"{city_ms / base:.2f}×",
                f"{district_ms:.1f} ms",
                f"{district_ms / base_district:.2f}×",
            ]
        )
    print(
        table(
            rows,
            [
                "roll-up of every unit",
                "city (12,229 units)",
                "vs baseline",
                "one district",
                "vs baseline",
            ],
        )
    )
    platform_ratio = median_ms(samples["platform: GROUP BY unit_path + Python roll-up"]) / base
    print(
        f"\ngoal: platform within 1.5× of the baseline → {platform_ratio:.2f}× "
        f"({'met' if platform_ratio <= 1.5 else 'NOT met'})"
    )
    print(
        f"dashboard figure of the city (one count + populations): {median_ms(figure):.0f} ms "
        f"({median_ms(figure) / base:.2f}× baseline)"
    )
    print(
        f"XLSX export of the whole city (roll-up + 12,229 rows): {median_ms(export):.0f} ms "
        f"({median_ms(export) / base:.2f}× baseline)"
    )


if __name__ == "__main__":
    main()
