"""The insurance plugin's tables, created by its own migration branch (label ``insurance``).

Money is integer fen (分) in ``BigInteger`` columns, never floating point. Every record held
by a unit carries the unit's materialised path (``unit_path``), so scoping is one index range
and unit moves re-path it with everything else. Personal data (bank accounts, beneficiaries,
medical notes, donors' identities) is ``Encrypted`` at rest and declared sensitive.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field, Relationship, SQLModel

from core.db import UTCDateTime
from core.security.fields import Encrypted
from core.units.models import PATH_TYPE, utcnow

MONEY = sa.BigInteger


# -- configuration ---------------------------------------------------------------------------


class InsuranceSetting(SQLModel, table=True):
    """A local rule or threshold at a unit from ``valid_from`` on (never updated in place)."""

    __tablename__ = "insurance_setting"
    __table_args__ = (sa.UniqueConstraint("unit_id", "key", "valid_from"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    key: str = Field(max_length=64, index=True)
    value: dict | list | int | str | bool | None = Field(default=None, sa_type=sa.JSON)
    valid_from: date
    reason: str | None = Field(default=None, max_length=300)
    set_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class RateStandard(SQLModel, table=True):
    """A standard for one expense type at a unit over a period (标准).

    Either a cap per line, or a fixed amount (``fixed``: 误工补贴 paid at the standard,
    without a receipt).
    """

    __tablename__ = "insurance_rate"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    expense_type: str = Field(max_length=24)
    amount_fen: int = Field(sa_type=MONEY, ge=0)
    fixed: bool = False
    valid_from: date
    valid_to: date | None = None
    set_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    set_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# -- the ledger ------------------------------------------------------------------------------


class LedgerAccount(SQLModel, table=True):
    """An account of the double-entry ledger, held by a unit (``code`` names what it tracks)."""

    __tablename__ = "insurance_account"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=80, unique=True)
    kind: str = Field(max_length=16, index=True)
    name: str = Field(max_length=200)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    source_id: int | None = Field(default=None, foreign_key="insurance_funding_source.id")
    budget_lineage_id: int | None = Field(default=None, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JournalEntry(SQLModel, table=True):
    """A balanced journal entry; immutable once written, corrected only by a reversal."""

    __tablename__ = "insurance_journal_entry"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    kind: str = Field(max_length=24)
    memo: str = Field(max_length=300)
    doc_type: str | None = Field(default=None, max_length=24)
    doc_id: int | None = None
    reverses_id: int | None = Field(
        default=None, foreign_key="insurance_journal_entry.id", unique=True
    )
    posted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    posted_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    address: str | None = Field(default=None, max_length=64)

    postings: list["Posting"] = Relationship(
        sa_relationship_kwargs={"lazy": "selectin", "order_by": "Posting.id"}
    )


class Posting(SQLModel, table=True):
    """One line of an entry: ``amount_fen`` > 0 debits the account, < 0 credits it."""

    __tablename__ = "insurance_posting"
    __table_args__ = (sa.CheckConstraint("amount_fen <> 0", name="nonzero"),)

    id: int | None = Field(default=None, primary_key=True)
    entry_id: int | None = Field(default=None, foreign_key="insurance_journal_entry.id", index=True)
    account_id: int = Field(foreign_key="insurance_account.id", index=True)
    amount_fen: int = Field(sa_type=MONEY)


# -- approvals -------------------------------------------------------------------------------


class Approval(SQLModel, table=True):
    """One decision on a document: who, when, from where, at which step, and why.

    ``party_user_id`` / ``party_person_id`` copy the document's claimant or recipient, so the
    segregation-of-duties report needs no per-document join.
    """

    __tablename__ = "insurance_approval"
    __table_args__ = (sa.Index("ix_insurance_approval_subject", "subject_type", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(max_length=24)
    subject_id: int
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    step: str = Field(max_length=32)
    decision: str = Field(max_length=16)  # approve, return, reject, record
    by_user_id: int = Field(foreign_key="user_account.id", index=True)
    by_username: str = Field(max_length=64)
    by_person_id: int | None = Field(default=None, foreign_key="person.id")
    acting_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    address: str | None = Field(default=None, max_length=64)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    amount_fen: int | None = Field(default=None, sa_type=MONEY)
    reason: str | None = Field(default=None, max_length=500)
    note: str | None = Field(default=None, max_length=500)
    party_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    party_person_id: int | None = Field(default=None, foreign_key="person.id")


# -- funding and budgets ---------------------------------------------------------------------


class FundingSource(SQLModel, table=True):
    """Money received: a government allocation, a donation or a foundation grant.

    A donation carries its restriction and its legal receipt.
    """

    __tablename__ = "insurance_funding_source"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    kind: str = Field(max_length=16)
    name: str = Field(max_length=120)
    donor_name: str | None = Field(default=None, sa_type=Encrypted())
    donor_public: bool = False  # the donor agreed to be named in the public disclosure
    restriction_categories: list[str] | None = Field(default=None, sa_type=sa.JSON)
    restriction_until: date | None = None
    purpose: str | None = Field(default=None, max_length=300)  # the use plan
    receipt_no: str | None = Field(default=None, max_length=40, unique=True)
    receipted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_on: date
    amount_fen: int = Field(sa_type=MONEY, gt=0)
    bank_account: str | None = Field(default=None, sa_type=Encrypted())
    status: str = Field(default="received", max_length=16)
    created_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class DonorQuery(SQLModel, table=True):
    """A donor's question about the use of their gift: to be answered within the set days."""

    __tablename__ = "insurance_donor_query"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="insurance_funding_source.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    received_on: date
    question: str = Field(max_length=1000)
    answer: str | None = Field(default=None, max_length=2000)
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    answered_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")


class Budget(SQLModel, table=True):
    """One version of a unit's budget for a year and category.

    Versions of one budget share ``lineage_id`` (the first version's id); commitments and
    ledger accounts belong to the lineage, so a revision changes the amount and allocations
    without moving any money.
    """

    __tablename__ = "insurance_budget"
    __table_args__ = (
        sa.Index("ix_insurance_budget_line", "unit_id", "fiscal_year", "category", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    lineage_id: int | None = Field(default=None, index=True)
    version: int = 1
    revision_of_id: int | None = Field(default=None, foreign_key="insurance_budget.id")
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    fiscal_year: int = Field(ge=2000, le=2100)
    category: str = Field(max_length=24)
    amount_fen: int = Field(default=0, sa_type=MONEY, ge=0)
    quarterly_fen: list[int] | None = Field(default=None, sa_type=sa.JSON)
    on_exceed: str = Field(default="stop", max_length=8)
    exception_role: str | None = Field(default=None, max_length=64)
    status: str = Field(default="draft", max_length=16)
    note: str | None = Field(default=None, max_length=300)
    created_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    approved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BudgetAllocation(SQLModel, table=True):
    """The part of a budget version funded by one source."""

    __tablename__ = "insurance_budget_allocation"
    __table_args__ = (sa.UniqueConstraint("budget_id", "source_id"),)

    id: int | None = Field(default=None, primary_key=True)
    budget_id: int = Field(foreign_key="insurance_budget.id", index=True)
    source_id: int = Field(foreign_key="insurance_funding_source.id", index=True)
    amount_fen: int = Field(sa_type=MONEY, gt=0)


class Commitment(SQLModel, table=True):
    """Budget reserved for one document, drawn on one funding source (预算占用)."""

    __tablename__ = "insurance_commitment"
    __table_args__ = (sa.Index("ix_insurance_commitment_doc", "doc_type", "doc_id"),)

    id: int | None = Field(default=None, primary_key=True)
    lineage_id: int = Field(index=True)
    source_id: int = Field(foreign_key="insurance_funding_source.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)  # the budget's
    doc_type: str = Field(max_length=24)
    doc_id: int
    amount_fen: int = Field(sa_type=MONEY, gt=0)
    state: str = Field(default="reserved", max_length=16)
    reserve_entry_id: int | None = Field(default=None, foreign_key="insurance_journal_entry.id")
    settle_entry_id: int | None = Field(default=None, foreign_key="insurance_journal_entry.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BudgetException(SQLModel, table=True):
    """The exception approver's signature letting one document pass a stopped budget."""

    __tablename__ = "insurance_budget_exception"
    __table_args__ = (sa.UniqueConstraint("lineage_id", "doc_type", "doc_id"),)

    id: int | None = Field(default=None, primary_key=True)
    lineage_id: int = Field(index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    doc_type: str = Field(max_length=24)
    doc_id: int
    amount_fen: int = Field(sa_type=MONEY, gt=0)
    reason: str = Field(max_length=500)
    approved_by_user_id: int = Field(foreign_key="user_account.id")
    approved_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    address: str | None = Field(default=None, max_length=64)


# -- policies and cover ----------------------------------------------------------------------


class InsurancePolicy(SQLModel, table=True):
    """An accident policy a unit bought for its volunteers; ``period_to`` is inclusive."""

    __tablename__ = "insurance_policy"
    __table_args__ = (sa.UniqueConstraint("insurer", "policy_no"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    insurer: str = Field(max_length=100)
    policy_no: str = Field(max_length=64)
    period_from: date
    period_to: date
    premium_fen: int = Field(sa_type=MONEY, ge=0)
    scope_rule: str = Field(default="activity", max_length=16)
    activity_types: list[str] | None = Field(default=None, sa_type=sa.JSON)
    active: bool = True
    premium_paid: bool = False
    created_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CoverageLine(SQLModel, table=True):
    """What a policy pays for one kind of loss: a limit, a deductible, a ratio."""

    __tablename__ = "insurance_coverage_line"

    id: int | None = Field(default=None, primary_key=True)
    policy_id: int = Field(foreign_key="insurance_policy.id", index=True)
    kind: str = Field(max_length=16)
    limit_fen: int = Field(sa_type=MONEY, ge=0)
    deductible_fen: int = Field(default=0, sa_type=MONEY, ge=0)
    ratio_percent: int = Field(default=100, ge=0, le=100)


class Enrolment(SQLModel, table=True):
    """A volunteer covered by a policy from one day to another (参保记录)."""

    __tablename__ = "insurance_enrolment"
    __table_args__ = (
        sa.UniqueConstraint("policy_id", "volunteer_id", "basis", name="uq_insurance_enrolment"),
        sa.Index("ix_insurance_enrolment_volunteer", "volunteer_id", "valid_from"),
    )

    id: int | None = Field(default=None, primary_key=True)
    policy_id: int = Field(foreign_key="insurance_policy.id", index=True)
    volunteer_id: int = Field(foreign_key="volunteer.id")
    person_id: int = Field(foreign_key="person.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)  # the volunteer's home unit's
    valid_from: date
    valid_to: date
    basis: str = Field(max_length=40)  # "list" or "assignment:<id>"
    certificate_no: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# -- incidents and claims --------------------------------------------------------------------


class Incident(SQLModel, table=True):
    """An accident in service (出险), tied to the service record it happened in."""

    __tablename__ = "insurance_incident"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    volunteer_id: int = Field(foreign_key="volunteer.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id")
    hours_entry_id: int | None = Field(default=None, foreign_key="hours_entry.id")
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    place: str = Field(max_length=200)
    description: str = Field(max_length=2000)
    injury_kind: str = Field(max_length=32)
    injury_detail: str | None = Field(default=None, sa_type=Encrypted())
    hospital: str | None = Field(default=None, max_length=100)
    police_ref: str | None = Field(default=None, max_length=64)
    witnesses: str | None = Field(default=None, sa_type=Encrypted())
    reported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reported_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    reported_same_day: bool = True
    knowledge_date: date
    limitation_deadline: date
    closed: bool = False


class InsuranceClaim(SQLModel, table=True):
    """A claim on a policy for an incident, through the insurer's clocks to payment."""

    __tablename__ = "insurance_claim"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    incident_id: int = Field(foreign_key="insurance_incident.id", index=True)
    policy_id: int = Field(foreign_key="insurance_policy.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    claim_type: str = Field(max_length=16)
    claimant_person_id: int = Field(foreign_key="person.id", index=True)
    claimant_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    beneficiary_name: str | None = Field(default=None, sa_type=Encrypted())
    beneficiary_relation: str | None = Field(default=None, max_length=32)
    payee_account: str | None = Field(default=None, sa_type=Encrypted())
    medical_notes: str | None = Field(default=None, sa_type=Encrypted())
    claimed_fen: int = Field(sa_type=MONEY, ge=0)
    status: str = Field(default="draft", max_length=24)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_to_insurer_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision: str | None = Field(default=None, max_length=16)
    approved_fen: int | None = Field(default=None, sa_type=MONEY)
    rejection_reason: str | None = Field(default=None, max_length=500)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    denial_notice_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    agreed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paid_fen: int | None = Field(default=None, sa_type=MONEY)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reason: str | None = Field(default=None, max_length=500)  # of a withdrawal or dispute
    limitation_deadline: date


class ClaimDocument(SQLModel, table=True):
    """One item of a claim's document checklist and whether (and how) it was received."""

    __tablename__ = "insurance_claim_document"
    __table_args__ = (sa.UniqueConstraint("claim_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="insurance_claim.id", index=True)
    code: str = Field(max_length=32)
    required: bool = True
    original_required: bool = False
    received_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    original: bool = False
    file_id: int | None = Field(default=None, foreign_key="stored_file.id")
    medical: bool = False  # medical records and the like: shown only to the clerk, with reason


class SupplementPeriod(SQLModel, table=True):
    """A pause of the insurer's 30-day clock while documents are supplemented."""

    __tablename__ = "insurance_supplement"

    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="insurance_claim.id", index=True)
    requested_at: datetime = Field(sa_type=UTCDateTime)
    provided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    what: str = Field(max_length=500)


# -- compensation and rewards ----------------------------------------------------------------


class CompensationCase(SQLModel, table=True):
    """A case referred to the competent department (抚恤 / 救助 / 见义勇为 / 烈士).

    The platform records the department's decision and any aid it pays itself, and decides
    nothing else.
    """

    __tablename__ = "insurance_compensation"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    incident_id: int | None = Field(default=None, foreign_key="insurance_incident.id")
    basis: str = Field(max_length=24)
    competent_dept: str = Field(max_length=100)
    recommended_fen: int = Field(default=0, sa_type=MONEY, ge=0)
    summary: str = Field(max_length=1000)
    status: str = Field(default="referred", max_length=24)
    referred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    referred_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    decision_dept: str | None = Field(default=None, max_length=100)
    decision_doc_no: str | None = Field(default=None, max_length=64)
    decision_fen: int | None = Field(default=None, sa_type=MONEY)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    platform_fen: int | None = Field(default=None, sa_type=MONEY)
    payee_account: str | None = Field(default=None, sa_type=Encrypted())
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Reward(SQLModel, table=True):
    """A commendation, clue reward or per-case subsidy, approved at the level its amount needs."""

    __tablename__ = "insurance_reward"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    recipient_person_id: int = Field(foreign_key="person.id", index=True)
    kind: str = Field(max_length=16)
    basis_ref: str = Field(max_length=80)
    event_key: str | None = Field(default=None, max_length=120, unique=True)
    amount_fen: int = Field(sa_type=MONEY, gt=0)
    rule_version: str | None = Field(default=None, max_length=40)
    citation: str = Field(default="", max_length=500)
    status: str = Field(default="proposed", max_length=16)
    reason: str | None = Field(default=None, max_length=500)
    payee_account: str | None = Field(default=None, sa_type=Encrypted())
    proposed_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    proposed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# -- reimbursements --------------------------------------------------------------------------


class ExpenseClaim(SQLModel, table=True):
    """A volunteer's claim for expenses of one activity, through the approval chain."""

    __tablename__ = "insurance_expense"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=32, unique=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    claimant_person_id: int = Field(foreign_key="person.id", index=True)
    claimant_user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True)
    volunteer_id: int | None = Field(default=None, foreign_key="volunteer.id")
    activity_date: date
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id")
    purpose: str = Field(max_length=300)
    payee_account: str | None = Field(default=None, sa_type=Encrypted())
    status: str = Field(default="draft", max_length=24)
    claimed_fen: int = Field(default=0, sa_type=MONEY, ge=0)
    sanctioned_fen: int | None = Field(default=None, sa_type=MONEY)
    budget_warning: str | None = Field(default=None, max_length=300)
    reason: str | None = Field(default=None, max_length=500)  # of a return or rejection
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ExpenseLine(SQLModel, table=True):
    """One expense: sanctioned never above claimed, nor above the standard of its date."""

    __tablename__ = "insurance_expense_line"
    __table_args__ = (
        sa.CheckConstraint(
            "amount_sanctioned_fen IS NULL OR amount_sanctioned_fen <= amount_claimed_fen",
            name="sanctioned_le_claimed",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    expense_id: int = Field(foreign_key="insurance_expense.id", index=True)
    expense_type: str = Field(max_length=24)
    spent_on: date
    description: str = Field(default="", max_length=200)
    amount_claimed_fen: int = Field(sa_type=MONEY, gt=0)
    amount_sanctioned_fen: int | None = Field(default=None, sa_type=MONEY, ge=0)
    rate_id: int | None = Field(default=None, foreign_key="insurance_rate.id")
    invoice_code: str | None = Field(default=None, max_length=20)
    invoice_no: str | None = Field(default=None, max_length=20)
    invoice_key: str | None = Field(default=None, max_length=64, index=True)
    duplicate_flag: bool = False


class InvoiceRegister(SQLModel, table=True):
    """Every invoice claimed anywhere, by keyed hash of code and number: claimed once only."""

    __tablename__ = "insurance_invoice"

    id: int | None = Field(default=None, primary_key=True)
    invoice_key: str = Field(max_length=64, unique=True)
    line_id: int = Field(foreign_key="insurance_expense_line.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    registered_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Attachment(SQLModel, table=True):
    """A file attached to a record: a receipt, a scene photo, a claim document."""

    __tablename__ = "insurance_attachment"
    __table_args__ = (sa.Index("ix_insurance_attachment_subject", "subject_type", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_type: str = Field(max_length=24)
    subject_id: int
    file_id: int = Field(foreign_key="stored_file.id")
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    medical: bool = False
    uploaded_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


# -- payments --------------------------------------------------------------------------------


class Payment(SQLModel, table=True):
    """Money paid for a document, with its voucher and ledger entry."""

    __tablename__ = "insurance_payment"
    __table_args__ = (sa.Index("ix_insurance_payment_doc", "doc_type", "doc_id"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    doc_type: str = Field(max_length=24)
    doc_id: int
    payee_person_id: int | None = Field(default=None, foreign_key="person.id")
    payee_account: str | None = Field(default=None, sa_type=Encrypted())
    amount_fen: int = Field(sa_type=MONEY, gt=0)
    method: str = Field(max_length=16)
    voucher_no: str = Field(max_length=40, unique=True)
    bank_ref: str | None = Field(default=None, max_length=64)
    entry_id: int | None = Field(default=None, foreign_key="insurance_journal_entry.id")
    paid_by_user_id: int | None = Field(default=None, foreign_key="user_account.id")
    paid_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    address: str | None = Field(default=None, max_length=64)
    reversed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reversal_entry_id: int | None = Field(default=None, foreign_key="insurance_journal_entry.id")
    reconciled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# -- disclosure, alerts, closes --------------------------------------------------------------


class Disclosure(SQLModel, table=True):
    """The yearly public disclosure of donations with its six required sections."""

    __tablename__ = "insurance_disclosure"
    __table_args__ = (sa.UniqueConstraint("unit_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    year: int
    sections: dict = Field(default_factory=dict, sa_type=sa.JSON)
    generated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Alert(SQLModel, table=True):
    """Something a job found due (a clock running out, an expiring policy): raised once."""

    __tablename__ = "insurance_alert"
    __audit__ = False  # written by idempotent jobs from audited records

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=120, unique=True)
    kind: str = Field(max_length=32, index=True)
    severity: str = Field(default="warning", max_length=16)
    subject_type: str = Field(max_length=24)
    subject_id: int
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    message_zh: str = Field(max_length=300)
    message_en: str = Field(max_length=300)
    raised_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class MonthClose(SQLModel, table=True):
    """A unit's month closed: payments reconciled and the month's figures frozen."""

    __tablename__ = "insurance_month_close"
    __table_args__ = (sa.UniqueConstraint("unit_id", "month"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(sa_type=PATH_TYPE, index=True)
    month: str = Field(max_length=7)  # YYYY-MM
    figures: dict = Field(default_factory=dict, sa_type=sa.JSON)
    closed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


MODELS = [
    InsuranceSetting,
    RateStandard,
    FundingSource,
    LedgerAccount,
    JournalEntry,
    Posting,
    Approval,
    DonorQuery,
    Budget,
    BudgetAllocation,
    Commitment,
    BudgetException,
    InsurancePolicy,
    CoverageLine,
    Enrolment,
    Incident,
    InsuranceClaim,
    ClaimDocument,
    SupplementPeriod,
    CompensationCase,
    Reward,
    ExpenseClaim,
    ExpenseLine,
    InvoiceRegister,
    Attachment,
    Payment,
    Disclosure,
    Alert,
    MonthClose,
]
