"""API of reimbursements: the staff's chain, and each volunteer's own cover, claims and expenses.

A volunteer's own routes (``/my/…``) take record ids in the body or query, never in the path,
and find nothing that is not the caller's: another person's claim is simply not there.
"""

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import Session, col, select

from core.access import path_in
from core.accounts.models import User
from core.errors import DomainError, FieldError
from core.files.models import StoredFile
from core.i18n import text
from core.security.present import reveal
from core.volunteers.models import Volunteer
from core.web.deps import Limit, Offset, PlatformDep, SessionDep, UnitDep
from plugins.insurance import approvals, cover, expenses, reports
from plugins.insurance.models import Attachment, ExpenseClaim, ExpenseLine, InsuranceClaim
from plugins.insurance.schemas import (
    ApprovalRead,
    ClaimRead,
    ExpenseCreate,
    ExpenseLineRead,
    ExpenseRead,
    ExpenseStep,
    MyExpenseRef,
    MyLineCreate,
    MyLineRef,
    PaymentIn,
    PaymentRead,
    ReasonIn,
    RevealRead,
    shown,
)
from plugins.insurance.vocab import ExpenseStatus, ExpenseType, PaymentMethod
from plugins.insurance.web import acting, within

RecordId = FromPath[int]
UPLOAD_LIMIT = expenses.MAX_RECEIPT_BYTES + 1024 * 1024


def expense_read(session: Session, platform, claim: ExpenseClaim) -> ExpenseRead:
    """A claim with its lines, their receipts and its decisions (the account masked)."""
    lines = [
        ExpenseLineRead.model_validate(
            {
                **line.model_dump(),
                "receipt_file_ids": [a.file_id for a in expenses.receipts_of(session, line)],
            }
        )
        for line in expenses.lines_of(session, claim)
    ]
    history = [
        ApprovalRead.model_validate(a) for a in approvals.history(session, "expense", claim.id)
    ]
    return shown(platform, claim, ExpenseRead, lines=lines, history=history)


class ExpenseController(Controller):
    """Reimbursements through the chain: leader, finance, approver, cashier."""

    path = "/expenses"
    tags = ["insurance"]

    @get(
        "/",
        sync_to_thread=True,
        operation_id="InsuranceExpenses",
        opt={"action": "insurance.expense.read"},
    )
    def queue(
        self,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        status: Annotated[ExpenseStatus | None, QueryParameter()] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[ExpenseRead]:
        """Claims of the subtree (drafts are the claimants' own and not listed), oldest first."""
        query = select(ExpenseClaim).where(
            path_in(ExpenseClaim.unit_path, unit.path),
            ExpenseClaim.status != ExpenseStatus.draft.value,
        )
        if status is not None:
            query = query.where(ExpenseClaim.status == status.value)
        rows = session.exec(query.order_by(ExpenseClaim.id).offset(offset).limit(limit))
        return [expense_read(session, platform, row) for row in rows]

    @get(
        "/{expense_id:int}",
        sync_to_thread=True,
        operation_id="InsuranceExpense",
        opt={"action": "insurance.expense.read"},
    )
    def expense(
        self, session: SessionDep, platform: PlatformDep, unit: UnitDep, expense_id: RecordId
    ) -> ExpenseRead:
        """One claim with its lines and decisions."""
        return expense_read(session, platform, _submitted(session, expense_id, unit))

    @get(
        "/{expense_id:int}/receipts/{file_id:int}",
        sync_to_thread=True,
        operation_id="InsuranceExpenseReceipt",
        opt={"action": "insurance.expense.read"},
    )
    def receipt(
        self, session: SessionDep, unit: UnitDep, expense_id: RecordId, file_id: RecordId
    ) -> Response:
        """A receipt scan of a claim of the subtree."""
        claim = _submitted(session, expense_id, unit)
        return _receipt(session, claim, file_id)

    @post(
        "/{expense_id:int}/steps",
        sync_to_thread=True,
        operation_id="InsuranceExpenseStep",
        opt={"action": "insurance.expense.read"},
        status_code=200,
    )
    def step(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        expense_id: RecordId,
        data: JSONBody[ExpenseStep],
    ) -> ExpenseRead:
        """Confirm (leader), review (finance), approve (by amount), return or reject (reason)."""
        claim = _submitted(session, expense_id, unit)
        actor = acting(request, session)
        action = {
            "confirm": "insurance.expense.confirm",
            "review": "insurance.expense.review",
            "approve": "insurance.expense.approve",
        }.get(data.step)
        if action is not None and not actor.principal.can(action, claim.unit_path):
            message = text("此步骤不由您办理", "This step is not yours to take")
            raise DomainError(
                message, "not_allowed", 403, [FieldError("step", "not_your_step", message)]
            )
        if data.step == "confirm":
            expenses.confirm_activity(session, actor, claim)
        elif data.step == "review":
            expenses.review(session, actor, claim, _sanctioned(data.sanctioned))
        elif data.step == "approve":
            expenses.approve(session, actor, claim)
        elif data.step == "return":
            expenses.send_back(session, actor, claim, data.reason or "")
        else:
            expenses.reject(session, actor, claim, data.reason or "")
        session.commit()
        return expense_read(session, platform, claim)

    @post(
        "/{expense_id:int}/payment",
        sync_to_thread=True,
        operation_id="InsurancePayExpense",
        opt={"action": "insurance.payment.make"},
        status_code=200,
    )
    def pay(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        expense_id: RecordId,
        data: JSONBody[PaymentIn],
    ) -> PaymentRead:
        """The cashier pays an approved claim to the claimant's account."""
        claim = _submitted(session, expense_id, unit)
        payment = expenses.pay(
            session,
            acting(request, session),
            claim,
            method=PaymentMethod(data.method),
            bank_ref=data.bank_ref,
        )
        session.commit()
        return shown(platform, payment, PaymentRead)

    @post(
        "/{expense_id:int}/reveal",
        sync_to_thread=True,
        operation_id="InsuranceRevealPayee",
        opt={"action": "insurance.payment.reveal"},
        status_code=200,
    )
    def reveal_payee(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        expense_id: RecordId,
        data: JSONBody[ReasonIn],
    ) -> RevealRead:
        """The payee's bank account in clear, only at the payment step (audited)."""
        claim = _submitted(session, expense_id, unit)
        if claim.status != ExpenseStatus.approved:
            raise DomainError(
                text(
                    "收款账户只在付款环节显示",
                    "The payee's account is shown only at the payment step",
                ),
                "conflict",
                409,
                [FieldError("status", "not_payment_step", claim.status)],
            )
        values = reveal(
            session,
            claim,
            ["payee_account"],
            data.reason,
            request.scope["user"],
            platform.plugins.sensitive_fields,
            claim.unit_path,
        )
        session.commit()
        return RevealRead(id=claim.id, values=values)


def _submitted(session: Session, expense_id: int, unit) -> ExpenseClaim:
    """A claim of the subtree that has left its claimant's hands (drafts are private)."""
    claim = within(session, ExpenseClaim, expense_id, unit)
    if claim.status == ExpenseStatus.draft and claim.submitted_at is None:
        raise NotFoundException(f"expense {expense_id} not found")
    return claim


def _sanctioned(values: dict[str, int] | None) -> dict[int, int] | None:
    if values is None:
        return None
    parsed = {}
    for key, amount in values.items():
        if not key.isdigit():
            raise DomainError(
                text("核准金额须按费用编号填写", "Sanctioned amounts are keyed by line id"),
                "validation_failed",
                400,
                [FieldError(f"sanctioned.{key}", "not_a_line_id", key)],
            )
        parsed[int(key)] = amount
    return parsed


def _receipt(session: Session, claim: ExpenseClaim, file_id: int) -> Response:
    line_ids = [line.id for line in expenses.lines_of(session, claim)]
    attachment = session.exec(
        select(Attachment).where(
            Attachment.subject_type == "expense_line",
            col(Attachment.subject_id).in_(line_ids or [0]),
            Attachment.file_id == file_id,
        )
    ).first()
    if attachment is None:
        raise NotFoundException(f"no receipt {file_id}")
    stored = session.get(StoredFile, file_id)
    return Response(
        stored.content, media_type=stored.media_type, headers={"cache-control": "no-store"}
    )


# -- the volunteer's own ----------------------------------------------------------------------


def own_volunteer(session: Session, request: Request) -> tuple[User, Volunteer | None]:
    """The caller's account and, if they are one, their volunteer record."""
    user = session.get(User, request.scope["user"].user_id)
    volunteer = (
        session.exec(select(Volunteer).where(Volunteer.person_id == user.person_id)).first()
        if user.person_id is not None
        else None
    )
    return user, volunteer


def own_expense(session: Session, request: Request, unit, expense_id: int) -> ExpenseClaim:
    """One of the caller's own claims at the unit's subtree, or 404."""
    claim = session.get(ExpenseClaim, expense_id)
    if (
        claim is None
        or claim.claimant_user_id != request.scope["user"].user_id
        or not claim.unit_path.startswith(unit.path)
    ):
        raise NotFoundException(f"expense {expense_id} not found")
    return claim


def own_line(session: Session, claim: ExpenseClaim, line_id: int) -> ExpenseLine:
    """A line of the caller's claim, or 404."""
    line = session.get(ExpenseLine, line_id)
    if line is None or line.expense_id != claim.id:
        raise NotFoundException(f"line {line_id} not found")
    return line


@dataclass
class ReceiptUpload:
    """A receipt for a line of one of the caller's drafts."""

    expense_id: int
    line_id: int
    file: UploadFile


class MyController(Controller):
    """A volunteer's own cover, claims, expenses and statement."""

    path = "/my"
    tags = ["insurance"]

    @get(
        "/cover",
        sync_to_thread=True,
        operation_id="InsuranceMyCover",
        opt={"action": "insurance.self.read"},
    )
    def my_cover(self, request: Request, session: SessionDep) -> list[dict]:
        """My cover periods (policies by name or by activity)."""
        _, volunteer = own_volunteer(session, request)
        if volunteer is None:
            return []
        return [
            {
                "policy_no": period["policy"].policy_no,
                "insurer": period["policy"].insurer,
                "valid_from": period["valid_from"].isoformat(),
                "valid_to": period["valid_to"].isoformat(),
                "basis": period["basis"],
                "certificate_no": period["certificate_no"],
                "lines": [
                    {
                        "kind": line.kind,
                        "limit_fen": line.limit_fen,
                        "deductible_fen": line.deductible_fen,
                        "ratio_percent": line.ratio_percent,
                    }
                    for line in cover.lines_of(session, period["policy"])
                ],
            }
            for period in cover.cover_periods(session, volunteer)
        ]

    @get(
        "/claims",
        sync_to_thread=True,
        operation_id="InsuranceMyClaims",
        opt={"action": "insurance.self.read"},
    )
    def my_claims(
        self, request: Request, session: SessionDep, platform: PlatformDep
    ) -> list[ClaimRead]:
        """Insurance claims about me."""
        user, _ = own_volunteer(session, request)
        if user.person_id is None:
            return []
        rows = session.exec(
            select(InsuranceClaim)
            .where(InsuranceClaim.claimant_person_id == user.person_id)
            .order_by(col(InsuranceClaim.id).desc())
        )
        return [shown(platform, row, ClaimRead) for row in rows]

    @get(
        "/expenses",
        sync_to_thread=True,
        operation_id="InsuranceMyExpenses",
        opt={"action": "insurance.self.read"},
    )
    def my_expenses(
        self, request: Request, session: SessionDep, platform: PlatformDep
    ) -> list[ExpenseRead]:
        """My reimbursement claims, newest first."""
        rows = session.exec(
            select(ExpenseClaim)
            .where(ExpenseClaim.claimant_user_id == request.scope["user"].user_id)
            .order_by(col(ExpenseClaim.id).desc())
        )
        return [expense_read(session, platform, row) for row in rows]

    @get(
        "/receipts",
        sync_to_thread=True,
        operation_id="InsuranceMyReceipt",
        opt={"action": "insurance.self.read"},
    )
    def my_receipt(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        expense_id: Annotated[int, QueryParameter(ge=1, le=2**62)],
        file_id: Annotated[int, QueryParameter(ge=1, le=2**62)],
    ) -> Response:
        """A receipt of one of my claims."""
        return _receipt(session, own_expense(session, request, unit, expense_id), file_id)

    @get(
        "/statement",
        sync_to_thread=True,
        operation_id="InsuranceMyStatement",
        opt={"action": "insurance.self.read"},
    )
    def my_statement(self, request: Request, session: SessionDep) -> dict:
        """My statement: cover, claims, rewards, reimbursements."""
        _, volunteer = own_volunteer(session, request)
        if volunteer is None:
            return {"cover": [], "claims": [], "rewards": [], "reimbursements": []}
        statement = reports.statement(session, volunteer)
        return {
            section: [
                {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
                for row in rows
            ]
            for section, rows in statement.items()
        }

    @post(
        "/expenses",
        sync_to_thread=True,
        operation_id="InsuranceMyNewExpense",
        opt={"action": "insurance.self.claim"},
        status_code=HTTP_201_CREATED,
    )
    def create(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[ExpenseCreate],
    ) -> ExpenseRead:
        """Open my draft claim for an activity at this unit (lines may come with it)."""
        _, volunteer = own_volunteer(session, request)
        actor = acting(request, session)
        claim = expenses.create(
            session,
            actor,
            unit,
            volunteer_id=volunteer.id if volunteer else None,
            activity_date=data.activity_date,
            purpose=data.purpose,
            assignment_id=data.assignment_id,
            payee_account=data.payee_account,
        )
        for line in data.lines:
            expenses.add_line(
                session,
                actor,
                claim,
                expense_type=line.expense_type,
                spent_on=line.spent_on,
                amount_fen=line.amount_fen,
                description=line.description,
                invoice_code=line.invoice_code,
                invoice_no=line.invoice_no,
            )
        session.commit()
        return expense_read(session, platform, claim)

    @post(
        "/expenses/lines",
        sync_to_thread=True,
        operation_id="InsuranceMyAddLine",
        opt={"action": "insurance.self.claim"},
        status_code=HTTP_201_CREATED,
    )
    def add_line(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[MyLineCreate],
    ) -> ExpenseRead:
        """Add a line to my draft."""
        claim = own_expense(session, request, unit, data.expense_id)
        expenses.add_line(
            session,
            acting(request, session),
            claim,
            expense_type=ExpenseType(data.expense_type),
            spent_on=data.spent_on,
            amount_fen=data.amount_fen,
            description=data.description,
            invoice_code=data.invoice_code,
            invoice_no=data.invoice_no,
        )
        session.commit()
        return expense_read(session, platform, claim)

    @post(
        "/expenses/lines/removal",
        sync_to_thread=True,
        operation_id="InsuranceMyRemoveLine",
        opt={"action": "insurance.self.claim"},
        status_code=200,
    )
    def remove_line(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[MyLineRef],
    ) -> ExpenseRead:
        """Remove a line (and its receipts) from my draft."""
        claim = own_expense(session, request, unit, data.expense_id)
        expenses.remove_line(
            session, acting(request, session), claim, own_line(session, claim, data.line_id)
        )
        session.commit()
        return expense_read(session, platform, claim)

    @post(
        "/expenses/receipts",
        sync_to_thread=True,
        operation_id="InsuranceMyReceiptUpload",
        opt={"action": "insurance.self.claim"},
        status_code=HTTP_201_CREATED,
        request_max_body_size=UPLOAD_LIMIT,
    )
    def upload(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Annotated[ReceiptUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ExpenseRead:
        """Upload a receipt (JPEG, PNG or PDF, at most 5 MB) for a line of my draft."""
        claim = own_expense(session, request, unit, data.expense_id)
        line = own_line(session, claim, data.line_id)
        if not isinstance(data.file, UploadFile):
            raise DomainError(
                text("请选择收据文件", "Choose the receipt file"),
                "validation_failed",
                400,
                [FieldError("file", "missing", "")],
            )
        content = data.file.file.read(expenses.MAX_RECEIPT_BYTES + 1)
        expenses.attach_receipt(
            session, acting(request, session), claim, line, data.file.filename or "receipt", content
        )
        session.commit()
        return expense_read(session, platform, claim)

    @post(
        "/expenses/submission",
        sync_to_thread=True,
        operation_id="InsuranceMySubmit",
        opt={"action": "insurance.self.claim"},
        status_code=200,
    )
    def submit(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[MyExpenseRef],
    ) -> ExpenseRead:
        """Submit my draft to the team leader."""
        claim = own_expense(session, request, unit, data.expense_id)
        try:
            expenses.submit(session, acting(request, session), claim)
        except DomainError:
            session.commit()  # keep the duplicate flags the check set
            raise
        session.commit()
        return expense_read(session, platform, claim)

    @post(
        "/expenses/cancellation",
        sync_to_thread=True,
        operation_id="InsuranceMyCancel",
        opt={"action": "insurance.self.claim"},
        status_code=200,
    )
    def cancel(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[MyExpenseRef],
    ) -> ExpenseRead:
        """Cancel my draft or submitted claim."""
        claim = own_expense(session, request, unit, data.expense_id)
        expenses.cancel(session, acting(request, session), claim)
        session.commit()
        return expense_read(session, platform, claim)


EXPENSE_ROUTES = [ExpenseController, MyController]
