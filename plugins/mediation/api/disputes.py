"""API: disputes — registration, the director's decisions, the mediators' steps, closing."""

from datetime import date
from typing import Annotated

from litestar import Controller, Request, get, patch, post
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from pydantic import BaseModel
from sqlmodel import col, select

from core.access import path_in
from core.security.present import reveal
from core.units.models import Unit
from core.web.deps import Limit, Offset, PlatformDep, SessionDep, UnitDep
from plugins.mediation import cases, clock, present
from plugins.mediation.access import (
    assigned_dispute_ids,
    child_of,
    sees_details,
    within,
)
from plugins.mediation.api.common import after_step, caller, dispute_at, shown
from plugins.mediation.models import Assignment, Committee, Dispute, Party
from plugins.mediation.parties import PartyInput, add_party_by, record_notice
from plugins.mediation.permissions import (
    CASE_DECIDE,
    CASE_MEDIATE,
    CASE_READ,
    CASE_REGISTER,
    PARTY_REVEAL,
)
from plugins.mediation.present import DisputeDetail, DisputeSummary
from plugins.mediation.schemas import (
    AssignmentEnd,
    AssignmentIn,
    ClosureIn,
    DisputeCreate,
    DisputeFields,
    DisputeUpdate,
    EscalationIn,
    ExtensionConsentIn,
    ExtensionIn,
    FailureIn,
    NonAcceptance,
    NoteIn,
    NoticeIn,
    PartyIn,
    RefusalIn,
    RevealIn,
)
from plugins.mediation.settings import config_at
from plugins.mediation.vocab import Status

DisputeView = DisputeDetail | DisputeSummary
Step = dict(sync_to_thread=True, status_code=200)


class DisputeRow(DisputeSummary):
    """A line of the dispute list; the deadline and flags only for those who see details."""

    risk_level: str | None = None
    deadline: date | None = None
    overdue: bool | None = None
    urgent: bool | None = None
    mine: bool = False


class RevealRead(BaseModel):
    """Fields of a party in clear, after an audited reveal."""

    id: int
    values: dict[str, str | None]


def registration(data: DisputeFields) -> cases.Registration:
    """The intake of a request as the service takes it."""
    return cases.Registration(
        source=data.source,
        category=data.category,
        summary=data.summary,
        claims=data.claims,
        amount_involved_fen=data.amount_involved_fen,
        people_involved=data.people_involved,
        risk_level=data.risk_level,
        supervised=data.supervised,
        urgent=data.urgent,
        parties=[PartyInput(**party.model_dump()) for party in data.parties],
    )


def rows(session, principal, disputes: list[Dispute]) -> list[DisputeRow]:
    """List lines: everyone sees number, category, status and unit; details where allowed."""
    mine = assigned_dispute_ids(session, principal)
    units = dict(
        session.exec(
            select(Unit.id, Unit.name).where(col(Unit.id).in_({d.unit_id for d in disputes}))
        ).all()
    )
    configs = {}
    result = []
    for dispute in disputes:
        if dispute.unit_path not in configs:
            configs[dispute.unit_path] = config_at(session, dispute.unit_path, clock.today())
        row = DisputeRow(
            **present.summary(
                dispute, units[dispute.unit_id], configs[dispute.unit_path]
            ).model_dump()
        )
        if sees_details(session, principal, dispute):
            row.restricted = False
            row.risk_level = str(dispute.risk_level)
            row.deadline = dispute.deadline
            row.overdue = present.is_overdue(dispute)
            row.urgent = dispute.urgent
            row.mine = dispute.id in mine
        result.append(row)
    return result


class DisputeController(Controller):
    """Disputes before the committees of the unit's subtree."""

    path = "/disputes"

    @get("/", sync_to_thread=True, operation_id="ListDisputes", opt={"action": CASE_READ})
    def list_disputes(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        status: Annotated[Status | None, QueryParameter()] = None,
        committee_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        mine: Annotated[bool, QueryParameter(description="Only those assigned to me.")] = False,
        overdue: Annotated[bool, QueryParameter(description="Only those past the limit.")] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[DisputeRow]:
        """Disputes in reach, newest first; parties never appear in the list."""
        principal = caller(request)
        query = select(Dispute).where(path_in(Dispute.unit_path, unit.path))
        if status is not None:
            query = query.where(Dispute.status == status)
        if committee_id is not None:
            query = query.where(Dispute.committee_id == committee_id)
        if mine:
            query = query.where(col(Dispute.id).in_(assigned_dispute_ids(session, principal)))
        if overdue:
            today = clock.today()
            query = query.where(
                col(Dispute.status).in_([Status.accepted, Status.in_mediation]),
                col(Dispute.due_on).is_not(None),
            ).where(
                (col(Dispute.extended_until).is_not(None) & (Dispute.extended_until < today))
                | (col(Dispute.extended_until).is_(None) & (Dispute.due_on < today))
            )
        found = session.exec(
            query.order_by(col(Dispute.id).desc()).offset(offset).limit(limit)
        ).all()
        return rows(session, principal, list(found))

    @post(
        "/",
        sync_to_thread=True,
        operation_id="RegisterDispute",
        opt={"action": CASE_REGISTER},
        status_code=HTTP_201_CREATED,
    )
    def register(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[DisputeCreate]
    ) -> DisputeView:
        """Register a dispute before a committee in reach; it gets its case number."""
        principal = caller(request)
        committee = within(session, Committee, data.committee_id, unit)
        dispute = cases.register(session, principal, committee, registration(data))
        return after_step(session, principal, dispute)

    @get(
        "/{dispute_id:int}",
        sync_to_thread=True,
        operation_id="GetDispute",
        opt={"action": CASE_READ},
    )
    def get_dispute(
        self, request: Request, session: SessionDep, unit: UnitDep, dispute_id: FromPath[int]
    ) -> DisputeView:
        """The whole case for its handlers; number, category and status for anyone else."""
        return shown(session, caller(request), dispute_at(session, unit, dispute_id))

    @patch(
        "/{dispute_id:int}",
        sync_to_thread=True,
        operation_id="UpdateDispute",
        opt={"action": CASE_REGISTER},
    )
    def update(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[DisputeUpdate],
    ) -> DisputeView:
        """Correct the intake, or flag risk, supervision and urgency."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        cases.update(session, principal, dispute, cases.DisputeChange(**data.model_dump()))
        return after_step(session, principal, dispute)

    # -- parties ---------------------------------------------------------------------------

    @post(
        "/{dispute_id:int}/parties",
        sync_to_thread=True,
        operation_id="AddParty",
        opt={"action": CASE_REGISTER},
        status_code=HTTP_201_CREATED,
    )
    def add_party(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[PartyIn],
    ) -> DisputeView:
        """Add a party, or an agent acting for one."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        add_party_by(session, principal, dispute, PartyInput(**data.model_dump()))
        return after_step(session, principal, dispute)

    @post(
        "/{dispute_id:int}/parties/{party_id:int}/notice",
        operation_id="RecordNotice",
        opt={"action": CASE_REGISTER},
        **Step,
    )
    def notice(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        party_id: FromPath[int],
        data: JSONBody[NoticeIn],
    ) -> DisputeView:
        """The rights notice (告知书) was given to the party; with their consent, if given."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        party = child_of(session, Party, party_id, dispute)
        record_notice(
            session,
            principal,
            dispute,
            party,
            manner=data.manner,
            consented=data.consented,
            objects_to_public=data.objects_to_public,
        )
        return after_step(session, principal, dispute)

    @post(
        "/{dispute_id:int}/parties/{party_id:int}/reveal",
        operation_id="RevealParty",
        opt={"action": PARTY_REVEAL},
        **Step,
    )
    def reveal_party(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        party_id: FromPath[int],
        data: JSONBody[RevealIn],
    ) -> RevealRead:
        """A party's identity in clear, for a stated reason; the read is audited."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        if not sees_details(session, principal, dispute):
            raise PermissionDeniedException("not allowed: mediation.case.detail")
        party = child_of(session, Party, party_id, dispute)
        values = reveal(
            session,
            party,
            data.fields,
            data.reason,
            principal,
            platform.plugins.sensitive_fields,
            dispute.unit_path,
        )
        session.commit()
        return RevealRead(id=party.id, values=values)

    # -- the director's decisions ------------------------------------------------------------

    @post(
        "/{dispute_id:int}/acceptance",
        operation_id="AcceptDispute",
        opt={"action": CASE_DECIDE},
        **Step,
    )
    def accept(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[NoteIn],
    ) -> DisputeView:
        """受理: the parties were informed and the applicant consents; the time limit starts."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        cases.accept(session, principal, dispute, data.note)
        return after_step(session, principal, dispute)

    @post(
        "/{dispute_id:int}/non-acceptance",
        operation_id="DeclineDispute",
        opt={"action": CASE_DECIDE},
        **Step,
    )
    def not_accept(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[NonAcceptance],
    ) -> DisputeView:
        """不予受理, with a coded reason."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        cases.not_accept(session, principal, dispute, data.reason, data.note)
        return after_step(session, principal, dispute)

    @post(
        "/{dispute_id:int}/assignments",
        operation_id="AssignMediators",
        opt={"action": CASE_DECIDE},
        **Step,
    )
    def assign(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[AssignmentIn],
    ) -> DisputeView:
        """Put trained, active mediators of the committee on the case."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        picks = [cases.Pick(**pick.model_dump()) for pick in data.mediators]
        cases.assign(session, principal, dispute, picks)
        return after_step(session, principal, dispute)

    @post(
        "/{dispute_id:int}/assignments/{assignment_id:int}/end",
        operation_id="EndAssignment",
        opt={"action": CASE_DECIDE},
        **Step,
    )
    def end_assignment(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        assignment_id: FromPath[int],
        data: JSONBody[AssignmentEnd],
    ) -> DisputeView:
        """Take a mediator off the case (another stays on it)."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        assignment = child_of(session, Assignment, assignment_id, dispute)
        cases.end_assignment(session, principal, dispute, assignment, data.note)
        return after_step(session, principal, dispute)

    @post(
        "/{dispute_id:int}/extension",
        operation_id="ExtendDispute",
        opt={"action": CASE_DECIDE},
        **Step,
    )
    def extend(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[ExtensionIn],
    ) -> DisputeView:
        """Move the time limit, on both parties' recorded consent."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        cases.extend(session, principal, dispute, data.until, data.note)
        return after_step(session, principal, dispute)

    # -- the mediators' steps ---------------------------------------------------------------

    @post(
        "/{dispute_id:int}/refusal",
        operation_id="RecordRefusal",
        opt={"action": CASE_MEDIATE},
        **Step,
    )
    def refuse(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[RefusalIn],
    ) -> DisputeView:
        """A party clearly refuses: the mediation ends."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        party = child_of(session, Party, data.party_id, dispute)
        cases.refuse(session, principal, dispute, party, data.note)
        return after_step(session, principal, dispute)

    @post(
        "/{dispute_id:int}/extension-consents",
        operation_id="RecordExtensionConsent",
        opt={"action": CASE_MEDIATE},
        **Step,
    )
    def extension_consent(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[ExtensionConsentIn],
    ) -> DisputeView:
        """A party consents to continue past the time limit."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        party = child_of(session, Party, data.party_id, dispute)
        cases.record_extension_consent(
            session, principal, dispute, party, data.consented_on, data.manner
        )
        return after_step(session, principal, dispute)

    @post(
        "/{dispute_id:int}/failure",
        operation_id="EndDisputeAsFailed",
        opt={"action": CASE_MEDIATE},
        **Step,
    )
    def fail(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[FailureIn],
    ) -> DisputeView:
        """调解不成: end, the parties told of the other routes."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        cases.fail(session, principal, dispute, data.other_routes_told, data.note)
        return after_step(session, principal, dispute)

    @post(
        "/{dispute_id:int}/closure",
        operation_id="CloseDispute",
        opt={"action": CASE_MEDIATE},
        **Step,
    )
    def close(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[ClosureIn],
    ) -> DisputeView:
        """结案 a performed or defaulted dispute (a re-mediation registers a new one)."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        cases.close(
            session,
            principal,
            dispute,
            told_may_sue=data.told_may_sue,
            remediate=data.remediate,
            note=data.note,
        )
        return after_step(session, principal, dispute)

    @post(
        "/{dispute_id:int}/escalations",
        operation_id="ReportEscalation",
        opt={"action": CASE_MEDIATE},
        **Step,
    )
    def escalate(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[EscalationIn],
    ) -> DisputeView:
        """Record the report of escalation risk to the police or the judicial office."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        cases.report_escalation(
            session,
            principal,
            dispute,
            reported_to=data.reported_to,
            agency=data.agency,
            note=data.note,
        )
        return after_step(session, principal, dispute)


ROUTES = [DisputeController]
