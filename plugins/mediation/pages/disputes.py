"""Pages: the dispute list, the intake form, and a dispute with the forms of its next steps.

Each form posts to its own route, is validated with the API's model and taken by the same
service; a refusal re-renders the dispute with the reason and the fields named.
"""

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, QueryParameter, URLEncodedBody
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import Session, col, select

from core.access import path_in
from core.accounts.principal import Principal
from core.audit.recorder import record
from core.errors import DomainError, FieldError
from core.i18n import text
from core.platform import Platform
from core.units.models import Unit
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.forms import errors_of, parse_form
from core.web.navigation import unit_page
from plugins.mediation import agreements, casefile, cases, clock, leads, present, records, workflow
from plugins.mediation.access import child_of, sees_details, within
from plugins.mediation.api.common import dispute_at
from plugins.mediation.api.disputes import registration, rows
from plugins.mediation.api.records import render_document
from plugins.mediation.committees import mediator_names
from plugins.mediation.models import AgreementTerm, Committee, Dispute, Lead, Mediator, Party
from plugins.mediation.pages import forms
from plugins.mediation.pages.labels import labels
from plugins.mediation.parties import record_notice
from plugins.mediation.permissions import (
    CASE_ARCHIVE,
    CASE_DECIDE,
    CASE_MEDIATE,
    CASE_READ,
    CASE_REGISTER,
    DOCUMENT_EXPORT,
    LEAD_CONVERT,
)
from plugins.mediation.schemas import (
    AgreementIn,
    AssignmentIn,
    CaseFileItemIn,
    ClosureIn,
    ConfirmationIn,
    DisputeCreate,
    DocumentIn,
    EscalationIn,
    ExtensionConsentIn,
    ExtensionIn,
    FailureIn,
    FollowUpIn,
    HearingIn,
    InvestigationIn,
    NonAcceptance,
    NoteIn,
    NoticeIn,
    RefusalIn,
    RulingIn,
    SignatureIn,
    TermEventIn,
)
from plugins.mediation.vocab import OPEN_STATUSES, MediatorStatus, Status
from plugins.mediation.workflow import CASE_HANDLERS, CLERK, DIRECTOR, MEDIATOR, may

Form = URLEncodedBody[dict[str, str]]
PAGE_SIZE = 50


def base_url(unit: Unit) -> str:
    """Where the plugin's pages of ``unit`` start."""
    return f"/units/{unit.id}/mediation"


def forms_allowed(session: Session, principal: Principal, dispute: Dispute) -> dict[str, bool]:
    """Which forms the dispute page shows the caller (the services check again)."""
    allowed = set(workflow.allowed(session, principal, dispute))
    keeping = [s for s in Status if s != Status.archived]
    after = (*agreements.AFTER_AGREEMENT, Status.closed)
    intake = dispute.status == Status.registered and principal.can(CASE_REGISTER, dispute.unit_path)
    return {
        **{name: True for name in allowed},
        "notice": intake
        or may(session, principal, dispute, CASE_HANDLERS, (Status.accepted, Status.in_mediation)),
        "record": may(session, principal, dispute, (MEDIATOR,), (Status.in_mediation,)),
        "seal": may(session, principal, dispute, (DIRECTOR,), (Status.in_mediation,)),
        "escalate": may(session, principal, dispute, CASE_HANDLERS, OPEN_STATUSES),
        "perform": may(session, principal, dispute, (MEDIATOR,), (Status.performing,)),
        "follow_up": may(session, principal, dispute, CASE_HANDLERS, after),
        "consent": may(session, principal, dispute, CASE_HANDLERS, (Status.in_mediation,)),
        "investigate": may(
            session, principal, dispute, CASE_HANDLERS, (Status.accepted, Status.in_mediation)
        ),
        "confirm": may(session, principal, dispute, CASE_HANDLERS, after),
        "case_file": may(session, principal, dispute, (CLERK,), keeping),
        "document": principal.can(DOCUMENT_EXPORT, dispute.unit_path),
    }


class DisputePages(Controller):
    """The dispute pages of a unit."""

    path = "/disputes"

    @get("/", sync_to_thread=True, opt={"action": CASE_READ})
    def list_page(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        status: Annotated[Status | None, QueryParameter()] = None,
        mine: Annotated[bool, QueryParameter()] = False,
        overdue: Annotated[bool, QueryParameter()] = False,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
    ) -> Template:
        """Disputes in reach: number, category and status for all; deadlines for handlers."""
        principal: Principal = request.scope["user"]
        query = select(Dispute).where(path_in(Dispute.unit_path, unit.path))
        if status is not None:
            query = query.where(Dispute.status == status)
        found = session.exec(
            query.order_by(col(Dispute.id).desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE + 1)
        ).all()
        listed = rows(session, principal, list(found[:PAGE_SIZE]))
        if mine:
            listed = [row for row in listed if row.mine]
        if overdue:
            listed = [row for row in listed if row.overdue]
        return Template(
            "mediation/disputes.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "rows": listed,
                "more": len(found) > PAGE_SIZE,
                "page_number": page,
                "filters": {
                    "status": status.value if status else "",
                    "mine": mine,
                    "overdue": overdue,
                },
                "may_register": principal.can(CASE_REGISTER, unit),
                **labels(session, unit),
            },
        )

    def _intake(self, request, session, platform, unit, form, errors, status_code=200, code=None):
        principal = request.scope["user"]
        committees = session.exec(
            select(Committee)
            .where(path_in(Committee.unit_path, unit.path))
            .order_by(Committee.unit_path)
            .limit(200)
        ).all()
        return Template(
            "mediation/intake.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "form": form,
                "errors": errors,
                "code": code,
                "committees": committees,
                **labels(session, unit),
            },
            status_code=status_code,
        )

    @get("/new", sync_to_thread=True, opt={"action": CASE_REGISTER})
    def intake_form(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        lead_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Template:
        """The intake form (受理登记表), for a lead found in screening if one is named."""
        form = {}
        if lead_id is not None:
            lead = within(session, Lead, lead_id, unit)
            form = {
                "lead_id": str(lead.id),
                "source": "screening",
                "summary": lead.description or "",
                "risk_level": str(lead.risk_level),
            }
        return self._intake(request, session, platform, unit, form, [])

    @post("/", sync_to_thread=True, opt={"action": CASE_REGISTER})
    def register(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Register the dispute and go to it."""
        errors: list[FieldError] = []
        values = forms.intake(data, errors)
        wanted, invalid = parse_form(DisputeCreate, values, blank_is_none=False)
        errors += invalid
        status_code, code = 400, "validation_failed"
        if wanted is not None and not errors:
            try:
                committee = within(session, Committee, wanted.committee_id, unit)
                dispute = self._registered(request, session, unit, committee, wanted, data)
                session.commit()
                return Redirect(f"{base_url(unit)}/disputes/{dispute.id}")
            except DomainError as error:
                session.rollback()
                errors, status_code, code = errors_of(error), error.status, error.code
        return self._intake(request, session, platform, unit, data, errors, status_code, code)

    def _registered(self, request, session, unit, committee, wanted, data) -> Dispute:
        """Register the intake, or convert the lead it was made from (``lead_id``)."""
        principal = request.scope["user"]
        if not data.get("lead_id", "").isdigit():
            return cases.register(session, principal, committee, registration(wanted))
        lead = within(session, Lead, int(data["lead_id"]), unit)
        if not principal.can(LEAD_CONVERT, lead.unit_path):
            raise DomainError(
                text("无权将线索登记为纠纷", "Not allowed to register leads as disputes"),
                "not_allowed",
                403,
                [FieldError("lead_id", "not_allowed", LEAD_CONVERT)],
            )
        return leads.convert(session, principal, lead, committee, registration(wanted))

    # -- one dispute -----------------------------------------------------------------------

    def _detail(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        dispute_id: int,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
        code: str | None = None,
    ) -> Template:
        principal: Principal = request.scope["user"]
        dispute = dispute_at(session, unit, dispute_id)
        context: dict[str, Any] = {
            "page": unit_page(platform, session, unit, principal),
            "errors": errors or [],
            "code": code,
            "base": base_url(unit),
            **labels(session, unit),
        }
        if not sees_details(session, principal, dispute):
            context["case"] = present.view(session, principal, dispute)
            return Template(
                "mediation/dispute_summary.html", context=context, status_code=status_code
            )
        record(
            session,
            "read",
            object_type="mediation_dispute",
            object_id=dispute.id,
            unit_path=dispute.unit_path,
        )
        session.commit()
        case = present.detail(session, principal, dispute)
        committee_mediators = session.exec(
            select(Mediator).where(
                Mediator.committee_id == dispute.committee_id,
                Mediator.status == MediatorStatus.active,
            )
        ).all()
        context.update(
            case=case,
            can=forms_allowed(session, principal, dispute),
            committee_mediators=committee_mediators,
            mediator_names=mediator_names(session, [m.id for m in committee_mediators]),
            party_names={p.id: p.name for p in case.parties},
            today=clock.today(),
            retention_until=casefile.retention_until(session, dispute),
        )
        return Template("mediation/dispute.html", context=context, status_code=status_code)

    @get("/{dispute_id:int}", sync_to_thread=True, opt={"action": CASE_READ})
    def detail(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
    ) -> Template:
        """The whole case for its handlers; number, category and status for anyone else."""
        return self._detail(request, session, platform, unit, dispute_id)

    def _step(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        dispute_id: int,
        model: type[BaseModel],
        values: dict,
        run: Callable[[Principal, Dispute, Any], Any],
        errors: list[FieldError] | None = None,
    ) -> Response:
        """Validate ``values`` with ``model``, take the step, and show the dispute again."""
        principal = request.scope["user"]
        dispute = dispute_at(session, unit, dispute_id)
        wanted, invalid = parse_form(model, values, blank_is_none=False)
        problems = [*(errors or []), *invalid]
        status_code, code = 400, "validation_failed"
        if wanted is not None and not problems:
            try:
                result = run(principal, dispute, wanted)
                if isinstance(result, Response):
                    return result
                session.commit()
                return Redirect(f"{base_url(unit)}/disputes/{dispute_id}")
            except DomainError as error:
                session.rollback()
                problems, status_code, code = errors_of(error), error.status, error.code
        return self._detail(
            request, session, platform, unit, dispute_id, problems, status_code, code
        )

    @post("/{dispute_id:int}/notice", sync_to_thread=True, opt={"action": CASE_REGISTER})
    def notice(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """The rights notice was given to a party (and their consent)."""
        values = forms.flags(data, ("consented",), plain=("manner",))

        def run(principal, dispute, wanted):
            party = child_of(session, Party, int(data.get("party_id") or 0), dispute)
            record_notice(
                session,
                principal,
                dispute,
                party,
                manner=wanted.manner,
                consented=wanted.consented,
                objects_to_public=forms.checkbox(data, "objects"),
            )

        return self._step(request, session, platform, unit, dispute_id, NoticeIn, values, run)

    @post("/{dispute_id:int}/acceptance", sync_to_thread=True, opt={"action": CASE_DECIDE})
    def accept(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """受理."""
        values = forms.blank_free(data, ("note",))
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            NoteIn,
            values,
            lambda principal, dispute, wanted: cases.accept(
                session, principal, dispute, wanted.note
            ),
        )

    @post("/{dispute_id:int}/non-acceptance", sync_to_thread=True, opt={"action": CASE_DECIDE})
    def not_accept(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """不予受理."""
        values = forms.blank_free(data, ("reason", "note"))
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            NonAcceptance,
            values,
            lambda principal, dispute, wanted: cases.not_accept(
                session, principal, dispute, wanted.reason, wanted.note
            ),
        )

    @post("/{dispute_id:int}/assignments", sync_to_thread=True, opt={"action": CASE_DECIDE})
    def assign(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Assign mediators."""
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            AssignmentIn,
            forms.picks(data),
            lambda principal, dispute, wanted: cases.assign(
                session,
                principal,
                dispute,
                [cases.Pick(**pick.model_dump()) for pick in wanted.mediators],
            ),
        )

    @post("/{dispute_id:int}/sessions", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def hearing(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Record a session."""
        values = forms.flags(
            data,
            ("public", "no_party_objects", "no_secret_involved", "simple_mode"),
            plain=("held_at", "place", "summary", "invited"),
        )
        values["attendee_party_ids"] = sorted(
            key.split(".", 1)[1] for key in data if key.startswith("attendee.")
        )
        if values.get("held_at") and len(values["held_at"]) == 16:  # datetime-local, China time
            values["held_at"] += ":00+08:00"
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            HearingIn,
            values,
            lambda principal, dispute, wanted: records.record_hearing(
                session, principal, dispute, records.HearingInput(**wanted.model_dump())
            ),
        )

    @post("/{dispute_id:int}/agreement", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def agreement(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Draw up the agreement."""
        errors: list[FieldError] = []
        values = forms.agreement(data, errors)

        def run(principal, dispute, wanted):
            agreements.draw_up(
                session,
                principal,
                dispute,
                form=wanted.form,
                facts=wanted.facts,
                content=wanted.content,
                agreed_on=wanted.agreed_on,
                terms=[agreements.TermInput(**term.model_dump()) for term in wanted.terms],
            )

        return self._step(
            request, session, platform, unit, dispute_id, AgreementIn, values, run, errors
        )

    @post("/{dispute_id:int}/signatures", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def signature(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """A party's or the mediator's signature on the written agreement."""
        signer = data.get("signer", "")
        if signer == "mediator":
            return self._step(
                request,
                session,
                platform,
                unit,
                dispute_id,
                NoteIn,
                {},
                lambda principal, dispute, wanted: agreements.mediator_sign(
                    session, principal, dispute
                ),
            )
        values = forms.blank_free(data, ("manner", "signed_on"))
        values["party_id"] = signer.removeprefix("party:") or None

        def run(principal, dispute, wanted):
            party = child_of(session, Party, wanted.party_id, dispute)
            agreements.sign(session, principal, dispute, party, wanted.manner, wanted.signed_on)

        return self._step(request, session, platform, unit, dispute_id, SignatureIn, values, run)

    @post("/{dispute_id:int}/seal", sync_to_thread=True, opt={"action": CASE_DECIDE})
    def seal(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """The committee's seal."""
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            NoteIn,
            {},
            lambda principal, dispute, wanted: agreements.seal(session, principal, dispute),
        )

    @post("/{dispute_id:int}/agreement-reached", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def agreement_reached(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Conclude on the agreement in effect."""
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            NoteIn,
            {},
            lambda principal, dispute, wanted: agreements.reach_agreement(
                session, principal, dispute
            ),
        )

    @post("/{dispute_id:int}/refusal", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def refuse(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """A party refuses: the mediation ends."""
        values = forms.blank_free(data, ("party_id", "note"))

        def run(principal, dispute, wanted):
            party = child_of(session, Party, wanted.party_id, dispute)
            cases.refuse(session, principal, dispute, party, wanted.note)

        return self._step(request, session, platform, unit, dispute_id, RefusalIn, values, run)

    @post("/{dispute_id:int}/failure", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def fail(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """调解不成."""
        values = forms.flags(data, ("other_routes_told",), plain=("note",))
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            FailureIn,
            values,
            lambda principal, dispute, wanted: cases.fail(
                session, principal, dispute, wanted.other_routes_told, wanted.note
            ),
        )

    @post("/{dispute_id:int}/escalations", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def escalate(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Report escalation risk."""
        values = forms.blank_free(data, ("reported_to", "agency", "note"))
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            EscalationIn,
            values,
            lambda principal, dispute, wanted: cases.report_escalation(
                session, principal, dispute, **wanted.model_dump()
            ),
        )

    @post(
        "/{dispute_id:int}/terms/{term_id:int}/events",
        sync_to_thread=True,
        opt={"action": CASE_MEDIATE},
    )
    def term_event(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        term_id: FromPath[int],
        data: Form,
    ) -> Response:
        """A term performed, or its obligor urged."""
        errors: list[FieldError] = []
        values = forms.blank_free(data, ("event", "on", "note"))
        values["amount_fen"] = forms.fen(data.get("amount"), "amount", errors)

        def run(principal, dispute, wanted):
            term = child_of(session, AgreementTerm, term_id, dispute)
            agreements.record_term_event(
                session,
                principal,
                dispute,
                term,
                event=wanted.event,
                on=wanted.on,
                amount_fen=wanted.amount_fen,
                proof=None,
                note=wanted.note,
            )

        return self._step(
            request, session, platform, unit, dispute_id, TermEventIn, values, run, errors
        )

    @post("/{dispute_id:int}/performed", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def performed(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Everything performed."""

        def run(principal, dispute, wanted):
            if dispute.status == Status.agreement_reached:
                agreements.perform_at_once(session, principal, dispute)
            else:
                agreements.complete(session, principal, dispute)

        return self._step(request, session, platform, unit, dispute_id, NoteIn, {}, run)

    @post("/{dispute_id:int}/investigations", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def investigation(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Record an investigation."""
        values = forms.blank_free(data, ("conducted_on", "place", "findings"))
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            InvestigationIn,
            values,
            lambda principal, dispute, wanted: records.record_investigation(
                session, principal, dispute, **wanted.model_dump()
            ),
        )

    @post("/{dispute_id:int}/extension-consents", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def extension_consent(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """A party consents to continue past the time limit."""
        values = forms.blank_free(data, ("party_id", "consented_on", "manner"))

        def run(principal, dispute, wanted):
            party = child_of(session, Party, wanted.party_id, dispute)
            cases.record_extension_consent(
                session, principal, dispute, party, wanted.consented_on, wanted.manner
            )

        return self._step(
            request, session, platform, unit, dispute_id, ExtensionConsentIn, values, run
        )

    @post("/{dispute_id:int}/extension", sync_to_thread=True, opt={"action": CASE_DECIDE})
    def extend(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Move the time limit on both parties' consent."""
        values = forms.blank_free(data, ("until", "note"))
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            ExtensionIn,
            values,
            lambda principal, dispute, wanted: cases.extend(
                session, principal, dispute, wanted.until, wanted.note
            ),
        )

    @post("/{dispute_id:int}/confirmation", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def confirmation(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """The parties applied jointly for judicial confirmation."""
        values = forms.blank_free(data, ("applied_on", "court"))
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            ConfirmationIn,
            values,
            lambda principal, dispute, wanted: agreements.apply_for_confirmation(
                session, principal, dispute, **wanted.model_dump()
            ),
        )

    @post(
        "/{dispute_id:int}/confirmation/ruling", sync_to_thread=True, opt={"action": CASE_MEDIATE}
    )
    def ruling(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """The court's ruling on the confirmation."""
        values = forms.blank_free(data, ("result", "ruled_on", "court_case_no"))
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            RulingIn,
            values,
            lambda principal, dispute, wanted: agreements.record_ruling(
                session, principal, dispute, **wanted.model_dump()
            ),
        )

    @post("/{dispute_id:int}/follow-ups", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def follow_up(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """A follow-up visit."""
        values = forms.flags(
            data,
            ("performance_ok", "new_risk"),
            plain=("visited_on", "satisfaction", "court_outcome", "note"),
        )
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            FollowUpIn,
            values,
            lambda principal, dispute, wanted: agreements.follow_up(
                session, principal, dispute, **wanted.model_dump()
            ),
        )

    @post("/{dispute_id:int}/closure", sync_to_thread=True, opt={"action": CASE_MEDIATE})
    def close(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """结案."""
        values = forms.flags(data, ("told_may_sue", "remediate"), plain=("note",))
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            ClosureIn,
            values,
            lambda principal, dispute, wanted: cases.close(
                session, principal, dispute, **wanted.model_dump()
            ),
        )

    @post("/{dispute_id:int}/case-file", sync_to_thread=True, opt={"action": CASE_ARCHIVE})
    def case_file(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """A document is in the case file."""
        values = forms.flags(data, ("present",), plain=("document", "pages"))
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            CaseFileItemIn,
            values,
            lambda principal, dispute, wanted: casefile.record_item(
                session, principal, dispute, **wanted.model_dump()
            ),
        )

    @post("/{dispute_id:int}/archive", sync_to_thread=True, opt={"action": CASE_ARCHIVE})
    def archive(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """归档."""
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            NoteIn,
            {},
            lambda principal, dispute, wanted: casefile.archive(session, principal, dispute),
        )

    @post("/{dispute_id:int}/documents", sync_to_thread=True, opt={"action": DOCUMENT_EXPORT})
    def document(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Form,
    ) -> Response:
        """Download the agreement or a rights notice as PDF."""
        values = forms.blank_free(data, ("kind", "party_id", "reason"))
        return self._step(
            request,
            session,
            platform,
            unit,
            dispute_id,
            DocumentIn,
            values,
            lambda principal, dispute, wanted: render_document(session, principal, dispute, wanted),
        )
