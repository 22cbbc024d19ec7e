"""Pages: statistics with charts (and their workbook), and the committees with mediators."""

from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter
from litestar.response import Template
from sqlmodel import select

from core.access import path_in
from core.contributions import Label
from core.i18n import current_locale
from core.people.models import Person
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.navigation import unit_page
from plugins.mediation import clock, reporting, statistics
from plugins.mediation.api.committees import committee_read, mediator_read
from plugins.mediation.api.records import file_response
from plugins.mediation.models import Committee, Mediator
from plugins.mediation.pages.labels import labels
from plugins.mediation.permissions import COMMITTEE_READ, REPORT_EXPORT, REPORT_READ
from plugins.mediation.present import say
from plugins.mediation.vocab import SOURCE_LABELS

PeriodQuery = Annotated[str | None, QueryParameter(max_length=7)]


class ReportPages(Controller):
    """Statistics and committees of a unit's subtree."""

    @get("/statistics", sync_to_thread=True, opt={"action": REPORT_READ})
    def statistics_page(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        period: PeriodQuery = None,
    ) -> Template:
        """The month's or quarter's figures, charts, and each committee's figures."""
        principal = request.scope["user"]
        span = statistics.parse_period(period)
        total = statistics.for_unit(session, unit.path, span)
        named = labels(session, unit)
        config = named["config"]
        outcomes = [
            (say(named["outcomes"][key]), getattr(total, key))
            for key in ("agreement_written", "agreement_oral", "failed", "refused")
        ]
        categories = sorted(
            (
                (say(config.category_label(code)), count)
                for code, count in total.by_category.items()
            ),
            key=lambda pair: -pair[1],
        )
        sources = [
            (say(SOURCE_LABELS[code]) if code in SOURCE_LABELS else code, count)
            for code, count in sorted(total.by_source.items())
        ]
        today = clock.today()
        return Template(
            "mediation/statistics.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "period": span,
                "this_month": f"{today.year}-{today.month:02d}",
                "this_quarter": f"{today.year}Q{(today.month - 1) // 3 + 1}",
                "total": total,
                "rows": reporting.ROWS,
                "shown": reporting.shown,
                "committees": statistics.by_committee(session, unit.path, span),
                "charts": [
                    reporting.bar_chart(say(Label("调解结果", "Outcomes")), outcomes),
                    reporting.bar_chart(say(Label("纠纷类别", "Categories")), categories),
                    reporting.bar_chart(say(Label("案件来源", "Sources")), sources),
                ],
                "may_export": principal.can(REPORT_EXPORT, unit),
                **named,
            },
        )

    @get("/statistics/export", sync_to_thread=True, opt={"action": REPORT_EXPORT})
    def export(self, session: SessionDep, unit: UnitDep, period: PeriodQuery = None) -> Response:
        """The statistics workbook."""
        span = statistics.parse_period(period)
        named = labels(session, unit)
        content = reporting.workbook(
            f"{unit.name} 人民调解统计",
            span,
            statistics.for_unit(session, unit.path, span),
            [(c.name, f) for c, f in statistics.by_committee(session, unit.path, span)],
            named["config"],
            current_locale.get(),
        )
        return file_response(
            f"人民调解统计-{unit.name}-{span.name}.xlsx", reporting.XLSX_MEDIA_TYPE, content
        )

    @get("/committees", sync_to_thread=True, opt={"action": COMMITTEE_READ})
    def committees(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """Committees in reach with their members and mediators."""
        principal = request.scope["user"]
        found = session.exec(
            select(Committee)
            .where(path_in(Committee.unit_path, unit.path))
            .order_by(Committee.unit_path, Committee.id)
            .limit(200)
        ).all()
        mediators = session.exec(
            select(Mediator, Person)
            .join(Person, Person.id == Mediator.person_id)
            .where(path_in(Mediator.unit_path, unit.path))
            .order_by(Mediator.committee_id, Mediator.id)
        ).all()
        return Template(
            "mediation/committees.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "committees": [committee_read(session, c) for c in found],
                "mediators": [mediator_read(m, p) for m, p in mediators],
                "today": clock.today(),
                **labels(session, unit),
            },
        )
