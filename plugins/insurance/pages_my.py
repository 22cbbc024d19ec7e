"""A volunteer's own pages, made for a phone: my cover, my claims, my expenses.

Record ids travel in the query or the form, never in the path, and a record that is not the
caller's is simply not found.
"""

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Template
from sqlmodel import col, select

from core.errors import DomainError, FieldError
from core.i18n import text
from core.units.models import utcnow
from core.web.deps import PlatformDep, SessionDep, UnitDep
from plugins.insurance import cover, expenses
from plugins.insurance.api_expenses import _receipt, own_expense, own_line, own_volunteer
from plugins.insurance.clock import china_day
from plugins.insurance.models import ExpenseClaim, InsuranceClaim
from plugins.insurance.page_support import back, fen_field, int_field, refusal, render, text_field
from plugins.insurance.vocab import ExpenseType
from plugins.insurance.web import acting

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
Upload = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
IdQuery = Annotated[int, QueryParameter(ge=1, le=2**62)]


def _day(form: dict[str, str], name: str) -> date:
    try:
        return date.fromisoformat(form.get(name) or "")
    except ValueError:
        raise DomainError(
            text("日期格式不正确", "Not a date"),
            "validation_failed",
            400,
            [FieldError(name, "date_parsing", form.get(name) or "")],
        ) from None


class MyPages(Controller):
    """My cover, claims and expenses."""

    path = "/my"

    @get("/", sync_to_thread=True, opt={"action": "insurance.self.read"})
    def home(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """My cover periods, my claims and my expenses."""
        user, volunteer = own_volunteer(session, request)
        periods = cover.cover_periods(session, volunteer) if volunteer else []
        today = china_day(utcnow())
        mine = session.exec(
            select(ExpenseClaim)
            .where(ExpenseClaim.claimant_user_id == user.id)
            .order_by(col(ExpenseClaim.id).desc())
        ).all()
        my_claims = (
            session.exec(
                select(InsuranceClaim)
                .where(InsuranceClaim.claimant_person_id == user.person_id)
                .order_by(col(InsuranceClaim.id).desc())
            ).all()
            if user.person_id
            else []
        )
        covered_today = (
            volunteer is not None and cover.cover_on(session, volunteer, today) is not None
        )
        return render(
            request,
            session,
            platform,
            unit,
            "my.html",
            periods=[(p, cover.lines_of(session, p["policy"])) for p in periods],
            expenses=mine,
            claims=my_claims,
            covered_today=covered_today,
            volunteer=volunteer,
            today=today,
        )

    def _new(self, request, session, platform, unit, form=None, **extra) -> Template:
        return render(
            request,
            session,
            platform,
            unit,
            "my_new.html",
            form=form or {},
            today=china_day(utcnow()),
            **extra,
        )

    @get("/new", sync_to_thread=True, opt={"action": "insurance.self.claim"})
    def new(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """The form for a new claim."""
        return self._new(request, session, platform, unit)

    @post("/new", sync_to_thread=True, opt={"action": "insurance.self.claim"})
    def create(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Open my draft."""
        try:
            purpose = text_field(data, "purpose")
            if not purpose:
                raise DomainError(
                    text("请填写事由", "Say what it was for"),
                    "validation_failed",
                    400,
                    [FieldError("purpose", "missing", "")],
                )
            account = text_field(data, "payee_account")
            if account is not None and not (account.isdigit() and 8 <= len(account) <= 30):
                raise DomainError(
                    text("银行账号格式不正确", "Not a bank account number"),
                    "validation_failed",
                    400,
                    [FieldError("payee_account", "string_pattern_mismatch", "")],
                )
            _, volunteer = own_volunteer(session, request)
            claim = expenses.create(
                session,
                acting(request, session),
                unit,
                volunteer_id=volunteer.id if volunteer else None,
                activity_date=_day(data, "activity_date"),
                purpose=purpose[:300],
                payee_account=account,
            )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return self._new(request, session, platform, unit, form=data, **refusal(refused))
        return back(f"/units/{unit.id}/insurance/my/expense?id={claim.id}")

    def _expense(self, request, session, platform, unit, claim, **extra) -> Template:
        from core.security.present import masked_values

        lines = [
            (line, expenses.receipts_of(session, line))
            for line in expenses.lines_of(session, claim)
        ]
        return render(
            request,
            session,
            platform,
            unit,
            "my_expense.html",
            claim=claim,
            lines=lines,
            account=masked_values(claim, platform.plugins.sensitive_fields)["payee_account"],
            types=list(ExpenseType),
            **extra,
        )

    @get("/expense", sync_to_thread=True, opt={"action": "insurance.self.read"})
    def expense(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        id: IdQuery,
    ) -> Template:
        """One of my claims: lines, receipts, what to do next."""
        return self._expense(
            request, session, platform, unit, own_expense(session, request, unit, id)
        )

    @get("/receipt", sync_to_thread=True, opt={"action": "insurance.self.read"})
    def receipt(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        expense_id: IdQuery,
        file_id: IdQuery,
    ) -> Response:
        """A receipt of one of my claims."""
        return _receipt(session, own_expense(session, request, unit, expense_id), file_id)

    def _act(self, request, session, platform, unit, data: dict, do) -> Any:
        claim = own_expense(session, request, unit, int_field(data, "expense_id"))
        try:
            do(claim)
            session.commit()
        except DomainError as refused:
            session.commit() if refused.code == "duplicate_invoice" else session.rollback()
            return self._expense(
                request,
                session,
                platform,
                unit,
                own_expense(session, request, unit, claim.id),
                **refusal(refused),
            )
        return back(f"/units/{unit.id}/insurance/my/expense?id={claim.id}")

    @post("/expense/lines", sync_to_thread=True, opt={"action": "insurance.self.claim"})
    def add_line(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Add an expense (amount in yuan)."""

        def do(claim):
            try:
                kind = ExpenseType(data.get("expense_type") or "")
            except ValueError:
                raise DomainError(
                    text("请选择费用类型", "Choose the kind of expense"),
                    "validation_failed",
                    400,
                    [FieldError("expense_type", "enum", "")],
                ) from None
            amount = fen_field(data, "amount")
            if amount <= 0:
                raise DomainError(
                    text("金额须大于零", "The amount must be positive"),
                    "validation_failed",
                    400,
                    [FieldError("amount", "greater_than", "0")],
                )
            code, number = text_field(data, "invoice_code"), text_field(data, "invoice_no")
            for name, value in (("invoice_code", code), ("invoice_no", number)):
                if value is not None and not (value.isalnum() and len(value) <= 20):
                    raise DomainError(
                        text("发票代码或号码格式不正确", "Not an invoice code or number"),
                        "validation_failed",
                        400,
                        [FieldError(name, "string_pattern_mismatch", "")],
                    )
            expenses.add_line(
                session,
                acting(request, session),
                claim,
                expense_type=kind,
                spent_on=_day(data, "spent_on"),
                amount_fen=amount,
                description=(text_field(data, "description") or "")[:200],
                invoice_code=code,
                invoice_no=number,
            )

        return self._act(request, session, platform, unit, data, do)

    @post("/expense/lines/removal", sync_to_thread=True, opt={"action": "insurance.self.claim"})
    def remove_line(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Remove an expense from my draft."""
        return self._act(
            request,
            session,
            platform,
            unit,
            data,
            lambda claim: expenses.remove_line(
                session,
                acting(request, session),
                claim,
                own_line(session, claim, int_field(data, "line_id")),
            ),
        )

    @post(
        "/expense/receipts",
        sync_to_thread=True,
        opt={"action": "insurance.self.claim"},
        request_max_body_size=expenses.MAX_RECEIPT_BYTES + 1024 * 1024,
    )
    def upload(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Upload,
    ) -> Any:
        """Upload a photo or PDF of a receipt."""
        form = {key: value for key, value in data.items() if isinstance(value, str)}
        upload = data.get("file")

        def do(claim):
            if not isinstance(upload, UploadFile):
                raise DomainError(
                    text("请选择收据文件", "Choose the receipt file"),
                    "validation_failed",
                    400,
                    [FieldError("file", "missing", "")],
                )
            line = own_line(session, claim, int_field(form, "line_id"))
            content = upload.file.read(expenses.MAX_RECEIPT_BYTES + 1)
            expenses.attach_receipt(
                session,
                acting(request, session),
                claim,
                line,
                upload.filename or "receipt",
                content,
            )

        return self._act(request, session, platform, unit, form, do)

    @post("/expense/submission", sync_to_thread=True, opt={"action": "insurance.self.claim"})
    def submit(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Submit my draft."""
        return self._act(
            request,
            session,
            platform,
            unit,
            data,
            lambda claim: expenses.submit(session, acting(request, session), claim),
        )

    @post("/expense/cancellation", sync_to_thread=True, opt={"action": "insurance.self.claim"})
    def cancel(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Cancel my draft or submitted claim."""
        return self._act(
            request,
            session,
            platform,
            unit,
            data,
            lambda claim: expenses.cancel(session, acting(request, session), claim),
        )


MY_PAGES = [MyPages]
