"""API input and output for units and their plugin switches."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.units.models import UnitKind, UnitLevel

MAX_POPULATION = 100_000_000


class UnitRead(BaseModel):
    """A unit: its place in the tree, official code, team, kind and resident population."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    parent_id: int | None
    level: UnitLevel
    name: str
    code: str | None
    path: str
    kind: UnitKind = UnitKind.territorial
    team_name: str | None = None
    organisation: str | None = None
    population: int | None = None
    population_year: int | None = None
    active: bool = True
    merged_into_id: int | None = None


class LeaderRead(BaseModel):
    """A current captain or vice captain of the unit's team."""

    role: str
    name: str
    volunteer_id: int


class UnitDetail(UnitRead):
    """A unit with its team's leaders and how many units stand directly below it."""

    leaders: list[LeaderRead] = []
    children: int = 0


class UnitCreate(BaseModel):
    """A new unit below the unit named in the path (its level is the next one down)."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: UnitKind = Field(default=UnitKind.territorial, strict=False)  # JSON gives text
    code: str | None = Field(default=None, max_length=12)
    team_name: str | None = Field(default=None, max_length=100)
    organisation: str | None = Field(default=None, max_length=100)
    population: int | None = Field(default=None, ge=0, le=MAX_POPULATION)
    population_year: int | None = Field(default=None, ge=1950, le=2100)


class UnitUpdate(BaseModel):
    """Fields to change; those left out stay as they are."""

    model_config = ConfigDict(strict=True, extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    code: str | None = Field(default=None, max_length=12)
    team_name: str | None = Field(default=None, max_length=100)
    organisation: str | None = Field(default=None, max_length=100)
    population: int | None = Field(default=None, ge=0, le=MAX_POPULATION)
    population_year: int | None = Field(default=None, ge=1950, le=2100)


class UnitMove(BaseModel):
    """Put the unit under another parent; ``code`` is its new code if it needs one."""

    model_config = ConfigDict(strict=True, extra="forbid")

    parent_id: int = Field(ge=1, le=2**31 - 1)
    code: str | None = Field(default=None, max_length=12)


class UnitMerge(BaseModel):
    """Merge the unit into another of the same level and kind."""

    model_config = ConfigDict(strict=True, extra="forbid")

    into_id: int = Field(ge=1, le=2**31 - 1)


class RescopeRead(BaseModel):
    """What a move or merge changed."""

    unit: UnitRead
    old_path: str
    new_path: str
    rows: dict[str, int]
    recoded: list[tuple[int, str, str]]


class UnitEventRead(BaseModel):
    """A line of a unit's history."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    unit_id: int
    event: str
    detail: dict[str, Any]
    by_user_id: int | None
    at: datetime


class PluginRead(BaseModel):
    """An installed plugin as the deployment sees it."""

    name: str
    label_zh: str
    label_en: str
    version: str
    restricted: bool
    default_enabled: bool
    hooks: list[str]


class PluginState(BaseModel):
    """Whether a plugin is on at a unit, and whether the unit itself holds the switch."""

    name: str
    enabled: bool


class PluginSwitch(BaseModel):
    """Turn a plugin on or off for a unit's subtree."""

    model_config = ConfigDict(strict=True, extra="forbid")

    enabled: bool


class UnitMoveForm(BaseModel):
    """The move form of the unit page: the new parent by its code."""

    model_config = ConfigDict(extra="forbid")

    parent_code: str = Field(min_length=1, max_length=12)
    code: str | None = Field(default=None, max_length=12)


class UnitMergeForm(BaseModel):
    """The merge form of the unit page: the unit to merge into, by its code."""

    model_config = ConfigDict(extra="forbid")

    into_code: str = Field(min_length=1, max_length=12)
