"""Pages of the daily work: the hub with alerts and queues, reimbursements, claims, incidents."""

from datetime import timedelta
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Template
from sqlmodel import col, func, select

from core.access import path_in
from core.errors import DomainError, FieldError
from core.i18n import text
from core.security.present import reveal
from core.tasks.models import Assignment
from core.units.models import utcnow
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.forms import parse_form
from plugins.insurance import approvals, claims, expenses, incidents, payments
from plugins.insurance.api_cover import claim_status_of, take_step
from plugins.insurance.api_expenses import _receipt
from plugins.insurance.clock import now_or
from plugins.insurance.models import Alert, ExpenseClaim, Incident, InsuranceClaim
from plugins.insurance.page_support import back, fen_field, int_field, refusal, render, text_field
from plugins.insurance.schemas import ClaimStep, IncidentCreate
from plugins.insurance.vocab import ClaimStatus, Decision, ExpenseStatus, PaymentMethod
from plugins.insurance.web import acting, within

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
RecordId = FromPath[int]
#: Assignments a report may name: incidents are reported the same day, or soon after.
RECENT = timedelta(days=3)
QUEUE = (
    ExpenseStatus.submitted,
    ExpenseStatus.activity_confirmed,
    ExpenseStatus.finance_reviewed,
    ExpenseStatus.approved,
)
STEP_ACTION = {
    ExpenseStatus.submitted: ("confirm", "insurance.expense.confirm"),
    ExpenseStatus.activity_confirmed: ("review", "insurance.expense.review"),
    ExpenseStatus.finance_reviewed: ("approve", "insurance.expense.approve"),
}


class HubPages(Controller):
    """The plugin's home: what waits for whom, and the alerts."""

    @get("/", sync_to_thread=True, opt={"action": "insurance.report.read"})
    def hub(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """Queues by status and the latest alerts of the subtree."""
        counts = dict(
            session.exec(
                select(ExpenseClaim.status, func.count())
                .where(path_in(ExpenseClaim.unit_path, unit.path))
                .group_by(ExpenseClaim.status)
            ).all()
        )
        claim_counts = dict(
            session.exec(
                select(InsuranceClaim.status, func.count())
                .where(path_in(InsuranceClaim.unit_path, unit.path))
                .group_by(InsuranceClaim.status)
            ).all()
        )
        alerts = session.exec(
            select(Alert)
            .where(path_in(Alert.unit_path, unit.path))
            .order_by(col(Alert.id).desc())
            .limit(30)
        ).all()
        return render(
            request,
            session,
            platform,
            unit,
            "hub.html",
            expense_counts=counts,
            claim_counts=claim_counts,
            alerts=alerts,
            queue=QUEUE,
        )


def expense_view(
    request: Request, session, platform, unit, claim: ExpenseClaim, **extra: Any
) -> Template:
    """A claim's page with the steps the caller may take now."""
    principal = request.scope["user"]
    status = ExpenseStatus(claim.status)
    steps = []
    if status in STEP_ACTION and principal.can(STEP_ACTION[status][1], claim.unit_path):
        steps.append(STEP_ACTION[status][0])
    can_pay = status == ExpenseStatus.approved and principal.can(
        "insurance.payment.make", claim.unit_path
    )
    lines = [
        (line, expenses.receipts_of(session, line)) for line in expenses.lines_of(session, claim)
    ]
    return render(
        request,
        session,
        platform,
        unit,
        "expense.html",
        claim=claim,
        lines=lines,
        history=approvals.history(session, "expense", claim.id),
        steps=steps,
        can_pay=can_pay,
        paid=payments.payments_of(session, "expense", claim.id),
        can_reveal=status == ExpenseStatus.approved
        and principal.can("insurance.payment.reveal", claim.unit_path),
        masked_account=_masked(platform, claim),
        **extra,
    )


def _masked(platform, record) -> str | None:
    from core.security.present import masked_values

    return masked_values(record, platform.plugins.sensitive_fields).get("payee_account")


class ExpensePages(Controller):
    """The reimbursement work queue and each claim's page."""

    path = "/expenses"

    @get("/", sync_to_thread=True, opt={"action": "insurance.expense.read"})
    def queue(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        status: Annotated[ExpenseStatus | None, QueryParameter()] = None,
    ) -> Template:
        """Claims waiting in the subtree (or of one status), oldest first."""
        query = select(ExpenseClaim).where(path_in(ExpenseClaim.unit_path, unit.path))
        query = (
            query.where(ExpenseClaim.status == status.value)
            if status
            else query.where(col(ExpenseClaim.status).in_([s.value for s in QUEUE]))
        )
        rows = session.exec(query.order_by(ExpenseClaim.id).limit(200)).all()
        return render(
            request,
            session,
            platform,
            unit,
            "expenses.html",
            rows=rows,
            status=status,
            statuses=list(ExpenseStatus),
        )

    @get("/{expense_id:int}", sync_to_thread=True, opt={"action": "insurance.expense.read"})
    def detail(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        expense_id: RecordId,
    ) -> Template:
        """A claim: lines, receipts, decisions, and my step."""
        return expense_view(request, session, platform, unit, _visible(session, expense_id, unit))

    @get(
        "/{expense_id:int}/receipts/{file_id:int}",
        sync_to_thread=True,
        opt={"action": "insurance.expense.read"},
    )
    def receipt(
        self, session: SessionDep, unit: UnitDep, expense_id: RecordId, file_id: RecordId
    ) -> Response:
        """A receipt scan."""
        return _receipt(session, _visible(session, expense_id, unit), file_id)

    @post("/{expense_id:int}/steps", sync_to_thread=True, opt={"action": "insurance.expense.read"})
    def step(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        expense_id: RecordId,
        data: Form,
    ) -> Any:
        """Confirm, review (with sanctioned amounts in yuan), approve, return or reject."""
        claim = _visible(session, expense_id, unit)
        actor = acting(request, session)
        step = data.get("step")
        try:
            if step in ("confirm", "review", "approve"):
                action = {
                    "confirm": "insurance.expense.confirm",
                    "review": "insurance.expense.review",
                    "approve": "insurance.expense.approve",
                }[step]
                if not actor.principal.can(action, claim.unit_path):
                    raise DomainError(
                        text("此步骤不由您办理", "This step is not yours to take"),
                        "not_allowed",
                        403,
                        [FieldError("step", "not_your_step", step)],
                    )
            if step == "confirm":
                expenses.confirm_activity(session, actor, claim)
            elif step == "review":
                sanctioned = {}
                for line in expenses.lines_of(session, claim):
                    amount = fen_field(data, f"sanctioned_{line.id}", required=False)
                    if amount is not None:
                        sanctioned[line.id] = amount
                expenses.review(session, actor, claim, sanctioned)
            elif step == "approve":
                expenses.approve(session, actor, claim)
            elif step == "return":
                expenses.send_back(session, actor, claim, text_field(data, "reason") or "")
            elif step == "reject":
                expenses.reject(session, actor, claim, text_field(data, "reason") or "")
            else:
                raise DomainError(
                    text("请选择办理步骤", "Choose a step"),
                    "validation_failed",
                    400,
                    [FieldError("step", "missing", str(step))],
                )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return expense_view(
                request,
                session,
                platform,
                unit,
                _visible(session, expense_id, unit),
                **refusal(refused),
            )
        return back(f"/units/{unit.id}/insurance/expenses/{claim.id}")

    @post(
        "/{expense_id:int}/payment", sync_to_thread=True, opt={"action": "insurance.payment.make"}
    )
    def pay(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        expense_id: RecordId,
        data: Form,
    ) -> Any:
        """The cashier pays."""
        claim = _visible(session, expense_id, unit)
        try:
            method = PaymentMethod(data.get("method") or "bank")
            if method not in (PaymentMethod.bank, PaymentMethod.cash):
                raise ValueError(method)
            expenses.pay(
                session,
                acting(request, session),
                claim,
                method=method,
                bank_ref=text_field(data, "bank_ref"),
            )
            session.commit()
        except ValueError:
            return expense_view(
                request,
                session,
                platform,
                unit,
                claim,
                errors=[FieldError("method", "enum", str(data.get("method")))],
                status_code=400,
            )
        except DomainError as refused:
            session.rollback()
            return expense_view(
                request,
                session,
                platform,
                unit,
                _visible(session, expense_id, unit),
                **refusal(refused),
            )
        return back(f"/units/{unit.id}/insurance/expenses/{claim.id}")

    @post(
        "/{expense_id:int}/reveal", sync_to_thread=True, opt={"action": "insurance.payment.reveal"}
    )
    def reveal_payee(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        expense_id: RecordId,
        data: Form,
    ) -> Template:
        """Show the payee's account at the payment step, with a reason (audited)."""
        claim = _visible(session, expense_id, unit)
        reason = text_field(data, "reason")
        try:
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
            if not reason:
                raise DomainError(
                    text("请说明理由", "Give a reason"),
                    "validation_failed",
                    400,
                    [FieldError("reason", "missing", "")],
                )
            values = reveal(
                session,
                claim,
                ["payee_account"],
                reason,
                request.scope["user"],
                platform.plugins.sensitive_fields,
                claim.unit_path,
            )
            session.commit()
        except DomainError as refused:
            return expense_view(request, session, platform, unit, claim, **refusal(refused))
        response = expense_view(
            request, session, platform, unit, claim, revealed=values["payee_account"]
        )
        response.headers["cache-control"] = "no-store"
        return response


def _visible(session, expense_id: int, unit) -> ExpenseClaim:
    from litestar.exceptions import NotFoundException

    claim = within(session, ExpenseClaim, expense_id, unit)
    if claim.status == ExpenseStatus.draft and claim.submitted_at is None:
        raise NotFoundException(f"expense {expense_id} not found")
    return claim


def claim_view(
    request: Request, session, platform, unit, claim: InsuranceClaim, **extra: Any
) -> Template:
    """A claim's page: checklist, clocks, decisions and the step forms."""
    from core.security.present import masked_values

    return render(
        request,
        session,
        platform,
        unit,
        "claim.html",
        claim=claim,
        shown=masked_values(claim, platform.plugins.sensitive_fields),
        documents=claims.documents_of(session, claim),
        labels=claims.DOCUMENT_LABELS,
        clock=claims.clock(session, claim),
        history=approvals.history(session, "claim", claim.id),
        missing=claims.missing_documents(session, claim),
        decisions=list(Decision),
        **extra,
    )


class ClaimPages(Controller):
    """Claims for the insurance clerk."""

    path = "/claims"

    @get("/", sync_to_thread=True, opt={"action": "insurance.claim.read"})
    def claims_list(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        status: Annotated[ClaimStatus | None, QueryParameter()] = None,
    ) -> Template:
        """Claims of the subtree with their clocks."""
        query = select(InsuranceClaim).where(path_in(InsuranceClaim.unit_path, unit.path))
        if status is not None:
            query = query.where(InsuranceClaim.status == status.value)
        rows = [
            (c, claims.clock(session, c))
            for c in session.exec(query.order_by(col(InsuranceClaim.id).desc()).limit(200))
        ]
        return render(
            request,
            session,
            platform,
            unit,
            "claims.html",
            rows=rows,
            status=status,
            statuses=list(ClaimStatus),
        )

    @get("/{claim_id:int}", sync_to_thread=True, opt={"action": "insurance.claim.read"})
    def detail(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        claim_id: RecordId,
    ) -> Template:
        """One claim."""
        return claim_view(
            request, session, platform, unit, within(session, InsuranceClaim, claim_id, unit)
        )

    @post(
        "/{claim_id:int}/documents", sync_to_thread=True, opt={"action": "insurance.claim.manage"}
    )
    def document(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        claim_id: RecordId,
        data: Form,
    ) -> Any:
        """Tick a checklist item received."""
        claim = within(session, InsuranceClaim, claim_id, unit)
        try:
            claims.receive_document(
                session,
                acting(request, session),
                claim,
                data.get("code") or "",
                original=data.get("original") == "1",
            )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return claim_view(
                request,
                session,
                platform,
                unit,
                within(session, InsuranceClaim, claim_id, unit),
                **refusal(refused),
            )
        return back(f"/units/{unit.id}/insurance/claims/{claim.id}")

    @post("/{claim_id:int}/steps", sync_to_thread=True, opt={"action": "insurance.claim.manage"})
    def step(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        claim_id: RecordId,
        data: Form,
    ) -> Any:
        """Take one step of the claim."""
        claim = within(session, InsuranceClaim, claim_id, unit)
        try:
            values = {k: v for k, v in data.items() if k in ClaimStep.model_fields and v != ""}
            if "approved_fen" in data or "approved" in data:
                values.pop("approved_fen", None)
                amount = fen_field(data, "approved", required=False)
                if amount is not None:
                    values["approved_fen"] = amount
            for flag in ("notice_sent", "claimant_confirmed"):
                values[flag] = data.get(flag) == "1"
            if "at" in values:
                values["at"] = now_or(values["at"]).isoformat()
            step, errors = parse_form(ClaimStep, values)
            if errors:
                raise DomainError(
                    text("提交的数据有误", "The submitted data is invalid"),
                    "validation_failed",
                    400,
                    errors,
                )
            take_step(session, acting(request, session), claim, step)
            session.commit()
        except DomainError as refused:
            session.rollback()
            return claim_view(
                request,
                session,
                platform,
                unit,
                within(session, InsuranceClaim, claim_id, unit),
                **refusal(refused),
            )
        return back(f"/units/{unit.id}/insurance/claims/{claim.id}")


class IncidentPages(Controller):
    """Incidents: the list a leader sees, and the same-day report form."""

    path = "/incidents"

    def _page(self, request, session, platform, unit, **extra) -> Template:
        rows = session.exec(
            select(Incident)
            .where(path_in(Incident.unit_path, unit.path))
            .order_by(col(Incident.id).desc())
            .limit(100)
        ).all()
        recent = session.exec(
            select(Assignment)
            .where(
                path_in(Assignment.unit_path, unit.path), Assignment.starts_at >= utcnow() - RECENT
            )
            .order_by(col(Assignment.starts_at).desc())
            .limit(100)
        ).all()
        return render(
            request,
            session,
            platform,
            unit,
            "incidents.html",
            rows=[(row, claim_status_of(session, row.id)) for row in rows],
            assignments=recent,
            **extra,
        )

    @get("/", sync_to_thread=True, opt={"action": "insurance.incident.read"})
    def incidents_list(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """Incidents of the subtree and, for a leader, the report form."""
        return self._page(request, session, platform, unit)

    @post("/", sync_to_thread=True, opt={"action": "insurance.incident.report"})
    def report(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Report an incident against an assignment."""
        try:
            assignment = session.get(Assignment, int_field(data, "assignment_id"))
            values = {k: v for k, v in data.items() if k in IncidentCreate.model_fields and v != ""}
            values["volunteer_id"] = assignment.volunteer_id if assignment else 0
            if values.get("occurred_at"):
                values["occurred_at"] = now_or(values["occurred_at"]).isoformat()
            parsed, errors = parse_form(IncidentCreate, values)
            if errors:
                raise DomainError(
                    text("提交的数据有误", "The submitted data is invalid"),
                    "validation_failed",
                    400,
                    errors,
                )
            incidents.report(
                session,
                reporter_user_id=request.scope["user"].user_id,
                within=unit,
                volunteer_id=parsed.volunteer_id,
                occurred_at=parsed.occurred_at,
                place=parsed.place,
                description=parsed.description,
                injury_kind=parsed.injury_kind,
                assignment_id=parsed.assignment_id,
                injury_detail=parsed.injury_detail,
                hospital=parsed.hospital,
                police_ref=parsed.police_ref,
                witnesses=parsed.witnesses,
            )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return self._page(request, session, platform, unit, **refusal(refused))
        return back(f"/units/{unit.id}/insurance/incidents")


WORK_PAGES = [HubPages, ExpensePages, ClaimPages, IncidentPages]
