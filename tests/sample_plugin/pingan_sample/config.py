"""The plugin's per-unit settings (set on a unit's settings page, from a date on)."""

from typing import Annotated

from pydantic import Field

from core.contributions import Label
from core.unitconfig.services import ConfigKey

BOARD_LIMIT = ConfigKey(
    name="sample.board_limit",
    label=Label("便签板显示条数", "Notes shown on the board"),
    type=Annotated[int, Field(ge=1, le=500)],
    default=50,
    help=Label("便签板页面最多显示的便签数，最新的在前；1–500", "The newest notes shown; 1–500"),
)
