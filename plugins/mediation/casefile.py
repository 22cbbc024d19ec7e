"""The case file (卷宗): its checklist, and archiving only when every required paper is in.

Which documents a file holds, and which of them are required, is local configuration
(``case_file``); a document may be required always, or only when the dispute ended in a
written or an oral agreement. The clerk records each document present, with its pages and
optionally its scanned file; archiving is refused while a required one is missing.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from core.accounts.principal import Principal
from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from plugins.mediation import clock
from plugins.mediation.cases import refused
from plugins.mediation.models import CaseFileItem, Dispute
from plugins.mediation.records import attachment_of
from plugins.mediation.settings import Config, Document, config_at
from plugins.mediation.vocab import Outcome, Status
from plugins.mediation.workflow import CASE_HANDLERS, CLERK, authorise, move, require

KEEPING = Label("整理卷宗", "Keeping the case file")


@dataclass(frozen=True)
class ChecklistRow:
    """One document of a dispute's checklist and where it stands."""

    document: Document
    required: bool
    item: CaseFileItem | None

    @property
    def present(self) -> bool:
        """Whether the document is recorded as in the file."""
        return self.item is not None and self.item.present


def is_required(document: Document, outcome: str | None) -> bool:
    """Whether ``document`` must be in the file of a dispute that ended with ``outcome``."""
    if document.required == "required":
        return True
    if document.required == "agreement_written":
        return outcome == Outcome.agreement_written
    if document.required == "agreement_oral":
        return outcome == Outcome.agreement_oral
    return False


def checklist(
    session: Session, dispute: Dispute, config: Config | None = None
) -> list[ChecklistRow]:
    """The dispute's checklist under the configuration in force for it."""
    config = config or config_at(session, dispute.unit_path, clock.today())
    items = {
        item.document: item
        for item in session.exec(
            select(CaseFileItem).where(CaseFileItem.dispute_id == dispute.id)
        ).all()
    }
    return [
        ChecklistRow(document, is_required(document, dispute.outcome), items.get(document.code))
        for document in config.case_file
    ]


def missing_required(session: Session, dispute: Dispute) -> list[ChecklistRow]:
    """The required documents not yet in the file."""
    return [row for row in checklist(session, dispute) if row.required and not row.present]


def record_item(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    *,
    document: str,
    present: bool,
    pages: int | None,
    attachment_id: int | None,
) -> CaseFileItem:
    """Record a document as in the file (or taken out), by the clerk or the case's handlers."""
    require(
        session,
        principal,
        dispute,
        KEEPING,
        (CLERK, *CASE_HANDLERS),
        [s for s in Status if s != Status.archived],
    )
    config = config_at(session, dispute.unit_path, clock.today())
    if all(d.code != document for d in config.case_file):
        raise refused(
            "document", "unknown", f"卷宗目录中没有「{document}」", f"No document {document!r}"
        )
    attachment = attachment_of(session, dispute, attachment_id, "attachment_id")
    item = session.exec(
        select(CaseFileItem).where(
            CaseFileItem.dispute_id == dispute.id, CaseFileItem.document == document
        )
    ).first() or CaseFileItem(dispute_id=dispute.id, unit_path=dispute.unit_path, document=document)
    item.present = present
    item.pages = pages
    item.attachment_id = attachment.id if attachment else None
    item.recorded_by_user_id = principal.user_id
    item.recorded_at = clock.now()
    session.add(item)
    session.flush()
    return item


def archive(session: Session, principal: Principal, dispute: Dispute) -> Dispute:
    """Archive a closed dispute whose file holds every required document.

    Raises:
        DomainError: 409 ``casefile_incomplete`` naming each missing document.
    """
    authorise(session, principal, dispute, "archive")
    missing = missing_required(session, dispute)
    if missing:
        raise DomainError(
            text(
                "卷宗缺少必备材料，不能归档：" + "、".join(r.document.zh for r in missing),
                "The case file lacks required documents: "
                + ", ".join(r.document.en for r in missing),
            ),
            "casefile_incomplete",
            409,
            [
                FieldError(
                    f"case_file.{row.document.code}",
                    "missing",
                    text(f"缺少{row.document.zh}", f"{row.document.en} is missing"),
                )
                for row in missing
            ],
        )
    dispute.archived_at = clock.now()
    move(session, dispute, "archive", by_user_id=principal.user_id)
    return dispute


def retention_until(session: Session, dispute: Dispute):
    """The day the archived file may be destroyed (None: kept permanently or not archived)."""
    if dispute.archived_at is None:
        return None
    config = config_at(session, dispute.unit_path, clock.local_day(dispute.archived_at))
    years = config.retention_years.get(dispute.retention_class or config.default_retention_class)
    if not years:
        return None
    archived = clock.local_day(dispute.archived_at)
    return archived + timedelta(days=round(365.25 * years))
