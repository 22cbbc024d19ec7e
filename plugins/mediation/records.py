"""What the mediators record while mediating: sessions, investigations, evidence, files.

Sessions are private unless made public, which needs both confirmations of the 2002 rules
(Art. 29): no party objects, and no privacy or trade secret is involved. Uploaded files are
checked by content (PDF, JPEG or PNG only, size-limited), stored as core ``StoredFile`` rows
at the dispute's unit path, and referenced from an :class:`Attachment`.
"""

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from core.accounts.principal import Principal
from core.contributions import Label
from core.files.models import StoredFile
from plugins.mediation import clock
from plugins.mediation.access import own_mediator_ids
from plugins.mediation.cases import refused
from plugins.mediation.models import (
    Assignment,
    Attachment,
    Dispute,
    Evidence,
    Hearing,
    Investigation,
    Party,
)
from plugins.mediation.vocab import OPEN_STATUSES, AttachmentPurpose, Status
from plugins.mediation.workflow import CASE_HANDLERS, CLERK, MEDIATOR, require

MAX_FILE_BYTES = 10 * 1024 * 1024
#: Accepted uploads, recognised by their first bytes, whatever their name says.
SIGNATURES = {
    b"%PDF-": ("application/pdf", ".pdf"),
    b"\xff\xd8\xff": ("image/jpeg", ".jpg"),
    b"\x89PNG\r\n\x1a\n": ("image/png", ".png"),
}
RECORDING = Label("记录调解", "Recording the mediation")
UPLOADING = Label("上传材料", "Uploading a file")
MEDIATING = (Status.in_mediation,)


def sniff(content: bytes) -> tuple[str, str] | None:
    """The media type and extension of an accepted file, or None."""
    for magic, kind in SIGNATURES.items():
        if content.startswith(magic):
            return kind
    return None


def store_upload(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    *,
    name: str,
    content: bytes,
    purpose: AttachmentPurpose,
    description: str | None,
) -> Attachment:
    """Check and store a file of the dispute.

    Its mediators, the director or the clerk upload, at any time before archiving.

    Raises:
        DomainError: empty, too large, or not a PDF, JPEG or PNG by its content (400).
    """
    require(
        session,
        principal,
        dispute,
        UPLOADING,
        (*CASE_HANDLERS, CLERK),
        [s for s in Status if s != Status.archived],
    )
    if not content:
        raise refused("file", "empty", "文件为空", "The file is empty")
    if len(content) > MAX_FILE_BYTES:
        raise refused(
            "file",
            "too_large",
            f"文件不能超过 {MAX_FILE_BYTES // 1024 // 1024} MB",
            f"Files are limited to {MAX_FILE_BYTES // 1024 // 1024} MB",
        )
    kind = sniff(content)
    if kind is None:
        raise refused(
            "file",
            "file_type",
            "只接受 PDF、JPEG 或 PNG 文件",
            "Only PDF, JPEG or PNG files are accepted",
        )
    media_type, extension = kind
    stem = "".join(c for c in name.rsplit(".", 1)[0] if c.isalnum() or c in "-_ ")[:80] or "file"
    stored = StoredFile(
        name=f"{stem}{extension}",
        media_type=media_type,
        content=content,
        size=len(content),
        unit_path=dispute.unit_path,
        created_by_id=principal.user_id,
    )
    session.add(stored)
    session.flush()
    attachment = Attachment(
        dispute_id=dispute.id,
        unit_path=dispute.unit_path,
        file_id=stored.id,
        purpose=purpose,
        description=description,
        uploaded_by_user_id=principal.user_id,
        uploaded_at=clock.now(),
    )
    session.add(attachment)
    session.flush()
    return attachment


def attachment_of(session: Session, dispute: Dispute, attachment_id: int | None, field: str):
    """The dispute's attachment ``attachment_id`` (None passes through)."""
    if attachment_id is None:
        return None
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.dispute_id != dispute.id:
        raise refused(field, "unknown", "材料不属于本案", "Not a file of this dispute")
    return attachment


@dataclass(frozen=True)
class HearingInput:
    """A session as recorded."""

    held_at: datetime
    place: str
    summary: str
    attendee_party_ids: list[int]
    invited: str | None = None
    public: bool = False
    no_party_objects: bool = False
    no_secret_involved: bool = False
    simple_mode: bool = False
    signed_scan_id: int | None = None


def record_hearing(
    session: Session, principal: Principal, dispute: Dispute, given: HearingInput
) -> Hearing:
    """Record a mediation session by one of the case's mediators.

    Public only with both confirmations, and never when a party has said it objects.
    """
    require(session, principal, dispute, RECORDING, (MEDIATOR,), MEDIATING)
    if given.held_at > clock.now():
        raise refused("held_at", "future", "调解时间不能晚于现在", "The session is in the future")
    parties = {
        p.id: p for p in session.exec(select(Party).where(Party.dispute_id == dispute.id)).all()
    }
    unknown = [pid for pid in given.attendee_party_ids if pid not in parties]
    if unknown:
        raise refused(
            "attendee_party_ids",
            "unknown",
            "出席人须为本案当事人",
            "Attendees are this case's parties",
        )
    if given.public:
        objecting = any(p.objects_to_public for p in parties.values())
        if objecting or not (given.no_party_objects and given.no_secret_involved):
            raise refused(
                "public",
                "private_required",
                "涉及当事人隐私、商业秘密或当事人表示反对的，不得公开调解",
                "A session is public only if no party objects and no privacy or trade secret "
                "is involved",
                409,
            )
    scan = attachment_of(session, dispute, given.signed_scan_id, "signed_scan_id")
    mine = set(own_mediator_ids(session, principal))
    on_case = session.exec(
        select(Assignment.mediator_id).where(Assignment.dispute_id == dispute.id)
    ).all()
    hearing = Hearing(
        dispute_id=dispute.id,
        unit_path=dispute.unit_path,
        held_at=given.held_at,
        place=given.place,
        mediator_ids=sorted(mine & set(on_case)),
        attendee_party_ids=sorted(given.attendee_party_ids),
        invited=given.invited,
        public=given.public,
        no_party_objects=given.no_party_objects,
        no_secret_involved=given.no_secret_involved,
        simple_mode=given.simple_mode,
        summary=given.summary,
        signed_scan_id=scan.id if scan else None,
        recorded_by_user_id=principal.user_id,
        recorded_at=clock.now(),
    )
    session.add(hearing)
    session.flush()
    return hearing


def record_investigation(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    *,
    conducted_on: date,
    place: str | None,
    findings: str,
) -> Investigation:
    """Record an investigation (调查记录) by one of the case's mediators or the director."""
    require(
        session,
        principal,
        dispute,
        RECORDING,
        CASE_HANDLERS,
        (Status.accepted, Status.in_mediation),
    )
    if conducted_on > clock.today():
        raise refused("conducted_on", "future", "日期不能晚于今天", "The date is in the future")
    investigation = Investigation(
        dispute_id=dispute.id,
        unit_path=dispute.unit_path,
        conducted_on=conducted_on,
        place=place,
        findings=findings,
        recorded_by_user_id=principal.user_id,
        recorded_at=clock.now(),
    )
    session.add(investigation)
    session.flush()
    return investigation


def record_evidence(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    *,
    description: str,
    source: str,
    collected_on: date,
    investigation_id: int | None,
    attachment_id: int | None,
) -> Evidence:
    """Record a piece of evidence, with where it came from and its file."""
    require(session, principal, dispute, RECORDING, CASE_HANDLERS, OPEN_STATUSES)
    if collected_on > clock.today():
        raise refused("collected_on", "future", "日期不能晚于今天", "The date is in the future")
    if investigation_id is not None:
        found = session.get(Investigation, investigation_id)
        if found is None or found.dispute_id != dispute.id:
            raise refused(
                "investigation_id", "unknown", "调查记录不属于本案", "Not this case's investigation"
            )
    attachment = attachment_of(session, dispute, attachment_id, "attachment_id")
    evidence = Evidence(
        dispute_id=dispute.id,
        unit_path=dispute.unit_path,
        investigation_id=investigation_id,
        attachment_id=attachment.id if attachment else None,
        description=description,
        source=source,
        collected_on=collected_on,
        collected_by_user_id=principal.user_id,
    )
    session.add(evidence)
    session.flush()
    return evidence
