"""Local rules and thresholds: per-unit configuration with a valid-from date.

Every number the domain notes mark "local" or "recall — verify" (budget thresholds, approval
levels by amount, the insurer's clocks, the limitation period, warning lead times, donor
answer times, per-case subsidy rules) is a key here. A unit sets a value for itself and its
subtree from a date on, as a new row; the value in force at a unit on a day is the latest row
valid that day at the nearest unit on the path up to the city, else the key's default.
"""

from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session, col, select

from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from core.unitconfig.services import ConfigKey
from core.units.models import Unit
from plugins.insurance.models import InsuranceSetting, RateStandard

Level = Literal["city", "district", "township", "village"]
Days = Annotated[int, Field(ge=1, le=3650)]


class Tier(BaseModel):
    """Documents up to ``up_to_fen`` (None: any amount) are approved at ``level`` or above."""

    model_config = ConfigDict(extra="forbid")

    up_to_fen: int | None = Field(default=None, ge=0)
    level: Level


class SubsidyRule(BaseModel):
    """A domain event that becomes a reward proposal (for example a closed mediation case)."""

    model_config = ConfigDict(extra="forbid")

    event: str = Field(pattern=r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
    kind: Literal["case_subsidy", "clue", "commendation", "points"] = "case_subsidy"
    recipient_field: str = "person_id"
    ref_field: str = "id"
    amount_field: str | None = None
    default_fen: int = Field(ge=0)
    max_fen: int | None = Field(default=None, ge=0)


WARN_PERCENT = ConfigKey(
    "budget.warn_percent",
    Label("预算预警比例（%）", "Budget warning at (%)"),
    Annotated[int, Field(ge=1, le=1000)],
    80,
)
STOP_PERCENT = ConfigKey(
    "budget.stop_percent",
    Label("预算控制比例（%）", "Budget stop at (%)"),
    Annotated[int, Field(ge=1, le=1000)],
    100,
)
APPROVAL_TIERS = ConfigKey(
    "approval.tiers",
    Label("按金额分级审批", "Approval level by amount"),
    Annotated[list[Tier], Field(min_length=1)],
    [
        Tier(up_to_fen=50_000, level="township"),
        Tier(up_to_fen=500_000, level="district"),
        Tier(up_to_fen=None, level="city"),
    ],
)
DECISION_DAYS = ConfigKey(
    "claim.decision_days", Label("保险公司核定时限（天）", "Insurer's days to decide"), Days, 30
)
CHASE_DAYS = ConfigKey(
    "claim.chase_days", Label("催告保险公司（天）", "Chase the insurer after (days)"), Days, 20
)
PAYMENT_DAYS = ConfigKey(
    "claim.payment_days", Label("达成协议后赔付时限（天）", "Days to pay after agreement"), Days, 10
)
PAYMENT_ALERT_DAYS = ConfigKey(
    "claim.payment_alert_days",
    Label("赔付提醒（协议后天数）", "Payment reminder after agreement (days)"),
    Days,
    7,
)
DENIAL_NOTICE_DAYS = ConfigKey(
    "claim.denial_notice_days",
    Label("拒赔通知时限（天）", "Days to send a denial notice"),
    Days,
    3,
)
LIMITATION_YEARS = ConfigKey(
    "limitation.years",
    Label("索赔时效（年）", "Limitation period (years)"),
    Annotated[int, Field(ge=1, le=10)],
    2,
)
LIMITATION_WARN_DAYS = ConfigKey(
    "limitation.warn_days",
    Label("时效届满前提醒（天）", "Warn before the limitation ends (days)"),
    Annotated[list[Days], Field(min_length=1, max_length=6)],
    [90, 30],
)
POLICY_WARN_DAYS = ConfigKey(
    "policy.expiry_warn_days",
    Label("保单到期前提醒（天）", "Warn before a policy expires (days)"),
    Annotated[list[Days], Field(min_length=1, max_length=6)],
    [60, 30, 7],
)
DONOR_ANSWER_DAYS = ConfigKey(
    "donor.answer_days", Label("答复捐赠人查询时限（天）", "Days to answer a donor"), Days, 20
)
SUBSIDY_RULES = ConfigKey(
    "reward.subsidy_events",
    Label("以案定补事件规则", "Per-case subsidy events"),
    Annotated[list[SubsidyRule], Field(max_length=20)],
    [],
)

KEYS: dict[str, ConfigKey] = {
    key.name: key
    for key in (
        WARN_PERCENT,
        STOP_PERCENT,
        APPROVAL_TIERS,
        DECISION_DAYS,
        CHASE_DAYS,
        PAYMENT_DAYS,
        PAYMENT_ALERT_DAYS,
        DENIAL_NOTICE_DAYS,
        LIMITATION_YEARS,
        LIMITATION_WARN_DAYS,
        POLICY_WARN_DAYS,
        DONOR_ANSWER_DAYS,
        SUBSIDY_RULES,
    )
}


def ancestor_ids(path: str) -> list[int]:
    """The unit ids of a materialised path, root first."""
    return [int(part) for part in path.split(".") if part]


def setting(session: Session, path: str, key: ConfigKey, on: date) -> Any:
    """The value of ``key`` in force on ``on`` at the unit whose path is ``path``."""
    ancestors = ancestor_ids(path)
    rows = session.exec(
        select(InsuranceSetting)
        .where(InsuranceSetting.key == key.name)
        .where(col(InsuranceSetting.unit_id).in_(ancestors))
        .where(InsuranceSetting.valid_from <= on)
    ).all()
    if not rows:
        return key.default
    depth = {unit_id: index for index, unit_id in enumerate(ancestors)}
    row = max(rows, key=lambda r: (depth[r.unit_id], r.valid_from, r.id or 0))
    return key.parse(row.value)


def set_setting(
    session: Session,
    unit: Unit,
    name: str,
    value: Any,
    valid_from: date,
    *,
    user_id: int | None,
    reason: str | None = None,
) -> InsuranceSetting:
    """Record a new value of the key ``name`` at ``unit`` from ``valid_from`` on.

    Raises:
        DomainError: unknown key (400), invalid value (422), or a value already starting
            that day at this unit (409: what was in force must stay knowable).
    """
    key = KEYS.get(name)
    if key is None:
        raise DomainError(
            text("没有这个配置项", "No such setting"),
            "validation_failed",
            400,
            [FieldError("key", "unknown", name)],
        )
    parsed = key.parse(value)
    clash = session.exec(
        select(InsuranceSetting.id).where(
            InsuranceSetting.unit_id == unit.id,
            InsuranceSetting.key == name,
            InsuranceSetting.valid_from == valid_from,
        )
    ).first()
    if clash is not None:
        raise DomainError(
            text("该日期已有设置，请选择更晚的生效日期", "A value already starts that day"),
            "conflict",
            409,
            [FieldError("valid_from", "unique", f"{name} @ {valid_from.isoformat()}")],
        )
    row = InsuranceSetting(
        unit_id=unit.id,
        unit_path=unit.path,
        key=name,
        value=key.dump(parsed),
        valid_from=valid_from,
        reason=reason,
        set_by_user_id=user_id,
    )
    session.add(row)
    session.flush()
    return row


def settings_at(session: Session, path: str, on: date) -> dict[str, Any]:
    """Every key's value in force at a unit on a day (JSON form), for the settings page."""
    return {name: key.dump(setting(session, path, key, on)) for name, key in KEYS.items()}


def rate_on(session: Session, path: str, expense_type: str, on: date) -> RateStandard | None:
    """The standard for ``expense_type`` valid on ``on`` at the nearest unit on ``path``."""
    ancestors = ancestor_ids(path)
    rows = session.exec(
        select(RateStandard)
        .where(RateStandard.expense_type == expense_type)
        .where(col(RateStandard.unit_id).in_(ancestors))
        .where(RateStandard.valid_from <= on)
    ).all()
    rows = [row for row in rows if row.valid_to is None or row.valid_to >= on]
    if not rows:
        return None
    depth = {unit_id: index for index, unit_id in enumerate(ancestors)}
    return max(rows, key=lambda r: (depth[r.unit_id], r.valid_from, r.id or 0))


def add_rate(
    session: Session,
    unit: Unit,
    expense_type: str,
    amount_fen: int,
    valid_from: date,
    *,
    valid_to: date | None,
    fixed: bool,
    user_id: int | None,
) -> RateStandard:
    """Record a standard; the previous open one at this unit ends the day before.

    Raises:
        DomainError: the period is empty, or starts on or before the current one's start.
    """
    if valid_to is not None and valid_to < valid_from:
        raise DomainError(
            text("结束日期早于开始日期", "The period ends before it starts"),
            "validation_failed",
            400,
            [FieldError("valid_to", "before_start", valid_to.isoformat())],
        )
    current = session.exec(
        select(RateStandard).where(
            RateStandard.unit_id == unit.id,
            RateStandard.expense_type == expense_type,
            col(RateStandard.valid_to).is_(None),
        )
    ).first()
    if current is not None:
        if current.valid_from >= valid_from:
            raise DomainError(
                text("新标准须晚于现行标准生效", "A new standard must start after the current one"),
                "conflict",
                409,
                [FieldError("valid_from", "not_after_current", current.valid_from.isoformat())],
            )
        current.valid_to = valid_from - timedelta(days=1)
        session.add(current)
    rate = RateStandard(
        unit_id=unit.id,
        unit_path=unit.path,
        expense_type=expense_type,
        amount_fen=amount_fen,
        fixed=fixed,
        valid_from=valid_from,
        valid_to=valid_to,
        set_by_user_id=user_id,
    )
    session.add(rate)
    session.flush()
    return rate
