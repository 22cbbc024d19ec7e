"""The unit tree (city → district → township → village) and per-unit plugin switches."""

from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from core.db import UTCDateTime

# Binary collation makes the path prefix test an index range scan on PostgreSQL too.
PATH_TYPE = sa.String(400).with_variant(sa.String(400, collation="C"), "postgresql")


def utcnow() -> datetime:
    """Timezone-aware now, for column defaults."""
    return datetime.now(UTC)


class UnitLevel(StrEnum):
    """The four levels of the organisation (总队, 大队, 中队, 分队)."""

    city = "city"
    district = "district"
    township = "township"
    village = "village"


class UnitKind(StrEnum):
    """Whether a unit belongs to the territorial tree or is formed by an organisation.

    A 中队 formed by an agency, school, factory, mall or venue is ``enterprise``: it stands at
    township level directly under the district 大队 that guides it, never under a township.
    """

    territorial = "territorial"
    enterprise = "enterprise"


class Unit(SQLModel, table=True):
    """An organisational unit.

    ``path`` lists the ids from the root down to the unit, each followed by a dot
    (``"1.7.212."``), so "everything under X" is ``path >= X.path AND path < X.path[:-1] + "/"``:
    an index range, no recursive query.
    """

    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    parent_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    level: UnitLevel = Field(sa_type=sa.String(16))
    name: str = Field(max_length=100)
    code: str | None = Field(default=None, max_length=12, unique=True)
    path: str = Field(default="", sa_type=PATH_TYPE, index=True)
    kind: UnitKind = Field(default=UnitKind.territorial, sa_type=sa.String(16))
    team_name: str | None = Field(default=None, max_length=100)
    organisation: str | None = Field(default=None, max_length=100)
    population: int | None = Field(default=None, ge=0)
    population_year: int | None = Field(default=None, ge=1950, le=2100)
    active: bool = True
    merged_into_id: int | None = Field(default=None, foreign_key="unit.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def ancestor_ids(self) -> list[int]:
        """Ids from the root down to and including this unit."""
        return [int(part) for part in self.path.split(".") if part]

    def subtree_bounds(self) -> tuple[str, str]:
        """The half-open path range holding this unit and all its descendants."""
        return self.path, self.path[:-1] + "/"


class UnitEvent(SQLModel, table=True):
    """The history of a unit: created, renamed, moved, merged, imported (who, when, what)."""

    __tablename__ = "unit_event"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    event: str = Field(max_length=32)
    detail: dict = Field(default_factory=dict, sa_type=sa.JSON)
    by_user_id: int | None = Field(default=None)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class NumberSequence(SQLModel, table=True):
    """The last number issued in a series (certificates per city and year, case numbers …).

    Numbers are taken under a row lock, so they are never issued twice nor reused.
    """

    __tablename__ = "number_sequence"
    __table_args__ = (sa.UniqueConstraint("series", "scope", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    series: str = Field(max_length=64)
    scope: str = Field(max_length=64)
    year: int
    last: int = 0


class UnitPlugin(SQLModel, table=True):
    """A plugin switched on or off at a unit, for its whole subtree.

    The row nearest to a unit, on the unit itself or on its closest ancestor that has one,
    decides; no row anywhere above means off. Switching off never deletes plugin data.
    """

    __tablename__ = "unit_plugin"
    __table_args__ = (sa.UniqueConstraint("unit_id", "plugin"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    plugin: str = Field(max_length=64)
    enabled: bool
    changed_by: str | None = Field(default=None, max_length=100)
    changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
