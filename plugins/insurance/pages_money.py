"""Pages of money and records.

Budgets, reports with charts, sources, policies, rewards, compensation referrals, and the
unit's rules and standards.
"""

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, QueryParameter
from litestar.response import Template
from sqlmodel import col, select

from core.access import path_in
from core.errors import DomainError, FieldError
from core.i18n import text
from core.security.present import masked_values
from core.units.models import utcnow
from core.web.deps import PlatformDep, SessionDep, UnitDep
from plugins.insurance import budgets, config, cover, funding, reports, rewards
from plugins.insurance.api_money import REPORTS, report_rows
from plugins.insurance.clock import china_day
from plugins.insurance.export import (
    MEDIA_TYPE,
    attachment_headers,
    bar_chart,
    stacked_budget_chart,
    workbook,
)
from plugins.insurance.models import (
    Budget,
    CompensationCase,
    FundingSource,
    InsurancePolicy,
    Reward,
)
from plugins.insurance.page_support import back, fen_field, int_field, refusal, render, text_field
from plugins.insurance.vocab import (
    Category,
    CompensationBasis,
    CoverKind,
    ExpenseType,
    OnExceed,
    PaymentMethod,
    RewardKind,
    ScopeRule,
    SourceKind,
)
from plugins.insurance.web import acting, audit_export, within

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
RecordId = FromPath[int]
YearQuery = Annotated[int | None, QueryParameter(ge=2000, le=2100)]


def _this_year() -> int:
    return china_day(utcnow()).year


def _day(form: dict[str, str], name: str, required: bool = True) -> date | None:
    value = text_field(form, name)
    if value is None and not required:
        return None
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise DomainError(
            text("日期格式不正确", "Not a date"),
            "validation_failed",
            400,
            [FieldError(name, "date_parsing", value or "")],
        ) from None


def _choice(form: dict[str, str], name: str, kind):
    try:
        return kind(form.get(name) or "")
    except ValueError:
        raise DomainError(
            text("请选择", "Choose one"),
            "validation_failed",
            400,
            [FieldError(name, "enum", form.get(name) or "")],
        ) from None


def _required(form: dict[str, str], name: str, limit: int) -> str:
    value = text_field(form, name)
    if value is None:
        raise DomainError(
            text("必填", "is required"), "validation_failed", 400, [FieldError(name, "missing", "")]
        )
    return value[:limit]


class BudgetPages(Controller):
    """Budgets and their execution."""

    path = "/budgets"

    def _page(self, request, session, platform, unit, year: int, **extra) -> Template:
        rows = session.exec(
            select(Budget)
            .where(path_in(Budget.unit_path, unit.path), Budget.fiscal_year == year)
            .order_by(Budget.category, col(Budget.version).desc())
        ).all()
        execution = budgets.execution(session, unit.path, year)
        sources = session.exec(
            select(FundingSource)
            .where(col(FundingSource.unit_id).in_(unit.ancestor_ids))
            .order_by(col(FundingSource.id).desc())
        ).all()
        return render(
            request,
            session,
            platform,
            unit,
            "budgets.html",
            year=year,
            budgets=[
                (b, budgets.used_fen(session, b.lineage_id), budgets.allocations_of(session, b))
                for b in rows
            ],
            execution=execution,
            chart=stacked_budget_chart(execution, title=text("预算执行", "Budget execution")),
            sources=sources,
            categories=list(Category),
            exceptions=budgets.exceptions_in(session, unit.path)[:20],
            **extra,
        )

    @get("/", sync_to_thread=True, opt={"action": "insurance.budget.read"})
    def budgets_page(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        year: YearQuery = None,
    ) -> Template:
        """Budget versions of a year, execution by category and source, exceptions."""
        return self._page(request, session, platform, unit, year or _this_year())

    @post("/", sync_to_thread=True, opt={"action": "insurance.budget.manage"})
    def draft(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Draft a budget funded by one source."""
        year = _this_year()
        try:
            year = int_field(data, "fiscal_year")
            budgets.create_budget(
                session,
                acting(request, session),
                unit,
                fiscal_year=year,
                category=_choice(data, "category", Category),
                allocations=[
                    budgets.AllocationInput(int_field(data, "source_id"), fen_field(data, "amount"))
                ],
                on_exceed=_choice(data, "on_exceed", OnExceed),
                exception_role="insurance.exception_approver",
                note=text_field(data, "note"),
            )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return self._page(
                request,
                session,
                platform,
                unit,
                year if 2000 <= year <= 2100 else _this_year(),
                **refusal(refused),
            )
        return back(f"/units/{unit.id}/insurance/budgets?year={year}")

    @post("/{budget_id:int}/steps", sync_to_thread=True, opt={"action": "insurance.budget.read"})
    def step(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        budget_id: RecordId,
        data: Form,
    ) -> Any:
        """Submit, approve or close a version."""
        budget = within(session, Budget, budget_id, unit)
        actor = acting(request, session)
        try:
            step = data.get("step")
            action = {
                "submit": "insurance.budget.manage",
                "approve": "insurance.budget.approve",
                "close": "insurance.budget.manage",
            }.get(step or "")
            if action is None:
                raise DomainError(
                    text("请选择办理步骤", "Choose a step"),
                    "validation_failed",
                    400,
                    [FieldError("step", "enum", str(step))],
                )
            if not actor.principal.can(action, budget.unit_path):
                raise DomainError(
                    text("此步骤不由您办理", "This step is not yours to take"),
                    "not_allowed",
                    403,
                    [FieldError("step", "not_your_step", step)],
                )
            {"submit": budgets.submit, "approve": budgets.approve, "close": budgets.close}[step](
                session, actor, budget
            )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return self._page(
                request, session, platform, unit, budget.fiscal_year, **refusal(refused)
            )
        return back(f"/units/{unit.id}/insurance/budgets?year={budget.fiscal_year}")


class ReportPages(Controller):
    """Reports with charts, and their workbooks."""

    path = "/reports"

    @get("/", sync_to_thread=True, opt={"action": "insurance.report.read"})
    def reports_page(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        year: YearQuery = None,
    ) -> Template:
        """Claims, timeliness, loss ratio, budget execution, donations, registers."""
        year = year or _this_year()
        register = reports.claims_register(session, unit.path, year)
        ages = reports.ageing(register)
        ratios = reports.loss_ratio(session, unit.path, year)
        execution = budgets.execution(session, unit.path, year)
        gifts = reports.donations(session, unit.path, year, public=True)
        charts = {
            "ageing": bar_chart(
                [(row["bucket"], row["claims"]) for row in ages],
                title=text("未结理赔账龄（天）", "Open claims by age (days)"),
                money=False,
            ),
            "loss": bar_chart(
                [(row["policy_no"], row["paid_fen"]) for row in ratios],
                title=text("各保单赔付金额", "Paid per policy"),
            ),
            "budget": stacked_budget_chart(execution, title=text("预算执行", "Budget execution")),
            "gifts": bar_chart(
                [(row["donor"] or "—", row["amount_fen"]) for row in gifts],
                title=text("捐赠（经同意署名）", "Gifts (named with consent)"),
            ),
        }
        return render(
            request,
            session,
            platform,
            unit,
            "reports.html",
            year=year,
            charts=charts,
            register=register,
            timeliness=reports.insurer_timeliness(session, unit.path, year),
            ratios=ratios,
            rate=reports.incident_rate(session, unit.path, year),
            execution=execution,
            gifts=gifts,
            sod=reports.sod_report(session, unit.path),
            names=REPORTS,
        )

    @get("/export", sync_to_thread=True, opt={"action": "insurance.report.export"})
    def export(
        self,
        session: SessionDep,
        unit: UnitDep,
        name: Annotated[str, QueryParameter(max_length=40)],
        year: YearQuery = None,
        volunteer_id: Annotated[int | None, QueryParameter(ge=1, le=2**62)] = None,
    ) -> Response:
        """A report as an XLSX workbook (audited)."""
        from litestar.exceptions import NotFoundException

        if name not in REPORTS:
            raise NotFoundException(f"no report {name}")
        year = year or _this_year()
        rows = report_rows(session, unit, name, year, volunteer_id)
        columns = list(dict.fromkeys(key for row in rows for key in row)) or ["-"]
        content = workbook([(name, columns, rows)])
        audit_export(session, "insurance.report.export", unit, name, len(rows), year=year)
        session.commit()
        filename = f"insurance-{name}-{unit.code or unit.id}-{year}.xlsx"
        return Response(
            content,
            media_type=MEDIA_TYPE,
            headers=attachment_headers(filename),
        )


class SourcePages(Controller):
    """Funding sources and gifts."""

    path = "/sources"

    def _page(self, request, session, platform, unit, **extra) -> Template:
        rows = session.exec(
            select(FundingSource)
            .where(path_in(FundingSource.unit_path, unit.path))
            .order_by(col(FundingSource.id).desc())
            .limit(200)
        ).all()
        return render(
            request,
            session,
            platform,
            unit,
            "sources.html",
            rows=[
                (
                    masked_values(row, platform.plugins.sensitive_fields),
                    funding.spent_fen(session, row.id),
                )
                for row in rows
            ],
            kinds=list(SourceKind),
            categories=list(Category),
            **extra,
        )

    @get("/", sync_to_thread=True, opt={"action": "insurance.source.read"})
    def sources(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """Sources of the subtree (donors masked) and the form to record money received."""
        return self._page(request, session, platform, unit)

    @post("/", sync_to_thread=True, opt={"action": "insurance.source.manage"})
    def receive(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Record money received."""
        try:
            kind = _choice(data, "kind", SourceKind)
            restricted = [
                _choice({"c": c}, "c", Category)
                for c in (data.get("restriction") or "").split(",")
                if c
            ]
            funding.receive(
                session,
                acting(request, session),
                unit,
                kind=kind,
                name=_required(data, "name", 120),
                amount_fen=fen_field(data, "amount"),
                received_on=_day(data, "received_on"),
                donor_name=text_field(data, "donor_name"),
                donor_public=data.get("donor_public") == "1",
                restriction_categories=restricted or None,
                restriction_until=_day(data, "restriction_until", required=False),
                purpose=text_field(data, "purpose"),
            )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return self._page(request, session, platform, unit, **refusal(refused))
        return back(f"/units/{unit.id}/insurance/sources")


class PolicyPages(Controller):
    """Policies and enrolment."""

    path = "/policies"

    def _page(self, request, session, platform, unit, **extra) -> Template:
        rows = session.exec(
            select(InsurancePolicy)
            .where(
                path_in(InsurancePolicy.unit_path, unit.path)
                | col(InsurancePolicy.unit_id).in_(unit.ancestor_ids)
            )
            .order_by(col(InsurancePolicy.period_to).desc())
        ).all()
        return render(
            request,
            session,
            platform,
            unit,
            "policies.html",
            rows=[(p, cover.lines_of(session, p)) for p in rows],
            rules=list(ScopeRule),
            kinds=list(CoverKind),
            **extra,
        )

    @get("/", sync_to_thread=True, opt={"action": "insurance.policy.read"})
    def policies(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """Policies covering the unit, and the form to record one."""
        return self._page(request, session, platform, unit)

    @post("/", sync_to_thread=True, opt={"action": "insurance.policy.manage"})
    def create(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Record a policy (death, disability and medical limits in yuan)."""
        try:
            lines = [
                cover.LineInput(kind, amount)
                for kind, amount in (
                    (CoverKind.death, fen_field(data, "death", required=False)),
                    (CoverKind.disability, fen_field(data, "disability", required=False)),
                    (CoverKind.medical, fen_field(data, "medical", required=False)),
                    (CoverKind.third_party, fen_field(data, "third_party", required=False)),
                )
                if amount
            ]
            if not lines:
                raise DomainError(
                    text("至少填写一项保障", "Give at least one cover"),
                    "validation_failed",
                    400,
                    [FieldError("death", "missing", "")],
                )
            cover.create_policy(
                session,
                acting(request, session),
                unit,
                insurer=_required(data, "insurer", 100),
                policy_no=_required(data, "policy_no", 64),
                period_from=_day(data, "period_from"),
                period_to=_day(data, "period_to"),
                premium_fen=fen_field(data, "premium"),
                scope_rule=_choice(data, "scope_rule", ScopeRule),
                lines=lines,
            )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return self._page(request, session, platform, unit, **refusal(refused))
        return back(f"/units/{unit.id}/insurance/policies")


class RewardPages(Controller):
    """Rewards and per-case subsidies."""

    path = "/rewards"

    def _page(self, request, session, platform, unit, **extra) -> Template:
        rows = session.exec(
            select(Reward)
            .where(path_in(Reward.unit_path, unit.path))
            .order_by(col(Reward.id).desc())
            .limit(200)
        ).all()
        return render(
            request,
            session,
            platform,
            unit,
            "rewards.html",
            rows=rows,
            kinds=list(RewardKind),
            **extra,
        )

    @get("/", sync_to_thread=True, opt={"action": "insurance.reward.read"})
    def rewards_page(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """Rewards of the subtree with their steps."""
        return self._page(request, session, platform, unit)

    @post("/", sync_to_thread=True, opt={"action": "insurance.reward.propose"})
    def propose(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Propose a reward."""
        try:
            rewards.propose(
                session,
                acting(request, session),
                unit,
                recipient_person_id=int_field(data, "recipient_person_id"),
                kind=_choice(data, "kind", RewardKind),
                amount_fen=fen_field(data, "amount"),
                basis_ref=_required(data, "basis_ref", 80),
                citation=(text_field(data, "citation") or "")[:500],
            )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return self._page(request, session, platform, unit, **refusal(refused))
        return back(f"/units/{unit.id}/insurance/rewards")

    @post("/{reward_id:int}/steps", sync_to_thread=True, opt={"action": "insurance.reward.read"})
    def step(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        reward_id: RecordId,
        data: Form,
    ) -> Any:
        """Review, approve, reject, pay or publish a reward."""
        reward = within(session, Reward, reward_id, unit)
        actor = acting(request, session)
        try:
            step = data.get("step")
            if step == "review":
                rewards.review(session, actor, reward)
            elif step == "approve":
                rewards.approve(session, actor, reward)
            elif step == "reject":
                rewards.reject(session, actor, reward, text_field(data, "reason") or "")
            elif step == "publish":
                rewards.publish(session, actor, reward)
            elif step == "pay":
                if not actor.principal.can("insurance.payment.make", reward.unit_path):
                    raise DomainError(
                        text("此步骤不由您办理", "This step is not yours to take"),
                        "not_allowed",
                        403,
                        [FieldError("step", "not_your_step", step)],
                    )
                rewards.pay_reward(session, actor, reward, method=PaymentMethod.cash)
            else:
                raise DomainError(
                    text("请选择办理步骤", "Choose a step"),
                    "validation_failed",
                    400,
                    [FieldError("step", "enum", str(step))],
                )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return self._page(request, session, platform, unit, **refusal(refused))
        return back(f"/units/{unit.id}/insurance/rewards")


class CompensationPages(Controller):
    """Compensation cases referred to the competent department."""

    path = "/compensations"

    def _page(self, request, session, platform, unit, **extra) -> Template:
        rows = session.exec(
            select(CompensationCase)
            .where(path_in(CompensationCase.unit_path, unit.path))
            .order_by(col(CompensationCase.id).desc())
            .limit(200)
        ).all()
        return render(
            request,
            session,
            platform,
            unit,
            "compensations.html",
            rows=rows,
            bases=list(CompensationBasis),
            **extra,
        )

    @get("/", sync_to_thread=True, opt={"action": "insurance.compensation.read"})
    def cases(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """Cases of the subtree and the referral form."""
        return self._page(request, session, platform, unit)

    @post("/", sync_to_thread=True, opt={"action": "insurance.compensation.manage"})
    def refer(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Refer a case."""
        try:
            rewards.refer(
                session,
                acting(request, session),
                unit,
                person_id=int_field(data, "person_id"),
                basis=_choice(data, "basis", CompensationBasis),
                competent_dept=_required(data, "competent_dept", 100),
                summary=_required(data, "summary", 1000),
                recommended_fen=fen_field(data, "recommended", required=False) or 0,
            )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return self._page(request, session, platform, unit, **refusal(refused))
        return back(f"/units/{unit.id}/insurance/compensations")

    @post(
        "/{case_id:int}/steps", sync_to_thread=True, opt={"action": "insurance.compensation.read"}
    )
    def step(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        case_id: RecordId,
        data: Form,
    ) -> Any:
        """Record the department's decision or payment, approve or pay the platform's aid, close."""
        case = within(session, CompensationCase, case_id, unit)
        actor = acting(request, session)
        try:
            step = data.get("step")
            if step == "decision":
                rewards.record_decision(
                    session,
                    actor,
                    case,
                    dept=_required(data, "dept", 100),
                    doc_no=_required(data, "doc_no", 64),
                    amount_fen=fen_field(data, "amount"),
                )
            elif step == "paid_by_dept":
                rewards.paid_by_dept(session, actor, case)
            elif step == "approve_aid":
                rewards.approve_platform_aid(
                    session, actor, case, amount_fen=fen_field(data, "amount"), payee_account=None
                )
            elif step == "pay":
                if not actor.principal.can("insurance.payment.make", case.unit_path):
                    raise DomainError(
                        text("此步骤不由您办理", "This step is not yours to take"),
                        "not_allowed",
                        403,
                        [FieldError("step", "not_your_step", step)],
                    )
                rewards.pay_platform_aid(session, actor, case, method=PaymentMethod.cash)
            elif step == "close":
                rewards.close_case(session, actor, case)
            else:
                raise DomainError(
                    text("请选择办理步骤", "Choose a step"),
                    "validation_failed",
                    400,
                    [FieldError("step", "enum", str(step))],
                )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return self._page(request, session, platform, unit, **refusal(refused))
        return back(f"/units/{unit.id}/insurance/compensations")


class SettingPages(Controller):
    """The unit's rules, thresholds and standards with their valid-from dates."""

    path = "/settings"

    def _page(self, request, session, platform, unit, **extra) -> Template:
        from plugins.insurance.models import InsuranceSetting, RateStandard

        today = china_day(utcnow())
        history = session.exec(
            select(InsuranceSetting)
            .where(col(InsuranceSetting.unit_id).in_(unit.ancestor_ids))
            .order_by(col(InsuranceSetting.valid_from).desc())
            .limit(200)
        ).all()
        rates = session.exec(
            select(RateStandard)
            .where(col(RateStandard.unit_id).in_(unit.ancestor_ids))
            .order_by(RateStandard.expense_type, col(RateStandard.valid_from).desc())
        ).all()
        return render(
            request,
            session,
            platform,
            unit,
            "settings.html",
            in_force=config.settings_at(session, unit.path, today),
            keys=config.KEYS,
            history=history,
            rates=rates,
            types=list(ExpenseType),
            today=today,
            **extra,
        )

    @get("/", sync_to_thread=True, opt={"action": "insurance.setting.read"})
    def settings_page(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """What is in force here today, the history, and the forms."""
        return self._page(request, session, platform, unit)

    @post("/", sync_to_thread=True, opt={"action": "insurance.setting.manage"})
    def set_value(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Set a key's value (JSON) from a date on."""
        import json

        try:
            raw = _required(data, "value", 2000)
            try:
                value = json.loads(raw)
            except ValueError:
                raise DomainError(
                    text("值须为 JSON", "The value must be JSON"),
                    "validation_failed",
                    400,
                    [FieldError("value", "json", raw[:50])],
                ) from None
            config.set_setting(
                session,
                unit,
                _required(data, "key", 64),
                value,
                _day(data, "valid_from"),
                user_id=request.scope["user"].user_id,
                reason=text_field(data, "reason"),
            )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return self._page(request, session, platform, unit, **refusal(refused))
        return back(f"/units/{unit.id}/insurance/settings")

    @post("/rates", sync_to_thread=True, opt={"action": "insurance.setting.manage"})
    def add_rate(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Any:
        """Record a standard from a date on."""
        try:
            config.add_rate(
                session,
                unit,
                _choice(data, "expense_type", ExpenseType).value,
                fen_field(data, "amount"),
                _day(data, "valid_from"),
                valid_to=None,
                fixed=data.get("fixed") == "1",
                user_id=request.scope["user"].user_id,
            )
            session.commit()
        except DomainError as refused:
            session.rollback()
            return self._page(request, session, platform, unit, **refusal(refused))
        return back(f"/units/{unit.id}/insurance/settings")


MONEY_PAGES = [
    BudgetPages,
    ReportPages,
    SourcePages,
    PolicyPages,
    RewardPages,
    CompensationPages,
    SettingPages,
]
