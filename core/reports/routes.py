"""API of reports: submit at one's unit, follow one's own, read, handle, reveal the reporter.

Submitting and listing name the unit in the path (the guard scopes them). A report is read
within the subtree of the unit it came from; its steps need ``core.report.handle`` reaching
the unit that handles it, and the service then checks its status and says why it refuses.
"""

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import Session

from core.access import get_scoped
from core.platform import Platform
from core.reports import services
from core.reports.models import Report, ReportStatus
from core.reports.pages import PAGES, photo_response
from core.reports.permissions import HANDLE, READ, REVEAL, SUBMIT
from core.reports.photos import MAX_PHOTO_BYTES, MAX_PHOTOS
from core.reports.schemas import (
    CloseRequest,
    HandleRequest,
    MyReport,
    ReferRequest,
    ReportCreate,
    ReportDetail,
    ReporterRevealed,
    ReportRead,
    RevealReporterRequest,
    TriageRequest,
    detail,
    mine,
    present_all,
    report_input,
)
from core.web.deps import Limit, Offset, PlatformDep, SessionDep, UnitDep

ReportId = FromPath[int]
#: The JSON of a report with its photos in base64, and room for the text around them.
BODY_LIMIT = MAX_PHOTOS * MAX_PHOTO_BYTES * 4 // 3 + 1024 * 1024


def step_response(
    session: Session,
    platform: Platform,
    request: Request,
    report_id: int,
    step: services.Step,
    **fields: str | None,
) -> ReportDetail:
    """Take ``step`` on a report the caller may handle, and show it afterwards."""
    principal = request.scope["user"]
    report = get_scoped(session, Report, report_id, principal, HANDLE, "origin_unit_path")
    services.take_step(session, principal, report, step, **fields)
    session.commit()
    return detail(session, platform, principal, report)


class ReportController(Controller):
    """Reports of clues, public opinion and hazards."""

    path = "/api/v1"
    tags = ["reports"]

    @post(
        "/units/{unit_id:int}/reports",
        sync_to_thread=True,
        operation_id="SubmitReport",
        opt={"action": SUBMIT},
        status_code=HTTP_201_CREATED,
        request_max_body_size=BODY_LIMIT,
    )
    def submit(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[ReportCreate],
    ) -> MyReport:
        """Report at the unit where one serves; photos in base64 (JPEG, PNG or WebP)."""
        principal = request.scope["user"]
        report_data, photos = report_input(data)
        report = services.submit(session, platform, principal, unit, report_data, photos)
        session.commit()
        return mine(session, platform, [report])[0]

    @get(
        "/units/{unit_id:int}/reports",
        sync_to_thread=True,
        operation_id="ListReports",
        opt={"action": READ},
    )
    def list_reports(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        status: Annotated[ReportStatus | None, QueryParameter()] = None,
        category: Annotated[str | None, QueryParameter(max_length=64)] = None,
        overdue: Annotated[
            bool, QueryParameter(description="Only those past their triage limit.")
        ] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[ReportRead]:
        """Reports from the unit's subtree, newest first; the reporter only for handlers."""
        principal = request.scope["user"]
        query = services.list_query(
            principal, unit, status=status, category=category, overdue=overdue
        )
        reports = list(session.exec(query.offset(offset).limit(limit)).all())
        return present_all(session, platform, principal, reports)

    @get("/reports/mine", sync_to_thread=True, operation_id="ListMyReports", opt={"action": SUBMIT})
    def my_reports(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[MyReport]:
        """My reports: status, history and the answer."""
        query = services.mine_query(request.scope["user"]).offset(offset).limit(limit)
        return mine(session, platform, list(session.exec(query).all()))

    @get(
        "/reports/{report_id:int}",
        sync_to_thread=True,
        operation_id="GetReport",
        opt={"action": READ},
    )
    def get_report(
        self, request: Request, session: SessionDep, platform: PlatformDep, report_id: ReportId
    ) -> ReportDetail:
        """One report, its history and the steps I may take."""
        principal = request.scope["user"]
        report = get_scoped(session, Report, report_id, principal, READ, "origin_unit_path")
        return detail(session, platform, principal, report)

    @get(
        "/reports/{report_id:int}/photos/{photo:int}",
        sync_to_thread=True,
        operation_id="GetReportPhoto",
        opt={"action": READ},
        media_type="image/jpeg",
    )
    def photo(
        self, request: Request, session: SessionDep, report_id: ReportId, photo: FromPath[int]
    ) -> Response:
        """A report's photo (counted from 0)."""
        report = get_scoped(
            session, Report, report_id, request.scope["user"], READ, "origin_unit_path"
        )
        return photo_response(session, report, photo)

    @post(
        "/reports/{report_id:int}/triage",
        sync_to_thread=True,
        operation_id="TriageReport",
        opt={"action": HANDLE},
        status_code=200,
    )
    def triage(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        report_id: ReportId,
        data: JSONBody[TriageRequest],
    ) -> ReportDetail:
        """分拣: the handling unit has looked at it."""
        return step_response(
            session, platform, request, report_id, services.Step.triage, note=data.note
        )

    @post(
        "/reports/{report_id:int}/referral",
        sync_to_thread=True,
        operation_id="ReferReport",
        opt={"action": HANDLE},
        status_code=200,
    )
    def refer(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        report_id: ReportId,
        data: JSONBody[ReferRequest],
    ) -> ReportDetail:
        """转交: to the body competent for it."""
        return step_response(
            session,
            platform,
            request,
            report_id,
            services.Step.refer,
            referred_to=data.referred_to,
            note=data.note,
        )

    @post(
        "/reports/{report_id:int}/handling",
        sync_to_thread=True,
        operation_id="HandleReport",
        opt={"action": HANDLE},
        status_code=200,
    )
    def handle(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        report_id: ReportId,
        data: JSONBody[HandleRequest],
    ) -> ReportDetail:
        """自行处理: the handling unit deals with it itself."""
        return step_response(
            session, platform, request, report_id, services.Step.handle, note=data.note
        )

    @post(
        "/reports/{report_id:int}/closure",
        sync_to_thread=True,
        operation_id="CloseReport",
        opt={"action": HANDLE},
        status_code=200,
    )
    def close(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        report_id: ReportId,
        data: JSONBody[CloseRequest],
    ) -> ReportDetail:
        """办结: closed, with the feedback the reporter reads."""
        return step_response(
            session,
            platform,
            request,
            report_id,
            services.Step.close,
            feedback=data.feedback,
            note=data.note,
        )

    @post(
        "/reports/{report_id:int}/reporter",
        sync_to_thread=True,
        operation_id="RevealReporter",
        opt={"action": REVEAL},
        status_code=200,
    )
    def reveal_reporter(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        report_id: ReportId,
        data: JSONBody[RevealReporterRequest],
    ) -> ReporterRevealed:
        """Who reported, in clear, giving a reason; the read is audited."""
        principal = request.scope["user"]
        report = get_scoped(session, Report, report_id, principal, REVEAL, "origin_unit_path")
        reporter = services.reveal_reporter(session, platform, principal, report, data.reason)
        session.commit()
        return ReporterRevealed(report_id=report.id, **reporter.__dict__)


ROUTES: list = [ReportController, *PAGES]
