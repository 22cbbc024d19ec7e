"""Routes of this area (API and pages), mounted by core.app.

The volunteer's own routes (``/api/v1/me/…``) need only a signed-in user and act on that
user's own assignments and record; the leaders' routes name an action and find the shift,
entry or correction in the caller's reach first (``get_scoped``), then let the service check
the rest (the shift's leader, nobody for themselves, a decider other than the requester).
"""

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from sqlmodel import Session

from core.access import get_scoped
from core.accounts.models import User
from core.accounts.principal import Principal
from core.audit.recorder import record as audit
from core.errors import DomainError
from core.hours import ledger, record, totals
from core.hours.jobs import RECOMPUTE_JOB
from core.hours.models import HoursCorrection, HoursEntry, HoursRecord
from core.hours.pages import PAGES, record_pdf
from core.hours.permissions import APPROVE, CERTIFY, CORRECT, READ, RECOMPUTE, RECORD
from core.hours.queries import (
    corrections_of,
    ledger_of,
    my_shifts,
    my_volunteer,
    records_of,
    roster,
)
from core.hours.schemas import (
    AssignmentState,
    CalendarIssued,
    CheckRequest,
    CorrectionCreate,
    CorrectionDecision,
    CorrectionRead,
    EmailRead,
    EmailUpdate,
    EntryRead,
    JobQueued,
    QrCheckRequest,
    RecordRead,
    RecordRequest,
    TotalsRead,
    UnitHoursRead,
    UnitTotalRead,
    VolunteerHoursRead,
    state_of,
)
from core.i18n import text
from core.jobs.outbox import enqueue
from core.notifications.email import mask_email, set_email
from core.platform import Platform
from core.tasks import calendar, checkin
from core.tasks.models import Assignment, CheckMethod, Shift
from core.units.models import utcnow
from core.volunteers.models import Volunteer
from core.web.auth import AUTHENTICATED
from core.web.deps import PlatformDep, SessionDep, UnitDep


def volunteer_or_404(session: Session, principal: Principal) -> Volunteer:
    """The caller's own volunteer record; an account without one has no shifts (404)."""
    volunteer = my_volunteer(session, principal)
    if volunteer is None:
        raise DomainError(
            text("你的账户未关联志愿者档案", "Your account is not linked to a volunteer"),
            "not_found",
            404,
        )
    return volunteer


def line_of(session: Session, assignment: Assignment):
    """The assignment as a shift line (for the answer of a check-in)."""
    shift = session.get(Shift, assignment.shift_id)
    return next(line for line in roster(session, shift) if line.assignment.id == assignment.id)


def record_read(platform: Platform, row: HoursRecord) -> RecordRead:
    """A record certificate for the API."""
    return RecordRead(
        id=row.id,
        number=row.number,
        volunteer_id=row.volunteer_id,
        unit_id=row.unit_id,
        total_hours=row.total_hours,
        entries=row.entries,
        first_date=row.first_date,
        last_date=row.last_date,
        issued_at=row.issued_at,
        rendered=row.file_id is not None,
        verify=record.verify_path(platform.secrets.secret_key, row.number),
    )


def volunteer_hours(session: Session, platform: Platform, volunteer: Volunteer):
    """A volunteer's whole record for the API."""
    total = totals.volunteer_total(session, volunteer)
    return VolunteerHoursRead(
        totals=TotalsRead(
            volunteer_id=volunteer.id,
            service=total.service,
            corrections=total.corrections,
            training=total.training,
            total=total.total,
            star_level=total.star_level,
            next_threshold=total.next_threshold,
        ),
        entries=[EntryRead.model_validate(line.entry) for line in ledger_of(session, volunteer.id)],
        corrections=[
            CorrectionRead.model_validate(c) for c in corrections_of(session, volunteer.id)
        ],
        records=[record_read(platform, row) for row in records_of(session, volunteer.id)],
    )


def location(data: CheckRequest) -> checkin.Location | None:
    """The request's location, if it gave one."""
    return checkin.parse_location(data.latitude, data.longitude)


class MyShiftController(Controller):
    """The signed-in volunteer's shifts, check-in, record, calendar and e-mail."""

    path = "/api/v1/me"
    tags = ["me"]

    @get("/shifts", sync_to_thread=True, operation_id="ListMyShifts", opt={"action": AUTHENTICATED})
    def shifts(self, request: Request, session: SessionDep) -> list[AssignmentState]:
        """My confirmed shifts from two weeks back on, soonest first."""
        volunteer = volunteer_or_404(session, request.scope["user"])
        return [state_of(line) for line in my_shifts(session, volunteer.id, utcnow())]

    def _check(self, request, session, assignment_id, data, what) -> AssignmentState:
        principal = request.scope["user"]
        assignment = checkin.own_assignment(session, principal, assignment_id)
        record_check = checkin.check_in if what == "in" else checkin.check_out
        record_check(
            session,
            assignment,
            CheckMethod.self_service,
            principal.user_id,
            location=location(data),
        )
        session.commit()
        return state_of(line_of(session, assignment))

    @post(
        "/assignments/{assignment_id:int}/check-in",
        sync_to_thread=True,
        operation_id="CheckIn",
        opt={"action": AUTHENTICATED},
        status_code=200,
    )
    def check_in(
        self,
        request: Request,
        session: SessionDep,
        assignment_id: FromPath[int],
        data: JSONBody[CheckRequest],
    ) -> AssignmentState:
        """Check in to one of my shifts (with my location where the point checks it)."""
        return self._check(request, session, assignment_id, data, "in")

    @post(
        "/assignments/{assignment_id:int}/check-out",
        sync_to_thread=True,
        operation_id="CheckOut",
        opt={"action": AUTHENTICATED},
        status_code=200,
    )
    def check_out(
        self,
        request: Request,
        session: SessionDep,
        assignment_id: FromPath[int],
        data: JSONBody[CheckRequest],
    ) -> AssignmentState:
        """Check out of one of my shifts."""
        return self._check(request, session, assignment_id, data, "out")

    @post(
        "/check-ins/qr",
        sync_to_thread=True,
        operation_id="CheckInByQr",
        opt={"action": AUTHENTICATED},
        status_code=200,
    )
    def by_qr(
        self, request: Request, session: SessionDep, data: JSONBody[QrCheckRequest]
    ) -> AssignmentState:
        """Check in (first scan) or out (second scan) with the shift's QR code."""
        assignment, _ = checkin.by_qr(
            session,
            request.scope["user"],
            data.shift_id,
            data.secret,
            location=location(data),
        )
        session.commit()
        return state_of(line_of(session, assignment))

    @get("/hours", sync_to_thread=True, operation_id="GetMyHours", opt={"action": AUTHENTICATED})
    def hours(
        self, request: Request, session: SessionDep, platform: PlatformDep
    ) -> VolunteerHoursRead:
        """My totals, star level, ledger, corrections and record certificates."""
        volunteer = volunteer_or_404(session, request.scope["user"])
        return volunteer_hours(session, platform, volunteer)

    @post(
        "/hours/entries/{entry_id:int}/corrections",
        sync_to_thread=True,
        operation_id="RequestMyCorrection",
        opt={"action": AUTHENTICATED},
        status_code=HTTP_201_CREATED,
    )
    def request_correction(
        self,
        request: Request,
        session: SessionDep,
        entry_id: FromPath[int],
        data: JSONBody[CorrectionCreate],
    ) -> CorrectionRead:
        """Ask for one of my entries to be corrected, with a reason."""
        volunteer = volunteer_or_404(session, request.scope["user"])
        entry = session.get(HoursEntry, entry_id)
        if entry is None or entry.volunteer_id != volunteer.id:
            raise DomainError(text("没有这条记录", "No such entry"), "not_found", 404)
        correction = ledger.request_correction(
            session, request.scope["user"], entry, data.new_hours, data.reason
        )
        session.commit()
        return CorrectionRead.model_validate(correction)

    @post(
        "/calendar",
        sync_to_thread=True,
        operation_id="IssueCalendarFeed",
        opt={"action": AUTHENTICATED},
        status_code=HTTP_201_CREATED,
    )
    def issue_calendar(
        self, request: Request, session: SessionDep, platform: PlatformDep
    ) -> CalendarIssued:
        """A new secret calendar address (the old one stops working)."""
        volunteer = volunteer_or_404(session, request.scope["user"])
        token = calendar.issue(session, volunteer.id)
        session.commit()
        return CalendarIssued(url=platform.settings.base_url + calendar.feed_path(token))

    @delete(
        "/calendar",
        sync_to_thread=True,
        operation_id="RevokeCalendarFeed",
        opt={"action": AUTHENTICATED},
        status_code=HTTP_204_NO_CONTENT,
    )
    def revoke_calendar(self, request: Request, session: SessionDep) -> None:
        """Stop the calendar address."""
        volunteer = volunteer_or_404(session, request.scope["user"])
        calendar.revoke(session, volunteer.id)
        session.commit()

    @put("/email", sync_to_thread=True, operation_id="SetMyEmail", opt={"action": AUTHENTICATED})
    def set_email(
        self, request: Request, session: SessionDep, data: JSONBody[EmailUpdate]
    ) -> EmailRead:
        """Set (or clear) my notification e-mail address; my password confirms it."""
        user = session.get(User, request.scope["user"].user_id)
        set_email(session, user, data.email, data.current_password)
        session.commit()
        return EmailRead(email=mask_email(user.email))


class HoursController(Controller):
    """Leaders' and offices' work on check-ins, hours, corrections and records."""

    path = "/api/v1"
    tags = ["hours"]

    @get(
        "/hours/shifts/{shift_id:int}/roster",
        sync_to_thread=True,
        operation_id="GetShiftRoster",
        opt={"action": RECORD},
    )
    def shift_roster(
        self, request: Request, session: SessionDep, shift_id: FromPath[int]
    ) -> list[AssignmentState]:
        """Who is on the shift and where each stands with check-in and hours."""
        shift = get_scoped(session, Shift, shift_id, request.scope["user"], RECORD)
        return [state_of(line, with_name=True) for line in roster(session, shift)]

    def _on_behalf(self, request, session, assignment_id, what) -> AssignmentState:
        principal = request.scope["user"]
        assignment = get_scoped(session, Assignment, assignment_id, principal, RECORD)
        checkin.on_behalf(session, principal, assignment, what)
        session.commit()
        return state_of(line_of(session, assignment), with_name=True)

    @post(
        "/hours/assignments/{assignment_id:int}/check-in",
        sync_to_thread=True,
        operation_id="CheckInOnBehalf",
        opt={"action": RECORD},
        status_code=200,
    )
    def check_in_on_behalf(
        self, request: Request, session: SessionDep, assignment_id: FromPath[int]
    ) -> AssignmentState:
        """Check a volunteer in on their behalf (recorded as the leader's)."""
        return self._on_behalf(request, session, assignment_id, "in")

    @post(
        "/hours/assignments/{assignment_id:int}/check-out",
        sync_to_thread=True,
        operation_id="CheckOutOnBehalf",
        opt={"action": RECORD},
        status_code=200,
    )
    def check_out_on_behalf(
        self, request: Request, session: SessionDep, assignment_id: FromPath[int]
    ) -> AssignmentState:
        """Check a volunteer out on their behalf."""
        return self._on_behalf(request, session, assignment_id, "out")

    @post(
        "/hours/shifts/{shift_id:int}/confirmation",
        sync_to_thread=True,
        operation_id="ConfirmShiftHours",
        opt={"action": RECORD},
        status_code=200,
    )
    def confirm_shift(
        self, request: Request, session: SessionDep, shift_id: FromPath[int]
    ) -> list[EntryRead]:
        """Confirm the hours of every checked-out volunteer of the shift into the ledger."""
        principal = request.scope["user"]
        shift = get_scoped(session, Shift, shift_id, principal, RECORD)
        entries = ledger.confirm_shift(session, principal, shift)
        session.commit()
        return [EntryRead.model_validate(entry) for entry in entries]

    @get(
        "/hours/volunteers/{volunteer_id:int}",
        sync_to_thread=True,
        operation_id="GetVolunteerHours",
        opt={"action": READ},
    )
    def volunteer(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        volunteer_id: FromPath[int],
    ) -> VolunteerHoursRead:
        """A volunteer's totals, star level, ledger, corrections and record certificates."""
        volunteer = get_scoped(session, Volunteer, volunteer_id, request.scope["user"], READ)
        return volunteer_hours(session, platform, volunteer)

    @post(
        "/hours/entries/{entry_id:int}/corrections",
        sync_to_thread=True,
        operation_id="RequestCorrection",
        opt={"action": CORRECT},
        status_code=HTTP_201_CREATED,
    )
    def request_correction(
        self,
        request: Request,
        session: SessionDep,
        entry_id: FromPath[int],
        data: JSONBody[CorrectionCreate],
    ) -> CorrectionRead:
        """Ask for a correction of an entry recorded in my reach, with a reason."""
        principal = request.scope["user"]
        entry = get_scoped(session, HoursEntry, entry_id, principal, CORRECT)
        correction = ledger.request_correction(
            session, principal, entry, data.new_hours, data.reason
        )
        session.commit()
        return CorrectionRead.model_validate(correction)

    @post(
        "/hours/corrections/{correction_id:int}/decision",
        sync_to_thread=True,
        operation_id="DecideCorrection",
        opt={"action": APPROVE},
        status_code=200,
    )
    def decide(
        self,
        request: Request,
        session: SessionDep,
        correction_id: FromPath[int],
        data: JSONBody[CorrectionDecision],
    ) -> CorrectionRead:
        """Approve (a new correction entry) or reject a correction, not one's own."""
        principal = request.scope["user"]
        correction = get_scoped(session, HoursCorrection, correction_id, principal, APPROVE)
        decision = ledger.decide_correction(
            session, principal, correction, data.approve, data.reason
        )
        session.commit()
        return CorrectionRead.model_validate(decision.correction)

    @get(
        "/units/{unit_id:int}/hours",
        sync_to_thread=True,
        operation_id="GetUnitHours",
        opt={"action": READ},
    )
    def unit_hours(self, session: SessionDep, unit: UnitDep) -> UnitHoursRead:
        """The unit's and its children's hours, and its volunteers' star levels."""
        return UnitHoursRead(
            units=[
                UnitTotalRead(
                    unit_id=t.unit.id,
                    name=t.unit.name,
                    home_hours=t.home_hours,
                    served_hours=t.served_hours,
                    volunteers=t.volunteers,
                )
                for t in totals.unit_totals(session, unit)
            ],
            stars=totals.star_distribution(session, unit),
        )

    @post(
        "/units/{unit_id:int}/hours/records",
        sync_to_thread=True,
        operation_id="IssueHoursRecord",
        opt={"action": CERTIFY},
        status_code=HTTP_201_CREATED,
    )
    def issue_record(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[RecordRequest],
    ) -> RecordRead:
        """Issue a numbered record of the hours this unit recorded for a volunteer."""
        principal = request.scope["user"]
        volunteer = session.get(Volunteer, data.volunteer_id)
        if volunteer is None:  # answered like a volunteer the unit recorded nothing for
            raise record.nothing_recorded()
        row = record.issue(session, volunteer, unit, principal.user_id)
        session.commit()
        return record_read(platform, row)

    @get(
        "/hours/records/{record_id:int}/pdf",
        sync_to_thread=True,
        operation_id="DownloadHoursRecord",
        opt={"action": READ},
        media_type=record.MEDIA_TYPE,
    )
    def download(
        self, request: Request, session: SessionDep, record_id: FromPath[int]
    ) -> Response[bytes]:
        """A service-record certificate as PDF."""
        row = get_scoped(session, HoursRecord, record_id, request.scope["user"], READ)
        return record_pdf(session, row)

    @post(
        "/hours/recomputation",
        sync_to_thread=True,
        operation_id="RecomputeHours",
        opt={"action": RECOMPUTE},
        status_code=202,
    )
    def recompute(self, session: SessionDep) -> JobQueued:
        """Recompute every volunteer's total and star level now (a job)."""
        row = enqueue(session, RECOMPUTE_JOB)
        audit(session, "recompute", object_type="volunteer_hours", after={"job_id": row.id})
        session.commit()
        return JobQueued(job_id=row.id)


ROUTES: list = [MyShiftController, HoursController, *PAGES]
