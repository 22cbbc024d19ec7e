"""The local rules of report handling, set per unit from a date on (:mod:`core.unitconfig`)."""

from typing import Annotated, Literal

from pydantic import Field

from core.contributions import Label
from core.unitconfig.services import ConfigKey

TRIAGE_HOURS = ConfigKey(
    name="reports.triage_hours",
    label=Label("线索分拣时限（小时）", "Time allowed to triage a report (hours)"),
    type=Annotated[int, Field(ge=1, le=720)],
    default=24,
    help=Label(
        "报告提交后须在此时限内分拣，逾期提醒处理单位负责人和上一级；1–720，按处理单位的设置",
        "A report must be triaged this many hours after it is submitted, or the handling "
        "unit's leaders and the unit above are told; 1–720, as set at the handling unit",
    ),
)

HANDLING_LEVEL = ConfigKey(
    name="reports.handling_level",
    label=Label("线索处理单位的层级", "Level of the unit that handles reports"),
    type=Literal["city", "district", "township", "village"],
    default="township",
    help=Label(
        "报告交由报告人所在单位以上这一层级的单位处理（报告人所在单位更高时由其本单位处理）："
        "city、district、township 或 village，按报告人所在单位的设置",
        "A report goes to the unit at this level above the reporter's unit (or to the "
        "reporter's unit itself when it stands higher): city, district, township or "
        "village, as set at the reporter's unit",
    ),
)
