"""API of cover: policies and enrolment, incidents, claims, compensation referrals, rewards."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import col, select

from core.access import path_in
from core.audit.recorder import record
from core.errors import DomainError, FieldError
from core.files.models import StoredFile
from core.i18n import text
from core.security.present import reveal
from core.units.models import utcnow
from core.volunteers.models import Volunteer
from core.web.deps import Limit, Offset, PlatformDep, SessionDep, UnitDep
from plugins.insurance import approvals, claims, cover, incidents, rewards
from plugins.insurance.clock import china_day
from plugins.insurance.expenses import MAX_RECEIPT_BYTES, receipt_media_type
from plugins.insurance.models import (
    ClaimDocument,
    CompensationCase,
    Enrolment,
    Incident,
    InsuranceClaim,
    InsurancePolicy,
    Reward,
)
from plugins.insurance.schemas import (
    ApprovalRead,
    ClaimCreate,
    ClaimDetail,
    ClaimPayment,
    ClaimRead,
    ClaimStep,
    ClockRead,
    CompensationCreate,
    CompensationRead,
    CompensationStep,
    CoverAnswer,
    DocumentIn,
    DocumentRead,
    EnrolmentCreate,
    EnrolmentRead,
    IncidentCreate,
    IncidentRead,
    IncidentStatus,
    PaymentIn,
    PaymentRead,
    PolicyCreate,
    PolicyRead,
    PremiumStep,
    RevealRead,
    RevealRequest,
    RewardCreate,
    RewardRead,
    RewardStep,
    shown,
)
from plugins.insurance.vocab import ClaimStatus, PaymentMethod
from plugins.insurance.web import acting, require, within

RecordId = FromPath[int]
UPLOAD_LIMIT = MAX_RECEIPT_BYTES + 1024 * 1024


def policy_read(session, policy: InsurancePolicy) -> PolicyRead:
    """A policy with its coverage lines."""
    return PolicyRead.model_validate(
        {
            **policy.model_dump(),
            "lines": [line.model_dump() for line in cover.lines_of(session, policy)],
        }
    )


class PolicyController(Controller):
    """Accident policies, their premiums, and who they cover."""

    tags = ["insurance"]

    @get(
        "/policies",
        sync_to_thread=True,
        operation_id="InsurancePolicies",
        opt={"action": "insurance.policy.read"},
    )
    def policies(self, session: SessionDep, unit: UnitDep) -> list[PolicyRead]:
        """Policies held by the unit, its subtree and the units above (which cover it)."""
        rows = session.exec(
            select(InsurancePolicy)
            .where(
                path_in(InsurancePolicy.unit_path, unit.path)
                | col(InsurancePolicy.unit_id).in_(unit.ancestor_ids)
            )
            .order_by(col(InsurancePolicy.period_to).desc())
        )
        return [policy_read(session, row) for row in rows]

    @post(
        "/policies",
        sync_to_thread=True,
        operation_id="InsuranceRecordPolicy",
        opt={"action": "insurance.policy.manage"},
        status_code=HTTP_201_CREATED,
    )
    def create(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[PolicyCreate]
    ) -> PolicyRead:
        """Record a policy the unit bought."""
        policy = cover.create_policy(
            session,
            acting(request, session),
            unit,
            insurer=data.insurer,
            policy_no=data.policy_no,
            period_from=data.period_from,
            period_to=data.period_to,
            premium_fen=data.premium_fen,
            scope_rule=data.scope_rule,
            activity_types=data.activity_types,
            lines=[
                cover.LineInput(line.kind, line.limit_fen, line.deductible_fen, line.ratio_percent)
                for line in data.lines
            ],
        )
        session.commit()
        return policy_read(session, policy)

    @get(
        "/policies/{policy_id:int}/enrolments",
        sync_to_thread=True,
        operation_id="InsuranceEnrolments",
        opt={"action": "insurance.policy.read"},
    )
    def enrolments(
        self,
        session: SessionDep,
        unit: UnitDep,
        policy_id: RecordId,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[EnrolmentRead]:
        """Who a policy covers by name or by activity."""
        policy = within(session, InsurancePolicy, policy_id, unit)
        rows = session.exec(
            select(Enrolment)
            .where(Enrolment.policy_id == policy.id)
            .order_by(Enrolment.id)
            .offset(offset)
            .limit(limit)
        )
        return [EnrolmentRead.model_validate(row) for row in rows]

    @post(
        "/policies/{policy_id:int}/enrolments",
        sync_to_thread=True,
        operation_id="InsuranceEnrol",
        opt={"action": "insurance.policy.manage"},
        status_code=HTTP_201_CREATED,
    )
    def enrol(
        self,
        session: SessionDep,
        unit: UnitDep,
        policy_id: RecordId,
        data: JSONBody[EnrolmentCreate],
    ) -> list[EnrolmentRead]:
        """Enrol volunteers by name."""
        policy = within(session, InsurancePolicy, policy_id, unit)
        rows = cover.enrol_list(
            session, policy, data.volunteer_ids, valid_from=data.valid_from, valid_to=data.valid_to
        )
        session.commit()
        return [EnrolmentRead.model_validate(row) for row in rows]

    @post(
        "/policies/{policy_id:int}/premium",
        sync_to_thread=True,
        operation_id="InsurancePremiumStep",
        opt={"action": "insurance.policy.read"},
        status_code=200,
    )
    def premium(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        policy_id: RecordId,
        data: JSONBody[PremiumStep],
    ) -> PolicyRead:
        """Approve the premium (an approver, by amount) or pay it (the cashier)."""
        policy = within(session, InsurancePolicy, policy_id, unit)
        actor = acting(request, session)
        if data.step == "approve":
            require(request, "insurance.expense.approve", policy.unit_path)
            rewards.approve_premium(session, actor, policy)
        else:
            require(request, "insurance.payment.make", policy.unit_path)
            if not data.payee_account:
                raise DomainError(
                    text("须填写保险公司收款账户", "The insurer's account is required"),
                    "validation_failed",
                    400,
                    [FieldError("payee_account", "missing", "")],
                )
            rewards.pay_premium(
                session, actor, policy, payee_account=data.payee_account, bank_ref=data.bank_ref
            )
        session.commit()
        return policy_read(session, policy)

    @get(
        "/cover",
        sync_to_thread=True,
        operation_id="InsuranceCoverOn",
        opt={"action": "insurance.policy.read"},
    )
    def cover_on(
        self,
        session: SessionDep,
        unit: UnitDep,
        volunteer_id: Annotated[int, QueryParameter(ge=1, le=2**62)],
        on: Annotated[date | None, QueryParameter()] = None,
    ) -> CoverAnswer:
        """Whether a volunteer of the unit is covered on a day (today by default)."""
        volunteer = within(session, Volunteer, volunteer_id, unit)
        day = on or china_day(utcnow())
        found = cover.cover_on(session, volunteer, day)
        return CoverAnswer(
            volunteer_id=volunteer.id,
            on=day,
            covered=found is not None,
            policy_id=found.id if found else None,
            policy_no=found.policy_no if found else None,
        )


def claim_status_of(session, incident_id: int) -> str | None:
    """The status of an incident's latest claim."""
    return session.exec(
        select(InsuranceClaim.status)
        .where(InsuranceClaim.incident_id == incident_id)
        .order_by(col(InsuranceClaim.id).desc())
    ).first()


class IncidentController(Controller):
    """Incidents in service."""

    path = "/incidents"
    tags = ["insurance"]

    @get(
        "/",
        sync_to_thread=True,
        operation_id="InsuranceIncidents",
        opt={"action": "insurance.incident.read"},
    )
    def incidents(
        self, session: SessionDep, unit: UnitDep, limit: Limit = 50, offset: Offset = 0
    ) -> list[IncidentStatus]:
        """Incidents of the subtree: that they exist and where their claims stand."""
        rows = session.exec(
            select(Incident)
            .where(path_in(Incident.unit_path, unit.path))
            .order_by(col(Incident.id).desc())
            .offset(offset)
            .limit(limit)
        )
        return [
            IncidentStatus(
                id=row.id,
                unit_id=row.unit_id,
                volunteer_id=row.volunteer_id,
                occurred_at=row.occurred_at,
                reported_same_day=row.reported_same_day,
                claim_status=claim_status_of(session, row.id),
            )
            for row in rows
        ]

    @post(
        "/",
        sync_to_thread=True,
        operation_id="InsuranceReportIncident",
        opt={"action": "insurance.incident.report"},
        status_code=HTTP_201_CREATED,
    )
    def report(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[IncidentCreate],
    ) -> IncidentStatus:
        """Report an incident against the service record it happened in."""
        incident = incidents.report(
            session,
            reporter_user_id=request.scope["user"].user_id,
            within=unit,
            volunteer_id=data.volunteer_id,
            occurred_at=data.occurred_at,
            place=data.place,
            description=data.description,
            injury_kind=data.injury_kind,
            assignment_id=data.assignment_id,
            hours_entry_id=data.hours_entry_id,
            injury_detail=data.injury_detail,
            hospital=data.hospital,
            police_ref=data.police_ref,
            witnesses=data.witnesses,
            knowledge_date=data.knowledge_date,
        )
        session.commit()
        return IncidentStatus(
            id=incident.id,
            unit_id=incident.unit_id,
            volunteer_id=incident.volunteer_id,
            occurred_at=incident.occurred_at,
            reported_same_day=incident.reported_same_day,
            claim_status=None,
        )

    @get(
        "/{incident_id:int}",
        sync_to_thread=True,
        operation_id="InsuranceIncident",
        opt={"action": "insurance.claim.read"},
    )
    def incident(
        self, session: SessionDep, platform: PlatformDep, unit: UnitDep, incident_id: RecordId
    ) -> IncidentRead:
        """One incident in full (injury detail and witnesses masked) for the clerk."""
        found = within(session, Incident, incident_id, unit)
        return shown(platform, found, IncidentRead, claim_status=claim_status_of(session, found.id))


def claim_detail(session, platform, claim: InsuranceClaim) -> ClaimDetail:
    """A claim with its checklist, clocks and decisions."""
    state = claims.clock(session, claim)
    return shown(
        platform,
        claim,
        ClaimDetail,
        documents=[
            DocumentRead.model_validate(
                {**d.model_dump(), "label": claims.DOCUMENT_LABELS[d.code](_locale())}
            )
            for d in claims.documents_of(session, claim)
        ],
        clock=ClockRead(
            insurer_days_used=round(state.insurer_days_used.total_seconds() / 86400, 2)
            if state.insurer_days_used is not None
            else None,
            decision_due=state.decision_due,
            paused=state.paused,
            decision_overdue=state.decision_overdue,
            payment_due=state.payment_due,
            payment_overdue=state.payment_overdue,
            denial_notice_due=state.denial_notice_due,
            denial_notice_overdue=state.denial_notice_overdue,
        ),
        history=[
            ApprovalRead.model_validate(a) for a in approvals.history(session, "claim", claim.id)
        ],
    )


def _locale() -> str:
    from core.i18n import current_locale

    return current_locale.get()


def take_step(session, actor, claim: InsuranceClaim, data: ClaimStep) -> None:
    """Apply one step of a claim's state machine, as the API or a page asked."""
    at = data.at
    if data.step == "submit":
        claims.submit(session, actor, claim)
    elif data.step == "send":
        claims.send_to_insurer(session, actor, claim, at=at)
    elif data.step == "request_supplement":
        if not data.what:
            raise DomainError(
                text("须说明补充什么材料", "Say what is to be supplemented"),
                "validation_failed",
                400,
                [FieldError("what", "missing", "")],
            )
        claims.request_supplement(session, actor, claim, data.what, at=at)
    elif data.step == "supplement_provided":
        claims.supplement_provided(session, actor, claim, at=at)
    elif data.step == "decide":
        if data.decision is None:
            raise DomainError(
                text("须记录核定结果", "The decision is required"),
                "validation_failed",
                400,
                [FieldError("decision", "missing", "")],
            )
        claims.decide(
            session,
            actor,
            claim,
            data.decision,
            approved_fen=data.approved_fen,
            reason=data.reason,
            notice_sent=data.notice_sent,
            at=at,
        )
    elif data.step == "denial_notice":
        claims.record_denial_notice(session, actor, claim, at=at)
    elif data.step == "agree":
        claims.agree(session, actor, claim, claimant_confirmed=data.claimant_confirmed, at=at)
    elif data.step == "dispute":
        if not data.reason:
            raise DomainError(
                text("须说明异议理由", "Give the dispute's reason"),
                "validation_failed",
                400,
                [FieldError("reason", "missing", "")],
            )
        claims.dispute(session, actor, claim, data.reason, at=at)
    elif data.step == "resubmit":
        claims.resubmit(session, actor, claim, at=at)
    elif data.step == "close":
        claims.close(session, actor, claim, at=at)
    else:
        claims.withdraw(session, actor, claim, data.reason or "", at=at)


@dataclass
class ScanUpload:
    """A scanned claim document: the checklist code, original or copy, and the file."""

    code: str
    file: UploadFile
    original: bool = False


class ClaimController(Controller):
    """Insurance claims through the insurer's clocks."""

    path = "/claims"
    tags = ["insurance"]

    @get(
        "/",
        sync_to_thread=True,
        operation_id="InsuranceClaims",
        opt={"action": "insurance.claim.read"},
    )
    def claims_list(
        self,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        status: Annotated[ClaimStatus | None, QueryParameter()] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[ClaimRead]:
        """Claims of the subtree, newest first."""
        query = select(InsuranceClaim).where(path_in(InsuranceClaim.unit_path, unit.path))
        if status is not None:
            query = query.where(InsuranceClaim.status == status.value)
        rows = session.exec(
            query.order_by(col(InsuranceClaim.id).desc()).offset(offset).limit(limit)
        )
        return [shown(platform, row, ClaimRead) for row in rows]

    @post(
        "/",
        sync_to_thread=True,
        operation_id="InsuranceOpenClaim",
        opt={"action": "insurance.claim.manage"},
        status_code=HTTP_201_CREATED,
    )
    def open(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[ClaimCreate],
    ) -> ClaimDetail:
        """Open a claim from an incident of the subtree."""
        incident = within(session, Incident, data.incident_id, unit)
        claim = claims.open_claim(
            session,
            acting(request, session),
            incident,
            policy_id=data.policy_id,
            claim_type=data.claim_type,
            claimed_fen=data.claimed_fen,
            claimant_user_id=data.claimant_user_id,
            beneficiary_name=data.beneficiary_name,
            beneficiary_relation=data.beneficiary_relation,
            payee_account=data.payee_account,
            medical_notes=data.medical_notes,
        )
        session.commit()
        return claim_detail(session, platform, claim)

    @get(
        "/{claim_id:int}",
        sync_to_thread=True,
        operation_id="InsuranceClaim",
        opt={"action": "insurance.claim.read"},
    )
    def claim(
        self, session: SessionDep, platform: PlatformDep, unit: UnitDep, claim_id: RecordId
    ) -> ClaimDetail:
        """A claim with its checklist, clocks and decisions."""
        return claim_detail(session, platform, within(session, InsuranceClaim, claim_id, unit))

    @post(
        "/{claim_id:int}/documents",
        sync_to_thread=True,
        operation_id="InsuranceClaimDocument",
        opt={"action": "insurance.claim.manage"},
        status_code=200,
    )
    def document(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        claim_id: RecordId,
        data: JSONBody[DocumentIn],
    ) -> ClaimDetail:
        """Tick a checklist item received (original or copy)."""
        claim = within(session, InsuranceClaim, claim_id, unit)
        claims.receive_document(
            session, acting(request, session), claim, data.code, original=data.original
        )
        session.commit()
        return claim_detail(session, platform, claim)

    @post(
        "/{claim_id:int}/scans",
        sync_to_thread=True,
        operation_id="InsuranceClaimScan",
        opt={"action": "insurance.claim.manage"},
        status_code=HTTP_201_CREATED,
        request_max_body_size=UPLOAD_LIMIT,
    )
    def scan(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        claim_id: RecordId,
        data: Annotated[ScanUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ClaimDetail:
        """Upload the scan of a checklist item (JPEG, PNG or PDF), ticking it received."""
        claim = within(session, InsuranceClaim, claim_id, unit)
        content = (
            data.file.file.read(MAX_RECEIPT_BYTES + 1) if isinstance(data.file, UploadFile) else b""
        )
        media_type = receipt_media_type(content)
        if media_type is None or len(content) > MAX_RECEIPT_BYTES:
            raise DomainError(
                text(
                    "文件须为不超过 5 MB 的 JPEG、PNG 或 PDF",
                    "The file must be a JPEG, PNG or PDF of at most 5 MB",
                ),
                "validation_failed",
                400,
                [
                    FieldError(
                        "file",
                        "file_type",
                        data.file.filename if isinstance(data.file, UploadFile) else "",
                    )
                ],
            )
        stored = StoredFile(
            name=(data.file.filename or "scan")[:200],
            media_type=media_type,
            content=content,
            size=len(content),
            unit_path=claim.unit_path,
            created_by_id=request.scope["user"].user_id,
        )
        session.add(stored)
        session.flush()
        claims.receive_document(
            session,
            acting(request, session),
            claim,
            data.code,
            original=data.original,
            file_id=stored.id,
        )
        session.commit()
        return claim_detail(session, platform, claim)

    @get(
        "/{claim_id:int}/scans/{file_id:int}",
        sync_to_thread=True,
        operation_id="InsuranceClaimScanFile",
        opt={"action": "insurance.claim.read"},
    )
    def scan_file(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        claim_id: RecordId,
        file_id: RecordId,
        reason: Annotated[str | None, QueryParameter(min_length=2, max_length=300)] = None,
    ) -> Response:
        """A scanned document (medical ones: the clerk, with a reason, while handled; audited)."""
        claim = within(session, InsuranceClaim, claim_id, unit)
        document = session.exec(
            select(ClaimDocument).where(
                ClaimDocument.claim_id == claim.id, ClaimDocument.file_id == file_id
            )
        ).first()
        if document is None:
            from litestar.exceptions import NotFoundException

            raise NotFoundException(f"no scan {file_id} on claim {claim_id}")
        if document.medical:
            require(request, "insurance.claim.reveal", claim.unit_path)
            if claim.status in (ClaimStatus.closed, ClaimStatus.withdrawn, ClaimStatus.paid):
                raise DomainError(
                    text(
                        "理赔已办结，不再调阅医疗材料",
                        "The claim is finished; medical documents are no longer shown",
                    ),
                    "conflict",
                    409,
                    [FieldError("status", "finished", claim.status)],
                )
            if not reason:
                raise DomainError(
                    text("查看医疗材料须说明理由", "Give a reason to see a medical document"),
                    "validation_failed",
                    400,
                    [FieldError("reason", "missing", "")],
                )
        stored = session.get(StoredFile, file_id)
        record(
            session,
            "reveal" if document.medical else "read",
            action="insurance.claim.reveal" if document.medical else "insurance.claim.read",
            object_type="insurance_claim_document",
            object_id=document.id,
            unit_path=claim.unit_path,
            reason=reason,
            after={"code": document.code},
        )
        session.commit()
        return Response(
            stored.content, media_type=stored.media_type, headers={"cache-control": "no-store"}
        )

    @post(
        "/{claim_id:int}/steps",
        sync_to_thread=True,
        operation_id="InsuranceClaimStep",
        opt={"action": "insurance.claim.manage"},
        status_code=200,
    )
    def step(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        claim_id: RecordId,
        data: JSONBody[ClaimStep],
    ) -> ClaimDetail:
        """Take one step of the claim's state machine."""
        claim = within(session, InsuranceClaim, claim_id, unit)
        take_step(session, acting(request, session), claim, data)
        session.commit()
        return claim_detail(session, platform, claim)

    @post(
        "/{claim_id:int}/payment",
        sync_to_thread=True,
        operation_id="InsuranceClaimPaid",
        opt={"action": "insurance.payment.make"},
        status_code=200,
    )
    def payment(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        claim_id: RecordId,
        data: JSONBody[ClaimPayment],
    ) -> ClaimDetail:
        """Finance records what the insurer paid the beneficiary."""
        claim = within(session, InsuranceClaim, claim_id, unit)
        claims.record_payment(
            session,
            acting(request, session),
            claim,
            paid_fen=data.paid_fen,
            bank_ref=data.bank_ref,
            at=data.at,
        )
        session.commit()
        return claim_detail(session, platform, claim)

    @post(
        "/{claim_id:int}/reveal",
        sync_to_thread=True,
        operation_id="InsuranceRevealClaim",
        opt={"action": "insurance.claim.reveal"},
        status_code=200,
    )
    def reveal_claim(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        claim_id: RecordId,
        data: JSONBody[RevealRequest],
    ) -> RevealRead:
        """Beneficiary, account or medical notes in clear while the claim is handled (audited)."""
        claim = within(session, InsuranceClaim, claim_id, unit)
        if claim.status in (ClaimStatus.closed, ClaimStatus.withdrawn):
            raise DomainError(
                text("理赔已办结", "The claim is finished"),
                "conflict",
                409,
                [FieldError("status", "finished", claim.status)],
            )
        values = reveal(
            session,
            claim,
            data.fields,
            data.reason,
            request.scope["user"],
            platform.plugins.sensitive_fields,
            claim.unit_path,
        )
        session.commit()
        return RevealRead(id=claim.id, values=values)


class CompensationController(Controller):
    """Compensation cases referred to the competent department."""

    path = "/compensations"
    tags = ["insurance"]

    @get(
        "/",
        sync_to_thread=True,
        operation_id="InsuranceCompensations",
        opt={"action": "insurance.compensation.read"},
    )
    def cases(
        self,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[CompensationRead]:
        """Cases of the subtree, newest first."""
        rows = session.exec(
            select(CompensationCase)
            .where(path_in(CompensationCase.unit_path, unit.path))
            .order_by(col(CompensationCase.id).desc())
            .offset(offset)
            .limit(limit)
        )
        return [shown(platform, row, CompensationRead) for row in rows]

    @post(
        "/",
        sync_to_thread=True,
        operation_id="InsuranceReferCompensation",
        opt={"action": "insurance.compensation.manage"},
        status_code=HTTP_201_CREATED,
    )
    def refer(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[CompensationCreate],
    ) -> CompensationRead:
        """Refer a case to the competent department."""
        if data.incident_id is not None:
            within(session, Incident, data.incident_id, unit)
        case = rewards.refer(
            session,
            acting(request, session),
            unit,
            person_id=data.person_id,
            basis=data.basis,
            competent_dept=data.competent_dept,
            summary=data.summary,
            recommended_fen=data.recommended_fen,
            incident_id=data.incident_id,
        )
        session.commit()
        return shown(platform, case, CompensationRead)

    @post(
        "/{case_id:int}/steps",
        sync_to_thread=True,
        operation_id="InsuranceCompensationStep",
        opt={"action": "insurance.compensation.read"},
        status_code=200,
    )
    def step(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        case_id: RecordId,
        data: JSONBody[CompensationStep],
    ) -> CompensationRead:
        """Record the department's decision or payment, approve the platform's aid, or close."""
        case = within(session, CompensationCase, case_id, unit)
        actor = acting(request, session)
        if data.step == "decision":
            missing = [
                name for name in ("dept", "doc_no", "amount_fen") if getattr(data, name) is None
            ]
            if missing:
                raise DomainError(
                    text(
                        "须记录决定部门、文号和金额",
                        "Record the department, document number and amount",
                    ),
                    "validation_failed",
                    400,
                    [FieldError(name, "missing", "") for name in missing],
                )
            rewards.record_decision(
                session, actor, case, dept=data.dept, doc_no=data.doc_no, amount_fen=data.amount_fen
            )
        elif data.step == "paid_by_dept":
            rewards.paid_by_dept(session, actor, case)
        elif data.step == "approve_aid":
            rewards.approve_platform_aid(
                session,
                actor,
                case,
                amount_fen=data.amount_fen or 0,
                payee_account=data.payee_account,
            )
        else:
            rewards.close_case(session, actor, case)
        session.commit()
        return shown(platform, case, CompensationRead)

    @post(
        "/{case_id:int}/payment",
        sync_to_thread=True,
        operation_id="InsurancePayCompensation",
        opt={"action": "insurance.payment.make"},
        status_code=200,
    )
    def pay(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        case_id: RecordId,
        data: JSONBody[PaymentIn],
    ) -> PaymentRead:
        """The cashier pays the platform's approved aid."""
        case = within(session, CompensationCase, case_id, unit)
        payment = rewards.pay_platform_aid(
            session,
            acting(request, session),
            case,
            method=PaymentMethod(data.method),
            bank_ref=data.bank_ref,
        )
        session.commit()
        return shown(platform, payment, PaymentRead)


class RewardController(Controller):
    """Rewards and per-case subsidies."""

    path = "/rewards"
    tags = ["insurance"]

    @get(
        "/",
        sync_to_thread=True,
        operation_id="InsuranceRewards",
        opt={"action": "insurance.reward.read"},
    )
    def rewards_list(
        self,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[RewardRead]:
        """Rewards of the subtree, newest first."""
        rows = session.exec(
            select(Reward)
            .where(path_in(Reward.unit_path, unit.path))
            .order_by(col(Reward.id).desc())
            .offset(offset)
            .limit(limit)
        )
        return [shown(platform, row, RewardRead) for row in rows]

    @post(
        "/",
        sync_to_thread=True,
        operation_id="InsuranceProposeReward",
        opt={"action": "insurance.reward.propose"},
        status_code=HTTP_201_CREATED,
    )
    def propose(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[RewardCreate],
    ) -> RewardRead:
        """Propose a reward for someone of the subtree."""
        reward = rewards.propose(
            session,
            acting(request, session),
            unit,
            recipient_person_id=data.recipient_person_id,
            kind=data.kind,
            amount_fen=data.amount_fen,
            basis_ref=data.basis_ref,
            citation=data.citation,
            rule_version=data.rule_version,
            payee_account=data.payee_account,
        )
        session.commit()
        return shown(platform, reward, RewardRead)

    @post(
        "/{reward_id:int}/steps",
        sync_to_thread=True,
        operation_id="InsuranceRewardStep",
        opt={"action": "insurance.reward.read"},
        status_code=200,
    )
    def step(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        reward_id: RecordId,
        data: JSONBody[RewardStep],
    ) -> RewardRead:
        """Review, approve (by amount), reject (with a reason) or publish a reward."""
        reward = within(session, Reward, reward_id, unit)
        actor = acting(request, session)
        if data.step == "review":
            rewards.review(session, actor, reward)
        elif data.step == "approve":
            rewards.approve(session, actor, reward)
        elif data.step == "reject":
            rewards.reject(session, actor, reward, data.reason or "")
        else:
            rewards.publish(session, actor, reward)
        session.commit()
        return shown(platform, reward, RewardRead)

    @post(
        "/{reward_id:int}/payment",
        sync_to_thread=True,
        operation_id="InsurancePayReward",
        opt={"action": "insurance.payment.make"},
        status_code=200,
    )
    def pay(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        reward_id: RecordId,
        data: JSONBody[PaymentIn],
    ) -> PaymentRead:
        """The cashier pays an approved reward."""
        reward = within(session, Reward, reward_id, unit)
        payment = rewards.pay_reward(
            session,
            acting(request, session),
            reward,
            method=PaymentMethod(data.method),
            bank_ref=data.bank_ref,
        )
        session.commit()
        return shown(platform, payment, PaymentRead)


COVER_ROUTES = [
    PolicyController,
    IncidentController,
    ClaimController,
    CompensationController,
    RewardController,
]
