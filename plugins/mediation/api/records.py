"""API: the records of a case.

Files, sessions, investigations, evidence, the agreement and its performance, follow-ups,
judicial confirmation, the case file and the printed documents.
"""

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody
from sqlmodel import Session

from core.accounts.principal import Principal
from core.audit.recorder import record
from core.errors import DomainError, FieldError
from core.files.models import StoredFile
from core.i18n import text
from core.units.models import Unit
from core.web.deps import SessionDep, UnitDep
from core.web.forms import parse_form
from plugins.mediation import agreements, casefile, clock, documents, records
from plugins.mediation.access import child_of, sees_details
from plugins.mediation.api.common import after_step, caller, dispute_at
from plugins.mediation.api.disputes import DisputeView
from plugins.mediation.models import AgreementTerm, Attachment, Committee, Dispute, Party
from plugins.mediation.parties import parties_of
from plugins.mediation.permissions import (
    CASE_ARCHIVE,
    CASE_DECIDE,
    CASE_MEDIATE,
    CASE_READ,
    CASE_REGISTER,
    DOCUMENT_EXPORT,
    PARTY_REVEAL,
)
from plugins.mediation.schemas import (
    AgreementIn,
    CaseFileItemIn,
    ConfirmationIn,
    DefaultIn,
    DocumentIn,
    EvidenceIn,
    FollowUpIn,
    HearingIn,
    InvestigationIn,
    NoteIn,
    RulingIn,
    SignatureIn,
    TermEventIn,
    UploadMeta,
)
from plugins.mediation.settings import config_at
from plugins.mediation.vocab import AttachmentPurpose, Status

Step = dict(sync_to_thread=True, status_code=200)
UPLOAD_LIMIT = records.MAX_FILE_BYTES + 1024 * 1024


@dataclass
class Upload:
    """A file sent as ``multipart/form-data``: ``file``, ``purpose``, ``description``."""

    file: UploadFile
    purpose: str = AttachmentPurpose.other.value
    description: str | None = None


def file_response(name: str, media_type: str, content: bytes) -> Response:
    """A download with a UTF-8 file name, never cached."""
    return Response(
        content,
        status_code=200,
        media_type=media_type,
        headers={
            "content-disposition": f"attachment; filename=\"file\"; filename*=UTF-8''{quote(name)}",
            "cache-control": "no-store",
        },
    )


def require_details(session: Session, principal: Principal, dispute: Dispute) -> None:
    """Only the case's mediators and those who see every case in reach get its files."""
    if not sees_details(session, principal, dispute):
        raise DomainError(
            text(
                "只有本案承办调解员和调委会主任、文书、指导人员可以查看本案材料",
                "Only the case's mediators, the director, clerk and supervisor see its files",
            ),
            "not_assigned",
            403,
            [FieldError("dispute_id", "not_assigned", "")],
        )


def render_document(
    session: Session, principal: Principal, dispute: Dispute, data: DocumentIn
) -> Response:
    """Print the agreement or a party's rights notice; the export is audited with its reason."""
    require_details(session, principal, dispute)
    committee = session.get(Committee, dispute.committee_id)
    unit = session.get(Unit, dispute.unit_id)
    config = config_at(session, dispute.unit_path, clock.today())
    head = documents.Letterhead(
        committee.name, unit.name, clock.today(), config.confirmation_window_days
    )
    if data.kind == "agreement":
        agreement = agreements.agreement_of(session, dispute)
        if agreement is None:
            raise DomainError(
                text("尚未制作调解协议", "No agreement drawn up"),
                "missing",
                409,
                [FieldError("kind", "missing", text("尚无协议", "no agreement"))],
            )
        content = documents.agreement_pdf(
            head,
            dispute,
            agreement,
            parties_of(session, dispute),
            agreements.terms_of(session, agreement),
            clear=principal.can(PARTY_REVEAL, dispute.unit_path),
        )
        name, object_id = f"调解协议书-{dispute.case_no}.pdf", agreement.id
    else:
        if data.party_id is None:
            raise DomainError(
                text("请选择当事人", "Choose the party"),
                "invalid",
                400,
                [FieldError("party_id", "missing", text("必填", "is required"))],
            )
        party = child_of(session, Party, data.party_id, dispute)
        content = documents.rights_notice_pdf(head, dispute, party)
        name, object_id = f"权利义务告知书-{dispute.case_no}-{party.id}.pdf", party.id
    record(
        session,
        "export",
        action=DOCUMENT_EXPORT,
        object_type=f"mediation_{data.kind}",
        object_id=object_id,
        unit_path=dispute.unit_path,
        reason=data.reason,
        after={"kind": data.kind, "dispute_id": dispute.id},
    )
    session.commit()
    return file_response(name, "application/pdf", content)


class RecordController(Controller):
    """Records of one dispute."""

    path = "/disputes/{dispute_id:int}"

    # -- files -----------------------------------------------------------------------------

    @post(
        "/attachments",
        sync_to_thread=True,
        operation_id="UploadAttachment",
        opt={"action": CASE_REGISTER},
        status_code=201,
        request_max_body_size=UPLOAD_LIMIT,
    )
    def upload(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: Annotated[Upload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> DisputeView:
        """Upload a PDF, JPEG or PNG of the case (evidence, a signed record, a receipt …)."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        if not isinstance(data.file, UploadFile):
            message = text("请选择要上传的文件", "Choose a file to upload")
            raise DomainError(message, "invalid", 400, [FieldError("file", "missing", message)])
        meta, errors = parse_form(
            UploadMeta, {"purpose": data.purpose, "description": data.description or ""}
        )
        if meta is None:
            message = text("提交的数据有误", "The submitted data is invalid")
            raise DomainError(message, "validation_failed", 400, errors)
        data.file.file.seek(0)
        records.store_upload(
            session,
            principal,
            dispute,
            name=data.file.filename or "file",
            content=data.file.file.read(records.MAX_FILE_BYTES + 1),
            purpose=meta.purpose,
            description=meta.description,
        )
        return after_step(session, principal, dispute)

    @get(
        "/attachments/{attachment_id:int}",
        sync_to_thread=True,
        operation_id="DownloadAttachment",
        opt={"action": CASE_READ},
    )
    def download(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        attachment_id: FromPath[int],
    ) -> Response:
        """A file of the case, for its mediators and those who see every case; audited."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        attachment = child_of(session, Attachment, attachment_id, dispute)
        require_details(session, principal, dispute)
        stored = session.get(StoredFile, attachment.file_id)
        record(
            session,
            "read",
            object_type="mediation_attachment",
            object_id=attachment.id,
            unit_path=dispute.unit_path,
        )
        session.commit()
        return file_response(stored.name, stored.media_type, stored.content)

    # -- sessions, investigations, evidence -------------------------------------------------------

    @post("/sessions", operation_id="RecordSession", opt={"action": CASE_MEDIATE}, **Step)
    def hearing(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[HearingIn],
    ) -> DisputeView:
        """Record a mediation session (private unless both confirmations are given)."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        records.record_hearing(
            session, principal, dispute, records.HearingInput(**data.model_dump())
        )
        return after_step(session, principal, dispute)

    @post(
        "/investigations", operation_id="RecordInvestigation", opt={"action": CASE_MEDIATE}, **Step
    )
    def investigation(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[InvestigationIn],
    ) -> DisputeView:
        """Record an investigation."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        records.record_investigation(session, principal, dispute, **data.model_dump())
        return after_step(session, principal, dispute)

    @post("/evidence", operation_id="RecordEvidence", opt={"action": CASE_MEDIATE}, **Step)
    def evidence(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[EvidenceIn],
    ) -> DisputeView:
        """Record a piece of evidence."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        records.record_evidence(session, principal, dispute, **data.model_dump())
        return after_step(session, principal, dispute)

    # -- the agreement ----------------------------------------------------------------------

    @put("/agreement", operation_id="DrawUpAgreement", opt={"action": CASE_MEDIATE}, **Step)
    def draw_up(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[AgreementIn],
    ) -> DisputeView:
        """Draw up the written agreement with its terms, or enter an oral one."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        agreements.draw_up(
            session,
            principal,
            dispute,
            form=data.form,
            facts=data.facts,
            content=data.content,
            agreed_on=data.agreed_on,
            terms=[agreements.TermInput(**term.model_dump()) for term in data.terms],
        )
        return after_step(session, principal, dispute)

    @post(
        "/agreement/signatures",
        operation_id="RecordSignature",
        opt={"action": CASE_MEDIATE},
        **Step,
    )
    def signature(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[SignatureIn],
    ) -> DisputeView:
        """A party signed, sealed or fingerprinted the written agreement."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        party = child_of(session, Party, data.party_id, dispute)
        agreements.sign(session, principal, dispute, party, data.manner, data.signed_on)
        return after_step(session, principal, dispute)

    @post(
        "/agreement/mediator-signature",
        operation_id="RecordMediatorSignature",
        opt={"action": CASE_MEDIATE},
        **Step,
    )
    def mediator_signature(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[NoteIn],
    ) -> DisputeView:
        """The caller, a mediator of the case, signed the agreement."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        agreements.mediator_sign(session, principal, dispute)
        return after_step(session, principal, dispute)

    @post("/agreement/seal", operation_id="SealAgreement", opt={"action": CASE_DECIDE}, **Step)
    def seal(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[NoteIn],
    ) -> DisputeView:
        """The committee's seal is on the agreement."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        agreements.seal(session, principal, dispute)
        return after_step(session, principal, dispute)

    @post(
        "/agreement-reached",
        operation_id="RecordAgreementReached",
        opt={"action": CASE_MEDIATE},
        **Step,
    )
    def agreement_reached(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[NoteIn],
    ) -> DisputeView:
        """Conclude on the agreement in effect (then performance, if anything is to perform)."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        agreements.reach_agreement(session, principal, dispute)
        return after_step(session, principal, dispute)

    # -- performance and after ------------------------------------------------------------------

    @post(
        "/terms/{term_id:int}/events",
        operation_id="RecordTermEvent",
        opt={"action": CASE_MEDIATE},
        **Step,
    )
    def term_event(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        term_id: FromPath[int],
        data: JSONBody[TermEventIn],
    ) -> DisputeView:
        """A term performed, or its obligor urged after the due day."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        term = child_of(session, AgreementTerm, term_id, dispute)
        proof = records.attachment_of(session, dispute, data.proof_id, "proof_id")
        agreements.record_term_event(
            session,
            principal,
            dispute,
            term,
            event=data.event,
            on=data.on,
            amount_fen=data.amount_fen,
            proof=proof,
            note=data.note,
        )
        return after_step(session, principal, dispute)

    @post("/performed", operation_id="RecordPerformed", opt={"action": CASE_MEDIATE}, **Step)
    def performed(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[NoteIn],
    ) -> DisputeView:
        """Everything performed: on the spot (after the agreement) or term by term."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        if dispute.status == Status.agreement_reached:
            agreements.perform_at_once(session, principal, dispute)
        else:
            agreements.complete(session, principal, dispute)
        return after_step(session, principal, dispute)

    @post("/default", operation_id="RecordDefault", opt={"action": CASE_MEDIATE}, **Step)
    def default(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[DefaultIn],
    ) -> DisputeView:
        """A term is overdue although the obligor was urged."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        term = child_of(session, AgreementTerm, data.term_id, dispute)
        agreements.default(session, principal, dispute, term, data.note)
        return after_step(session, principal, dispute)

    @post("/follow-ups", operation_id="RecordFollowUp", opt={"action": CASE_MEDIATE}, **Step)
    def follow_up(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[FollowUpIn],
    ) -> DisputeView:
        """A follow-up visit (回访)."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        agreements.follow_up(session, principal, dispute, **data.model_dump())
        return after_step(session, principal, dispute)

    @post(
        "/confirmation", operation_id="ApplyForConfirmation", opt={"action": CASE_MEDIATE}, **Step
    )
    def confirmation(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[ConfirmationIn],
    ) -> DisputeView:
        """The parties applied jointly for 司法确认 (within the window only)."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        agreements.apply_for_confirmation(
            session, principal, dispute, applied_on=data.applied_on, court=data.court
        )
        return after_step(session, principal, dispute)

    @post(
        "/confirmation/ruling",
        operation_id="RecordConfirmationRuling",
        opt={"action": CASE_MEDIATE},
        **Step,
    )
    def ruling(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[RulingIn],
    ) -> DisputeView:
        """The court ruled the agreement valid or rejected it."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        agreements.record_ruling(session, principal, dispute, **data.model_dump())
        return after_step(session, principal, dispute)

    # -- the case file ------------------------------------------------------------------------

    @put("/case-file", operation_id="RecordCaseFileItem", opt={"action": CASE_ARCHIVE}, **Step)
    def case_file_item(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[CaseFileItemIn],
    ) -> DisputeView:
        """A document of the checklist is in the file (or taken out)."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        casefile.record_item(session, principal, dispute, **data.model_dump())
        return after_step(session, principal, dispute)

    @post("/archive", operation_id="ArchiveDispute", opt={"action": CASE_ARCHIVE}, **Step)
    def archive(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[NoteIn],
    ) -> DisputeView:
        """Archive a closed dispute whose file holds every required document."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        casefile.archive(session, principal, dispute)
        return after_step(session, principal, dispute)

    @post("/documents", operation_id="PrintDocument", opt={"action": DOCUMENT_EXPORT}, **Step)
    def document(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        dispute_id: FromPath[int],
        data: JSONBody[DocumentIn],
    ) -> Response:
        """The 调解协议书 or a party's 权利义务告知书 as PDF (the export is audited)."""
        principal = caller(request)
        dispute = dispute_at(session, unit, dispute_id)
        return render_document(session, principal, dispute, data)


ROUTES = [RecordController]
