"""Local configuration: the numbers the domain notes mark "recall — verify" or "local".

The defaults are in ``defaults.toml``. A unit changes any of them for its whole subtree from
a day on (``valid_from``), by adding a :class:`~plugins.mediation.models.MediationSetting`
row; rows are never edited, so what applied on any past day can be told. The configuration
in force at a unit on a day takes, key by key, the value of the nearest unit (the unit
itself, else its closest ancestor) that set it, from that unit's newest row in force.
"""

import tomllib
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session, col, select

from core.accounts.principal import Principal
from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from core.units.models import Unit
from core.web.errors import field_errors
from plugins.mediation import clock
from plugins.mediation.models import MediationSetting

DEFAULTS_FILE = Path(__file__).with_name("defaults.toml")

Days = Annotated[int, Field(ge=0, le=3650)]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9_]*$")]
Requirement = Literal["required", "as_needed", "agreement_written", "agreement_oral"]


class Category(BaseModel):
    """A dispute category: its code and names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: Code
    zh: str = Field(min_length=1, max_length=40)
    en: str = Field(min_length=1, max_length=80)

    @property
    def label(self) -> Label:
        """Its name in both languages."""
        return Label(self.zh, self.en)


class Document(Category):
    """A document of the case file checklist and when it is required."""

    required: Requirement


class Config(BaseModel):
    """The configuration in force at a unit on a day (every key present)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline_months: int = Field(ge=1, le=12)
    deadline_reminder_days: Days
    confirmation_window_days: int = Field(ge=1, le=365)
    confirmation_reminder_day: Days
    performance_reminder_days: Days
    urge_after_days: Days
    followup_after_days: Days
    followup_required_to_close: bool
    casefile_overdue_days: Days
    term_end_warning_days: Days
    orange_acknowledge_hours: int = Field(ge=1, le=168)
    required_modules: tuple[str, ...]
    pre_service_hours: float = Field(ge=0, le=1000)
    annual_training_hours: float = Field(ge=0, le=1000)
    minority_member_required: bool
    retention_years: dict[str, int]
    default_retention_class: str
    categories: tuple[Category, ...] = Field(min_length=1)
    case_file: tuple[Document, ...] = Field(min_length=1)

    def category(self, code: str) -> Category | None:
        """The category with ``code``, if configured."""
        return next((c for c in self.categories if c.code == code), None)

    def category_label(self, code: str) -> Label:
        """A category's name, or the code itself for one no longer configured."""
        found = self.category(code)
        return found.label if found else Label(code, code)


class ConfigChange(BaseModel):
    """Keys a unit sets from ``valid_from`` on; absent keys keep their inherited value."""

    model_config = ConfigDict(extra="forbid")

    deadline_months: int | None = Field(default=None, ge=1, le=12)
    deadline_reminder_days: Days | None = None
    confirmation_window_days: int | None = Field(default=None, ge=1, le=365)
    confirmation_reminder_day: Days | None = None
    performance_reminder_days: Days | None = None
    urge_after_days: Days | None = None
    followup_after_days: Days | None = None
    followup_required_to_close: bool | None = None
    casefile_overdue_days: Days | None = None
    term_end_warning_days: Days | None = None
    orange_acknowledge_hours: int | None = Field(default=None, ge=1, le=168)
    required_modules: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=20
    )
    pre_service_hours: float | None = Field(default=None, ge=0, le=1000)
    annual_training_hours: float | None = Field(default=None, ge=0, le=1000)
    minority_member_required: bool | None = None
    retention_years: dict[Code, Annotated[int, Field(ge=0, le=200)]] | None = None
    default_retention_class: Code | None = None
    categories: list[Category] | None = Field(default=None, min_length=1, max_length=60)
    case_file: list[Document] | None = Field(default=None, min_length=1, max_length=40)

    def values(self) -> dict:
        """The keys set, as JSON values."""
        return self.model_dump(mode="json", exclude_none=True)


@cache
def defaults() -> dict:
    """The values of ``defaults.toml``."""
    with DEFAULTS_FILE.open("rb") as handle:
        return tomllib.load(handle)


def rows_in_force(session: Session, path: str, on: date) -> list[MediationSetting]:
    """The rows of the unit at ``path`` and its ancestors in force on ``on``.

    Outermost and oldest first, so that applying them in order lets the nearest and newest win.
    """
    ids = [int(part) for part in path.split(".") if part]
    rows = session.exec(
        select(MediationSetting).where(
            col(MediationSetting.unit_id).in_(ids), MediationSetting.valid_from <= on
        )
    ).all()
    return sorted(rows, key=lambda row: (len(row.unit_path), row.valid_from))


def config_at(session: Session, path: str, on: date) -> Config:
    """The configuration in force on ``on`` at the unit whose path is ``path``."""
    merged = dict(defaults())
    for row in rows_in_force(session, path, on):
        merged.update(row.values)
    return Config.model_validate(merged)


def configured_keys(session: Session, path: str, on: date) -> dict[str, int]:
    """Key → the unit id whose row gives its value on ``on`` (absent: the default)."""
    origin: dict[str, int] = {}
    for row in rows_in_force(session, path, on):
        origin.update({key: row.unit_id for key in row.values})
    return origin


def set_values(
    session: Session, principal: Principal, unit: Unit, valid_from: date, values: dict, note
) -> MediationSetting:
    """Set ``values`` for ``unit``'s subtree from ``valid_from`` on.

    The day is today or later, so what applied on any past day never changes; a row already
    set for a later day that has not come yet takes the new values too. The configuration
    that results is checked as a whole.

    Raises:
        DomainError: an unknown key or a bad value (400), a day in the past (400), or today
            already set (409).
    """
    try:
        change = ConfigChange.model_validate(values)
    except ValidationError as error:
        raise DomainError(
            text("参数有误", "Invalid settings"),
            "validation_failed",
            400,
            [
                FieldError(f"values.{item.field}", item.rule, item.message)
                for item in field_errors(error.errors(include_url=False, include_input=False))
            ],
        ) from None
    today = clock.today()
    if valid_from < today:
        message = text("生效日期不能早于今天", "Settings take effect today or later")
        raise DomainError(message, "invalid", 400, [FieldError("valid_from", "past", message)])
    row = session.exec(
        select(MediationSetting).where(
            MediationSetting.unit_id == unit.id, MediationSetting.valid_from == valid_from
        )
    ).first()
    if row is not None and valid_from == today:
        message = text(
            "今天已有生效的设置，请选择以后的日期",
            "Settings already took effect today; choose a later day",
        )
        raise DomainError(message, "conflict", 409, [FieldError("valid_from", "taken", message)])
    merged = {**(row.values if row else {}), **change.values()}
    resulting = {**config_at(session, unit.path, valid_from).model_dump(mode="json"), **merged}
    try:
        check(Config.model_validate(resulting))
    except (ValidationError, ValueError) as error:
        message = text("设置合并后无效", "The settings would be invalid") + f": {error}"
        raise DomainError(
            message, "invalid", 400, [FieldError("values", "invalid", message)]
        ) from None
    row = row or MediationSetting(unit_id=unit.id, unit_path=unit.path, valid_from=valid_from)
    row.values = merged
    row.note = note
    row.set_by_user_id = principal.user_id
    session.add(row)
    session.flush()
    return row


def check(config: Config) -> Config:
    """Rules across keys: the default retention class exists, case file codes are unique."""
    if config.default_retention_class not in config.retention_years:
        raise ValueError("default_retention_class is not one of retention_years")
    codes = [d.code for d in config.case_file]
    if len(set(codes)) != len(codes):
        raise ValueError("case_file codes repeat")
    categories = [c.code for c in config.categories]
    if len(set(categories)) != len(categories):
        raise ValueError("category codes repeat")
    return config
