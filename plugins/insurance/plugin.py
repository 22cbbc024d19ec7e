"""Hook implementations of the ``insurance`` plugin."""

from sqlmodel import func, select

from core.access import path_in
from core.contributions import Figure, Label, MenuItem, Schedule, TrainingModule
from core.hookspecs import hookimpl
from core.jobs import enqueue
from plugins.insurance import META
from plugins.insurance.cover import assignment_refusals
from plugins.insurance.jobs import JOBS, pre_activity_check
from plugins.insurance.models import MODELS, Alert, ExpenseClaim, InsuranceClaim
from plugins.insurance.permissions import ACTIONS, ROLES, SENSITIVE_FIELDS
from plugins.insurance.rewards import from_event
from plugins.insurance.vocab import ClaimStatus, ExpenseStatus

__all__ = ["META"]

#: Core's event when a task is published: check its assignments' cover at once.
TASK_PUBLISHED = "core.task.published"


@hookimpl
def register_models():
    return MODELS


@hookimpl
def register_permissions():
    return ACTIONS


@hookimpl
def register_roles():
    return ROLES


@hookimpl
def register_sensitive_fields():
    return SENSITIVE_FIELDS


@hookimpl
def register_api_routes():
    from plugins.insurance.routes import API_ROUTES

    return API_ROUTES


@hookimpl
def register_page_routes():
    from plugins.insurance.pages import PAGE_ROUTES

    return PAGE_ROUTES


@hookimpl
def register_jobs():
    return JOBS


@hookimpl
def register_schedules():
    return [
        Schedule(job="insurance.pre_activity_check", cron="5 * * * *"),
        Schedule(job="insurance.incident_same_day", cron="10 0 * * *"),
        Schedule(job="insurance.claim_clocks", cron="30 7 * * *"),
        Schedule(job="insurance.limitation_watch", cron="40 7 * * *"),
        Schedule(job="insurance.policy_expiry", cron="50 7 * * *"),
        Schedule(job="insurance.budget_watch", cron="0 8 * * *"),
        Schedule(job="insurance.duplicate_receipts", cron="30 2 * * *"),
        Schedule(job="insurance.donor_query_sla", cron="10 8 * * *"),
        Schedule(job="insurance.monthly_close", cron="30 3 1 * *"),
    ]


@hookimpl
def register_training_modules():
    return [
        TrainingModule(
            "insurance.my_cover",
            Label("我的保障：保险、出险与报销", "My cover: insurance, incidents and expenses"),
            "my_cover.md",
            hours=1.0,
            required_roles=("volunteer",),
        ),
        TrainingModule(
            "insurance.incident_handling",
            Label(
                "活动负责人：出险处置与报告", "Activity leaders: handling and reporting incidents"
            ),
            "incident_handling.md",
            hours=1.5,
            required_roles=("insurance.leader",),
        ),
        TrainingModule(
            "insurance.finance_rules",
            Label(
                "财务人员：报销、预算与捐赠管理", "Finance staff: reimbursements, budgets and gifts"
            ),
            "finance_rules.md",
            hours=3.0,
            required_roles=("insurance.finance", "insurance.approver", "insurance.cashier"),
        ),
        TrainingModule(
            "insurance.claims_clerk",
            Label("保险专员：理赔材料与时限", "Insurance clerks: claim documents and deadlines"),
            "claims_clerk.md",
            hours=2.0,
            required_roles=("insurance.clerk",),
        ),
    ]


@hookimpl
def menu_items(unit, actor):
    base = f"/units/{unit.id}/insurance"
    return [
        MenuItem(
            Label("保险与经费", "Insurance and finance"),
            f"{base}/",
            icon="shield",
            required_action="insurance.report.read",
            order=60,
            children=(
                MenuItem(
                    Label("报销工作台", "Reimbursement queue"),
                    f"{base}/expenses",
                    required_action="insurance.expense.read",
                ),
                MenuItem(
                    Label("理赔", "Claims"),
                    f"{base}/claims",
                    required_action="insurance.claim.read",
                ),
                MenuItem(
                    Label("预算", "Budgets"),
                    f"{base}/budgets",
                    required_action="insurance.budget.read",
                ),
                MenuItem(
                    Label("报表", "Reports"),
                    f"{base}/reports",
                    required_action="insurance.report.read",
                ),
            ),
        ),
        MenuItem(
            Label("我的保障", "My cover"),
            f"{base}/my",
            icon="shield",
            required_action="insurance.self.read",
            order=61,
        ),
        MenuItem(
            Label("出险与报销确认", "Incidents and confirmations"),
            f"{base}/expenses",
            icon="shield",
            required_action="insurance.expense.confirm",
            order=62,
        ),
    ]


@hookimpl
def dashboard_figures(unit, actor, session):
    base = f"/units/{unit.id}/insurance"
    waiting = session.exec(
        select(func.count())
        .select_from(ExpenseClaim)
        .where(
            path_in(ExpenseClaim.unit_path, unit.path),
            ExpenseClaim.status.in_(
                [
                    ExpenseStatus.submitted,
                    ExpenseStatus.activity_confirmed,
                    ExpenseStatus.finance_reviewed,
                    ExpenseStatus.approved,
                ]
            ),
        )
    ).one()
    open_claims = session.exec(
        select(func.count())
        .select_from(InsuranceClaim)
        .where(
            path_in(InsuranceClaim.unit_path, unit.path),
            InsuranceClaim.status.not_in(
                [ClaimStatus.closed, ClaimStatus.withdrawn, ClaimStatus.paid]
            ),
        )
    ).one()
    alerts = session.exec(
        select(func.count()).select_from(Alert).where(path_in(Alert.unit_path, unit.path))
    ).one()
    return [
        Figure(
            Label("待办报销", "Reimbursements in progress"),
            waiting,
            url=f"{base}/expenses",
            required_action="insurance.expense.read",
        ),
        Figure(
            Label("未结理赔", "Open claims"),
            open_claims,
            url=f"{base}/claims",
            required_action="insurance.claim.read",
        ),
        Figure(
            Label("保险经费提醒", "Insurance alerts"),
            alerts,
            url=f"{base}/",
            required_action="insurance.report.read",
        ),
    ]


@hookimpl
def handle_event(event, session):
    if event.name == TASK_PUBLISHED:
        task_id = event.payload.get("task_id") or event.payload.get("id")
        if isinstance(task_id, int):
            enqueue(session, pre_activity_check, unit_id=event.unit_id, task_id=task_id)
        return
    from_event(session, event)


@hookimpl
def check_assignment(check, session):
    return assignment_refusals(session, check)
