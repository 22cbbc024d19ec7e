"""The plugin's actions, its department roles and its sensitive fields.

Roles follow the segregation of duties the domain asks for: the insurance clerk handles
policies and claims; finance staff keep sources, budgets and the finance review of
reimbursements; approvers approve by amount; the exception approver signs budget exceptions;
the cashier pays; auditors read (masked) and reveal with a reason. Activity leaders confirm
that an activity happened and report incidents, and see of an incident only that it exists
and its status. Insured volunteers see their own cover, claims and expenses.
"""

from core.contributions import Action, Label, Role, SensitiveField

ACTIONS = [
    Action("insurance.setting.read", Label("查看保险经费配置", "View insurance settings")),
    Action("insurance.setting.manage", Label("设定标准与阈值", "Set rates and thresholds")),
    Action("insurance.ledger.read", Label("查看总账", "Read the ledger")),
    Action("insurance.source.read", Label("查看资金来源", "View funding sources")),
    Action("insurance.source.manage", Label("登记资金与捐赠", "Record funds and donations")),
    Action(
        "insurance.source.reveal",
        Label("查看捐赠人身份与账户", "See donors' identities and accounts"),
        sensitive=True,
    ),
    Action("insurance.budget.read", Label("查看预算", "View budgets")),
    Action("insurance.budget.manage", Label("编制和修订预算", "Draft and revise budgets")),
    Action("insurance.budget.approve", Label("批准预算", "Approve budgets")),
    Action("insurance.budget.exception", Label("预算例外审批", "Sign budget exceptions")),
    Action("insurance.policy.read", Label("查看保单与参保", "View policies and cover")),
    Action("insurance.policy.manage", Label("管理保单与参保", "Manage policies and enrolment")),
    Action("insurance.incident.read", Label("查看出险登记", "View incidents")),
    Action("insurance.incident.report", Label("登记出险", "Report incidents")),
    Action("insurance.claim.read", Label("查看理赔", "View claims")),
    Action("insurance.claim.manage", Label("办理理赔", "Handle claims")),
    Action(
        "insurance.claim.reveal",
        Label("查看受益人、医疗与账户信息", "See beneficiaries, medical data and accounts"),
        sensitive=True,
    ),
    Action("insurance.compensation.read", Label("查看抚恤救助", "View compensation cases")),
    Action("insurance.compensation.manage", Label("办理抚恤救助移送", "Refer compensation cases")),
    Action("insurance.reward.read", Label("查看奖励", "View rewards")),
    Action("insurance.reward.propose", Label("提议和审核奖励", "Propose and review rewards")),
    Action("insurance.reward.approve", Label("审批奖励与补助", "Approve rewards and aid")),
    Action("insurance.expense.read", Label("查看报销", "View reimbursements")),
    Action("insurance.expense.create", Label("代为填报报销", "Enter reimbursements for others")),
    Action(
        "insurance.expense.confirm", Label("确认活动真实（队长）", "Confirm the activity (leader)")
    ),
    Action("insurance.expense.review", Label("财务审核报销", "Finance review of reimbursements")),
    Action("insurance.expense.approve", Label("审批报销", "Approve reimbursements")),
    Action("insurance.payment.read", Label("查看付款", "View payments")),
    Action("insurance.payment.make", Label("付款（出纳）", "Make payments (cashier)")),
    Action(
        "insurance.payment.reveal",
        Label("付款时查看收款账户", "See payee accounts at payment"),
        sensitive=True,
    ),
    Action(
        "insurance.report.read", Label("查看保险经费报表", "Read insurance and finance reports")
    ),
    Action(
        "insurance.report.export",
        Label("导出保险经费报表", "Export insurance and finance reports"),
        sensitive=True,
    ),
    Action(
        "insurance.self.read", Label("查看本人保障与报销", "See my own cover, claims and expenses")
    ),
    Action("insurance.self.claim", Label("本人申请报销", "Claim my own expenses")),
]

READ_ALL = (
    "core.unit.read",
    "insurance.setting.read",
    "insurance.ledger.read",
    "insurance.source.read",
    "insurance.budget.read",
    "insurance.policy.read",
    "insurance.incident.read",
    "insurance.claim.read",
    "insurance.compensation.read",
    "insurance.reward.read",
    "insurance.expense.read",
    "insurance.payment.read",
    "insurance.report.read",
)

ROLES = [
    Role(
        "insurance.clerk",
        Label("保险专员", "Insurance clerk"),
        (
            "core.unit.read",
            "core.volunteer.read",
            "insurance.setting.read",
            "insurance.policy.read",
            "insurance.policy.manage",
            "insurance.incident.read",
            "insurance.incident.report",
            "insurance.claim.read",
            "insurance.claim.manage",
            "insurance.claim.reveal",
            "insurance.compensation.read",
            "insurance.compensation.manage",
            "insurance.report.read",
        ),
        levels=("city", "district", "township"),
    ),
    Role(
        "insurance.finance",
        Label("财务人员", "Finance staff"),
        (
            *READ_ALL,
            "insurance.setting.manage",
            "insurance.source.manage",
            "insurance.source.reveal",
            "insurance.budget.manage",
            "insurance.expense.create",
            "insurance.expense.review",
            "insurance.reward.propose",
            "insurance.report.export",
        ),
        levels=("city", "district", "township"),
    ),
    Role(
        "insurance.approver",
        Label("审批负责人", "Approving head"),
        (
            *READ_ALL,
            "insurance.budget.approve",
            "insurance.expense.approve",
            "insurance.reward.approve",
        ),
        levels=("city", "district", "township"),
    ),
    Role(
        "insurance.exception_approver",
        Label("预算例外审批人", "Budget exception approver"),
        (
            "core.unit.read",
            "insurance.budget.read",
            "insurance.budget.exception",
            "insurance.expense.read",
            "insurance.reward.read",
            "insurance.compensation.read",
        ),
        levels=("city", "district"),
    ),
    Role(
        "insurance.cashier",
        Label("出纳", "Cashier"),
        (
            "core.unit.read",
            "insurance.expense.read",
            "insurance.reward.read",
            "insurance.compensation.read",
            "insurance.payment.read",
            "insurance.payment.make",
            "insurance.payment.reveal",
            "insurance.claim.read",
        ),
        levels=("city", "district", "township"),
    ),
    Role(
        "insurance.auditor",
        Label("经费审计", "Finance auditor"),
        (
            *READ_ALL,
            "insurance.report.export",
            "insurance.source.reveal",
            "insurance.claim.reveal",
            "insurance.payment.reveal",
        ),
    ),
    Role(
        "insurance.leader",
        Label("活动负责人（保障）", "Activity leader (cover)"),
        (
            "core.unit.read",
            "insurance.incident.read",
            "insurance.incident.report",
            "insurance.expense.read",
            "insurance.expense.confirm",
            "insurance.policy.read",
        ),
        levels=("township", "village"),
    ),
    Role(
        "insurance.insured",
        Label("参保志愿者", "Insured volunteer"),
        ("core.unit.read", "insurance.self.read", "insurance.self.claim"),
        levels=("township", "village"),
    ),
]

SENSITIVE_FIELDS = [
    SensitiveField("insurance_funding_source", "donor_name", "name", "insurance.source.reveal"),
    SensitiveField(
        "insurance_funding_source", "bank_account", "account", "insurance.source.reveal"
    ),
    SensitiveField("insurance_incident", "injury_detail", "text", "insurance.claim.reveal"),
    SensitiveField("insurance_incident", "witnesses", "text", "insurance.claim.reveal"),
    SensitiveField("insurance_claim", "beneficiary_name", "name", "insurance.claim.reveal"),
    SensitiveField("insurance_claim", "payee_account", "account", "insurance.claim.reveal"),
    SensitiveField("insurance_claim", "medical_notes", "text", "insurance.claim.reveal"),
    SensitiveField(
        "insurance_compensation", "payee_account", "account", "insurance.payment.reveal"
    ),
    SensitiveField("insurance_reward", "payee_account", "account", "insurance.payment.reveal"),
    SensitiveField("insurance_expense", "payee_account", "account", "insurance.payment.reveal"),
    SensitiveField("insurance_payment", "payee_account", "account", "insurance.payment.reveal"),
]
