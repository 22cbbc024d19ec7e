"""Reimbursements: expense lines with receipts through the approval chain.

``draft`` (the volunteer's) → ``submitted`` (every line has a receipt, or is a standard-rate
line such as 误工补贴; invoices never claimed before anywhere) → ``activity_confirmed`` (the
team leader checks the service record: an assignment or hours entry of the claimant on the
activity's day) → ``finance_reviewed`` (sanctioned amounts set, never above what was claimed
nor above the standard valid on the expense's date; budget control) → ``approved`` (at the
level the amount needs; budget reserved) → ``paid`` (the cashier; budget consumed) →
``closed`` (reconciled by the monthly close). A reviewer may return a claim to draft or
reject it, with a reason; the claimant may cancel a draft or a submitted claim. Claimant,
reviewer, approver and payer are four different people.

Duplicate receipts: an invoice is keyed by a keyed hash of its code and number, registered
once for the whole platform when a claim is submitted; a second claim of the same invoice,
in any unit, is refused. Returning or cancelling a claim frees its invoices; rejecting it
keeps them registered.
"""

from datetime import date, datetime

from sqlmodel import Session, col, func, select

from core.errors import DomainError, FieldError
from core.files.models import StoredFile
from core.hours.models import HoursEntry
from core.i18n import text
from core.numbering import next_number
from core.security.fields import keyring_of
from core.tasks.models import Assignment, AssignmentStatus
from core.units.models import Unit, utcnow
from plugins.insurance import budgets, spending
from plugins.insurance.approvals import (
    Actor,
    record_approval,
    refuse_own,
    refuse_same_hand,
)
from plugins.insurance.clock import CHINA, china_day
from plugins.insurance.config import rate_on
from plugins.insurance.models import Attachment, ExpenseClaim, ExpenseLine, InvoiceRegister
from plugins.insurance.vocab import ExpenseStatus, ExpenseType, PaymentMethod

INVOICE_PURPOSE = "insurance.invoice"
RECEIPT_TYPES = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
}
MAX_RECEIPT_BYTES = 5 * 1024 * 1024
REVIEWABLE = (
    ExpenseStatus.submitted,
    ExpenseStatus.activity_confirmed,
    ExpenseStatus.finance_reviewed,
)
#: The action whoever returns or rejects a claim at each status must hold.
REVIEWER_ACTION = {
    ExpenseStatus.submitted: "insurance.expense.confirm",
    ExpenseStatus.activity_confirmed: "insurance.expense.review",
    ExpenseStatus.finance_reviewed: "insurance.expense.approve",
}


def _refused(field: str, rule: str, zh: str, en: str, status: int = 409) -> DomainError:
    message = text(zh, en)
    code = {409: "conflict", 400: "validation_failed", 403: "not_allowed"}[status]
    return DomainError(message, code, status, [FieldError(field, rule, message)])


def _require(expense: ExpenseClaim, *statuses: ExpenseStatus) -> None:
    if expense.status not in statuses:
        raise _refused(
            "status",
            "wrong_status",
            f"报销单当前状态（{expense.status}）不能办理此步骤",
            f"Not possible while the claim is {expense.status}",
        )


def _record(session, actor, expense, step, decision="approve", **extra):
    return record_approval(
        session,
        actor,
        subject_type="expense",
        subject_id=expense.id,
        unit_path=expense.unit_path,
        step=step,
        decision=decision,
        party_user_id=expense.claimant_user_id,
        party_person_id=expense.claimant_person_id,
        **extra,
    )


def invoice_key(session: Session, code: str, number: str) -> str:
    """The keyed hash of an invoice's code and number (the same invoice anywhere, same key)."""
    keyring = keyring_of(session.get_bind().dialect)
    return keyring.blind_index(f"{code.strip()}|{number.strip()}", INVOICE_PURPOSE)


# -- drafting --------------------------------------------------------------------------------


def create(
    session: Session,
    actor: Actor,
    unit: Unit,
    *,
    volunteer_id: int | None,
    activity_date: date,
    purpose: str,
    assignment_id: int | None = None,
    payee_account: str | None = None,
    now: datetime | None = None,
) -> ExpenseClaim:
    """Open the actor's own draft claim for an activity.

    Raises:
        DomainError: the actor has no person record (409).
    """
    now = now or utcnow()
    if actor.person_id is None:
        raise _refused(
            "claimant", "no_person", "账户未关联人员档案", "Your account has no person record"
        )
    year = china_day(now).year
    expense = ExpenseClaim(
        number=f"BX{year}-{next_number(session, 'insurance.expense', 'city', year):06d}",
        unit_id=unit.id,
        unit_path=unit.path,
        claimant_person_id=actor.person_id,
        claimant_user_id=actor.user_id,
        volunteer_id=volunteer_id,
        activity_date=activity_date,
        assignment_id=assignment_id,
        purpose=purpose,
        payee_account=payee_account or None,
        created_at=now,
    )
    session.add(expense)
    session.flush()
    _record(session, actor, expense, "created", decision="record", now=now)
    return expense


def lines_of(session: Session, expense: ExpenseClaim) -> list[ExpenseLine]:
    """A claim's lines in entry order."""
    return list(
        session.exec(
            select(ExpenseLine).where(ExpenseLine.expense_id == expense.id).order_by(ExpenseLine.id)
        )
    )


def _total(session: Session, expense: ExpenseClaim) -> None:
    expense.claimed_fen = sum(line.amount_claimed_fen for line in lines_of(session, expense))
    session.add(expense)


def add_line(
    session: Session,
    actor: Actor,
    expense: ExpenseClaim,
    *,
    expense_type: ExpenseType,
    spent_on: date,
    amount_fen: int,
    description: str = "",
    invoice_code: str | None = None,
    invoice_no: str | None = None,
) -> ExpenseLine:
    """Add a line to the actor's own draft.

    Raises:
        DomainError: not the claimant (403), not a draft (409), half an invoice (400).
    """
    _own(actor, expense)
    _require(expense, ExpenseStatus.draft)
    if bool(invoice_code) != bool(invoice_no):
        raise _refused(
            "invoice_no",
            "incomplete",
            "发票代码和号码须同时填写",
            "Give both the invoice code and number",
            400,
        )
    key = invoice_key(session, invoice_code, invoice_no) if invoice_code else None
    line = ExpenseLine(
        expense_id=expense.id,
        expense_type=expense_type.value,
        spent_on=spent_on,
        description=description,
        amount_claimed_fen=amount_fen,
        invoice_code=invoice_code or None,
        invoice_no=invoice_no or None,
        invoice_key=key,
        duplicate_flag=key is not None and _registered(session, key),
    )
    session.add(line)
    session.flush()
    _total(session, expense)
    session.flush()
    return line


def remove_line(session: Session, actor: Actor, expense: ExpenseClaim, line: ExpenseLine) -> None:
    """Remove a line (and its receipts) from the actor's own draft."""
    _own(actor, expense)
    _require(expense, ExpenseStatus.draft)
    for attachment in receipts_of(session, line):
        session.delete(attachment)
    session.delete(line)
    session.flush()
    _total(session, expense)
    session.flush()


def _own(actor: Actor, expense: ExpenseClaim) -> None:
    if actor.user_id != expense.claimant_user_id:
        raise _refused(
            "claimant",
            "not_claimant",
            "只有申请人本人可以修改",
            "Only the claimant may change it",
            403,
        )


def receipt_media_type(content: bytes) -> str | None:
    """The media type a receipt's bytes show (JPEG, PNG or PDF), or None."""
    for magic, media_type in RECEIPT_TYPES.items():
        if content.startswith(magic):
            return media_type
    return None


def attach_receipt(
    session: Session,
    actor: Actor,
    expense: ExpenseClaim,
    line: ExpenseLine,
    name: str,
    content: bytes,
) -> Attachment:
    """Store a receipt scan (JPEG, PNG or PDF, checked by content, at most 5 MB) for a line.

    Raises:
        DomainError: too large or not an image or PDF (400); not the claimant's draft.
    """
    _own(actor, expense)
    _require(expense, ExpenseStatus.draft)
    if len(content) > MAX_RECEIPT_BYTES:
        raise _refused(
            "file", "too_large", "收据文件不能超过 5 MB", "A receipt may be at most 5 MB", 400
        )
    media_type = receipt_media_type(content)
    if media_type is None:
        raise _refused(
            "file",
            "file_type",
            "收据须为 JPEG、PNG 或 PDF",
            "A receipt must be JPEG, PNG or PDF",
            400,
        )
    stored = StoredFile(
        name=(name or "receipt")[:200],
        media_type=media_type,
        content=content,
        size=len(content),
        unit_path=expense.unit_path,
        created_by_id=actor.user_id,
    )
    session.add(stored)
    session.flush()
    attachment = Attachment(
        subject_type="expense_line",
        subject_id=line.id,
        file_id=stored.id,
        unit_path=expense.unit_path,
        uploaded_by_user_id=actor.user_id,
    )
    session.add(attachment)
    session.flush()
    return attachment


def receipts_of(session: Session, line: ExpenseLine) -> list[Attachment]:
    """A line's receipt attachments."""
    return list(
        session.exec(
            select(Attachment).where(
                Attachment.subject_type == "expense_line", Attachment.subject_id == line.id
            )
        )
    )


def _registered(session: Session, key: str) -> bool:
    return (
        session.exec(select(InvoiceRegister.id).where(InvoiceRegister.invoice_key == key)).first()
        is not None
    )


def _free_invoices(session: Session, expense: ExpenseClaim) -> None:
    line_ids = [line.id for line in lines_of(session, expense)]
    if line_ids:
        for row in session.exec(
            select(InvoiceRegister).where(col(InvoiceRegister.line_id).in_(line_ids))
        ):
            session.delete(row)
        session.flush()


# -- the chain -------------------------------------------------------------------------------


def submit(
    session: Session, actor: Actor, expense: ExpenseClaim, now: datetime | None = None
) -> ExpenseClaim:
    """Draft → submitted: receipts in place, invoices never claimed before.

    Raises:
        DomainError: no lines, a line without a receipt that is not a standard-rate line, an
            invoice repeated in the claim or claimed before anywhere (409).
    """
    _own(actor, expense)
    _require(expense, ExpenseStatus.draft)
    lines = lines_of(session, expense)
    if not lines:
        raise _refused("lines", "missing", "至少需要一项费用", "Add at least one expense")
    errors = []
    seen: dict[str, int] = {}
    for index, line in enumerate(lines):
        rate = rate_on(session, expense.unit_path, line.expense_type, line.spent_on)
        standard_line = rate is not None and rate.fixed
        if not standard_line and not receipts_of(session, line):
            errors.append(
                FieldError(f"lines.{index}.receipt", "missing", text("缺少收据", "receipt missing"))
            )
        if line.invoice_key:
            if line.invoice_key in seen or _registered(session, line.invoice_key):
                errors.append(
                    FieldError(
                        f"lines.{index}.invoice_no",
                        "duplicate_invoice",
                        text(
                            "该发票已报销过（可能在其他单位）",
                            "This invoice has been claimed before (perhaps elsewhere)",
                        ),
                    )
                )
                line.duplicate_flag = True
                session.add(line)
            seen[line.invoice_key] = index
    if errors:
        duplicate = any(error.rule == "duplicate_invoice" for error in errors)
        session.flush()
        raise DomainError(
            text("发票重复报销", "Duplicate invoice")
            if duplicate
            else text("材料不全", "Something is missing"),
            "duplicate_invoice" if duplicate else "conflict",
            409,
            errors,
        )
    for line in lines:
        if line.invoice_key:
            session.add(
                InvoiceRegister(
                    invoice_key=line.invoice_key, line_id=line.id, unit_path=expense.unit_path
                )
            )
    now = now or utcnow()
    expense.status = ExpenseStatus.submitted.value
    expense.submitted_at = now
    expense.reason = None
    session.add(expense)
    _record(session, actor, expense, "submitted", decision="record", now=now)
    session.flush()
    return expense


def service_record_on(session: Session, expense: ExpenseClaim) -> str | None:
    """The service record proving the claimant served on the activity's day, as a label."""
    if expense.volunteer_id is None:
        return None
    day = expense.activity_date
    start = datetime.combine(day, datetime.min.time(), CHINA)
    assignments = select(Assignment).where(
        Assignment.volunteer_id == expense.volunteer_id,
        col(Assignment.status).in_([AssignmentStatus.confirmed.value]),
    )
    if expense.assignment_id is not None:
        assignments = assignments.where(Assignment.id == expense.assignment_id)
    for assignment in session.exec(assignments.where(Assignment.ends_at >= start)):
        if day in (china_day(assignment.starts_at), china_day(assignment.ends_at)):
            return f"assignment:{assignment.id}"
    entry = session.exec(
        select(HoursEntry.id).where(
            HoursEntry.volunteer_id == expense.volunteer_id, HoursEntry.service_date == day
        )
    ).first()
    return f"hours_entry:{entry}" if entry is not None else None


def confirm_activity(
    session: Session, actor: Actor, expense: ExpenseClaim, now: datetime | None = None
) -> ExpenseClaim:
    """Submitted → activity confirmed by the team leader, against the service record.

    Raises:
        DomainError: own claim (403); no assignment or hours entry of the claimant that day (409).
    """
    refuse_own(actor, expense.claimant_user_id, expense.claimant_person_id)
    _require(expense, ExpenseStatus.submitted)
    record = service_record_on(session, expense)
    if record is None:
        raise _refused(
            "activity_date",
            "no_service_record",
            f"{expense.activity_date} 没有申请人的排班或服务时长记录",
            f"No assignment or hours entry of the claimant on {expense.activity_date}",
        )
    expense.status = ExpenseStatus.activity_confirmed.value
    session.add(expense)
    _record(session, actor, expense, "activity_confirmed", note=record, now=now)
    session.flush()
    return expense


def review(
    session: Session,
    actor: Actor,
    expense: ExpenseClaim,
    sanctioned: dict[int, int] | None = None,
    now: datetime | None = None,
) -> ExpenseClaim:
    """Activity confirmed → finance reviewed: sanctioned amounts and the budget check.

    Each line's sanctioned amount is the one given, else the lesser of what was claimed and
    the standard of its date (a fixed standard pays the standard).

    Raises:
        DomainError: above the claim or the standard (400), own claim or same hand (403),
            no budget or beyond a stopping one without an exception (409).
    """
    refuse_own(actor, expense.claimant_user_id, expense.claimant_person_id)
    refuse_same_hand(session, actor, "expense", expense.id, "finance_reviewed")
    _require(expense, ExpenseStatus.activity_confirmed)
    sanctioned = sanctioned or {}
    lines = lines_of(session, expense)
    known = {line.id for line in lines}
    for line_id in sanctioned:
        if line_id not in known:
            raise _refused(
                f"sanctioned.{line_id}", "unknown_line", "没有这项费用", "No such line", 400
            )
    errors, decided = [], []
    for line in lines:
        rate = rate_on(session, expense.unit_path, line.expense_type, line.spent_on)
        cap = None if rate is None else rate.amount_fen
        if line.id in sanctioned:
            amount = sanctioned[line.id]
        else:
            amount = line.amount_claimed_fen if cap is None else min(line.amount_claimed_fen, cap)
        if amount > line.amount_claimed_fen:
            errors.append(
                FieldError(
                    f"sanctioned.{line.id}",
                    "above_claimed",
                    text("核准金额不能超过申请金额", "may not exceed the amount claimed"),
                )
            )
        elif cap is not None and amount > cap:
            errors.append(
                FieldError(
                    f"sanctioned.{line.id}",
                    "above_standard",
                    text("核准金额超过当日标准", "exceeds the standard of that day"),
                )
            )
        decided.append((line, amount, rate))
    if errors:
        raise DomainError(
            text("核准金额有误", "Sanctioned amounts are wrong"), "validation_failed", 400, errors
        )
    for line, amount, rate in decided:
        line.amount_sanctioned_fen = amount
        line.rate_id = rate.id if rate else None
        session.add(line)
    expense.sanctioned_fen = sum(line.amount_sanctioned_fen for line in lines)
    control = budgets.control(
        session, "expense", expense, expense.sanctioned_fen, china_day(now or utcnow())
    )
    expense.budget_warning = control.warning
    expense.status = ExpenseStatus.finance_reviewed.value
    session.add(expense)
    _record(
        session,
        actor,
        expense,
        "finance_reviewed",
        amount_fen=expense.sanctioned_fen,
        note=control.warning,
        now=now,
    )
    session.flush()
    return expense


def approve(
    session: Session, actor: Actor, expense: ExpenseClaim, now: datetime | None = None
) -> ExpenseClaim:
    """Finance reviewed → approved at the level the amount needs; the budget is reserved."""
    _require(expense, ExpenseStatus.finance_reviewed)
    _, control = spending.approve(
        session, actor, "expense", expense, action="insurance.expense.approve", now=now
    )
    expense.budget_warning = control.warning
    expense.status = ExpenseStatus.approved.value
    session.add(expense)
    session.flush()
    return expense


def pay(
    session: Session,
    actor: Actor,
    expense: ExpenseClaim,
    *,
    method: PaymentMethod,
    bank_ref: str | None = None,
    now: datetime | None = None,
):
    """Approved → paid by the cashier to the claimant's account; the budget is consumed."""
    _require(expense, ExpenseStatus.approved)
    payment = spending.pay(
        session,
        actor,
        "expense",
        expense,
        method=method,
        payee_account=expense.payee_account,
        bank_ref=bank_ref,
        now=now,
    )
    expense.status = ExpenseStatus.paid.value
    session.add(expense)
    session.flush()
    return payment


def _reviewer_may(actor: Actor, expense: ExpenseClaim) -> None:
    action = REVIEWER_ACTION[ExpenseStatus(expense.status)]
    if not actor.principal.can(action, expense.unit_path):
        raise _refused(
            "status", "not_your_step", "此步骤不由您办理", "This step is not yours to take", 403
        )


def send_back(
    session: Session, actor: Actor, expense: ExpenseClaim, reason: str, now: datetime | None = None
) -> ExpenseClaim:
    """Return a claim to its claimant as a draft, with a reason; its invoices are freed."""
    _require(expense, *REVIEWABLE)
    refuse_own(actor, expense.claimant_user_id, expense.claimant_person_id)
    _reviewer_may(actor, expense)
    _need_reason(reason)
    _free_invoices(session, expense)
    step = f"returned_from_{expense.status}"
    expense.status = ExpenseStatus.draft.value
    expense.reason = reason
    expense.budget_warning = None
    session.add(expense)
    _record(session, actor, expense, step, decision="return", reason=reason, now=now)
    session.flush()
    return expense


def reject(
    session: Session, actor: Actor, expense: ExpenseClaim, reason: str, now: datetime | None = None
) -> ExpenseClaim:
    """Reject a claim with a reason; nothing is sanctioned and its invoices stay registered."""
    _require(expense, *REVIEWABLE)
    refuse_own(actor, expense.claimant_user_id, expense.claimant_person_id)
    _reviewer_may(actor, expense)
    _need_reason(reason)
    for line in lines_of(session, expense):
        line.amount_sanctioned_fen = 0
        session.add(line)
    expense.sanctioned_fen = 0
    expense.status = ExpenseStatus.rejected.value
    expense.reason = reason
    session.add(expense)
    _record(session, actor, expense, "rejected", decision="reject", reason=reason, now=now)
    session.flush()
    return expense


def cancel(
    session: Session, actor: Actor, expense: ExpenseClaim, now: datetime | None = None
) -> ExpenseClaim:
    """The claimant cancels a draft or a submitted claim; its invoices are freed."""
    _own(actor, expense)
    _require(expense, ExpenseStatus.draft, ExpenseStatus.submitted)
    _free_invoices(session, expense)
    expense.status = ExpenseStatus.cancelled.value
    session.add(expense)
    _record(session, actor, expense, "cancelled", decision="record", now=now)
    session.flush()
    return expense


def _need_reason(reason: str | None) -> None:
    if not reason or not reason.strip():
        raise _refused("reason", "missing", "须说明理由", "A reason is required", 400)


def duplicate_lines(session: Session, path: str | None = None) -> list[ExpenseLine]:
    """Lines of open drafts whose invoice another claim has registered (the nightly sweep)."""
    query = (
        select(ExpenseLine)
        .join(ExpenseClaim, ExpenseClaim.id == ExpenseLine.expense_id)
        .join(InvoiceRegister, InvoiceRegister.invoice_key == ExpenseLine.invoice_key)
        .where(InvoiceRegister.line_id != ExpenseLine.id)
    )
    if path is not None:
        query = query.where(ExpenseClaim.unit_path.startswith(path))
    return list(session.exec(query))


def count_by_status(session: Session, path: str) -> dict[str, int]:
    """How many claims of a subtree are in each status."""
    return dict(
        session.exec(
            select(ExpenseClaim.status, func.count())
            .where(ExpenseClaim.unit_path.startswith(path))
            .group_by(ExpenseClaim.status)
        ).all()
    )
