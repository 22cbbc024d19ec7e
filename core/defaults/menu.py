"""Core's navigation entries."""

from core.contributions import Label, MenuItem
from core.hookspecs import hookimpl


@hookimpl
def menu_items(unit, actor):
    return [
        MenuItem(Label("首页", "Home"), f"/units/{unit.id}/", icon="home", order=0),
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
