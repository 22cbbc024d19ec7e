"""Core's navigation entries."""

from core.contributions import Label, MenuItem
from core.hookspecs import hookimpl
from core.web.auth import AUTHENTICATED


@hookimpl
def menu_items(unit, actor):
    return [
        MenuItem(Label("首页", "Home"), f"/units/{unit.id}/", icon="home", order=0),
        MenuItem(
            Label("培训", "Training"),
            f"/units/{unit.id}/training/",
            icon="training",
            required_action="core.training.read",
            order=400,
            children=(
                MenuItem(
                    Label("培训场次", "Sessions"),
                    f"/units/{unit.id}/training/sessions",
                    required_action="core.training.read",
                    order=401,
                ),
                MenuItem(
                    Label("培训资格", "Qualifications"),
                    f"/units/{unit.id}/training/qualifications",
                    required_action="core.training.read",
                    order=402,
                ),
                MenuItem(
                    Label("年度培训计划", "Annual plan"),
                    f"/units/{unit.id}/training/plan",
                    required_action="core.training.read",
                    order=403,
                ),
                MenuItem(
                    Label("培训统计", "Statistics"),
                    f"/units/{unit.id}/training/statistics",
                    required_action="core.training.read",
                    order=404,
                ),
            ),
        ),
        MenuItem(
            Label("我的培训", "My training"),
            "/training/my/",
            icon="my-training",
            required_action=AUTHENTICATED,
            order=930,
        ),
        MenuItem(
            Label("账户管理", "Accounts"),
            "/admin/users/",
            icon="users",
            required_action="core.user.read",
            order=800,
        ),
        MenuItem(
            Label("审计日志", "Audit trail"),
            "/audit/",
            icon="audit",
            required_action="core.audit.read",
            order=850,
        ),
        MenuItem(
            Label("后台任务", "Jobs"),
            "/jobs",
            icon="jobs",
            required_action="core.job.read",
            order=900,
        ),
        MenuItem(
            Label("我的账户", "My account"),
            "/account/",
            icon="account",
            required_action="authenticated",
            order=950,
        ),
    ]
