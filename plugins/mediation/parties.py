"""Parties to a dispute: their identity, the rights notice they were given, their consent.

A resident ID, when given, is checked (GB 11643) and tells the gender and whether the party
is a minor; a mobile number is normalised. Identity fields are stored encrypted; who sees
them, and how, is ``present.py``'s business.
"""

import re
from dataclasses import dataclass

from sqlmodel import Session, select

from core.accounts.principal import Principal
from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.identity import IdNumberError, normalise_mobile, parse_id_number
from plugins.mediation import clock
from plugins.mediation.models import Dispute, Party
from plugins.mediation.vocab import PRINCIPAL_ROLES, NoticeManner, PartyRole, Status
from plugins.mediation.workflow import require_intake

LANDLINE = re.compile(r"^[0-9][0-9\- ]{6,19}$")
ADULT_AGE = 18


@dataclass(frozen=True)
class PartyInput:
    """A party as given on the intake form or through the API."""

    role: PartyRole
    name: str
    id_no: str | None = None
    phone: str | None = None
    address: str | None = None
    gender: str | None = None
    ethnicity: str | None = None
    is_minor: bool = False
    represents_id: int | None = None
    objects_to_public: bool = False


def _field_error(field: str, rule: str, zh: str, en: str) -> DomainError:
    message = text(zh, en)
    return DomainError(message, "invalid_party", 400, [FieldError(field, rule, message)])


def checked(given: PartyInput, field: str = "parties") -> dict:
    """The party's values to store, with the ID number and phone checked.

    Raises:
        DomainError: an invalid resident ID or phone number, naming the rule.
    """
    values = {
        "role": given.role,
        "name": given.name.strip(),
        "address": given.address,
        "gender": given.gender,
        "ethnicity": given.ethnicity,
        "is_minor": given.is_minor,
        "represents_id": given.represents_id,
        "objects_to_public": given.objects_to_public,
        "id_no": None,
        "phone": None,
    }
    if given.id_no:
        try:
            number = parse_id_number(given.id_no, today=clock.today())
        except IdNumberError as error:
            raise _field_error(
                f"{field}.id_no",
                error.rule,
                f"身份证号无效：{error}",
                f"Invalid ID number: {error}",
            ) from error
        values["id_no"] = number.value
        values["gender"] = "male" if number.male else "female"
        values["is_minor"] = number.age_on(clock.today()) < ADULT_AGE
    if given.phone:
        try:
            values["phone"] = normalise_mobile(given.phone)
        except ValueError:
            if not LANDLINE.match(given.phone.strip()):
                raise _field_error(
                    f"{field}.phone",
                    "format",
                    "电话号码格式不正确",
                    "The phone number is not a mobile or landline number",
                ) from None
            values["phone"] = given.phone.strip()
    return values


def principal_parties(session: Session, dispute: Dispute) -> list[Party]:
    """The applicants and respondents: those whose notice, consent and signature count."""
    return [p for p in parties_of(session, dispute) if p.role in PRINCIPAL_ROLES]


def parties_of(session: Session, dispute: Dispute) -> list[Party]:
    """Every party of the dispute, applicants first."""
    order = {role: index for index, role in enumerate(PartyRole)}
    rows = session.exec(select(Party).where(Party.dispute_id == dispute.id)).all()
    return sorted(rows, key=lambda party: (order[party.role], party.id))


ADDING = Label("添加当事人", "Adding a party")


def add_party_by(
    session: Session, principal: Principal, dispute: Dispute, given: PartyInput
) -> Party:
    """A caller adds a party or an agent while the dispute is being handled."""
    require_intake(session, principal, dispute, ADDING, NOTICE_STATUSES)
    return add_party(session, dispute, given)


def add_party(session: Session, dispute: Dispute, given: PartyInput) -> Party:
    """Add a party (or an agent, who must represent an applicant or a respondent)."""
    values = checked(given, "party")
    if given.role == PartyRole.agent:
        represented = session.get(Party, given.represents_id) if given.represents_id else None
        if (
            represented is None
            or represented.dispute_id != dispute.id
            or represented.role not in PRINCIPAL_ROLES
        ):
            raise _field_error(
                "represents_id",
                "unknown",
                "委托代理人须代理本案的申请人或被申请人",
                "An agent acts for an applicant or respondent of this dispute",
            )
    elif given.represents_id is not None:
        raise _field_error(
            "represents_id", "not_agent", "只有委托代理人代理他人", "Only an agent represents"
        )
    party = Party(dispute_id=dispute.id, unit_path=dispute.unit_path, **values)
    session.add(party)
    session.flush()
    return party


NOTICE = Label("送达权利义务告知书", "Giving the rights notice")
NOTICE_STATUSES = (Status.registered, Status.accepted, Status.in_mediation)


def record_notice(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    party: Party,
    *,
    manner: NoticeManner,
    consented: bool,
    objects_to_public: bool | None,
) -> Party:
    """Record the rights notice (告知书) given to the party, and whether they consent.

    The party was told of the nature, principles and effect of mediation and of their rights
    and duties (2002 rules Art. 30).

    Before the committee accepts a case whoever may register disputes does this; afterwards,
    its mediators or the director.
    """
    require_intake(session, principal, dispute, NOTICE, NOTICE_STATUSES)
    if party.refused_at is not None:
        raise _field_error(
            "party_id", "refused", "该当事人已拒绝调解", "This party has refused mediation"
        )
    now = clock.now()
    party.informed_at = party.informed_at or now
    party.informed_manner = manner
    if consented and party.consented_at is None:
        party.consented_at = now
    if objects_to_public is not None:
        party.objects_to_public = objects_to_public
    session.add(party)
    session.flush()
    return party


def check_ready_to_accept(session: Session, dispute: Dispute) -> None:
    """Check what acceptance needs of the parties.

    Every applicant and respondent informed, nobody refusing, and the applicant's consent.

    Raises:
        DomainError: 409 ``precondition`` naming what is missing, one error per party.
    """
    errors = []
    parties = principal_parties(session, dispute)
    for index, party in enumerate(parties):
        if party.informed_at is None:
            errors.append(
                FieldError(
                    f"parties.{index}",
                    "not_informed",
                    text("尚未送达权利义务告知书", "has not been given the rights notice"),
                )
            )
        if party.refused_at is not None:
            errors.append(
                FieldError(
                    f"parties.{index}",
                    "refused",
                    text("已明确拒绝调解：应不予受理", "clearly refused: do not accept"),
                )
            )
    if not any(p.role == PartyRole.applicant and p.consented_at for p in parties):
        errors.append(
            FieldError(
                "parties",
                "no_consent",
                text("申请人尚未同意调解", "the applicant has not consented to mediation"),
            )
        )
    if errors:
        raise DomainError(
            text(
                "受理前须告知当事人权利义务并取得申请人同意",
                "Inform the parties and get the applicant's consent before accepting",
            ),
            "precondition",
            409,
            errors,
        )
