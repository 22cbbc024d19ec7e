"""Coverage (覆盖率): active volunteers against the resident population, rolled up the tree.

The target of the 2009 policy is volunteers ≥ 1 % of the resident population, for every unit
and for every level above it. A unit's figures are those of its whole subtree:

* **volunteers**: the *active* volunteers held anywhere in the subtree (a district's count
  includes all its townships, enterprise 中队 and villages);
* **population**: the unit's own resident population when it has one; otherwise the sum of
  its territorial children's (recursively), marked ``population_source="children"`` and
  ``population_complete=False`` when some child has no figure either. Enterprise 中队 and
  inactive (merged) units never add population (their people live in the territorial units),
  but their volunteers count;
* **met**: ``volunteers × 100 ≥ population``, in integers, so exactly 1 % meets the target.
  A unit with no known (or a zero) population has no ratio and ``met is None``.

How it is computed (chosen by measurement, see ``bench/README.md``): one indexed
``GROUP BY unit_path`` of the active volunteers in the subtree (an index-only range scan of
``ix_volunteer_unit_path_status_id``), one read of the subtree's units, and the roll-up in
Python: each count is added to every unit on its path (at most four ids), the populations are
summed bottom-up. For the city (12,229 units, 1 M volunteers) that stays within the time of the
hand-written SQL aggregate over the same tables.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from core.access import path_in
from core.accounts.principal import Principal
from core.units.models import Unit, UnitKind, UnitLevel
from core.volunteers.models import Volunteer, VolunteerStatus

#: The target, as volunteers per hundred residents (1 %).
TARGET_PERCENT = 1
READ = "core.coverage.read"
EXPORT = "core.coverage.export"
LEVEL_ORDER = (UnitLevel.city, UnitLevel.district, UnitLevel.township, UnitLevel.village)


class PopulationSource(StrEnum):
    """Where a unit's population figure comes from."""

    unit = "unit"  # the unit's own census figure
    children = "children"  # the sum of its children's figures
    none = "none"  # nobody below it has one either


@dataclass(slots=True)
class CoverageRow:
    """One unit's coverage, for its whole subtree."""

    unit_id: int
    parent_id: int | None
    name: str
    level: str
    kind: str
    code: str | None
    path: str
    active: bool
    own_population: int | None
    population_year: int | None
    population: int | None = None
    population_source: PopulationSource = PopulationSource.none
    population_complete: bool = True
    own_volunteers: int = 0  # active volunteers held by the unit itself
    volunteers: int = 0  # active volunteers in the whole subtree
    children: list[int] = field(default_factory=list)

    @property
    def depth(self) -> int:
        """How many units the path holds (the city has depth 1)."""
        return self.path.count(".")

    @property
    def ratio(self) -> float | None:
        """Volunteers per resident (0.0123 is 1.23 %); None without a population."""
        if not self.population:
            return None
        return self.volunteers / self.population

    @property
    def percent(self) -> float | None:
        """The ratio in per cent, rounded to 3 decimals."""
        ratio = self.ratio
        return None if ratio is None else round(ratio * 100, 3)

    @property
    def met(self) -> bool | None:
        """Whether the 1 % target is met (exactly 1 % meets it); None without a population."""
        if not self.population:
            return None
        return self.volunteers * 100 >= self.population * TARGET_PERCENT

    @property
    def target(self) -> int | None:
        """The volunteers the target asks for: ⌈population × 1 %⌉."""
        if not self.population:
            return None
        return -(-self.population * TARGET_PERCENT // 100)

    @property
    def shortfall(self) -> int | None:
        """Volunteers still missing to meet the target (0 when met)."""
        target = self.target
        return None if target is None else max(0, target - self.volunteers)

    def as_dict(self) -> dict[str, Any]:
        """The row as the API returns it."""
        return {
            "unit_id": self.unit_id,
            "parent_id": self.parent_id,
            "name": self.name,
            "level": self.level,
            "kind": self.kind,
            "code": self.code,
            "active": self.active,
            "population": self.population,
            "population_year": self.population_year,
            "population_source": self.population_source.value,
            "population_complete": self.population_complete,
            "volunteers": self.volunteers,
            "own_volunteers": self.own_volunteers,
            "percent": self.percent,
            "met": self.met,
            "target": self.target,
            "shortfall": self.shortfall,
            "children": len(self.children),
        }


@dataclass
class Coverage:
    """The coverage of every unit in one subtree."""

    root_id: int
    rows: dict[int, CoverageRow]

    @property
    def root(self) -> CoverageRow:
        """The unit the subtree hangs from."""
        return self.rows[self.root_id]

    def row(self, unit_id: int) -> CoverageRow | None:
        """One unit's row, if it lies in this subtree."""
        return self.rows.get(unit_id)

    def children_of(self, unit_id: int, *, include_inactive: bool = False) -> list[CoverageRow]:
        """A unit's direct children, by code; inactive ones only if they still hold volunteers."""
        row = self.rows[unit_id]
        children = [self.rows[child] for child in row.children]
        if not include_inactive:
            children = [child for child in children if child.active or child.volunteers]
        return sorted(children, key=_by_code)

    def ancestors_of(self, unit_id: int) -> list[CoverageRow]:
        """The rows from the root down to the unit's parent."""
        found = []
        current = self.rows[unit_id].parent_id
        while current is not None and current in self.rows:
            found.append(self.rows[current])
            if current == self.root_id:
                break
            current = self.rows[current].parent_id
        return found[::-1]

    def at_level(self, level: str) -> list[CoverageRow]:
        """Every active unit of ``level`` in the subtree."""
        return [row for row in self.rows.values() if row.level == level and row.active]

    def ranking(
        self, level: str, *, worst_first: bool = False, limit: int | None = None
    ) -> list[tuple[int, CoverageRow]]:
        """Units of ``level`` ranked by ratio (positions shared by equal ratios).

        Units without a population come last either way, by code.
        """
        rows = self.at_level(level)
        known = sorted((row for row in rows if row.ratio is not None), key=_by_code)
        unknown = sorted((row for row in rows if row.ratio is None), key=_by_code)
        # Exact ratios (fractions, not floats); the sort is stable, so ties stay by code.
        known.sort(
            key=lambda row: Fraction(row.volunteers, row.population), reverse=not worst_first
        )
        ranked: list[tuple[int, CoverageRow]] = []
        previous: Fraction | None = None
        for index, row in enumerate(known, start=1):
            ratio = Fraction(row.volunteers, row.population)
            ranked.append((ranked[-1][0] if ratio == previous else index, row))
            previous = ratio
        ranked += [(len(known) + index, row) for index, row in enumerate(unknown, start=1)]
        return ranked[:limit] if limit else ranked

    def walk(self, unit_id: int | None = None) -> Iterator[CoverageRow]:
        """The subtree depth first, each unit before its children (the export's order)."""
        stack = [self.rows[unit_id or self.root_id]]
        while stack:
            row = stack.pop()
            yield row
            stack.extend(reversed(self.children_of(row.unit_id, include_inactive=True)))

    def names_of(self, row: CoverageRow) -> list[str]:
        """Names from the root down to the unit, for a full location."""
        return [ancestor.name for ancestor in self.ancestors_of(row.unit_id)] + [row.name]


def _by_code(row: CoverageRow) -> tuple[str, int]:
    return (row.code or "~", row.unit_id)


UNIT_COLUMNS = (
    Unit.id,
    Unit.parent_id,
    Unit.name,
    Unit.level,
    Unit.kind,
    Unit.code,
    Unit.path,
    Unit.active,
    Unit.population,
    Unit.population_year,
)


def active_counts(session: Session, path: str) -> list[tuple[str, int]]:
    """Active volunteers per unit path in the subtree at ``path``: one indexed GROUP BY."""
    query = (
        sa.select(Volunteer.unit_path, sa.func.count())
        .where(path_in(Volunteer.unit_path, path))
        .where(Volunteer.status == VolunteerStatus.active.value)
        .group_by(Volunteer.unit_path)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def compute_coverage(session: Session, root: Unit) -> Coverage:
    """The coverage of ``root`` and every unit below it (the caller has checked the scope)."""
    units = session.execute(sa.select(*UNIT_COLUMNS).where(path_in(Unit.path, root.path))).all()
    return roll_up(root.id, units, active_counts(session, root.path))


def roll_up(root_id: int, units: Iterable[tuple], counts: Iterable[tuple[str, int]]) -> Coverage:
    """Build the coverage from unit rows (``UNIT_COLUMNS``) and ``(unit_path, count)`` pairs.

    Counts are added to every unit named on their path, so a volunteer whose unit is missing
    from ``units`` (or whose path is stale) still counts towards the ancestors present.
    """
    rows: dict[int, CoverageRow] = {}
    by_path: dict[str, CoverageRow] = {}
    for uid, parent, name, level, kind, code, path, active, population, year in units:
        row = CoverageRow(
            uid, parent, name, str(level), str(kind), code, path, bool(active), population, year
        )
        rows[uid] = row
        by_path[path] = row
    by_depth: dict[int, list[CoverageRow]] = {}
    for row in rows.values():
        if row.unit_id != root_id:
            parent = rows.get(row.parent_id)
            if parent is not None:
                parent.children.append(row.unit_id)
        by_depth.setdefault(row.path.count("."), []).append(row)
    for path, count in counts:
        holder = by_path.get(path)
        if holder is not None:
            holder.own_volunteers += count
        for part in path[:-1].split("."):
            row = rows.get(int(part))
            if row is not None:
                row.volunteers += count
    # Populations bottom-up, the deepest units first.
    territorial = UnitKind.territorial.value
    for depth in sorted(by_depth, reverse=True):
        for row in by_depth[depth]:
            if row.own_population is not None:
                row.population = row.own_population
                row.population_source = PopulationSource.unit
                continue
            if not row.children:
                row.population_complete = True
                continue
            total, known, contributing, complete = 0, 0, 0, True
            for child_id in row.children:
                child = rows[child_id]
                if not child.active or child.kind != territorial:
                    continue
                contributing += 1
                if child.population is None:
                    complete = False
                else:
                    known += 1
                    total += child.population
                    complete = complete and child.population_complete
            if known:
                row.population = total
                row.population_source = PopulationSource.children
                row.population_complete = complete
            else:
                row.population_complete = not contributing
    return Coverage(root_id, rows)


def unit_figure(session: Session, unit: Unit) -> CoverageRow:
    """One unit's coverage alone (a dashboard figure): a count and the subtree's populations.

    Cheaper than :func:`compute_coverage`: a single ``count(*)`` instead of the GROUP BY.
    """
    units = session.execute(sa.select(*UNIT_COLUMNS).where(path_in(Unit.path, unit.path))).all()
    total = session.execute(
        sa.select(sa.func.count())
        .select_from(Volunteer)
        .where(path_in(Volunteer.unit_path, unit.path))
        .where(Volunteer.status == VolunteerStatus.active.value)
    ).scalar_one()
    coverage = roll_up(unit.id, units, [])
    row = coverage.root
    row.volunteers = total
    return row


def reach_roots(session: Session, principal: Principal, action: str = READ) -> list[Unit]:
    """The highest units where ``principal`` may ``action`` (their subtrees are its reach)."""
    paths = principal.reach(action)
    if not paths:
        return []
    units = session.execute(sa.select(Unit).where(Unit.path.in_(paths))).scalars().all()
    return sorted(units, key=lambda unit: (unit.path.count("."), unit.code or "", unit.id))


def child_level(level: str) -> str | None:
    """The level below ``level`` (None below a village)."""
    index = [value.value for value in LEVEL_ORDER].index(level)
    return LEVEL_ORDER[index + 1].value if index + 1 < len(LEVEL_ORDER) else None


def levels_below(level: str) -> list[str]:
    """The levels strictly below ``level``, top down."""
    values = [value.value for value in LEVEL_ORDER]
    return values[values.index(level) + 1 :]
