"""API of money: settings and rates, the ledger, sources and gifts, budgets, payments, reports."""

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import col, select

from core.access import path_in
from core.errors import DomainError, FieldError
from core.i18n import text
from core.security.present import reveal
from core.units.models import utcnow
from core.volunteers.models import Volunteer
from core.web.deps import Limit, Offset, PlatformDep, SessionDep, UnitDep
from plugins.insurance import budgets, config, documents, funding, ledger, payments, reports
from plugins.insurance.clock import china_day
from plugins.insurance.export import MEDIA_TYPE, attachment_headers, workbook
from plugins.insurance.models import (
    Budget,
    Disclosure,
    DonorQuery,
    FundingSource,
    InsuranceSetting,
    JournalEntry,
    Payment,
    RateStandard,
)
from plugins.insurance.schemas import (
    AllocationRead,
    BudgetCreate,
    BudgetRead,
    BudgetRevision,
    BudgetStep,
    DisclosureCreate,
    DisclosureRead,
    DonorAnswer,
    DonorQueryCreate,
    DonorQueryRead,
    EntryRead,
    ExceptionCreate,
    ExceptionRead,
    PaymentRead,
    RateCreate,
    RateRead,
    ReceiptCreate,
    RevealRead,
    RevealRequest,
    ReversalIn,
    SettingCreate,
    SettingRead,
    SourceCreate,
    SourceRead,
    TrialBalanceRow,
    shown,
)
from plugins.insurance.vocab import SourceStatus
from plugins.insurance.web import acting, audit_export, require, within

Year = Annotated[int | None, QueryParameter(ge=2000, le=2100, description="The fiscal year.")]
RecordId = FromPath[int]


def _this_year() -> int:
    return china_day(utcnow()).year


class SettingController(Controller):
    """Local rules and thresholds, and expense standards, with their valid-from dates."""

    tags = ["insurance"]

    @get(
        "/settings",
        sync_to_thread=True,
        operation_id="InsuranceSettingsInForce",
        opt={"action": "insurance.setting.read"},
    )
    def in_force(
        self,
        session: SessionDep,
        unit: UnitDep,
        on: Annotated[date | None, QueryParameter()] = None,
    ) -> dict[str, Any]:
        """Every key's value in force at the unit on a day (today by default)."""
        return config.settings_at(session, unit.path, on or china_day(utcnow()))

    @get(
        "/settings/history",
        sync_to_thread=True,
        operation_id="InsuranceSettingHistory",
        opt={"action": "insurance.setting.read"},
    )
    def history(self, session: SessionDep, unit: UnitDep) -> list[SettingRead]:
        """Values recorded at the unit and above, newest first."""
        rows = session.exec(
            select(InsuranceSetting)
            .where(col(InsuranceSetting.unit_id).in_(unit.ancestor_ids))
            .order_by(col(InsuranceSetting.valid_from).desc(), col(InsuranceSetting.id).desc())
        )
        return [SettingRead.model_validate(row) for row in rows]

    @post(
        "/settings",
        sync_to_thread=True,
        operation_id="InsuranceSetSetting",
        opt={"action": "insurance.setting.manage"},
        status_code=HTTP_201_CREATED,
    )
    def set_value(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[SettingCreate]
    ) -> SettingRead:
        """Record a new value from a date on, for the unit and its subtree."""
        row = config.set_setting(
            session,
            unit,
            data.key,
            data.value,
            data.valid_from,
            user_id=request.scope["user"].user_id,
            reason=data.reason,
        )
        session.commit()
        return SettingRead.model_validate(row)

    @get(
        "/rates",
        sync_to_thread=True,
        operation_id="InsuranceRates",
        opt={"action": "insurance.setting.read"},
    )
    def rates(self, session: SessionDep, unit: UnitDep) -> list[RateRead]:
        """Standards at the unit and above."""
        rows = session.exec(
            select(RateStandard)
            .where(col(RateStandard.unit_id).in_(unit.ancestor_ids))
            .order_by(RateStandard.expense_type, col(RateStandard.valid_from).desc())
        )
        return [RateRead.model_validate(row) for row in rows]

    @post(
        "/rates",
        sync_to_thread=True,
        operation_id="InsuranceAddRate",
        opt={"action": "insurance.setting.manage"},
        status_code=HTTP_201_CREATED,
    )
    def add_rate(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[RateCreate]
    ) -> RateRead:
        """Record a standard from a date on."""
        rate = config.add_rate(
            session,
            unit,
            data.expense_type.value,
            data.amount_fen,
            data.valid_from,
            valid_to=data.valid_to,
            fixed=data.fixed,
            user_id=request.scope["user"].user_id,
        )
        session.commit()
        return RateRead.model_validate(rate)


class LedgerController(Controller):
    """The double-entry ledger, read-only (corrections are reversals made by the workflows)."""

    path = "/ledger"
    tags = ["insurance"]

    @get(
        "/trial-balance",
        sync_to_thread=True,
        operation_id="InsuranceTrialBalance",
        opt={"action": "insurance.ledger.read"},
    )
    def trial_balance(self, session: SessionDep, unit: UnitDep) -> list[TrialBalanceRow]:
        """Every account of the subtree with debits, credits and balance."""
        return [
            TrialBalanceRow(
                account_id=row["account"].id,
                code=row["account"].code,
                kind=row["account"].kind,
                name=row["account"].name,
                debit_fen=row["debit_fen"],
                credit_fen=row["credit_fen"],
                balance_fen=row["balance_fen"],
            )
            for row in ledger.trial_balance(session, unit.path)
        ]

    @get(
        "/entries",
        sync_to_thread=True,
        operation_id="InsuranceJournal",
        opt={"action": "insurance.ledger.read"},
    )
    def entries(
        self, session: SessionDep, unit: UnitDep, limit: Limit = 50, offset: Offset = 0
    ) -> list[EntryRead]:
        """Journal entries of the subtree, newest first."""
        rows = session.exec(
            select(JournalEntry)
            .where(path_in(JournalEntry.unit_path, unit.path))
            .order_by(col(JournalEntry.id).desc())
            .offset(offset)
            .limit(limit)
        )
        return [EntryRead.model_validate(row) for row in rows]


def source_read(session, platform, source: FundingSource) -> SourceRead:
    """A source with what budgets draw on it and what was spent from it."""
    return shown(
        platform,
        source,
        SourceRead,
        allocated_fen=funding.allocated_fen(session, source.id),
        spent_fen=funding.spent_fen(session, source.id),
    )


class SourceController(Controller):
    """Funding sources, gifts' receipts, donors' questions, disclosures."""

    tags = ["insurance"]

    @get(
        "/sources",
        sync_to_thread=True,
        operation_id="InsuranceSources",
        opt={"action": "insurance.source.read"},
    )
    def sources(
        self, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> list[SourceRead]:
        """Sources of the subtree, newest first (donors and accounts masked)."""
        rows = session.exec(
            select(FundingSource)
            .where(path_in(FundingSource.unit_path, unit.path))
            .order_by(col(FundingSource.id).desc())
        )
        return [source_read(session, platform, row) for row in rows]

    @post(
        "/sources",
        sync_to_thread=True,
        operation_id="InsuranceReceiveFunds",
        opt={"action": "insurance.source.manage"},
        status_code=HTTP_201_CREATED,
    )
    def receive(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[SourceCreate],
    ) -> SourceRead:
        """Record money received; it is posted to the source's own fund account."""
        source = funding.receive(
            session,
            acting(request, session),
            unit,
            kind=data.kind,
            name=data.name,
            amount_fen=data.amount_fen,
            received_on=data.received_on,
            donor_name=data.donor_name,
            donor_public=data.donor_public,
            restriction_categories=data.restriction_categories,
            restriction_until=data.restriction_until,
            purpose=data.purpose,
            bank_account=data.bank_account,
        )
        session.commit()
        return source_read(session, platform, source)

    @post(
        "/sources/{source_id:int}/receipt",
        sync_to_thread=True,
        operation_id="InsuranceIssueReceipt",
        opt={"action": "insurance.source.manage"},
        status_code=200,
    )
    def receipt(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        source_id: RecordId,
        data: JSONBody[ReceiptCreate],
    ) -> SourceRead:
        """Record the donation receipt issued for a gift."""
        source = within(session, FundingSource, source_id, unit)
        funding.issue_receipt(session, acting(request, session), source, data.receipt_no)
        session.commit()
        return source_read(session, platform, source)

    @post(
        "/sources/{source_id:int}/reveal",
        sync_to_thread=True,
        operation_id="InsuranceRevealSource",
        opt={"action": "insurance.source.reveal"},
        status_code=200,
    )
    def reveal_source(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        source_id: RecordId,
        data: JSONBody[RevealRequest],
    ) -> RevealRead:
        """A donor's identity or the dedicated account in clear, with a reason (audited)."""
        source = within(session, FundingSource, source_id, unit)
        values = reveal(
            session,
            source,
            data.fields,
            data.reason,
            request.scope["user"],
            platform.plugins.sensitive_fields,
            source.unit_path,
        )
        session.commit()
        return RevealRead(id=source.id, values=values)

    @post(
        "/sources/{source_id:int}/queries",
        sync_to_thread=True,
        operation_id="InsuranceDonorQuery",
        opt={"action": "insurance.source.manage"},
        status_code=HTTP_201_CREATED,
    )
    def ask(
        self,
        session: SessionDep,
        unit: UnitDep,
        source_id: RecordId,
        data: JSONBody[DonorQueryCreate],
    ) -> DonorQueryRead:
        """Record a donor's question (to be answered within the set days)."""
        source = within(session, FundingSource, source_id, unit)
        query = funding.ask(session, source, data.question, data.received_on)
        session.commit()
        return DonorQueryRead.model_validate(query)

    @get(
        "/donor-queries",
        sync_to_thread=True,
        operation_id="InsuranceDonorQueries",
        opt={"action": "insurance.source.read"},
    )
    def queries(self, session: SessionDep, unit: UnitDep) -> list[DonorQueryRead]:
        """Donors' questions of the subtree, unanswered first."""
        rows = session.exec(
            select(DonorQuery)
            .where(path_in(DonorQuery.unit_path, unit.path))
            .order_by(col(DonorQuery.answered_at).is_not(None), DonorQuery.received_on)
        )
        return [DonorQueryRead.model_validate(row) for row in rows]

    @post(
        "/donor-queries/{query_id:int}/answer",
        sync_to_thread=True,
        operation_id="InsuranceAnswerDonor",
        opt={"action": "insurance.source.manage"},
        status_code=200,
    )
    def answer(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        query_id: RecordId,
        data: JSONBody[DonorAnswer],
    ) -> DonorQueryRead:
        """Answer a donor's question."""
        query = within(session, DonorQuery, query_id, unit)
        funding.answer(session, acting(request, session), query, data.answer)
        session.commit()
        return DonorQueryRead.model_validate(query)

    @get(
        "/disclosures",
        sync_to_thread=True,
        operation_id="InsuranceDisclosures",
        opt={"action": "insurance.source.read"},
    )
    def disclosures(self, session: SessionDep, unit: UnitDep) -> list[DisclosureRead]:
        """Disclosures of the subtree, newest year first."""
        rows = session.exec(
            select(Disclosure)
            .where(path_in(Disclosure.unit_path, unit.path))
            .order_by(col(Disclosure.year).desc())
        )
        return [DisclosureRead.model_validate(row) for row in rows]

    @post(
        "/disclosures",
        sync_to_thread=True,
        operation_id="InsuranceGenerateDisclosure",
        opt={"action": "insurance.source.manage"},
        status_code=HTTP_201_CREATED,
    )
    def generate(
        self, session: SessionDep, unit: UnitDep, data: JSONBody[DisclosureCreate]
    ) -> DisclosureRead:
        """Generate (or regenerate, until published) the disclosure of a year."""
        found = session.exec(
            select(Disclosure).where(Disclosure.unit_id == unit.id, Disclosure.year == data.year)
        ).first()
        if found is not None and found.published_at is not None:
            raise DomainError(
                text("已公开的披露不能修改", "A published disclosure does not change"),
                "conflict",
                409,
                [FieldError("year", "published", str(data.year))],
            )
        sections = reports.disclosure_sections(
            session,
            unit.path,
            data.year,
            remainder_plan=data.remainder_plan,
            audit_reports=data.audit_reports,
        )
        disclosure = found or Disclosure(unit_id=unit.id, unit_path=unit.path, year=data.year)
        disclosure.sections = sections
        disclosure.generated_at = utcnow()
        session.add(disclosure)
        session.commit()
        return DisclosureRead.model_validate(disclosure)

    @post(
        "/disclosures/{disclosure_id:int}/publish",
        sync_to_thread=True,
        operation_id="InsurancePublishDisclosure",
        opt={"action": "insurance.source.manage"},
        status_code=200,
    )
    def publish(
        self, session: SessionDep, unit: UnitDep, disclosure_id: RecordId
    ) -> DisclosureRead:
        """Publish a disclosure; its gifts become ``disclosed``."""
        disclosure = within(session, Disclosure, disclosure_id, unit)
        if disclosure.published_at is None:
            disclosure.published_at = utcnow()
            session.add(disclosure)
            for row in reports.donations(
                session, disclosure.unit_path, disclosure.year, public=False
            ):
                source = session.get(FundingSource, row["source_id"])
                source.status = SourceStatus.disclosed.value
                session.add(source)
        session.commit()
        return DisclosureRead.model_validate(disclosure)


def budget_read(session, budget: Budget) -> BudgetRead:
    """A version with its allocations and what its lineage has used."""
    return BudgetRead.model_validate(
        {
            **budget.model_dump(),
            "allocations": [
                AllocationRead.model_validate(a) for a in budgets.allocations_of(session, budget)
            ],
            "used_fen": budgets.used_fen(session, budget.lineage_id),
        }
    )


class BudgetController(Controller):
    """Budgets per unit, year and category; their versions; exceptions."""

    tags = ["insurance"]

    @get(
        "/budgets",
        sync_to_thread=True,
        operation_id="InsuranceBudgets",
        opt={"action": "insurance.budget.read"},
    )
    def list_budgets(
        self, session: SessionDep, unit: UnitDep, year: Year = None
    ) -> list[BudgetRead]:
        """Budget versions of the subtree (of a year), newest first."""
        query = select(Budget).where(path_in(Budget.unit_path, unit.path))
        if year is not None:
            query = query.where(Budget.fiscal_year == year)
        return [
            budget_read(session, row)
            for row in session.exec(query.order_by(col(Budget.id).desc()).limit(500))
        ]

    @post(
        "/budgets",
        sync_to_thread=True,
        operation_id="InsuranceDraftBudget",
        opt={"action": "insurance.budget.manage"},
        status_code=HTTP_201_CREATED,
    )
    def draft(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[BudgetCreate]
    ) -> BudgetRead:
        """Draft a budget at the unit."""
        budget = budgets.create_budget(
            session,
            acting(request, session),
            unit,
            fiscal_year=data.fiscal_year,
            category=data.category,
            allocations=[
                budgets.AllocationInput(a.source_id, a.amount_fen) for a in data.allocations
            ],
            on_exceed=data.on_exceed,
            exception_role=_role(request, data.exception_role),
            quarterly_fen=data.quarterly_fen,
            note=data.note,
        )
        session.commit()
        return budget_read(session, budget)

    @get(
        "/budgets/{budget_id:int}",
        sync_to_thread=True,
        operation_id="InsuranceBudget",
        opt={"action": "insurance.budget.read"},
    )
    def get_budget(
        self, session: SessionDep, unit: UnitDep, budget_id: RecordId
    ) -> list[BudgetRead]:
        """A budget's versions, newest first."""
        budget = within(session, Budget, budget_id, unit)
        return [budget_read(session, row) for row in budgets.versions(session, budget.lineage_id)]

    @post(
        "/budgets/{budget_id:int}/revisions",
        sync_to_thread=True,
        operation_id="InsuranceReviseBudget",
        opt={"action": "insurance.budget.manage"},
        status_code=HTTP_201_CREATED,
    )
    def revise(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        budget_id: RecordId,
        data: JSONBody[BudgetRevision],
    ) -> BudgetRead:
        """Draft a new version of an active budget."""
        budget = within(session, Budget, budget_id, unit)
        revision = budgets.revise(
            session,
            acting(request, session),
            budget,
            allocations=[
                budgets.AllocationInput(a.source_id, a.amount_fen) for a in data.allocations
            ],
            on_exceed=data.on_exceed,
            quarterly_fen=data.quarterly_fen,
            note=data.note,
        )
        session.commit()
        return budget_read(session, revision)

    @post(
        "/budgets/{budget_id:int}/steps",
        sync_to_thread=True,
        operation_id="InsuranceBudgetStep",
        opt={"action": "insurance.budget.read"},
        status_code=200,
    )
    def step(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        budget_id: RecordId,
        data: JSONBody[BudgetStep],
    ) -> BudgetRead:
        """Submit (finance), approve (approver) or close (finance) a budget version."""
        budget = within(session, Budget, budget_id, unit)
        actor = acting(request, session)
        if data.step == "approve":
            require(request, "insurance.budget.approve", budget.unit_path)
            budgets.approve(session, actor, budget)
        else:
            require(request, "insurance.budget.manage", budget.unit_path)
            (budgets.submit if data.step == "submit" else budgets.close)(session, actor, budget)
        session.commit()
        return budget_read(session, budget)

    @get(
        "/budget-exceptions",
        sync_to_thread=True,
        operation_id="InsuranceBudgetExceptions",
        opt={"action": "insurance.budget.read"},
    )
    def exceptions(self, session: SessionDep, unit: UnitDep) -> list[ExceptionRead]:
        """Exceptions signed in the subtree, newest first."""
        return [
            ExceptionRead.model_validate(row) for row in budgets.exceptions_in(session, unit.path)
        ]

    @post(
        "/budget-exceptions",
        sync_to_thread=True,
        operation_id="InsuranceSignException",
        opt={"action": "insurance.budget.exception"},
        status_code=HTTP_201_CREATED,
    )
    def sign(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[ExceptionCreate]
    ) -> ExceptionRead:
        """Sign an exception letting one document pass its stopped budget."""
        doc = documents.load(session, data.doc_type, data.doc_id, unit.path)
        signed = budgets.sign_exception(
            session,
            acting(request, session),
            data.doc_type,
            doc,
            amount_fen=data.amount_fen,
            reason=data.reason,
            on=china_day(utcnow()),
        )
        session.commit()
        return ExceptionRead.model_validate(signed)


def _role(request: Request, role: str | None) -> str | None:
    if role is None:
        return None
    platform = request.app.state.platform
    if (
        role not in platform.policy.roles
        or "insurance.budget.exception" not in platform.policy.actions(role)
    ):
        raise DomainError(
            text(
                "例外审批角色须持有预算例外审批权限",
                "The exception role must allow signing exceptions",
            ),
            "validation_failed",
            400,
            [FieldError("exception_role", "not_an_exception_role", role)],
        )
    return role


class PaymentController(Controller):
    """Payments made, and their reversal."""

    path = "/payments"
    tags = ["insurance"]

    @get(
        "/",
        sync_to_thread=True,
        operation_id="InsurancePayments",
        opt={"action": "insurance.payment.read"},
    )
    def list_payments(
        self,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[PaymentRead]:
        """Payments of the subtree, newest first (accounts masked)."""
        rows = session.exec(
            select(Payment)
            .where(path_in(Payment.unit_path, unit.path))
            .order_by(col(Payment.id).desc())
            .offset(offset)
            .limit(limit)
        )
        return [shown(platform, row, PaymentRead) for row in rows]

    @post(
        "/{payment_id:int}/reversal",
        sync_to_thread=True,
        operation_id="InsuranceReversePayment",
        opt={"action": "insurance.payment.make"},
        status_code=200,
    )
    def reverse(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        payment_id: RecordId,
        data: JSONBody[ReversalIn],
    ) -> PaymentRead:
        """Reverse a payment (returned transfer): the document is payable again."""
        payment = within(session, Payment, payment_id, unit)
        if payment.doc_type == "claim":
            raise DomainError(
                text("保险公司赔付不在平台冲销", "An insurer's payment is not reversed here"),
                "conflict",
                409,
                [FieldError("payment_id", "insurer_payment", str(payment.id))],
            )
        payments.reverse_payment(session, acting(request, session), payment, data.reason)
        documents.reopen(session, payment.doc_type, payment.doc_id)
        session.commit()
        return shown(platform, payment, PaymentRead)


REPORTS = {
    "claims": "insurance claims register",
    "ageing": "open claims by age",
    "timeliness": "insurer timeliness",
    "loss-ratio": "loss ratio per policy",
    "incident-rate": "incidents per 1000 volunteer-hours",
    "budget-execution": "budget execution by unit, category and source",
    "donations": "gifts received and used",
    "rewards": "rewards and per-case subsidies",
    "reimbursements": "reimbursement register",
    "statement": "a volunteer's statement (volunteer_id)",
    "audit-pack": "every decision: who, what, when, from where",
    "sod": "segregation-of-duties violations",
}


def report_rows(
    session, unit, name: str, year: int, volunteer_id: int | None
) -> list[dict[str, Any]]:
    """The rows of a named report for the unit's subtree."""
    if name == "claims":
        return reports.claims_register(session, unit.path, year)
    if name == "ageing":
        return reports.ageing(reports.claims_register(session, unit.path, year))
    if name == "timeliness":
        return reports.insurer_timeliness(session, unit.path, year)
    if name == "loss-ratio":
        return reports.loss_ratio(session, unit.path, year)
    if name == "incident-rate":
        return [reports.incident_rate(session, unit.path, year)]
    if name == "budget-execution":
        return reports.budget_execution(session, unit.path, year)
    if name == "donations":
        return reports.donations(session, unit.path, year, public=False)
    if name == "rewards":
        return reports.rewards_register(session, unit.path, year)
    if name == "reimbursements":
        return reports.reimbursements_register(session, unit.path, year)
    if name == "audit-pack":
        return reports.audit_pack(session, unit.path, year)
    if name == "sod":
        return reports.sod_report(session, unit.path)
    if name == "statement":
        volunteer = session.get(Volunteer, volunteer_id) if volunteer_id else None
        if volunteer is None or not volunteer.unit_path.startswith(unit.path):
            raise DomainError(
                text("须指定本单位范围内的志愿者", "Name a volunteer of this unit"),
                "validation_failed",
                400,
                [
                    FieldError(
                        "volunteer_id",
                        "missing" if volunteer_id is None else "not_found",
                        str(volunteer_id),
                    )
                ],
            )
        statement = reports.statement(session, volunteer)
        return [{"section": section, **row} for section, rows in statement.items() for row in rows]
    raise NotFoundException(f"no report {name}")


class ReportController(Controller):
    """Reports as JSON, or as XLSX workbooks (an audited export)."""

    path = "/reports"
    tags = ["insurance"]

    @get(
        "/",
        sync_to_thread=True,
        operation_id="InsuranceReportNames",
        opt={"action": "insurance.report.read"},
    )
    def names(self) -> dict[str, str]:
        """The reports there are."""
        return REPORTS

    @get(
        "/{report_name:str}",
        sync_to_thread=True,
        operation_id="InsuranceReport",
        opt={"action": "insurance.report.read"},
    )
    def report(
        self,
        request: Request,
        session: SessionDep,
        unit: UnitDep,
        report_name: FromPath[str],
        year: Year = None,
        volunteer_id: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
        format: Annotated[str, QueryParameter(pattern="^(json|xlsx)$")] = "json",
    ) -> Response:
        """One report of the unit's subtree for a year (this year by default)."""
        if report_name not in REPORTS:
            raise NotFoundException(f"no report {report_name}")
        rows = report_rows(session, unit, report_name, year or _this_year(), volunteer_id)
        if format == "json":
            return Response(_jsonable(rows))
        require(request, "insurance.report.export", unit.path)
        columns = list(dict.fromkeys(key for row in rows for key in row)) or ["-"]
        content = workbook([(report_name, columns, rows)])
        audit_export(session, "insurance.report.export", unit, report_name, len(rows), year=year)
        session.commit()
        filename = f"insurance-{report_name}-{unit.code or unit.id}-{year or _this_year()}.xlsx"
        return Response(
            content,
            media_type=MEDIA_TYPE,
            headers=attachment_headers(filename),
        )


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            key: (value.isoformat() if hasattr(value, "isoformat") else value)
            for key, value in row.items()
        }
        for row in rows
    ]


MONEY_ROUTES = [
    SettingController,
    LedgerController,
    SourceController,
    BudgetController,
    PaymentController,
    ReportController,
]
