"""Make the bench database at Chongqing scale, with COPY.

    python bench/generate.py [--volunteers 1000000] [--keep]

Creates ``pingan_bench`` (dropping it first unless ``--keep`` finds it complete), migrates it
with ``core.migrate.upgrade`` (every installed plugin's branch), then loads with psycopg's
``COPY … FROM STDIN``:

* 1 city (500000), the 38 districts and counties of ``core/demo/chongqing-districts.csv`` with
  their census populations, 1,031 townships and 11,159 villages (codes nested: district 6
  digits, township 9, village 12), populations on 97 % of the villages, none on townships (they
  are summed), so the roll-up has both cases;
* 1,000,000 people and as many volunteers (with their team memberships): 95 % at villages, 5 %
  held by townships, spread by a hash of the id as in the reference measurement; statuses
  90 % active, 5 % suspended, 5 % left; numbers ``<district code>2024<8 digits>``; 30 % of the
  people with one or two skills; registrations spread over six years.

Secondary indexes are dropped during the load and built again after it (their definitions
are read from the catalogue, so the schema stays the migrations'), then ``VACUUM ANALYZE``.
About 1 minute on 2 vCPU.
"""

import argparse
import csv
import json
import random
import time
from datetime import UTC, datetime, timedelta

import common  # noqa: F401  (puts the project on sys.path)
import sqlalchemy as sa
from common import BENCH_URL, ROOT, admin_url

from core.people.taxonomy import SKILLS

DISTRICTS_CSV = ROOT / "core" / "demo" / "chongqing-districts.csv"
TOWNSHIPS = 1_031
VILLAGES = 11_159
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎"
    "贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红文辉鹏飞宇浩然欣怡梓涵"
    "子轩晨雨婷博文嘉琪思远俊杰"
)
NOW = datetime(2026, 1, 15, tzinfo=UTC)
SKILL_KEYS = sorted(SKILLS)


def create_database(fresh: bool) -> bool:
    """Create the bench database; return whether it was (re)created."""
    url, name = admin_url()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(
            sa.text("select 1 from pg_database where datname = :n"), {"n": name}
        ).first()
        if exists and not fresh:
            engine.dispose()
            return False
        if exists:
            connection.execute(
                sa.text(
                    "select pg_terminate_backend(pid) from pg_stat_activity where datname = :n"
                ),
                {"n": name},
            )
            connection.execute(sa.text(f'drop database "{name}"'))
        connection.execute(sa.text(f'create database "{name}"'))
    engine.dispose()
    return True


def migrate() -> None:
    """Apply every migration (core and the installed plugins)."""
    from core.db import make_engine
    from core.migrate import upgrade
    from core.plugins import Plugins, make_plugin_manager

    engine = make_engine(BENCH_URL)
    upgrade(engine, Plugins(make_plugin_manager()))
    engine.dispose()


def build_units(rng: random.Random) -> list[tuple]:
    """Rows of ``unit``: (id, parent_id, level, name, code, path, population, year)."""
    with DISTRICTS_CSV.open(encoding="utf-8") as handle:
        districts = list(csv.DictReader(handle))
    total = sum(int(d["resident_population"]) for d in districts)
    rows = [(1, None, "city", "重庆市", "500000", "1.", total, 2020)]
    # Townships in proportion to population (at least 5 each), villages 5–17 per township.
    shares = [max(5, round(TOWNSHIPS * int(d["resident_population"]) / total)) for d in districts]
    while sum(shares) > TOWNSHIPS:
        shares[shares.index(max(shares))] -= 1
    while sum(shares) < TOWNSHIPS:
        shares[shares.index(min(shares))] += 1
    per_township = [rng.randint(5, 17) for _ in range(TOWNSHIPS)]
    while sum(per_township) != VILLAGES:
        index = rng.randrange(TOWNSHIPS)
        step = 1 if sum(per_township) < VILLAGES else -1
        if 3 <= per_township[index] + step <= 25:
            per_township[index] += step
    next_id = 2
    district_rows, township_rows, village_rows = [], [], []
    for district in districts:
        district_rows.append((next_id, district))
        next_id += 1
    township_index = 0
    for (district_id, district), count in zip(district_rows, shares, strict=True):
        path = f"1.{district_id}."
        rows.append(
            (
                district_id,
                1,
                "district",
                district["name"],
                district["code"],
                path,
                int(district["resident_population"]),
                int(district["population_year"]),
            )
        )
        for t in range(count):
            township_rows.append((next_id, district_id, path, district, t, township_index))
            next_id += 1
            township_index += 1
    for township_id, district_id, district_path, district, t, index in township_rows:
        code = f"{district['code']}{t + 1:03d}"
        path = f"{district_path}{township_id}."
        suffix = "街道" if t % 3 else "镇"
        rows.append(
            (township_id, district_id, "township", f"第{t + 1}{suffix}", code, path, None, None)
        )
        for v in range(per_township[index]):
            village_rows.append((township_id, path, code, v))
    for township_id, township_path, township_code, v in village_rows:
        uid = next_id
        next_id += 1
        population = None if rng.random() < 0.03 else int(rng.uniform(800, 6_000))
        name = f"第{v + 1}{'社区' if v % 2 else '村'}"
        rows.append(
            (
                uid,
                township_id,
                "village",
                name,
                f"{township_code}{v + 1:03d}",
                f"{township_path}{uid}.",
                population,
                2020 if population else None,
            )
        )
    assert len(rows) == 1 + len(districts) + TOWNSHIPS + VILLAGES
    return rows


def text_row(values) -> str:
    """One line of COPY's text format."""
    out = []
    for value in values:
        if value is None:
            out.append("\\N")
        else:
            out.append(str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n"))
    return "\t".join(out) + "\n"


def copy(cursor, table: str, columns: list[str], rows, chunk: int = 20_000) -> int:
    """COPY ``rows`` into ``table``; return how many."""
    count = 0
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copying:
        buffer = []
        for row in rows:
            buffer.append(text_row(row))
            count += 1
            if len(buffer) >= chunk:
                copying.write("".join(buffer))
                buffer.clear()
        if buffer:
            copying.write("".join(buffer))
    return count


def secondary_indexes(cursor, tables: list[str]) -> list[tuple[str, str]]:
    """(name, definition) of the non-primary-key, non-constraint indexes of ``tables``."""
    cursor.execute(
        """
        select i.relname, pg_get_indexdef(i.oid)
        from pg_index x join pg_class i on i.oid = x.indexrelid
        join pg_class t on t.oid = x.indrelid
        where t.relname = any(%s) and not x.indisprimary
          and not exists (select 1 from pg_constraint c where c.conindid = i.oid)
        """,
        (tables,),
    )
    return cursor.fetchall()


def unique_constraints(cursor, tables: list[str]) -> list[tuple[str, str, str]]:
    """(table, name, definition) of the UNIQUE constraints of ``tables``."""
    cursor.execute(
        """
        select t.relname, c.conname, pg_get_constraintdef(c.oid)
        from pg_constraint c join pg_class t on t.oid = c.conrelid
        where t.relname = any(%s) and c.contype = 'u'
        """,
        (tables,),
    )
    return cursor.fetchall()


def load(volunteers: int, seed: int) -> dict[str, float]:
    """COPY the units, people, volunteers and memberships; index; analyse."""
    rng = random.Random(seed)
    units = build_units(rng)
    villages = [row for row in units if row[2] == "village"]
    townships = [row for row in units if row[2] == "township"]
    district_code = {row[0]: row[4] for row in units if row[2] == "district"}
    timings = {}
    engine = sa.create_engine(BENCH_URL)
    raw = engine.raw_connection()
    connection = raw.driver_connection
    tables = ["unit", "person", "volunteer", "team_membership"]
    with connection.cursor() as cursor:
        # Load first, index after: the secondary indexes and UNIQUE constraints are dropped
        # and made again from their catalogue definitions; foreign-key triggers are off for
        # this session (the rows are generated consistent).
        indexes = secondary_indexes(cursor, tables)
        uniques = unique_constraints(cursor, tables)
        for name, _ in indexes:
            cursor.execute(f'drop index "{name}"')
        for table, name, _ in uniques:
            cursor.execute(f'alter table {table} drop constraint "{name}"')
        cursor.execute("set session_replication_role = replica")
        started = time.perf_counter()
        copy(
            cursor,
            "unit",
            [
                "id",
                "parent_id",
                "level",
                "name",
                "code",
                "path",
                "population",
                "population_year",
                "kind",
                "active",
                "created_at",
            ],
            (row + ("territorial", True, NOW.isoformat()) for row in units),
        )
        timings["units"] = time.perf_counter() - started

        def holder(i: int) -> tuple:
            h = (i * 2654435761) % 4294967296
            if h % 20 == 0:
                return townships[h % len(townships)]
            return villages[h % len(villages)]

        def district_of(path: str) -> int:
            return int(path.split(".")[1])

        def registered_at(i: int) -> str:
            # Registrations spread over the six years before NOW, several per second.
            return (NOW - timedelta(seconds=(volunteers - i) * 190 + (i * 7919) % 97)).isoformat()

        started = time.perf_counter()
        # Names, and skills for 30 % of the people (one or two each); the volunteer rows
        # carry copies of both for the district list.
        names = [
            rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if i % 3 else "")
            for i in range(1, volunteers + 1)
        ]
        skills = [
            json.dumps(sorted(rng.sample(SKILL_KEYS, rng.choice((1, 1, 2)))))
            if rng.random() < 0.3
            else "[]"
            for _ in range(volunteers)
        ]
        people = (
            (
                i,
                (u := holder(i))[0],
                u[5],
                names[i - 1],
                skills[i - 1],
                "{}",
                NOW.isoformat(),
            )
            for i in range(1, volunteers + 1)
        )
        copy(
            cursor,
            "person",
            ["id", "unit_id", "unit_path", "name", "skills", "availability", "created_at"],
            people,
        )
        timings["people"] = time.perf_counter() - started
        statuses = ["active"] * 18 + ["suspended", "left"]
        started = time.perf_counter()
        volunteer_rows = (
            (
                i,
                i,
                (u := holder(i))[0],
                u[5],
                f"{district_code[district_of(u[5])]}2024{i:08d}",
                statuses[(i * 7919) % 20],
                registered_at(i),
                district_of(u[5]),
                names[i - 1],
                skills[i - 1],
            )
            for i in range(1, volunteers + 1)
        )
        copy(
            cursor,
            "volunteer",
            [
                "id",
                "person_id",
                "unit_id",
                "unit_path",
                "number",
                "status",
                "registered_at",
                "district_id",
                "name",
                "skills",
            ],
            volunteer_rows,
        )
        memberships = (
            (i, i, (u := holder(i))[0], u[5], "member", "2024-01-01")
            for i in range(1, volunteers + 1)
        )
        copy(
            cursor,
            "team_membership",
            ["id", "volunteer_id", "unit_id", "unit_path", "role", "since"],
            memberships,
        )
        timings["volunteers"] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute("set session_replication_role = origin")
        cursor.execute("set maintenance_work_mem = '256MB'")
        for table, name, definition in uniques:
            cursor.execute(f'alter table {table} add constraint "{name}" {definition}')
        for _, definition in indexes:
            cursor.execute(definition)
        for table in tables:
            cursor.execute(
                f"select setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(select coalesce(max(id), 1) from {table}))"
            )
        connection.commit()
        timings["indexes"] = time.perf_counter() - started
    connection.autocommit = True
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("vacuum analyze")
    timings["vacuum"] = time.perf_counter() - started
    raw.close()
    engine.dispose()
    return timings


def main() -> None:
    """Create, migrate and load the bench database; print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2010)
    parser.add_argument("--keep", action="store_true", help="reuse an existing database")
    args = parser.parse_args()
    started = time.perf_counter()
    if not create_database(fresh=not args.keep):
        print("pingan_bench exists; --keep: nothing to do")
        return
    migrate()
    migrated = time.perf_counter() - started
    timings = load(args.volunteers, args.seed)
    total = time.perf_counter() - started
    print(f"database {BENCH_URL.rsplit('/', 1)[-1]}: migrated in {migrated:.1f}s")
    for name, seconds in timings.items():
        print(f"  {name:<10} {seconds:6.1f}s")
    rows = 12_229 + 3 * args.volunteers
    print(f"total {total:.1f}s; {rows:,} rows ({rows / sum(timings.values()):,.0f} rows/s overall)")


if __name__ == "__main__":
    main()
