"""Core's actions."""

from core.contributions import Action, Label
from core.hookspecs import hookimpl

CORE_ACTIONS = [
    Action("core.unit.read", Label("查看单位", "View units")),
    Action("core.unit.manage", Label("管理单位", "Manage units")),
    Action("core.plugin.read", Label("查看专项模块", "View plugins")),
    Action("core.plugin.manage", Label("启用或停用专项模块", "Enable or disable plugins")),
    Action("core.job.read", Label("查看后台任务", "View background jobs")),
]


@hookimpl
def register_permissions():
    return CORE_ACTIONS
