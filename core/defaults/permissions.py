"""Core's actions, roles and sensitive fields."""

from dataclasses import replace

from core.contributions import Action, Label, Role, SensitiveField
from core.hookspecs import hookimpl
from core.hours import permissions as hours
from core.reports import permissions as reports
from core.tasks import permissions as tasks
from core.unitconfig import permissions as unitconfig

#: The areas that declare their actions and default grants in a ``permissions`` module.
AREAS = (unitconfig, tasks, hours, reports)

CORE_ACTIONS = [
    Action("core.unit.read", Label("查看单位", "View units")),
    Action("core.unit.manage", Label("管理单位", "Manage units")),
    Action("core.plugin.read", Label("查看专项模块", "View plugins")),
    Action("core.plugin.manage", Label("启用或停用专项模块", "Enable or disable plugins")),
    Action(
        "core.plugin.manage_restricted",
        Label("启用或停用受限专项模块", "Enable or disable restricted plugins"),
    ),
    Action("core.job.read", Label("查看后台任务", "View background jobs")),
    Action("core.user.read", Label("查看账户", "View accounts")),
    Action("core.user.manage", Label("管理账户", "Manage accounts")),
    Action("core.grant.manage", Label("授予和收回角色", "Grant and revoke roles")),
    Action("core.person.read", Label("查看人员（脱敏）", "View people (masked)")),
    Action("core.person.manage", Label("登记和修改人员", "Register and edit people")),
    Action(
        "core.person.reveal",
        Label("查看人员完整身份信息", "See people's full identity data"),
        sensitive=True,
    ),
    Action("core.volunteer.read", Label("查看志愿者", "View volunteers")),
    Action("core.volunteer.manage", Label("管理志愿者档案", "Manage volunteer records")),
    Action(
        "core.volunteer.export",
        Label("导出志愿者（全国系统格式）", "Export volunteers (national system)"),
        sensitive=True,
    ),
    Action("core.volunteer.import", Label("批量导入志愿者", "Import volunteers in bulk")),
    Action("core.application.submit", Label("受理报名", "Take applications")),
    Action("core.application.review", Label("初审报名", "Preliminary review of applications")),
    Action(
        "core.application.approve", Label("审核报名（上一级）", "Review applications (level above)")
    ),
    Action(
        "core.application.register", Label("登记志愿者（区县）", "Register volunteers (district)")
    ),
    Action(
        "core.application.certify",
        Label("核查身份并发证（市）", "Verify identity and certify (city)"),
    ),
    Action("core.coverage.read", Label("查看覆盖率", "View coverage")),
    Action("core.coverage.export", Label("导出覆盖率", "Export coverage")),
    Action(
        "core.training.read",
        Label("查看培训（课程、场次、资格、计划、统计）", "View training"),
    ),
    Action(
        "core.training.manage", Label("组织培训场次（排期、考勤、结业）", "Run training sessions")
    ),
    Action("core.training.enrol", Label("为志愿者报名培训", "Enrol volunteers in training")),
    Action("core.training.plan", Label("制定年度培训计划", "Set annual training plans")),
    Action(
        "core.training.qualify",
        Label("授予、导入和撤销培训资格", "Grant, import and revoke qualifications"),
    ),
    Action("core.training.configure", Label("设置岗位培训要求", "Set the training roles require")),
    Action("core.audit.read", Label("查看审计日志", "Read the audit trail")),
    Action("core.audit.export", Label("导出审计日志", "Export the audit trail"), sensitive=True),
    *(action for area in AREAS for action in area.ACTIONS),
]

ADMINISTRATION = ("core.unit.read", "core.plugin.read", "core.job.read")
# Training: the offices plan, run, qualify and set requirements; a township runs sessions and
# plans; a village leader enrols the village's volunteers. Volunteers enrol themselves and
# take quizzes on their own pages (any signed-in account with a volunteer record).
TRAINING = (
    "core.training.read",
    "core.training.manage",
    "core.training.enrol",
    "core.training.plan",
    "core.training.qualify",
    "core.training.configure",
)
# What the city and district offices do (register volunteers, accounts, plugins) in their area.
# Both hold every recruitment action; which step each office may take is the workflow's rule
# (registration by the district, certification by the city), checked on the acting grant.
OFFICE = (
    *ADMINISTRATION,
    "core.unit.manage",
    "core.plugin.manage",
    "core.user.read",
    "core.user.manage",
    "core.grant.manage",
    "core.person.read",
    "core.person.manage",
    "core.person.reveal",
    "core.volunteer.read",
    "core.volunteer.manage",
    "core.volunteer.export",
    "core.volunteer.import",
    "core.application.submit",
    "core.application.review",
    "core.application.approve",
    "core.application.register",
    "core.application.certify",
    "core.coverage.read",
    "core.coverage.export",
    *TRAINING,
)

CORE_ROLES = [
    Role(
        "platform_admin",
        Label("平台管理员", "Platform administrator"),
        (
            *ADMINISTRATION,
            "core.unit.manage",
            "core.plugin.manage",
            "core.plugin.manage_restricted",
            "core.user.read",
            "core.user.manage",
            "core.grant.manage",
        ),
        levels=("city",),
    ),
    Role(
        "auditor",
        Label("审计员", "Auditor"),
        ("core.unit.read", "core.audit.read", "core.audit.export", "core.training.read"),
    ),
    Role(
        "city_admin",
        Label("市领导小组办公室", "City office"),
        OFFICE,
        levels=("city",),
    ),
    Role(
        "district_admin",
        Label("区县领导小组办公室", "District office"),
        OFFICE,
        levels=("district",),
    ),
    Role(
        "township_leader",
        Label("中队负责人", "Township team leader"),
        (
            "core.unit.read",
            "core.user.read",
            "core.person.read",
            "core.person.manage",
            "core.volunteer.read",
            "core.volunteer.manage",
            "core.application.submit",
            "core.application.review",
            "core.application.approve",
            "core.coverage.read",
            "core.training.read",
            "core.training.manage",
            "core.training.enrol",
            "core.training.plan",
        ),
        levels=("township",),
    ),
    Role(
        "village_leader",
        Label("分队负责人", "Village team leader"),
        (
            "core.unit.read",
            "core.person.read",
            "core.volunteer.read",
            "core.application.submit",
            "core.application.review",
            "core.coverage.read",
            "core.training.read",
            "core.training.enrol",
        ),
        levels=("village",),
    ),
    Role(
        "volunteer",
        Label("志愿者", "Volunteer"),
        ("core.unit.read",),
        levels=("township", "village"),
    ),
]


def _with_area_grants(role: Role) -> Role:
    extra = tuple(name for area in AREAS for name in area.GRANTS.get(role.name, ()))
    return replace(role, actions=(*role.actions, *extra)) if extra else role


CORE_ROLES = [_with_area_grants(role) for role in CORE_ROLES]

CORE_SENSITIVE_FIELDS = [
    SensitiveField("person", "id_number", "id_number", "core.person.reveal"),
    SensitiveField("person", "phone", "phone", "core.person.reveal"),
    SensitiveField("person", "address", "address", "core.person.reveal"),
    SensitiveField("person", "emergency_contact_phone", "phone", "core.person.reveal"),
]


@hookimpl
def register_permissions():
    return CORE_ACTIONS


@hookimpl
def register_roles():
    return CORE_ROLES


@hookimpl
def register_sensitive_fields():
    return CORE_SENSITIVE_FIELDS
