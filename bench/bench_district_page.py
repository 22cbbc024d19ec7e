"""(c) A district's volunteer list: one page of 50, filtered and sorted.

    python bench/bench_district_page.py [--calls 60]

Calls ``core.volunteers.queries.district_page`` (what the list page and the API call) for
random districts of the bench database (≈ 26,000 volunteers each): every sort in both
directions, first pages and next pages (keyset cursor), with the status filter, without it,
with a name search and with a skill. The baseline, in
the same run, is the hand-written SQL of the simplest case (the first 50 active volunteers of a
district by id, one index range on ``(unit_path, status, id)``) sent through the same
session; the same SQL ordered by number is shown beside it. When
``core.volunteers.queries`` is not there, only the hand-written queries are timed.

Goal: median under 20 ms.
"""

import argparse
import random

import common
import sqlalchemy as sa
from common import median_ms, p95_ms, table, timed

BASELINE_SQL = """
select v.*, p.name, u.name
from volunteer v join person p on p.id = v.person_id join unit u on u.id = v.unit_id
where v.unit_path >= :low and v.unit_path < :high and v.status = 'active'
order by v.{order} limit 51
"""


def main() -> None:
    """Time every case for random districts and print medians against the baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=60, help="calls per case")
    args = parser.parse_args()
    print(common.machine())
    platform = common.platform()
    from core.units.models import Unit

    try:
        from core.volunteers.queries import (
            PageRequest,
            VolunteerFilters,
            district_page,
        )
    except ImportError:  # pragma: no cover - before core/volunteers/queries.py exists
        district_page = None
    principal = common.city_principal({"core.volunteer.read"})
    rng = random.Random(11)
    with platform.session_factory() as session:
        districts = session.execute(sa.select(Unit).where(Unit.level == "district")).scalars().all()
        sizes = dict(
            session.execute(
                sa.text(
                    "select split_part(unit_path, '.', 2)::int, count(*) from volunteer group by 1"
                )
            ).all()
        )
        print(
            f"{len(districts)} districts, {min(sizes.values()):,}–{max(sizes.values()):,} "
            f"volunteers each (median {sorted(sizes.values())[len(sizes) // 2]:,})\n"
        )

        def baseline(district, order="id"):
            low, high = district.subtree_bounds()
            query = sa.text(BASELINE_SQL.format(order=order))
            return session.execute(query, {"low": low, "high": high}).all()

        def page(district, sort, after=None, **narrowing):
            filters = VolunteerFilters(unit=district, **{"status": "active", **narrowing})
            return district_page(session, principal, filters, sort, PageRequest(after=after))

        cases = {
            "baseline: hand-written SQL, first page by id": None,
            "hand-written SQL, first page by number": "sql-number",
        }
        if district_page is not None:
            # (sort, next page?, filters beyond status=active)
            cases.update(
                {
                    "first page, active, by number": ("number", False, {}),
                    "next page (cursor), by number": ("number", True, {}),
                    "first page, by number descending": ("-number", False, {}),
                    "first page, active, by name": ("name", False, {}),
                    "next page (cursor), by name": ("name", True, {}),
                    "first page, by name descending": ("-name", False, {}),
                    "next page (cursor), by name descending": ("-name", True, {}),
                    "first page, oldest registered first": ("registered_at", False, {}),
                    "first page, newest registered first": ("-registered_at", False, {}),
                    "next page (cursor), newest registered first": ("-registered_at", True, {}),
                    "every status, by number": ("number", False, {"status": None}),
                    "status suspended, by number": ("number", False, {"status": "suspended"}),
                    "name contains 王, by number": ("number", False, {"name": "王"}),
                    "name contains 王, by name": ("name", False, {"name": "王"}),
                    "skill first_aid, by number": ("number", False, {"skill": "first_aid"}),
                    "skill first_aid, newest first": (
                        "-registered_at",
                        False,
                        {"skill": "first_aid"},
                    ),
                }
            )
        samples = {case: [] for case in cases}
        cursors: dict[tuple[int, str], str] = {}
        for district in districts[:5]:  # warm up
            baseline(district)
        for _ in range(args.calls):
            district = rng.choice(districts)
            for case, spec in cases.items():
                if spec is None or spec == "sql-number":
                    order = "id" if spec is None else "number"
                    samples[case].append(timed(lambda d=district, o=order: baseline(d, o))[0])
                    continue
                sort, next_page, narrowing = spec
                after = None
                if next_page:
                    key = (district.id, sort)
                    if key not in cursors:
                        cursors[key] = page(district, sort).next_cursor
                    after = cursors[key]
                seconds, result = timed(
                    lambda d=district, s=sort, a=after, n=narrowing: page(d, s, a, **n)
                )
                assert len(result.rows) == 50 or "name" in narrowing, (case, len(result.rows))
                samples[case].append(seconds)
    base = median_ms(samples["baseline: hand-written SQL, first page by id"])
    rows = [
        [
            case,
            f"{median_ms(values):.1f} ms",
            f"{p95_ms(values):.1f} ms",
            f"{median_ms(values) / base:.2f}×",
            "yes" if median_ms(values) < 20 else "NO",
        ]
        for case, values in samples.items()
    ]
    print(table(rows, ["one page of 50", "median", "p95", "vs baseline", "< 20 ms"]))
    if district_page is None:
        print("\ncore.volunteers.queries.district_page is not there yet: baseline only")


if __name__ == "__main__":
    main()
