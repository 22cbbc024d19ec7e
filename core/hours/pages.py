"""Pages of check-in, service hours, certificates, the calendar feed and verification.

The volunteer's own: my shifts (check-in on the phone, QR, calendar, e-mail) and my hours;
the shift leader's roster; a unit's hours and a volunteer's record for leaders and offices;
and the public calendar feed and record verification.

Forms post and redirect back; a refusal re-renders the page with the reason, naming the
field and the rule, and the status of the refusal.
"""

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import segno
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, PathParameter, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session, col, func, select

from core.access import get_scoped, path_in
from core.accounts.models import User
from core.accounts.principal import Principal
from core.audit.recorder import record as audit
from core.errors import DomainError, FieldError
from core.files.models import StoredFile
from core.hours import ledger, record, totals
from core.hours.jobs import RECOMPUTE_JOB
from core.hours.models import EntryKind, HoursCorrection, HoursEntry, HoursRecord
from core.hours.permissions import APPROVE, CERTIFY, CORRECT, READ, RECOMPUTE, RECORD
from core.hours.queries import (
    corrections_of,
    ledger_of,
    my_shifts,
    my_volunteer,
    pending_corrections,
    recording_units,
    records_of,
    roster,
    volunteer_name,
)
from core.hours.rules import LOCAL_TIME
from core.hours.schemas import EmailUpdate
from core.i18n import text
from core.jobs.outbox import enqueue
from core.notifications.email import mask_email, set_email
from core.platform import Platform
from core.tasks import calendar, checkin
from core.tasks.models import Assignment, AssignmentStatus, CheckMethod, Shift
from core.units.models import Unit, utcnow
from core.volunteers.models import Volunteer
from core.web.auth import AUTHENTICATED
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.forms import errors_of, parse_form
from core.web.navigation import home_page_of, unit_page

Form = URLEncodedBody[dict[str, str]]
Secret = Annotated[str, PathParameter(max_length=64)]


def local(moment, pattern: str = "%m-%d %H:%M") -> str:
    """A timestamp in Chongqing time for a page."""
    return moment.astimezone(LOCAL_TIME).strftime(pattern) if moment else ""


def method_label(method: str | None) -> str:
    """How a check-in was made, in the page's language."""
    return {
        CheckMethod.self_service: text("本人", "self"),
        CheckMethod.qr: text("扫码", "QR"),
        CheckMethod.leader: text("带班代签", "by leader"),
    }.get(method, "")


HELPERS = {"local": local, "method_label": method_label}


def refused(session: Session, error: DomainError) -> tuple[list[FieldError], int]:
    """Roll back a refused change; its reason, errors and status for re-rendering."""
    session.rollback()
    reason = [FieldError("", error.code, error.message)] if error.errors else []
    return reason + errors_of(error), error.status


def form_location(data: dict[str, str]) -> checkin.Location | None:
    """The location the page's script put into the form, if any."""
    return checkin.parse_location(data.get("latitude"), data.get("longitude"))


def record_pdf(session: Session, row: HoursRecord) -> Response[bytes]:
    """The record certificate's PDF (404 until the job has drawn it); the download is audited."""
    stored = session.get(StoredFile, row.file_id) if row.file_id else None
    if stored is None:
        raise DomainError(
            text("证明正在生成，请稍后再试", "The certificate is still being drawn"),
            "not_ready",
            409,
        )
    audit(
        session,
        "download",
        action=READ,
        object_type="hours_record",
        object_id=row.number,
        unit_path=row.unit_path,
        after={"volunteer_id": row.volunteer_id, "file_id": stored.id},
    )
    session.commit()
    disposition = f'attachment; filename="{record.file_name(row.number)}"'
    return Response(
        stored.content, media_type=record.MEDIA_TYPE, headers={"content-disposition": disposition}
    )


def qr_data_uri(request: Request, shift: Shift) -> tuple[str, str]:
    """The shift's check-in address and its QR code as an SVG data URI."""
    base = str(request.base_url).rstrip("/")
    url = f"{base}/me/checkin/{shift.id}/{shift.checkin_secret}"
    return url, segno.make_qr(url, error="m").svg_data_uri(scale=6, border=2)


# -- the volunteer's own pages -----------------------------------------------------------


class MyPages(Controller):
    """The signed-in volunteer's shifts, check-in, record, calendar and e-mail."""

    path = "/me"
    include_in_schema = False

    def _shifts(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        *,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
        feed_url: str | None = None,
        notice: str | None = None,
    ) -> Template:
        principal = request.scope["user"]
        volunteer = my_volunteer(session, principal)
        now = utcnow()
        lines = my_shifts(session, volunteer.id, now) if volunteer else []
        user = session.get(User, principal.user_id)
        return Template(
            "core:me/shifts.html",
            context={
                "volunteer": volunteer,
                "upcoming": [line for line in lines if line.assignment.ends_at >= now],
                "recent": [line for line in lines if line.assignment.ends_at < now][::-1],
                "now": now,
                "calendar_live": volunteer is not None
                and calendar.live_token(session, volunteer.id) is not None,
                "feed_url": feed_url,
                "email": mask_email(user.email),
                "errors": errors or [],
                "notice": notice,
                "nav": home_page_of(platform, session, principal),
                **HELPERS,
            },
            status_code=status_code,
        )

    @get("/shifts", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def shifts(self, request: Request, session: SessionDep, platform: PlatformDep) -> Template:
        """My shifts, with big check-in and check-out buttons."""
        return self._shifts(request, session, platform)

    def _act(self, request, session, platform, run: Callable[[], Any]) -> Response:
        try:
            run()
            session.commit()
        except DomainError as error:
            errors, status_code = refused(session, error)
            return self._shifts(request, session, platform, errors=errors, status_code=status_code)
        return Redirect("/me/shifts")

    @post(
        "/shifts/{assignment_id:int}/check-in", sync_to_thread=True, opt={"action": AUTHENTICATED}
    )
    def check_in(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        assignment_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Check in to one of my shifts."""
        principal = request.scope["user"]

        def run():
            assignment = checkin.own_assignment(session, principal, assignment_id)
            checkin.check_in(
                session,
                assignment,
                CheckMethod.self_service,
                principal.user_id,
                location=form_location(data),
            )

        return self._act(request, session, platform, run)

    @post(
        "/shifts/{assignment_id:int}/check-out", sync_to_thread=True, opt={"action": AUTHENTICATED}
    )
    def check_out(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        assignment_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Check out of one of my shifts."""
        principal = request.scope["user"]

        def run():
            assignment = checkin.own_assignment(session, principal, assignment_id)
            checkin.check_out(
                session,
                assignment,
                CheckMethod.self_service,
                principal.user_id,
                location=form_location(data),
            )

        return self._act(request, session, platform, run)

    def _scan(self, request, session, platform, shift_id, secret, errors=None, status_code=200):
        principal = request.scope["user"]
        shift = checkin.shift_by_secret(session, shift_id, secret)
        line = None
        volunteer = my_volunteer(session, principal)
        if volunteer is not None:
            line = next(
                (
                    line
                    for line in roster(session, shift)
                    if line.assignment.volunteer_id == volunteer.id
                ),
                None,
            )
        return Template(
            "core:me/checkin.html",
            context={
                "shift": shift,
                "line": line,
                "secret": secret,
                "errors": errors or [],
                "nav": home_page_of(platform, session, principal),
                **HELPERS,
            },
            status_code=status_code,
        )

    @get("/checkin/{shift_id:int}/{secret:str}", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def scan(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        shift_id: FromPath[int],
        secret: Secret,
    ) -> Template:
        """Where the shift's QR code leads: one button to check in or out."""
        return self._scan(request, session, platform, shift_id, secret)

    @post(
        "/checkin/{shift_id:int}/{secret:str}", sync_to_thread=True, opt={"action": AUTHENTICATED}
    )
    def scanned(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        shift_id: FromPath[int],
        secret: Secret,
        data: Form,
    ) -> Response:
        """Check in (or out) with the QR code."""
        try:
            checkin.by_qr(
                session,
                request.scope["user"],
                shift_id,
                secret,
                location=form_location(data),
            )
            session.commit()
        except DomainError as error:
            errors, status_code = refused(session, error)
            return self._scan(request, session, platform, shift_id, secret, errors, status_code)
        return Redirect("/me/shifts")

    @post("/calendar", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def issue_calendar(
        self, request: Request, session: SessionDep, platform: PlatformDep
    ) -> Template:
        """Make (or replace) my calendar address; it is shown this once."""
        volunteer = my_volunteer(session, request.scope["user"])
        if volunteer is None:
            raise NotFoundException("no volunteer record")
        token = calendar.issue(session, volunteer.id)
        session.commit()
        url = str(request.base_url).rstrip("/") + calendar.feed_path(token)
        return self._shifts(request, session, platform, feed_url=url)

    @post("/calendar/revoke", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def revoke_calendar(self, request: Request, session: SessionDep) -> Redirect:
        """Stop my calendar address."""
        volunteer = my_volunteer(session, request.scope["user"])
        if volunteer is not None:
            calendar.revoke(session, volunteer.id)
            session.commit()
        return Redirect("/me/shifts")

    def _email(self, request, session, platform, errors=None, status_code=200, saved=False):
        principal = request.scope["user"]
        user = session.get(User, principal.user_id)
        return Template(
            "core:me/email.html",
            context={
                "email": mask_email(user.email),
                "errors": errors or [],
                "saved": saved,
                "nav": home_page_of(platform, session, principal),
            },
            status_code=status_code,
        )

    @get("/email", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def email_form(self, request: Request, session: SessionDep, platform: PlatformDep) -> Template:
        """My notification e-mail address."""
        return self._email(request, session, platform)

    @post("/email", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def email(
        self, request: Request, session: SessionDep, platform: PlatformDep, data: Form
    ) -> Template:
        """Set or clear my notification e-mail address (my password confirms it)."""
        wanted, errors = parse_form(
            EmailUpdate,
            {
                "email": data.get("email", "").strip(),
                "current_password": data.get("current_password", ""),
            },
        )
        if wanted is None:
            return self._email(request, session, platform, errors, 400)
        try:
            set_email(
                session,
                session.get(User, request.scope["user"].user_id),
                wanted.email,
                wanted.current_password,
            )
            session.commit()
        except DomainError as error:
            errors, status_code = refused(session, error)
            return self._email(request, session, platform, errors, status_code)
        return self._email(request, session, platform, saved=True)

    def _hours(self, request, session, platform, errors=None, status_code=200) -> Template:
        principal = request.scope["user"]
        volunteer = my_volunteer(session, principal)
        return Template(
            "core:me/hours.html",
            context={
                **(record_context(session, platform, volunteer) if volunteer else {}),
                "correction_url": lambda entry: f"/me/hours/entries/{entry.id}/corrections",
                "can_correct": lambda entry: True,
                "record_url": lambda row: f"/me/hours/records/{row.id}/pdf",
                "can_decide": lambda correction: False,
                "volunteer": volunteer,
                "errors": errors or [],
                "nav": home_page_of(platform, session, principal),
                **HELPERS,
            },
            status_code=status_code,
        )

    @get("/hours", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def hours(self, request: Request, session: SessionDep, platform: PlatformDep) -> Template:
        """My service hours: totals, star level, ledger, corrections and certificates."""
        return self._hours(request, session, platform)

    @post(
        "/hours/entries/{entry_id:int}/corrections",
        sync_to_thread=True,
        opt={"action": AUTHENTICATED},
    )
    def request_correction(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        entry_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Ask for one of my entries to be corrected."""
        principal = request.scope["user"]
        try:
            volunteer = my_volunteer(session, principal)
            entry = session.get(HoursEntry, entry_id)
            if volunteer is None or entry is None or entry.volunteer_id != volunteer.id:
                raise DomainError(text("没有这条记录", "No such entry"), "not_found", 404)
            ledger.request_correction(
                session, principal, entry, form_hours(data), data.get("reason", "")
            )
            session.commit()
        except DomainError as error:
            errors, status_code = refused(session, error)
            return self._hours(request, session, platform, errors, status_code)
        return Redirect("/me/hours")

    @get("/hours/records/{record_id:int}/pdf", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def my_record_pdf(
        self, request: Request, session: SessionDep, record_id: FromPath[int]
    ) -> Response[bytes]:
        """One of my service-record certificates as PDF."""
        volunteer = my_volunteer(session, request.scope["user"])
        row = session.get(HoursRecord, record_id)
        if volunteer is None or row is None or row.volunteer_id != volunteer.id:
            raise NotFoundException("no such record")
        return record_pdf(session, row)

    # -- the shift's leader (带班) -------------------------------------------------------

    def _led_shift(self, request, session, shift_id) -> Shift:
        shift = session.get(Shift, shift_id)
        if shift is None or not ledger.leads_shift(session, request.scope["user"], shift):
            raise NotFoundException("not your shift")
        return shift

    @get("/lead/{shift_id:int}", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def lead(
        self, request: Request, session: SessionDep, platform: PlatformDep, shift_id: FromPath[int]
    ) -> Template:
        """The roster of a shift I lead: QR code, check-ins on behalf, confirming hours."""
        shift = self._led_shift(request, session, shift_id)
        return roster_page(request, session, platform, shift, f"/me/lead/{shift.id}")

    @post(
        "/lead/{shift_id:int}/assignments/{assignment_id:int}/{what:str}",
        sync_to_thread=True,
        opt={"action": AUTHENTICATED},
    )
    def lead_on_behalf(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        shift_id: FromPath[int],
        assignment_id: FromPath[int],
        what: Annotated[str, PathParameter(pattern="^check-(in|out)$")],
    ) -> Response:
        """Check a volunteer of my shift in or out on their behalf."""
        shift = self._led_shift(request, session, shift_id)
        return on_behalf(request, session, platform, shift, assignment_id, what, "/me/lead")

    @post("/lead/{shift_id:int}/confirmation", sync_to_thread=True, opt={"action": AUTHENTICATED})
    def lead_confirm(
        self, request: Request, session: SessionDep, platform: PlatformDep, shift_id: FromPath[int]
    ) -> Response:
        """Confirm the hours of my shift's checked-out volunteers."""
        shift = self._led_shift(request, session, shift_id)
        return confirm(request, session, platform, shift, "/me/lead")


def form_hours(data: dict[str, str]) -> Decimal:
    """The ``new_hours`` field of a form."""
    raw = data.get("new_hours", "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value.as_tuple().exponent < -1:
        raise DomainError(
            text("请填写时长（小时，最多一位小数）", "Give the hours (at most one decimal)"),
            "validation_failed",
            400,
            [FieldError("new_hours", "decimal", raw[:20])],
        )
    return value


def record_context(session: Session, platform: Platform, volunteer: Volunteer) -> dict:
    """What a volunteer's record shows, for the volunteer's page and the staff's."""
    secret = platform.secrets.secret_key
    return {
        "name": volunteer_name(session, volunteer),
        "totals": totals.volunteer_total(session, volunteer),
        "entries": ledger_of(session, volunteer.id),
        "corrections": corrections_of(session, volunteer.id),
        "records": [
            (row, record.verify_path(secret, row.number))
            for row in records_of(session, volunteer.id)
        ],
    }


# -- the roster of a shift: unit leaders and the shift's leader share it -----------------


def roster_page(
    request: Request,
    session: Session,
    platform: Platform,
    shift: Shift,
    base: str,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
) -> Template:
    """The roster page of ``shift``, its forms posting under ``base``."""
    principal = request.scope["user"]
    url, qr = qr_data_uri(request, shift)
    lines = roster(session, shift)
    return Template(
        "core:hours/roster.html",
        context={
            "shift": shift,
            "lines": lines,
            "line": lines[0] if lines else None,
            "base": base,
            "qr": qr,
            "qr_url": url,
            "own_person": ledger.user_person_id(session, principal),
            "confirmable": len(ledger.confirmable(session, shift)),
            "errors": errors or [],
            "nav": home_page_of(platform, session, principal),
            **HELPERS,
        },
        status_code=status_code,
    )


def on_behalf(request, session, platform, shift, assignment_id, what, base) -> Response:
    """A check-in or check-out on someone's behalf from a roster page."""
    try:
        assignment = session.get(Assignment, assignment_id)
        if assignment is None or assignment.shift_id != shift.id:
            raise DomainError(text("没有这个安排", "No such assignment"), "not_found", 404)
        checkin.on_behalf(
            session, request.scope["user"], assignment, "in" if what == "check-in" else "out"
        )
        session.commit()
    except DomainError as error:
        errors, status_code = refused(session, error)
        return roster_page(
            request, session, platform, shift, f"{base}/{shift.id}", errors, status_code
        )
    return Redirect(f"{base}/{shift.id}")


def confirm(request, session, platform, shift, base) -> Response:
    """Confirm a shift's hours from a roster page."""
    try:
        ledger.confirm_shift(session, request.scope["user"], shift)
        session.commit()
    except DomainError as error:
        errors, status_code = refused(session, error)
        return roster_page(
            request, session, platform, shift, f"{base}/{shift.id}", errors, status_code
        )
    return Redirect(f"{base}/{shift.id}")


# -- leaders and offices -----------------------------------------------------------------


class HoursPages(Controller):
    """Rosters, a unit's hours, a volunteer's record, corrections and certificates."""

    include_in_schema = False

    @get("/hours/shifts/{shift_id:int}", sync_to_thread=True, opt={"action": RECORD})
    def shift(
        self, request: Request, session: SessionDep, platform: PlatformDep, shift_id: FromPath[int]
    ) -> Template:
        """A shift's roster: QR code, check-ins on behalf, confirming hours."""
        shift = get_scoped(session, Shift, shift_id, request.scope["user"], RECORD)
        return roster_page(request, session, platform, shift, f"/hours/shifts/{shift.id}")

    @post(
        "/hours/shifts/{shift_id:int}/assignments/{assignment_id:int}/{what:str}",
        sync_to_thread=True,
        opt={"action": RECORD},
    )
    def shift_on_behalf(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        shift_id: FromPath[int],
        assignment_id: FromPath[int],
        what: Annotated[str, PathParameter(pattern="^check-(in|out)$")],
    ) -> Response:
        """Check a volunteer in or out on their behalf."""
        shift = get_scoped(session, Shift, shift_id, request.scope["user"], RECORD)
        return on_behalf(request, session, platform, shift, assignment_id, what, "/hours/shifts")

    @post("/hours/shifts/{shift_id:int}/confirmation", sync_to_thread=True, opt={"action": RECORD})
    def shift_confirm(
        self, request: Request, session: SessionDep, platform: PlatformDep, shift_id: FromPath[int]
    ) -> Response:
        """Confirm the hours of the shift's checked-out volunteers."""
        shift = get_scoped(session, Shift, shift_id, request.scope["user"], RECORD)
        return confirm(request, session, platform, shift, "/hours/shifts")

    @get("/units/{unit_id:int}/hours", sync_to_thread=True, opt={"action": READ})
    def unit(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """The unit's hours rolled up, star levels, corrections waiting, shifts to confirm."""
        principal = request.scope["user"]
        return Template(
            "core:hours/unit.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "unit": unit,
                "totals": totals.unit_totals(session, unit),
                "stars": totals.star_distribution(session, unit),
                "pending": pending_corrections(session, unit, principal),
                "to_confirm": shifts_to_confirm(session, unit, principal),
                "can_recompute": principal.can(RECOMPUTE),
                **HELPERS,
            },
        )

    def _volunteer(self, request, session, platform, volunteer, errors=None, status_code=200):
        principal = request.scope["user"]
        certifying = [
            unit for unit in recording_units(session, volunteer.id) if principal.can(CERTIFY, unit)
        ]
        return Template(
            "core:hours/volunteer.html",
            context={
                **record_context(session, platform, volunteer),
                "volunteer": volunteer,
                "correction_url": lambda entry: f"/hours/entries/{entry.id}/corrections",
                "can_correct": lambda entry: principal.can(CORRECT, entry.unit_path),
                "record_url": lambda row: f"/hours/records/{row.id}/pdf",
                "can_decide": lambda c: ledger.may_decide(session, principal, c),
                "certifying": certifying,
                "errors": errors or [],
                "nav": home_page_of(platform, session, principal),
                **HELPERS,
            },
            status_code=status_code,
        )

    @get("/hours/volunteers/{volunteer_id:int}", sync_to_thread=True, opt={"action": READ})
    def volunteer(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        volunteer_id: FromPath[int],
    ) -> Template:
        """A volunteer's service record: totals, star, ledger, corrections, certificates."""
        volunteer = get_scoped(session, Volunteer, volunteer_id, request.scope["user"], READ)
        return self._volunteer(request, session, platform, volunteer)

    def _back(self, request, session, platform, volunteer_id, run) -> Response:
        try:
            run()
            session.commit()
        except DomainError as error:
            errors, status_code = refused(session, error)
            volunteer = session.get(Volunteer, volunteer_id)
            principal = request.scope["user"]
            if volunteer is None or not principal.can(READ, volunteer.unit_path):
                raise
            return self._volunteer(request, session, platform, volunteer, errors, status_code)
        return Redirect(f"/hours/volunteers/{volunteer_id}")

    @post("/hours/entries/{entry_id:int}/corrections", sync_to_thread=True, opt={"action": CORRECT})
    def request_correction(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        entry_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Ask for an entry's hours to be corrected, with a reason."""
        principal = request.scope["user"]
        entry = get_scoped(session, HoursEntry, entry_id, principal, CORRECT)
        return self._back(
            request,
            session,
            platform,
            entry.volunteer_id,
            lambda: ledger.request_correction(
                session, principal, entry, form_hours(data), data.get("reason", "")
            ),
        )

    @post(
        "/hours/corrections/{correction_id:int}/decision",
        sync_to_thread=True,
        opt={"action": APPROVE},
    )
    def decide(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        correction_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Approve or reject a correction."""
        principal = request.scope["user"]
        correction = get_scoped(session, HoursCorrection, correction_id, principal, APPROVE)
        decision = data.get("decision", "")

        def run():
            if decision not in ("approve", "reject"):
                raise DomainError(
                    text("请选择批准或驳回", "Choose approve or reject"),
                    "validation_failed",
                    400,
                    [FieldError("decision", "enum", "approve, reject")],
                )
            ledger.decide_correction(
                session, principal, correction, decision == "approve", data.get("reason")
            )

        return self._back(request, session, platform, correction.volunteer_id, run)

    @post("/units/{unit_id:int}/hours/records", sync_to_thread=True, opt={"action": CERTIFY})
    def issue_record(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Issue a numbered record of the hours this unit recorded for a volunteer."""
        raw = data.get("volunteer_id", "")
        volunteer = session.get(Volunteer, int(raw)) if raw.isdigit() and len(raw) < 13 else None
        if volunteer is None:
            raise DomainError(
                text("请选择志愿者", "Choose a volunteer"),
                "validation_failed",
                400,
                [FieldError("volunteer_id", "missing", text("必填", "is required"))],
            )
        return self._back(
            request,
            session,
            platform,
            volunteer.id,
            lambda: record.issue(session, volunteer, unit, request.scope["user"].user_id),
        )

    @get("/hours/records/{record_id:int}/pdf", sync_to_thread=True, opt={"action": READ})
    def download(
        self, request: Request, session: SessionDep, record_id: FromPath[int]
    ) -> Response[bytes]:
        """A service-record certificate as PDF."""
        row = get_scoped(session, HoursRecord, record_id, request.scope["user"], READ)
        return record_pdf(session, row)

    @post("/hours/recomputation", sync_to_thread=True, opt={"action": RECOMPUTE})
    def recompute(self, session: SessionDep) -> Redirect:
        """Recompute every volunteer's total and star level now (a job)."""
        row = enqueue(session, RECOMPUTE_JOB)
        audit(session, "recompute", object_type="volunteer_hours", after={"job_id": row.id})
        session.commit()
        return Redirect("/jobs")


def shifts_to_confirm(session: Session, unit: Unit, principal: Principal) -> list[tuple]:
    """Shifts of the unit's subtree with checked-out volunteers whose hours wait (recent 50)."""
    if not principal.can(RECORD, unit):
        return []
    confirmed = select(HoursEntry.assignment_id).where(
        col(HoursEntry.assignment_id).is_not(None), HoursEntry.kind == EntryKind.service
    )
    return list(
        session.exec(
            select(Shift, func.count(Assignment.id))
            .join(Assignment, Assignment.shift_id == Shift.id)
            .where(
                path_in(Shift.unit_path, unit.path),
                Assignment.status == AssignmentStatus.confirmed,
                col(Assignment.checked_out_at).is_not(None),
                col(Assignment.id).not_in(confirmed),
            )
            .group_by(Shift.id)
            .order_by(col(Shift.starts_at).desc())
            .limit(50)
        ).all()
    )


# -- public ------------------------------------------------------------------------------


class PublicPages(Controller):
    """The calendar feed and the record verification page: no sign-in."""

    include_in_schema = False

    @get("/calendar/{token:str}", sync_to_thread=True, opt={"action": None})
    def feed(self, session: SessionDep, platform: PlatformDep, token: Secret) -> Response[bytes]:
        """A volunteer's shifts as iCalendar, for the holder of the secret address."""
        volunteer_id = calendar.volunteer_for(session, token)
        if volunteer_id is None:
            raise NotFoundException("no such calendar")
        body = calendar.feed(session, volunteer_id, platform.settings.base_url)
        return Response(
            body,
            media_type=calendar.MEDIA_TYPE,
            headers={"cache-control": "no-store", "x-robots-tag": "noindex"},
        )

    @get(record.VERIFY_PATH, sync_to_thread=True, opt={"action": None})
    def verify(
        self,
        session: SessionDep,
        platform: PlatformDep,
        n: Annotated[str | None, QueryParameter(max_length=40)] = None,
        t: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Template:
        """Whether a service-record certificate was issued, and what it says."""
        found = record.check(session, platform.secrets.secret_key, (n or "").strip(), t or "")
        if found is None:
            raise NotFoundException("no such record")
        return Template(
            "core:hours/verify.html",
            context={"check": found},
            headers={"x-robots-tag": "noindex", "cache-control": "no-store"},
        )


PAGES = [MyPages, HoursPages, PublicPages]
