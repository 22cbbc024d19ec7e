"""What the API reads and writes: strict input schemas and the shapes of its answers.

Inputs are strict (no coercion) except dates and choices, which arrive as JSON text. Money is
integer fen. Answers show sensitive fields masked; they are seen in clear only through the
reveal routes, with a reason, and only at the step that needs them.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from core.security.present import masked_values
from plugins.insurance.money import MAX_FEN
from plugins.insurance.vocab import (
    Category,
    ClaimType,
    CompensationBasis,
    CoverKind,
    Decision,
    ExpenseType,
    OnExceed,
    RewardKind,
    ScopeRule,
    SourceKind,
)

Fen = Annotated[int, Field(ge=0, le=MAX_FEN)]
PositiveFen = Annotated[int, Field(gt=0, le=MAX_FEN)]
Id = Annotated[int, Field(ge=1, le=2**62)]
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def _day_in_range(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError("must lie between 2000-01-01 and 2100-12-31")
    return value


def _moment_in_range(value: datetime) -> datetime:
    _day_in_range(value.astimezone(UTC).date())
    return value


Day = Annotated[date, Field(strict=False), AfterValidator(_day_in_range)]
Moment = Annotated[
    AwareDatetime,
    Field(strict=False, description="An instant with its offset, e.g. 2025-03-01T21:00:00+08:00"),
    AfterValidator(_moment_in_range),
]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
Account = Annotated[str, Field(pattern=r"^\d{8,30}$", description="A bank account or card number")]


class Strict(BaseModel):
    """Strict input: no unknown fields, no coercion beyond dates and choices."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Read(BaseModel):
    """An answer built from a record's (masked) values."""

    model_config = ConfigDict(from_attributes=True)


def shown(platform, record, model: type[Read], **extra: Any) -> Any:
    """A record as ``model``, its sensitive fields masked."""
    return model.model_validate(
        {**masked_values(record, platform.plugins.sensitive_fields), **extra}
    )


# -- settings and rates ----------------------------------------------------------------------


class SettingCreate(Strict):
    """A new value of a configuration key at the path's unit, from a date on."""

    key: str = Field(max_length=64)
    value: Any
    valid_from: Day
    reason: str | None = Field(default=None, max_length=300)


class SettingRead(Read):
    """A recorded value."""

    id: int
    unit_id: int
    key: str
    value: Any
    valid_from: date
    reason: str | None
    set_at: datetime


class RateCreate(Strict):
    """A standard for an expense type from a date on (the open one before ends the day before)."""

    expense_type: ExpenseType = Field(strict=False)
    amount_fen: Fen
    fixed: bool = False
    valid_from: Day
    valid_to: Day | None = None


class RateRead(Read):
    """A standard."""

    id: int
    unit_id: int
    expense_type: str
    amount_fen: int
    fixed: bool
    valid_from: date
    valid_to: date | None


# -- ledger ----------------------------------------------------------------------------------


class PostingRead(Read):
    """One posting (debit positive)."""

    account_id: int
    amount_fen: int


class EntryRead(Read):
    """A journal entry with its postings."""

    id: int
    kind: str
    memo: str
    doc_type: str | None
    doc_id: int | None
    reverses_id: int | None
    posted_at: datetime
    posted_by_user_id: int | None
    address: str | None
    postings: list[PostingRead]


class TrialBalanceRow(BaseModel):
    """An account and its totals."""

    account_id: int
    code: str
    kind: str
    name: str
    debit_fen: int
    credit_fen: int
    balance_fen: int


# -- funding ---------------------------------------------------------------------------------


class SourceCreate(Strict):
    """Money received."""

    kind: SourceKind = Field(strict=False)
    name: str = Field(min_length=1, max_length=120)
    amount_fen: PositiveFen
    received_on: Day
    donor_name: str | None = Field(default=None, max_length=100)
    donor_public: bool = False
    restriction_categories: list[Annotated[Category, Field(strict=False)]] | None = Field(
        default=None, max_length=8
    )
    restriction_until: Day | None = None
    purpose: str | None = Field(default=None, max_length=300)
    bank_account: Account | None = None


class SourceRead(Read):
    """A funding source (donor and account masked)."""

    id: int
    unit_id: int
    kind: str
    name: str
    donor_name: str | None
    donor_public: bool
    restriction_categories: list[str] | None
    restriction_until: date | None
    purpose: str | None
    receipt_no: str | None
    received_on: date
    amount_fen: int
    bank_account: str | None
    status: str
    allocated_fen: int = 0
    spent_fen: int = 0


class ReceiptCreate(Strict):
    """The legal donation receipt's number."""

    receipt_no: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")


class RevealRequest(Strict):
    """Fields to see in clear, and why."""

    fields: list[str] = Field(min_length=1, max_length=6)
    reason: str = Field(min_length=2, max_length=300)


class ReasonIn(Strict):
    """Why something is needed in clear."""

    reason: str = Field(min_length=2, max_length=300)


class RevealRead(BaseModel):
    """Fields in clear (the read is in the audit trail)."""

    id: int
    values: dict[str, str | None]


class DonorQueryCreate(Strict):
    """A donor's question."""

    question: str = Field(min_length=1, max_length=1000)
    received_on: Day


class DonorAnswer(Strict):
    """The answer to a donor's question."""

    answer: str = Field(min_length=1, max_length=2000)


class DonorQueryRead(Read):
    """A donor's question and its answer."""

    id: int
    source_id: int
    received_on: date
    question: str
    answer: str | None
    answered_at: datetime | None


# -- budgets ---------------------------------------------------------------------------------


class AllocationIn(Strict):
    """A source and the amount of it a budget draws on."""

    source_id: Id
    amount_fen: PositiveFen


class BudgetCreate(Strict):
    """The first version of a budget at the path's unit."""

    fiscal_year: int = Field(ge=2000, le=2100)
    category: Category = Field(strict=False)
    allocations: list[AllocationIn] = Field(min_length=1, max_length=20)
    on_exceed: OnExceed = Field(default=OnExceed.stop, strict=False)
    exception_role: str | None = Field(default=None, max_length=64)
    quarterly_fen: list[Fen] | None = Field(default=None, min_length=4, max_length=4)
    note: str | None = Field(default=None, max_length=300)


class BudgetRevision(Strict):
    """A new version of an active budget."""

    allocations: list[AllocationIn] = Field(min_length=1, max_length=20)
    on_exceed: OnExceed | None = Field(default=None, strict=False)
    quarterly_fen: list[Fen] | None = Field(default=None, min_length=4, max_length=4)
    note: str | None = Field(default=None, max_length=300)


class BudgetStep(Strict):
    """submit (finance), approve (approver), close (finance, year end)."""

    step: Literal["submit", "approve", "close"]


class AllocationRead(Read):
    """A version's allocation."""

    source_id: int
    amount_fen: int


class BudgetRead(Read):
    """A budget version with what it has committed and spent."""

    id: int
    lineage_id: int
    version: int
    revision_of_id: int | None
    unit_id: int
    fiscal_year: int
    category: str
    amount_fen: int
    quarterly_fen: list[int] | None
    on_exceed: str
    exception_role: str | None
    status: str
    note: str | None
    allocations: list[AllocationRead] = []
    used_fen: int = 0


class ExceptionCreate(Strict):
    """The exception approver's signature for one document over its stopped budget."""

    doc_type: Literal["expense", "reward", "compensation", "premium"]
    doc_id: Id
    amount_fen: PositiveFen
    reason: Reason


class ExceptionRead(Read):
    """A signed budget exception."""

    id: int
    lineage_id: int
    doc_type: str
    doc_id: int
    amount_fen: int
    reason: str
    approved_by_user_id: int
    approved_at: datetime
    address: str | None


# -- policies --------------------------------------------------------------------------------


class LineIn(Strict):
    """A coverage line."""

    kind: CoverKind = Field(strict=False)
    limit_fen: Fen
    deductible_fen: Fen = 0
    ratio_percent: int = Field(default=100, ge=0, le=100)


class PolicyCreate(Strict):
    """A policy the path's unit bought."""

    insurer: str = Field(min_length=1, max_length=100)
    policy_no: str = Field(min_length=1, max_length=64)
    period_from: Day
    period_to: Day
    premium_fen: Fen
    scope_rule: ScopeRule = Field(default=ScopeRule.activity, strict=False)
    activity_types: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None, max_length=30
    )
    lines: list[LineIn] = Field(min_length=1, max_length=5)


class CoverLineRead(Read):
    """A coverage line."""

    kind: str
    limit_fen: int
    deductible_fen: int
    ratio_percent: int


class PolicyRead(Read):
    """A policy and its lines."""

    id: int
    unit_id: int
    insurer: str
    policy_no: str
    period_from: date
    period_to: date
    premium_fen: int
    scope_rule: str
    activity_types: list[str] | None
    active: bool
    premium_paid: bool
    lines: list[CoverLineRead] = []


class EnrolmentCreate(Strict):
    """Volunteers enrolled by name."""

    volunteer_ids: list[Id] = Field(min_length=1, max_length=500)
    valid_from: Day | None = None
    valid_to: Day | None = None


class EnrolmentRead(Read):
    """A volunteer's cover under a policy."""

    id: int
    policy_id: int
    volunteer_id: int
    valid_from: date
    valid_to: date
    basis: str
    certificate_no: str | None


class PremiumStep(Strict):
    """approve (approver, by amount) or pay (cashier) a policy's premium."""

    step: Literal["approve", "pay"]
    payee_account: Account | None = None
    bank_ref: str | None = Field(default=None, max_length=64)


class CoverAnswer(BaseModel):
    """Whether a volunteer is covered on a day."""

    volunteer_id: int
    on: date
    covered: bool
    policy_id: int | None
    policy_no: str | None


# -- incidents and claims --------------------------------------------------------------------


class IncidentCreate(Strict):
    """An incident, named against the service record it happened in."""

    volunteer_id: Id
    occurred_at: Moment
    place: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=2000)
    injury_kind: str = Field(min_length=1, max_length=32)
    assignment_id: Id | None = None
    hours_entry_id: Id | None = None
    injury_detail: str | None = Field(default=None, max_length=2000)
    hospital: str | None = Field(default=None, max_length=100)
    police_ref: str | None = Field(default=None, max_length=64)
    witnesses: str | None = Field(default=None, max_length=500)
    knowledge_date: Day | None = None


class IncidentRead(Read):
    """An incident (injury detail and witnesses masked)."""

    id: int
    unit_id: int
    volunteer_id: int
    assignment_id: int | None
    hours_entry_id: int | None
    occurred_at: datetime
    place: str
    description: str
    injury_kind: str
    injury_detail: str | None
    hospital: str | None
    police_ref: str | None
    witnesses: str | None
    reported_at: datetime
    reported_same_day: bool
    knowledge_date: date
    limitation_deadline: date
    claim_status: str | None = None


class IncidentStatus(BaseModel):
    """What an activity leader sees of an incident: that it exists and where it stands."""

    id: int
    unit_id: int
    volunteer_id: int
    occurred_at: datetime
    reported_same_day: bool
    claim_status: str | None


class ClaimCreate(Strict):
    """A claim opened from an incident."""

    incident_id: Id
    policy_id: Id
    claim_type: ClaimType = Field(strict=False)
    claimed_fen: Fen
    claimant_user_id: Id | None = None
    beneficiary_name: str | None = Field(default=None, max_length=50)
    beneficiary_relation: str | None = Field(default=None, max_length=32)
    payee_account: Account | None = None
    medical_notes: str | None = Field(default=None, max_length=2000)


class DocumentIn(Strict):
    """A checklist item received."""

    code: str = Field(min_length=1, max_length=32)
    original: bool


class ClaimStep(Strict):
    """One step of a claim; each uses the fields it needs.

    ``submit``, ``send`` (``at``), ``request_supplement`` (``what``, ``at``),
    ``supplement_provided`` (``at``), ``decide`` (``decision``, ``approved_fen`` or
    ``reason``, ``notice_sent``, ``at``), ``denial_notice`` (``at``), ``agree``
    (``claimant_confirmed``, ``at``), ``dispute`` (``reason``), ``resubmit`` (``at``),
    ``close``, ``withdraw`` (``reason``).
    """

    step: Literal[
        "submit",
        "send",
        "request_supplement",
        "supplement_provided",
        "decide",
        "denial_notice",
        "agree",
        "dispute",
        "resubmit",
        "close",
        "withdraw",
    ]
    at: Moment | None = None
    what: str | None = Field(default=None, max_length=500)
    decision: Decision | None = Field(default=None, strict=False)
    approved_fen: Fen | None = None
    reason: str | None = Field(default=None, max_length=500)
    notice_sent: bool = False
    claimant_confirmed: bool = False


class ClaimPayment(Strict):
    """What the insurer paid."""

    paid_fen: PositiveFen
    bank_ref: str | None = Field(default=None, max_length=64)
    at: Moment | None = None


class DocumentRead(Read):
    """A checklist item."""

    code: str
    label: str = ""
    required: bool
    original_required: bool
    received_at: datetime | None
    original: bool
    file_id: int | None
    medical: bool


class ClockRead(BaseModel):
    """A claim against the insurer's deadlines."""

    insurer_days_used: float | None
    decision_due: datetime | None
    paused: bool
    decision_overdue: bool
    payment_due: datetime | None
    payment_overdue: bool
    denial_notice_due: datetime | None
    denial_notice_overdue: bool


class ApprovalRead(Read):
    """One decision on a document."""

    step: str
    decision: str
    by_user_id: int
    by_username: str
    address: str | None
    at: datetime
    amount_fen: int | None
    reason: str | None
    note: str | None


class ClaimRead(Read):
    """A claim (beneficiary, account and medical notes masked)."""

    id: int
    number: str
    incident_id: int
    policy_id: int
    unit_id: int
    claim_type: str
    claimant_person_id: int
    beneficiary_name: str | None
    beneficiary_relation: str | None
    payee_account: str | None
    medical_notes: str | None
    claimed_fen: int
    status: str
    submitted_to_insurer_at: datetime | None
    decision: str | None
    approved_fen: int | None
    rejection_reason: str | None
    decided_at: datetime | None
    denial_notice_at: datetime | None
    agreed_at: datetime | None
    paid_at: datetime | None
    paid_fen: int | None
    reason: str | None
    limitation_deadline: date


class ClaimDetail(ClaimRead):
    """A claim with its checklist, clocks and decisions."""

    documents: list[DocumentRead]
    clock: ClockRead
    history: list[ApprovalRead]


# -- compensation and rewards ----------------------------------------------------------------


class CompensationCreate(Strict):
    """A case referred to the competent department."""

    person_id: Id
    basis: CompensationBasis = Field(strict=False)
    competent_dept: str = Field(min_length=1, max_length=100)
    summary: str = Field(min_length=1, max_length=1000)
    recommended_fen: Fen = 0
    incident_id: Id | None = None


class CompensationStep(Strict):
    """One step of a compensation case.

    ``decision`` (``dept``, ``doc_no``, ``amount_fen``), ``paid_by_dept``, ``approve_aid``
    (``amount_fen``, ``payee_account``), ``close``.
    """

    step: Literal["decision", "paid_by_dept", "approve_aid", "close"]
    dept: str | None = Field(default=None, max_length=100)
    doc_no: str | None = Field(default=None, max_length=64)
    amount_fen: Fen | None = None
    payee_account: Account | None = None


class CompensationRead(Read):
    """A compensation case (the payee account masked)."""

    id: int
    unit_id: int
    person_id: int
    incident_id: int | None
    basis: str
    competent_dept: str
    recommended_fen: int
    summary: str
    status: str
    referred_at: datetime
    decision_dept: str | None
    decision_doc_no: str | None
    decision_fen: int | None
    decided_at: datetime | None
    platform_fen: int | None
    payee_account: str | None


class RewardCreate(Strict):
    """A reward proposal."""

    recipient_person_id: Id
    kind: RewardKind = Field(strict=False)
    amount_fen: PositiveFen
    basis_ref: str = Field(min_length=1, max_length=80)
    citation: str = Field(default="", max_length=500)
    rule_version: str | None = Field(default=None, max_length=40)
    payee_account: Account | None = None


class RewardStep(Strict):
    """``review``, ``approve``, ``reject`` (``reason``), ``publish``."""

    step: Literal["review", "approve", "reject", "publish"]
    reason: str | None = Field(default=None, max_length=500)


class RewardRead(Read):
    """A reward (the payee account masked)."""

    id: int
    unit_id: int
    recipient_person_id: int
    kind: str
    basis_ref: str
    amount_fen: int
    rule_version: str | None
    citation: str
    status: str
    reason: str | None
    payee_account: str | None
    proposed_at: datetime
    published_at: datetime | None


class PaymentIn(Strict):
    """How the cashier pays."""

    method: Literal["bank", "cash"] = "bank"
    bank_ref: str | None = Field(default=None, max_length=64)


class PaymentRead(Read):
    """A payment (the payee account masked)."""

    id: int
    unit_id: int
    doc_type: str
    doc_id: int
    payee_account: str | None
    amount_fen: int
    method: str
    voucher_no: str
    bank_ref: str | None
    entry_id: int | None
    paid_by_user_id: int | None
    paid_at: datetime
    address: str | None
    reversed_at: datetime | None
    reconciled_at: datetime | None


class ReversalIn(Strict):
    """Why a payment is reversed."""

    reason: Reason


# -- reimbursements --------------------------------------------------------------------------


class LineCreate(Strict):
    """An expense line."""

    expense_type: ExpenseType = Field(strict=False)
    spent_on: Day
    amount_fen: PositiveFen
    description: str = Field(default="", max_length=200)
    invoice_code: str | None = Field(default=None, pattern=r"^[0-9A-Za-z]{1,20}$")
    invoice_no: str | None = Field(default=None, pattern=r"^[0-9A-Za-z]{1,20}$")


class ExpenseCreate(Strict):
    """The caller's own claim for one activity."""

    activity_date: Day
    purpose: str = Field(min_length=1, max_length=300)
    assignment_id: Id | None = None
    payee_account: Account | None = None
    lines: list[LineCreate] = Field(default_factory=list, max_length=30)


class MyLineCreate(LineCreate):
    """A line added to one of the caller's drafts."""

    expense_id: Id


class MyLineRef(Strict):
    """A line of one of the caller's drafts."""

    expense_id: Id
    line_id: Id


class MyExpenseRef(Strict):
    """One of the caller's claims."""

    expense_id: Id


class ExpenseStep(Strict):
    """One step of a reimbursement.

    ``confirm`` (leader), ``review`` (finance; ``sanctioned`` line id → fen), ``approve``
    (by amount), ``return`` / ``reject`` (``reason``).
    """

    step: Literal["confirm", "review", "approve", "return", "reject"]
    reason: str | None = Field(default=None, max_length=500)
    sanctioned: dict[str, Fen] | None = Field(default=None, max_length=30)


class ExpenseLineRead(Read):
    """An expense line."""

    id: int
    expense_type: str
    spent_on: date
    description: str
    amount_claimed_fen: int
    amount_sanctioned_fen: int | None
    invoice_code: str | None
    invoice_no: str | None
    duplicate_flag: bool
    receipt_file_ids: list[int] = []


class ExpenseRead(Read):
    """A reimbursement claim (the payee account masked)."""

    id: int
    number: str
    unit_id: int
    claimant_person_id: int
    volunteer_id: int | None
    activity_date: date
    purpose: str
    payee_account: str | None
    status: str
    claimed_fen: int
    sanctioned_fen: int | None
    budget_warning: str | None
    reason: str | None
    created_at: datetime
    submitted_at: datetime | None
    lines: list[ExpenseLineRead] = []
    history: list[ApprovalRead] = []


class AlertRead(Read):
    """An alert a job raised."""

    id: int
    kind: str
    severity: str
    subject_type: str
    subject_id: int
    message_zh: str
    message_en: str
    raised_at: datetime


class DisclosureCreate(Strict):
    """Generate the disclosure of a year, with the plan for the remainder and the audits."""

    year: int = Field(ge=2000, le=2100)
    remainder_plan: str = Field(default="", max_length=1000)
    audit_reports: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=20
    )


class DisclosureRead(Read):
    """A disclosure and its six sections."""

    id: int
    unit_id: int
    year: int
    sections: dict[str, Any]
    generated_at: datetime
    published_at: datetime | None
