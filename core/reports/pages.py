"""Report pages: the phone form, my reports, a unit's queue, a report and its steps."""

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from core.access import get_scoped
from core.errors import DomainError, FieldError
from core.files.models import StoredFile
from core.i18n import text
from core.platform import Platform
from core.reports import services
from core.reports.models import Report, ReportStatus
from core.reports.permissions import HANDLE, READ, REVEAL, SUBMIT
from core.reports.photos import ACCEPTED, MAX_PHOTO_BYTES, MAX_PHOTOS, Photo, safe_name
from core.reports.schemas import ReportCreate, detail, mine, present_all
from core.units.models import Unit
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.forms import errors_of, parse_form
from core.web.navigation import home_page_of, unit_page

PAGE = 50
MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
Form = URLEncodedBody[dict[str, str]]
FORM_LIMIT = MAX_PHOTOS * MAX_PHOTO_BYTES + 1024 * 1024
TEXT_FIELDS = ("category", "title", "body", "location", "latitude", "longitude")


def labels(platform: Platform) -> dict[str, Any]:
    """The display names report pages use."""
    return {
        "statuses": services.STATUS_LABELS,
        "steps": {step: rule.label for step, rule in services.RULES.items()},
        "categories": {
            code: services.category_label(platform.plugins, code)
            for code in platform.plugins.report_categories
        },
        "plugin_labels": {
            name: platform.plugins.meta(name).label for name in platform.plugins.names
        },
    }


def uploads(data: dict[str, Any]) -> list[Photo]:
    """The photos of a multipart form (field ``photos``, one or several; empty ones skipped)."""
    value = data.get("photos")
    files = value if isinstance(value, list) else [value]
    photos = []
    for upload in files:
        if isinstance(upload, UploadFile) and upload.filename:
            upload.file.seek(0)
            photos.append(Photo(safe_name(upload.filename), upload.file.read(MAX_PHOTO_BYTES + 1)))
    return photos


def photo_response(session: Session, report: Report, photo: int) -> Response:
    """The ``photo``-th (from 0) photo of a report, served as stored (metadata stripped).

    Raises:
        DomainError: no such photo (404).
    """
    ids = report.photo_file_ids or []
    stored = session.get(StoredFile, ids[photo]) if 0 <= photo < len(ids) else None
    if stored is None:
        raise DomainError(text("没有这张照片", "No such photo"), "not_found", 404)
    return Response(
        stored.content,
        media_type=stored.media_type,
        headers={"cache-control": "private, no-store", "x-content-type-options": "nosniff"},
    )


class UnitReportPages(Controller):
    """Reporting at a unit, and the unit's queue."""

    path = "/units/{unit_id:int}/reports"
    include_in_schema = False

    def _form(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        form: dict[str, str],
        errors: list[FieldError],
        status_code: int = 200,
        code: str | None = None,
    ) -> Template:
        return Template(
            "core:reports/new.html",
            context={
                "page": unit_page(platform, session, unit, request.scope["user"]),
                "form": form,
                "errors": errors,
                "code": code,
                "max_photos": MAX_PHOTOS,
                "max_mb": MAX_PHOTO_BYTES // 1024 // 1024,
                "accepted": ",".join(ACCEPTED),
                **labels(platform),
            },
            status_code=status_code,
        )

    @get("/new", sync_to_thread=True, opt={"action": SUBMIT})
    def new(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """The report form, made for a phone."""
        return self._form(request, session, platform, unit, {"category": "clue"}, [])

    @post("/new", sync_to_thread=True, opt={"action": SUBMIT}, request_max_body_size=FORM_LIMIT)
    def submit(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: MultipartForm,
    ) -> Response:
        """Send the report; then to my reports."""
        form = {
            name: str(data.get(name) or "")[:4000]
            for name in TEXT_FIELDS
            if isinstance(data.get(name) or "", str)
        }
        wanted, errors = parse_form(ReportCreate, form)
        if wanted is None:
            return self._form(
                request, session, platform, unit, form, errors, 400, "validation_failed"
            )
        report_data = services.ReportInput(
            category=wanted.category,
            body=wanted.body,
            title=wanted.title,
            location=wanted.location,
            latitude=wanted.latitude,
            longitude=wanted.longitude,
        )
        try:
            report = services.submit(
                session, platform, request.scope["user"], unit, report_data, uploads(data)
            )
            session.commit()
        except DomainError as error:
            session.rollback()
            return self._form(
                request, session, platform, unit, form, errors_of(error), error.status, error.code
            )
        return Redirect(f"/reports/mine?sent={report.id}", status_code=303)

    @get("/", sync_to_thread=True, opt={"action": READ})
    def queue(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        status: Annotated[ReportStatus | None, QueryParameter()] = None,
        category: Annotated[str | None, QueryParameter(max_length=64)] = None,
        overdue: Annotated[bool, QueryParameter()] = False,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        """Reports from the unit's subtree, newest first, 50 a page."""
        principal = request.scope["user"]
        query = services.list_query(
            principal, unit, status=status, category=category or None, overdue=overdue
        )
        reports = list(session.exec(query.offset((page - 1) * PAGE).limit(PAGE + 1)).all())
        return Template(
            "core:reports/queue.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "rows": present_all(session, platform, principal, reports[:PAGE]),
                "more": len(reports) > PAGE,
                "page_number": page,
                "filter": {
                    "status": status.value if status else "",
                    "category": category or "",
                    "overdue": overdue,
                },
                "all_statuses": [s for s in ReportStatus],
                **labels(platform),
            },
        )


class ReportPages(Controller):
    """My reports, and one report with its steps."""

    path = "/reports"
    include_in_schema = False

    @get("/mine", sync_to_thread=True, opt={"action": SUBMIT})
    def mine(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        sent: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        """My reports: where each stands and the answer."""
        principal = request.scope["user"]
        query = services.mine_query(principal).offset((page - 1) * PAGE).limit(PAGE + 1)
        reports = list(session.exec(query).all())
        return Template(
            "core:reports/mine.html",
            context={
                "nav": home_page_of(platform, session, principal),
                "rows": mine(session, platform, reports[:PAGE]),
                "more": len(reports) > PAGE,
                "page_number": page,
                "sent": sent,
                "report_units": [
                    session.get(Unit, grant.unit_id)
                    for grant in principal.grants
                    if SUBMIT in grant.actions
                ],
                **labels(platform),
            },
        )

    def _detail(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        report_id: int,
        *,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
        code: str | None = None,
        reporter: services.Disclosure | None = None,
    ) -> Template:
        principal = request.scope["user"]
        report = get_scoped(session, Report, report_id, principal, READ, "origin_unit_path")
        origin = session.get(Unit, report.origin_unit_id)
        return Template(
            "core:reports/detail.html",
            context={
                "page": unit_page(platform, session, origin, principal),
                "report": detail(session, platform, principal, report),
                "handler": services.handles(principal, report),
                "may_reveal": services.may_see_reporter(principal, report),
                "reporter": reporter,
                "errors": errors or [],
                "code": code,
                **labels(platform),
            },
            status_code=status_code,
        )

    @get("/{report_id:int}", sync_to_thread=True, opt={"action": READ})
    def detail(
        self, request: Request, session: SessionDep, platform: PlatformDep, report_id: FromPath[int]
    ) -> Template:
        """One report: what was reported, its history, and the steps I may take."""
        return self._detail(request, session, platform, report_id)

    @get("/{report_id:int}/photos/{photo:int}", sync_to_thread=True, opt={"action": READ})
    def photo(
        self, request: Request, session: SessionDep, report_id: FromPath[int], photo: FromPath[int]
    ) -> Response:
        """A photo of the report."""
        report = get_scoped(
            session, Report, report_id, request.scope["user"], READ, "origin_unit_path"
        )
        return photo_response(session, report, photo)

    def _step(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        report_id: int,
        step: services.Step,
        data: dict[str, str],
    ) -> Response:
        principal = request.scope["user"]
        report = get_scoped(session, Report, report_id, principal, HANDLE, "origin_unit_path")
        try:
            services.take_step(
                session,
                principal,
                report,
                step,
                note=data.get("note", "")[:2000],
                referred_to=data.get("referred_to", "")[:120],
                feedback=data.get("feedback", "")[:2000],
            )
            session.commit()
        except DomainError as error:
            session.rollback()
            return self._detail(
                request,
                session,
                platform,
                report_id,
                errors=errors_of(error),
                status_code=error.status,
                code=error.code,
            )
        return Redirect(f"/reports/{report_id}", status_code=303)

    @post("/{report_id:int}/triage", sync_to_thread=True, opt={"action": HANDLE})
    def triage(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        report_id: FromPath[int],
        data: Form,
    ) -> Response:
        """分拣."""
        return self._step(request, session, platform, report_id, services.Step.triage, data)

    @post("/{report_id:int}/referral", sync_to_thread=True, opt={"action": HANDLE})
    def refer(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        report_id: FromPath[int],
        data: Form,
    ) -> Response:
        """转交."""
        return self._step(request, session, platform, report_id, services.Step.refer, data)

    @post("/{report_id:int}/handling", sync_to_thread=True, opt={"action": HANDLE})
    def handle(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        report_id: FromPath[int],
        data: Form,
    ) -> Response:
        """自行处理."""
        return self._step(request, session, platform, report_id, services.Step.handle, data)

    @post("/{report_id:int}/closure", sync_to_thread=True, opt={"action": HANDLE})
    def close(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        report_id: FromPath[int],
        data: Form,
    ) -> Response:
        """办结并答复."""
        return self._step(request, session, platform, report_id, services.Step.close, data)

    @post("/{report_id:int}/reporter", sync_to_thread=True, opt={"action": REVEAL})
    def reveal(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        report_id: FromPath[int],
        data: Form,
    ) -> Template:
        """Show who reported, with a reason (audited)."""
        principal = request.scope["user"]
        report = get_scoped(session, Report, report_id, principal, REVEAL, "origin_unit_path")
        reason = data.get("reason", "").strip()[:500]
        try:
            if len(reason) < 4:
                message = text(
                    "须写明查看理由（至少 4 个字）", "Give a reason (4 characters or more)"
                )
                raise DomainError(
                    message, "validation_failed", 400, [FieldError("reason", "too_short", message)]
                )
            reporter = services.reveal_reporter(session, platform, principal, report, reason)
            session.commit()
        except DomainError as error:
            session.rollback()
            return self._detail(
                request,
                session,
                platform,
                report_id,
                errors=errors_of(error),
                status_code=error.status,
                code=error.code,
            )
        return self._detail(request, session, platform, report_id, reporter=reporter)


PAGES = [UnitReportPages, ReportPages]
