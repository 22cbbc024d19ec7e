"""One of each mediation record at a unit, written directly, for core's route-generated
security tests (authorization matrix, privacy scan), which fill every path parameter of the
plugin's routes with a record that exists."""

from datetime import date

from sqlmodel import Session

from core.files.models import StoredFile
from core.units.models import Unit
from plugins.mediation.models import (
    Agreement,
    AgreementTerm,
    Assignment,
    Attachment,
    Committee,
    Dispute,
    Lead,
    Mediator,
    Party,
)
from plugins.mediation.vocab import (
    AgreementForm,
    Appointment,
    AssignmentHow,
    AttachmentPurpose,
    CommitteeKind,
    LeadKind,
    PartyRole,
    Source,
)

#: The path parameters of the plugin's routes, each naming one kind of record.
PARAMETERS = (
    "committee_id",
    "mediator_id",
    "dispute_id",
    "party_id",
    "assignment_id",
    "term_id",
    "attachment_id",
    "lead_id",
)


def seed(
    session: Session,
    unit: Unit,
    person_id: int,
    *,
    applicant: tuple[str, str | None, str | None] = ("申请人", None, None),
    respondent: tuple[str, str | None, str | None] = ("被申请人", None, None),
) -> dict[str, int]:
    """A committee, a mediator (``person_id``), a registered dispute with two parties (name,
    ID number, phone), an assignment, a drawn-up agreement with a term, a file and a lead.

    Returns the id of each, by path parameter name.
    """
    committee = Committee(
        unit_id=unit.id,
        unit_path=unit.path,
        kind=CommitteeKind.residential,
        name=f"{unit.name}人民调解委员会",
        abbreviation=f"测{unit.id}",
    )
    session.add(committee)
    session.flush()
    mediator = Mediator(
        committee_id=committee.id,
        person_id=person_id,
        unit_id=unit.id,
        unit_path=unit.path,
        appointment=Appointment.engaged,
        appointed_on=date(2024, 1, 1),
    )
    dispute = Dispute(
        committee_id=committee.id,
        unit_id=unit.id,
        unit_path=unit.path,
        case_no=f"（2024）测{unit.id}人调字第1号",
        year=2024,
        sequence=1,
        source=Source.application,
        category="neighbour",
        summary="测试纠纷",
    )
    session.add_all([mediator, dispute])
    session.flush()
    parties = [
        Party(
            dispute_id=dispute.id,
            unit_path=unit.path,
            role=role,
            name=name,
            id_no=id_no,
            phone=phone,
            address=f"{unit.name}某街1号" if id_no else None,
        )
        for role, (name, id_no, phone) in (
            (PartyRole.applicant, applicant),
            (PartyRole.respondent, respondent),
        )
    ]
    session.add_all(parties)
    session.flush()
    stored = StoredFile(
        name="evidence.png",
        media_type="image/png",
        content=b"\x89PNG\r\n\x1a\n",
        size=8,
        unit_path=unit.path,
    )
    session.add(stored)
    session.flush()
    assignment = Assignment(
        dispute_id=dispute.id,
        mediator_id=mediator.id,
        unit_path=unit.path,
        how=AssignmentHow.designated,
    )
    agreement = Agreement(
        dispute_id=dispute.id,
        unit_path=unit.path,
        form=AgreementForm.written,
        facts="事实",
        content="内容",
        agreed_on=date(2024, 2, 1),
    )
    attachment = Attachment(
        dispute_id=dispute.id,
        unit_path=unit.path,
        file_id=stored.id,
        purpose=AttachmentPurpose.evidence,
    )
    lead = Lead(unit_id=unit.id, unit_path=unit.path, kind=LeadKind.lead, place="某处")
    session.add_all([assignment, agreement, attachment, lead])
    session.flush()
    term = AgreementTerm(
        agreement_id=agreement.id,
        dispute_id=dispute.id,
        unit_path=unit.path,
        obligor_party_id=parties[1].id,
        content="赔偿",
    )
    session.add(term)
    session.flush()
    return {
        "committee_id": committee.id,
        "mediator_id": mediator.id,
        "dispute_id": dispute.id,
        "party_id": parties[0].id,
        "assignment_id": assignment.id,
        "term_id": term.id,
        "attachment_id": attachment.id,
        "lead_id": lead.id,
    }
