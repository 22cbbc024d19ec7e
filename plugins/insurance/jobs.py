"""The plugin's periodic jobs: sweeps that recompute what is due from the database.

Each takes ids or small values (an optional ``now`` as ISO text, so a run can be replayed at
a chosen time), acts only where the plugin is enabled, and is idempotent: alerts and
notifications are keyed by what they are about and the threshold crossed, enrolments by
policy, volunteer and assignment, month closes by unit and month.
"""

from datetime import datetime, timedelta

from sqlmodel import col, func, select

from core.accounts.policy import Policy
from core.jobs import job
from core.tasks.models import HOLDING_STATUSES, Assignment, Shift, Task
from core.units.models import Unit
from core.volunteers.models import Volunteer
from plugins.insurance import budgets, claims, cover, expenses
from plugins.insurance.alerts import Enabled, raise_alert
from plugins.insurance.clock import CHINA, china_day, now_or
from plugins.insurance.config import (
    CHASE_DAYS,
    DONOR_ANSWER_DAYS,
    LIMITATION_WARN_DAYS,
    PAYMENT_ALERT_DAYS,
    POLICY_WARN_DAYS,
    STOP_PERCENT,
    WARN_PERCENT,
    setting,
)
from plugins.insurance.models import (
    Budget,
    Commitment,
    DonorQuery,
    ExpenseClaim,
    FundingSource,
    Incident,
    InsuranceClaim,
    InsurancePolicy,
    MonthClose,
    Payment,
)
from plugins.insurance.vocab import (
    BudgetStatus,
    ClaimStatus,
    CommitmentState,
    ExpenseStatus,
    ScopeRule,
)

CLERK = "insurance.claim.manage"
LEADER = "insurance.incident.report"
FINANCE = "insurance.budget.manage"
HEAD = "insurance.expense.approve"


def _policy(context) -> Policy:
    return Policy(context.plugins.roles, context.plugins.actions, context.settings.policy_file)


@job("insurance.pre_activity_check")
def pre_activity_check(now: str | None = None, task_id: int | None = None, context=None) -> int:
    """Cover for the next 24 hours' assignments (or one task's).

    Enrol under an activity-rule policy, else alert — a blocking alert for a task with
    personal risk (art. 17).

    Returns how many assignments lacked cover.
    """
    at = now_or(now)
    policy = _policy(context)
    uncovered = 0
    with context.session_factory() as session:
        enabled = Enabled(session)
        query = (
            select(Assignment, Task.task_type)
            .join(Shift, Shift.id == Assignment.shift_id)
            .join(Task, Task.id == Shift.task_id)
            .where(col(Assignment.status).in_([s.value for s in HOLDING_STATUSES]))
        )
        if task_id is not None:
            query = query.where(Task.id == task_id)
        else:
            query = query.where(
                Assignment.starts_at >= at, Assignment.starts_at <= at + timedelta(hours=24)
            )
        for assignment, task_type in session.exec(query).all():
            if not enabled(assignment.unit_path):
                continue
            volunteer = session.get(Volunteer, assignment.volunteer_id)
            kind = context.plugins.task_types.get(task_type)
            risky = bool(kind and kind.risky)
            missing = []
            for day in cover.shift_days(assignment.starts_at, assignment.ends_at):
                found = cover.cover_on(session, volunteer, day, task_type)
                if found is None:
                    missing.append(day)
                elif found.scope_rule == ScopeRule.activity:
                    cover.enrol_for_activity(session, found, volunteer, day, assignment.id)
            if missing:
                uncovered += 1
                days = "、".join(day.isoformat() for day in missing)
                raise_alert(
                    session,
                    policy,
                    key=f"assignment:{assignment.id}:no_cover",
                    kind="no_cover_blocked" if risky else "no_cover",
                    severity="blocking" if risky else "warning",
                    subject_type="assignment",
                    subject_id=assignment.id,
                    unit_path=assignment.unit_path,
                    zh=f"排班 {assignment.id}：志愿者 {volunteer.number} 在 {days} 无有效意外保险"
                    + ("，有人身危险的任务不得出勤（志愿服务条例第十七条）" if risky else ""),
                    en=f"Assignment {assignment.id}: volunteer {volunteer.number} "
                    f"has no accident cover on {days}"
                    + (" — a task with personal risk may not go ahead (art. 17)" if risky else ""),
                    notify=(LEADER, CLERK),
                    locale=context.settings.default_locale,
                )
        session.commit()
    return uncovered


@job("insurance.incident_same_day")
def incident_same_day(now: str | None = None, context=None) -> int:
    """Alert the leader and the clerk about incidents not reported by 24:00 of their day."""
    policy = _policy(context)
    raised = 0
    with context.session_factory() as session:
        enabled = Enabled(session)
        for incident in session.exec(
            select(Incident).where(Incident.reported_same_day.is_(False))
        ).all():
            if enabled(incident.unit_path):
                day = china_day(incident.occurred_at)
                raised += raise_alert(
                    session,
                    policy,
                    key=f"incident:{incident.id}:late",
                    kind="incident_late",
                    subject_type="incident",
                    subject_id=incident.id,
                    unit_path=incident.unit_path,
                    zh=f"出险 {incident.id} 未在当日 24 时前报告（{day} 发生）",
                    en=f"Incident {incident.id} was not reported by midnight of {day}",
                    notify=(LEADER, CLERK),
                    url=f"/units/{incident.unit_id}/insurance/claims",
                    locale=context.settings.default_locale,
                )
        session.commit()
    return raised


@job("insurance.claim_clocks")
def claim_clocks(now: str | None = None, context=None) -> int:
    """The insurer's clocks, with the unit's days.

    Chase at 20 days of insurer time, escalate past 30; a payment reminder 7 days after the
    agreement, escalation past 10; a denial notice overdue.
    """
    at = now_or(now)
    policy = _policy(context)
    raised = 0
    with context.session_factory() as session:
        enabled = Enabled(session)
        open_claims = session.exec(
            select(InsuranceClaim).where(
                col(InsuranceClaim.status).in_(
                    [
                        ClaimStatus.with_insurer.value,
                        ClaimStatus.agreed.value,
                        ClaimStatus.decided.value,
                    ]
                )
            )
        ).all()
        for claim in open_claims:
            if not enabled(claim.unit_path):
                continue
            state = claims.clock(session, claim, at)
            alerts = []
            if claim.status == ClaimStatus.with_insurer and state.insurer_days_used is not None:
                chase = setting(
                    session, claim.unit_path, CHASE_DAYS, china_day(claim.submitted_to_insurer_at)
                )
                if state.decision_overdue:
                    alerts.append(
                        (
                            "decision_overdue",
                            "escalation",
                            (CLERK, HEAD),
                            "保险公司超过核定时限未作决定，请上报",
                            "The insurer is past its deadline to decide; escalate",
                        )
                    )
                elif state.insurer_days_used >= timedelta(days=chase):
                    alerts.append(
                        (
                            "chase",
                            "warning",
                            (CLERK,),
                            f"保险公司已用 {state.insurer_days_used.days} 天，请催告",
                            f"The insurer has used {state.insurer_days_used.days} days; chase it",
                        )
                    )
            if claim.status == ClaimStatus.agreed and claim.agreed_at is not None:
                remind = setting(
                    session, claim.unit_path, PAYMENT_ALERT_DAYS, china_day(claim.agreed_at)
                )
                if state.payment_overdue:
                    alerts.append(
                        (
                            "payment_overdue",
                            "escalation",
                            (CLERK, HEAD),
                            "达成协议后逾期未赔付，请上报",
                            "Payment is overdue after agreement; escalate",
                        )
                    )
                elif at >= claim.agreed_at + timedelta(days=remind):
                    alerts.append(
                        (
                            "payment_reminder",
                            "warning",
                            (CLERK,),
                            "达成协议后尚未赔付",
                            "Not yet paid after agreement",
                        )
                    )
            if state.denial_notice_overdue:
                alerts.append(
                    (
                        "denial_notice_overdue",
                        "warning",
                        (CLERK,),
                        "拒赔通知逾期未送达",
                        "The denial notice is overdue",
                    )
                )
            for suffix, severity, notify, zh, en in alerts:
                raised += raise_alert(
                    session,
                    policy,
                    key=f"claim:{claim.id}:{suffix}:{round_of(claim)}",
                    kind=f"claim_{suffix}",
                    severity=severity,
                    subject_type="claim",
                    subject_id=claim.id,
                    unit_path=claim.unit_path,
                    zh=f"理赔 {claim.number}：{zh}",
                    en=f"Claim {claim.number}: {en}",
                    notify=notify,
                    url=f"/units/{claim.unit_id}/insurance/claims/{claim.id}",
                    locale=context.settings.default_locale,
                )
        session.commit()
    return raised


def round_of(claim: InsuranceClaim) -> str:
    """Which round with the insurer a claim is in (a resubmission starts a new one)."""
    sent = claim.submitted_to_insurer_at
    return sent.isoformat()[:19] if sent else "-"


@job("insurance.limitation_watch")
def limitation_watch(now: str | None = None, context=None) -> int:
    """Incidents without a claim nearing the end of the limitation period (90 / 30 days)."""
    today = china_day(now_or(now))
    policy = _policy(context)
    raised = 0
    with context.session_factory() as session:
        enabled = Enabled(session)
        claimed = select(InsuranceClaim.incident_id).where(
            col(InsuranceClaim.status).not_in([ClaimStatus.withdrawn.value])
        )
        for incident in session.exec(
            select(Incident).where(Incident.closed.is_(False), col(Incident.id).not_in(claimed))
        ).all():
            if not enabled(incident.unit_path):
                continue
            ends = incident.limitation_deadline
            left = (ends - today).days
            for threshold in sorted(
                setting(session, incident.unit_path, LIMITATION_WARN_DAYS, today)
            ):
                if 0 <= left <= threshold:
                    raised += raise_alert(
                        session,
                        policy,
                        key=f"incident:{incident.id}:limitation:{threshold}",
                        kind="limitation",
                        subject_type="incident",
                        subject_id=incident.id,
                        unit_path=incident.unit_path,
                        zh=f"出险 {incident.id} 距索赔时效届满（{ends}）还有 {left} 天，"
                        "尚未申请理赔",
                        en=f"Incident {incident.id}: {left} days before the limitation ends "
                        f"({ends}) and no claim",
                        notify=(CLERK,),
                        locale=context.settings.default_locale,
                    )
                    break
        session.commit()
    return raised


@job("insurance.policy_expiry")
def policy_expiry(now: str | None = None, context=None) -> int:
    """Policies ending within 60 / 30 / 7 days: a renewal task for the clerk and finance."""
    today = china_day(now_or(now))
    policy = _policy(context)
    raised = 0
    with context.session_factory() as session:
        enabled = Enabled(session)
        for held in session.exec(
            select(InsurancePolicy).where(
                InsurancePolicy.active.is_(True), InsurancePolicy.period_to >= today
            )
        ).all():
            if not enabled(held.unit_path):
                continue
            left = (held.period_to - today).days
            for threshold in sorted(setting(session, held.unit_path, POLICY_WARN_DAYS, today)):
                if left <= threshold:
                    raised += raise_alert(
                        session,
                        policy,
                        key=f"policy:{held.id}:expiry:{threshold}",
                        kind="policy_renewal",
                        subject_type="policy",
                        subject_id=held.id,
                        unit_path=held.unit_path,
                        zh=f"保单 {held.policy_no} 将于 {held.period_to} 到期"
                        f"（还有 {left} 天），请办理续保",
                        en=f"Policy {held.policy_no} ends on {held.period_to} "
                        f"({left} days); renew it",
                        notify=(CLERK, FINANCE),
                        locale=context.settings.default_locale,
                    )
                    break
        session.commit()
    return raised


@job("insurance.budget_watch")
def budget_watch(now: str | None = None, context=None) -> int:
    """Budgets at the warning and stop lines; restricted gifts nearing their end unused."""
    today = china_day(now_or(now))
    policy = _policy(context)
    raised = 0
    with context.session_factory() as session:
        enabled = Enabled(session)
        for budget in session.exec(
            select(Budget).where(Budget.status == BudgetStatus.active.value)
        ).all():
            if not enabled(budget.unit_path):
                continue
            used = budgets.used_fen(session, budget.lineage_id)
            for key, line in (("stop", STOP_PERCENT), ("warn", WARN_PERCENT)):
                percent = setting(session, budget.unit_path, line, today)
                if used * 100 >= budget.amount_fen * percent:
                    raised += raise_alert(
                        session,
                        policy,
                        key=f"budget:{budget.lineage_id}:{budget.version}:{key}:{percent}",
                        kind=f"budget_{key}",
                        severity="escalation" if key == "stop" else "warning",
                        subject_type="budget",
                        subject_id=budget.id,
                        unit_path=budget.unit_path,
                        zh=f"{budget.fiscal_year} 年度预算（{budget.category}）执行已达 {percent}%",
                        en=f"The {budget.fiscal_year} budget ({budget.category}) "
                        f"has reached {percent}%",
                        notify=(FINANCE,),
                        locale=context.settings.default_locale,
                    )
                    break
        for gift in session.exec(
            select(FundingSource).where(
                col(FundingSource.restriction_until).is_not(None),
                FundingSource.restriction_until >= today,
                FundingSource.restriction_until <= today + timedelta(days=30),
            )
        ).all():
            spent = session.exec(
                select(func.coalesce(func.sum(Commitment.amount_fen), 0)).where(
                    Commitment.source_id == gift.id,
                    Commitment.state == CommitmentState.consumed.value,
                )
            ).one()
            if enabled(gift.unit_path) and spent < gift.amount_fen:
                raised += raise_alert(
                    session,
                    policy,
                    key=f"source:{gift.id}:restriction_ending",
                    kind="restricted_unused",
                    subject_type="source",
                    subject_id=gift.id,
                    unit_path=gift.unit_path,
                    zh=f"限定用途捐赠「{gift.name}」将于 {gift.restriction_until} 到期，"
                    "尚有资金未使用",
                    en=f"Restricted gift '{gift.name}' ends on {gift.restriction_until} "
                    "with money unused",
                    notify=(FINANCE,),
                    locale=context.settings.default_locale,
                )
        session.commit()
    return raised


@job("insurance.duplicate_receipts")
def duplicate_receipts(context=None) -> int:
    """The nightly sweep across units: draft lines whose invoice another claim registered."""
    policy = _policy(context)
    raised = 0
    with context.session_factory() as session:
        enabled = Enabled(session)
        for line in expenses.duplicate_lines(session):
            claim = session.get(ExpenseClaim, line.expense_id)
            if not enabled(claim.unit_path):
                continue
            if not line.duplicate_flag:
                line.duplicate_flag = True
                session.add(line)
            raised += raise_alert(
                session,
                policy,
                key=f"expense_line:{line.id}:duplicate",
                kind="duplicate_invoice",
                subject_type="expense",
                subject_id=claim.id,
                unit_path=claim.unit_path,
                zh=f"报销单 {claim.number} 的发票已在其他报销中使用",
                en=f"An invoice of claim {claim.number} was claimed elsewhere",
                notify=("insurance.expense.review",),
                locale=context.settings.default_locale,
            )
        session.commit()
    return raised


@job("insurance.donor_query_sla")
def donor_query_sla(now: str | None = None, context=None) -> int:
    """Donor questions unanswered at the deadline (20 days unless the unit says otherwise)."""
    today = china_day(now_or(now))
    policy = _policy(context)
    raised = 0
    with context.session_factory() as session:
        enabled = Enabled(session)
        for query in session.exec(
            select(DonorQuery).where(col(DonorQuery.answered_at).is_(None))
        ).all():
            if not enabled(query.unit_path):
                continue
            days = setting(session, query.unit_path, DONOR_ANSWER_DAYS, query.received_on)
            due = query.received_on + timedelta(days=days)
            if today >= due - timedelta(days=3):
                overdue = today > due
                raised += raise_alert(
                    session,
                    policy,
                    key=f"donor_query:{query.id}:{'overdue' if overdue else 'due'}",
                    kind="donor_query",
                    severity="escalation" if overdue else "warning",
                    subject_type="donor_query",
                    subject_id=query.id,
                    unit_path=query.unit_path,
                    zh=f"捐赠人查询须于 {due} 前答复" + ("（已逾期）" if overdue else ""),
                    en=f"A donor's question must be answered by {due}"
                    + (" (overdue)" if overdue else ""),
                    notify=(FINANCE,),
                    locale=context.settings.default_locale,
                )
        session.commit()
    return raised


def previous_month(at: datetime) -> str:
    """``YYYY-MM`` of the month before ``at`` (in China)."""
    first = china_day(at).replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


@job("insurance.monthly_close")
def monthly_close(month: str | None = None, context=None) -> int:
    """Close a month (the previous one by default) for every unit that paid in it.

    Reconcile its payments against their vouchers and entries, close paid reimbursements,
    freeze the month's figures. Returns how many units were closed now (0 when run again).
    """
    month = month or previous_month(now_or(None))
    year, number = (int(part) for part in month.split("-"))
    start = datetime(year, number, 1, tzinfo=CHINA)
    end = datetime(year + (number == 12), number % 12 + 1, 1, tzinfo=CHINA)
    closed = 0
    with context.session_factory() as session:
        enabled = Enabled(session)
        paid = session.exec(
            select(Payment).where(Payment.paid_at >= start, Payment.paid_at < end)
        ).all()
        by_unit: dict[int, list[Payment]] = {}
        for payment in paid:
            by_unit.setdefault(payment.unit_id, []).append(payment)
        for unit_id, rows in by_unit.items():
            unit = session.get(Unit, unit_id)
            if not enabled(unit.path):
                continue
            if session.exec(
                select(MonthClose.id).where(
                    MonthClose.unit_id == unit_id, MonthClose.month == month
                )
            ).first():
                continue
            live = [
                p for p in rows if p.reversed_at is None and p.entry_id is not None and p.voucher_no
            ]
            for payment in live:
                if payment.reconciled_at is None:
                    payment.reconciled_at = now_or(None)
                    session.add(payment)
                if payment.doc_type == "expense":
                    claim = session.get(ExpenseClaim, payment.doc_id)
                    if claim.status == ExpenseStatus.paid:
                        claim.status = ExpenseStatus.closed.value
                        session.add(claim)
            session.add(
                MonthClose(
                    unit_id=unit_id,
                    unit_path=unit.path,
                    month=month,
                    figures={
                        "payments": len(live),
                        "paid_fen": sum(p.amount_fen for p in live),
                        "reversed": len(rows) - len(live),
                        "by_kind": {
                            kind: sum(p.amount_fen for p in live if p.doc_type == kind)
                            for kind in sorted({p.doc_type for p in live})
                        },
                    },
                )
            )
            closed += 1
        session.commit()
    return closed


JOBS = [
    pre_activity_check,
    incident_same_day,
    claim_clocks,
    limitation_watch,
    policy_expiry,
    budget_watch,
    duplicate_receipts,
    donor_query_sla,
    monthly_close,
]
