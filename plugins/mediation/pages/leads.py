"""Pages: report a lead or a zero report (information collectors), and the leads in reach."""

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import col

from core.errors import DomainError
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.forms import errors_of, parse_form
from core.web.navigation import unit_page
from plugins.mediation import clock, leads
from plugins.mediation.access import within
from plugins.mediation.api.leads import lead_reads, visible_leads
from plugins.mediation.models import Lead
from plugins.mediation.pages.forms import blank_free
from plugins.mediation.pages.labels import labels
from plugins.mediation.permissions import LEAD_CONVERT, LEAD_READ, LEAD_REPORT
from plugins.mediation.schemas import Dismissal, LeadIn, ZeroReportIn

Form = URLEncodedBody[dict[str, str]]


class LeadPages(Controller):
    """Leads of a unit."""

    path = "/leads"

    def _page(self, request, session, platform, unit, form, errors, status_code=200, code=None):
        principal = request.scope["user"]
        found = session.exec(
            visible_leads(principal, unit).order_by(col(Lead.id).desc()).limit(100)
        ).all()
        return Template(
            "mediation/leads.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "leads": lead_reads(session, principal, list(found)),
                "form": form,
                "errors": errors,
                "code": code,
                "today": clock.today(),
                "may_report": principal.can(LEAD_REPORT, unit),
                "may_convert": principal.can(LEAD_CONVERT, unit),
                **labels(session, unit),
            },
            status_code=status_code,
        )

    @get("/", sync_to_thread=True, opt={"action": LEAD_READ})
    def list_page(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """The report form and the leads in reach (a collector's own)."""
        return self._page(request, session, platform, unit, {}, [])

    def _submit(
        self, request, session, platform, unit, data, model, fields, run, after="?reported=1"
    ) -> Response:
        wanted, errors = parse_form(model, blank_free(data, fields), blank_is_none=False)
        status_code, code = 400, "validation_failed"
        if wanted is not None:
            try:
                run(request.scope["user"], wanted)
                session.commit()
                return Redirect(f"/units/{unit.id}/mediation/leads{after}")
            except DomainError as error:
                session.rollback()
                errors, status_code, code = errors_of(error), error.status, error.code
        return self._page(request, session, platform, unit, data, errors, status_code, code)

    @post("/", sync_to_thread=True, opt={"action": LEAD_REPORT})
    def report(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Report a lead."""
        return self._submit(
            request,
            session,
            platform,
            unit,
            data,
            LeadIn,
            ("place", "description", "risk_level", "people_involved"),
            lambda principal, wanted: leads.report_lead(
                session, principal, unit.id, unit.path, **wanted.model_dump()
            ),
        )

    @post("/{lead_id:int}/dismissal", sync_to_thread=True, opt={"action": LEAD_CONVERT})
    def dismiss(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        lead_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Dismiss a lead that needs no mediation."""

        def run(principal, wanted):
            lead = within(session, Lead, lead_id, unit)
            session.add(leads.dismiss(lead, wanted.note))

        return self._submit(
            request, session, platform, unit, data, Dismissal, ("note",), run, after=""
        )

    @post("/zero-reports", sync_to_thread=True, opt={"action": LEAD_REPORT})
    def zero_report(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Nothing found over a period (零上报)."""
        return self._submit(
            request,
            session,
            platform,
            unit,
            data,
            ZeroReportIn,
            ("period_start", "period_end"),
            lambda principal, wanted: leads.zero_report(
                session, principal, unit.id, unit.path, **wanted.model_dump()
            ),
        )
