"""API input and output for units and their plugin switches."""

from pydantic import BaseModel, ConfigDict

from core.units.models import UnitLevel


class UnitRead(BaseModel):
    """A unit."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    parent_id: int | None
    level: UnitLevel
    name: str
    code: str | None
    path: str


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
