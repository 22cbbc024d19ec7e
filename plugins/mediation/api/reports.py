"""API: statistics (JSON and XLSX) and the unit's local settings."""

from datetime import date
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from pydantic import BaseModel
from sqlmodel import select

from core.i18n import current_locale
from core.web.deps import SessionDep, UnitDep
from plugins.mediation import clock, reporting, settings, statistics
from plugins.mediation.api.common import caller
from plugins.mediation.api.records import file_response
from plugins.mediation.models import MediationSetting
from plugins.mediation.permissions import COMMITTEE_READ, REPORT_EXPORT, REPORT_READ, SETTING_MANAGE
from plugins.mediation.schemas import SettingIn

PeriodQuery = Annotated[
    str | None,
    QueryParameter(max_length=7, description="A month (2026-03) or a quarter (2026Q1)."),
]


class CommitteeFigures(BaseModel):
    """One committee's figures."""

    committee_id: int
    name: str
    figures: dict


class StatisticsRead(BaseModel):
    """A unit's statistics for a period: the subtree's totals and each committee's."""

    unit_id: int
    period: str
    start: date
    end: date
    totals: dict
    committees: list[CommitteeFigures]


class SettingRow(BaseModel):
    """A row of local settings."""

    id: int
    unit_id: int
    valid_from: date
    values: dict
    note: str | None


class SettingsRead(BaseModel):
    """The configuration in force at the unit on a day.

    With the unit each value comes from, and the unit's own rows.
    """

    on: date
    effective: dict
    set_at_unit: dict[str, int]
    rows: list[SettingRow]


class StatisticsController(Controller):
    """Statistics of the unit's subtree."""

    path = "/statistics"

    @get("/", sync_to_thread=True, operation_id="MediationStatistics", opt={"action": REPORT_READ})
    def figures(
        self, session: SessionDep, unit: UnitDep, period: PeriodQuery = None
    ) -> StatisticsRead:
        """Registered, accepted, outcomes, success rate, durations, overdue, performance."""
        span = statistics.parse_period(period)
        return StatisticsRead(
            unit_id=unit.id,
            period=span.name,
            start=span.start,
            end=span.end,
            totals=statistics.for_unit(session, unit.path, span).as_dict(),
            committees=[
                CommitteeFigures(committee_id=c.id, name=c.name, figures=f.as_dict())
                for c, f in statistics.by_committee(session, unit.path, span)
            ],
        )

    @get(
        "/export",
        sync_to_thread=True,
        operation_id="ExportMediationStatistics",
        opt={"action": REPORT_EXPORT},
    )
    def export(self, session: SessionDep, unit: UnitDep, period: PeriodQuery = None) -> Response:
        """The statistics as an XLSX workbook (counts only: no party appears)."""
        span = statistics.parse_period(period)
        config = settings.config_at(session, unit.path, clock.today())
        content = reporting.workbook(
            f"{unit.name} 人民调解统计",
            span,
            statistics.for_unit(session, unit.path, span),
            [(c.name, f) for c, f in statistics.by_committee(session, unit.path, span)],
            config,
            current_locale.get(),
        )
        return file_response(
            f"人民调解统计-{unit.name}-{span.name}.xlsx", reporting.XLSX_MEDIA_TYPE, content
        )


def settings_read(session, unit, on: date) -> SettingsRead:
    """What is in force at the unit on ``on``."""
    rows = session.exec(
        select(MediationSetting)
        .where(MediationSetting.unit_id == unit.id)
        .order_by(MediationSetting.valid_from)
    ).all()
    return SettingsRead(
        on=on,
        effective=settings.config_at(session, unit.path, on).model_dump(mode="json"),
        set_at_unit=settings.configured_keys(session, unit.path, on),
        rows=[SettingRow.model_validate(row, from_attributes=True) for row in rows],
    )


class SettingsController(Controller):
    """Local settings of the unit's subtree, from a day on."""

    path = "/settings"

    @get("/", sync_to_thread=True, operation_id="MediationSettings", opt={"action": COMMITTEE_READ})
    def current(
        self,
        session: SessionDep,
        unit: UnitDep,
        on: Annotated[date | None, QueryParameter(description="Default: today.")] = None,
    ) -> SettingsRead:
        """The configuration in force, and where each value was set."""
        return settings_read(session, unit, on or clock.today())

    @post(
        "/",
        sync_to_thread=True,
        operation_id="ChangeMediationSettings",
        opt={"action": SETTING_MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def change(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[SettingIn]
    ) -> SettingsRead:
        """Set values for this unit's subtree from ``valid_from`` on (checked as a whole)."""
        settings.set_values(session, caller(request), unit, data.valid_from, data.values, data.note)
        session.commit()
        return settings_read(session, unit, data.valid_from)


ROUTES = [StatisticsController, SettingsController]
