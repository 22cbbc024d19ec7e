"""The plugin's fixed vocabularies: kinds, categories and statuses, with their names for people."""

from enum import StrEnum

from core.contributions import Label


class SourceKind(StrEnum):
    """Where money comes from (资金来源)."""

    government = "government"  # 财政拨款
    donation = "donation"  # 社会捐赠
    foundation = "foundation"  # 基金会
    other = "other"


class SourceStatus(StrEnum):
    """A donation's life: received → receipted → allocated → utilised → disclosed."""

    received = "received"
    receipted = "receipted"
    allocated = "allocated"
    utilised = "utilised"
    disclosed = "disclosed"


class Category(StrEnum):
    """Budget categories (预算科目)."""

    premium = "premium"  # 保险费
    compensation = "compensation"  # 抚恤救助
    reward = "reward"  # 奖励
    reimbursement = "reimbursement"  # 报销
    case_subsidy = "case_subsidy"  # 以案定补
    training = "training"  # 培训
    publicity = "publicity"  # 宣传
    other = "other"


class BudgetStatus(StrEnum):
    """draft → submitted → active → revised (a newer version is active) | closed."""

    draft = "draft"
    submitted = "submitted"
    active = "active"
    revised = "revised"
    closed = "closed"


class OnExceed(StrEnum):
    """What budget control does beyond the stop threshold."""

    stop = "stop"
    warn = "warn"


class CommitmentState(StrEnum):
    """A budget reservation: reserved at approval, consumed at payment, or released."""

    reserved = "reserved"
    consumed = "consumed"
    released = "released"


class AccountKind(StrEnum):
    """Ledger account kinds; the sign convention is debit positive, credit negative."""

    fund = "fund"  # 银行存款（专户）: money held, per funding source
    revenue = "revenue"  # 收入: money received, per funding source
    encumbrance = "encumbrance"  # 预算占用: commitments outstanding, per budget and source
    reserve = "reserve"  # 占用准备: the credit side of commitments
    expense = "expense"  # 支出: money spent, per budget and source
    insurer_paid = "insurer_paid"  # 保险公司赔付 (memorandum: paid by the insurer)
    insurer_due = "insurer_due"  # 保险公司应付 (memorandum)


class ScopeRule(StrEnum):
    """Who a policy covers (参保范围)."""

    activity = "activity"  # every registered active volunteer, for each platform activity
    named_list = "named_list"  # the volunteers enrolled by name


class CoverKind(StrEnum):
    """Coverage lines of an accident policy."""

    death = "death"
    disability = "disability"
    medical = "medical"
    third_party = "third_party"
    transit = "transit"


class ClaimType(StrEnum):
    """What a claim asks the insurer to pay."""

    medical = "medical"
    disability = "disability"
    death = "death"
    third_party = "third_party"


class ClaimStatus(StrEnum):
    """The insurance claim's state machine (see ``claims.py``)."""

    draft = "draft"
    submitted = "submitted"
    with_insurer = "with_insurer"
    supplement_requested = "supplement_requested"
    decided = "decided"
    agreed = "agreed"
    paid = "paid"
    disputed = "disputed"
    closed = "closed"
    withdrawn = "withdrawn"


class Decision(StrEnum):
    """The insurer's decision."""

    approved = "approved"
    partial = "partial"
    rejected = "rejected"


class ExpenseStatus(StrEnum):
    """The reimbursement chain (see ``expenses.py``)."""

    draft = "draft"
    submitted = "submitted"
    activity_confirmed = "activity_confirmed"
    finance_reviewed = "finance_reviewed"
    approved = "approved"
    paid = "paid"
    closed = "closed"
    rejected = "rejected"
    cancelled = "cancelled"


class ExpenseType(StrEnum):
    """Kinds of expense line."""

    transport = "transport"  # 交通
    communication = "communication"  # 通讯
    lost_time = "lost_time"  # 误工补贴 (a standard amount, no receipt)
    materials = "materials"  # 材料
    meals = "meals"  # 餐费
    other = "other"


class RewardKind(StrEnum):
    """Kinds of reward (奖励 / 补贴)."""

    commendation = "commendation"  # 表彰
    clue = "clue"  # 线索奖励
    case_subsidy = "case_subsidy"  # 以案定补
    points = "points"  # 积分兑换


class RewardStatus(StrEnum):
    """proposed → reviewed → approved → paid → published (commendations); rejected."""

    proposed = "proposed"
    reviewed = "reviewed"
    approved = "approved"
    paid = "paid"
    published = "published"
    rejected = "rejected"


class CompensationBasis(StrEnum):
    """The legal basis a compensation case is referred under."""

    mediation_16 = "mediation_16"  # 人民调解法 第十六条
    fire_50 = "fire_50"  # 消防法 第五十条
    good_samaritan = "good_samaritan"  # 见义勇为
    martyr = "martyr"  # 烈士褒扬条例
    condolence = "condolence"  # 单位慰问


class CompensationStatus(StrEnum):
    """referred → dept_decided → paid_by_dept | platform_approved → paid_by_platform; closed."""

    referred = "referred"
    dept_decided = "dept_decided"
    paid_by_dept = "paid_by_dept"
    platform_approved = "platform_approved"
    paid_by_platform = "paid_by_platform"
    closed = "closed"


class PaymentMethod(StrEnum):
    """How money was paid."""

    bank = "bank"
    cash = "cash"
    insurer = "insurer"  # paid by the insurer directly to the beneficiary


LEVEL_RANK = {"city": 0, "district": 1, "township": 2, "village": 3}

CATEGORY_LABELS = {
    Category.premium: Label("保险费", "Premiums"),
    Category.compensation: Label("抚恤救助", "Compensation and aid"),
    Category.reward: Label("奖励", "Rewards"),
    Category.reimbursement: Label("报销", "Reimbursements"),
    Category.case_subsidy: Label("以案定补", "Per-case subsidies"),
    Category.training: Label("培训", "Training"),
    Category.publicity: Label("宣传", "Publicity"),
    Category.other: Label("其他", "Other"),
}

SOURCE_KIND_LABELS = {
    SourceKind.government: Label("财政拨款", "Government allocation"),
    SourceKind.donation: Label("社会捐赠", "Donation"),
    SourceKind.foundation: Label("基金会", "Foundation"),
    SourceKind.other: Label("其他", "Other"),
}

CLAIM_STATUS_LABELS = {
    ClaimStatus.draft: Label("草稿", "Draft"),
    ClaimStatus.submitted: Label("材料齐全待报送", "Ready to send"),
    ClaimStatus.with_insurer: Label("保险公司审核中", "With the insurer"),
    ClaimStatus.supplement_requested: Label("补充材料中", "Supplementing documents"),
    ClaimStatus.decided: Label("已核定", "Decided"),
    ClaimStatus.agreed: Label("已达成协议", "Agreed"),
    ClaimStatus.paid: Label("已赔付", "Paid"),
    ClaimStatus.disputed: Label("有异议", "Disputed"),
    ClaimStatus.closed: Label("已结案", "Closed"),
    ClaimStatus.withdrawn: Label("已撤回", "Withdrawn"),
}

CLAIM_TYPE_LABELS = {
    ClaimType.medical: Label("医疗", "Medical"),
    ClaimType.disability: Label("伤残", "Disability"),
    ClaimType.death: Label("身故", "Death"),
    ClaimType.third_party: Label("第三者责任", "Third-party liability"),
}

EXPENSE_STATUS_LABELS = {
    ExpenseStatus.draft: Label("草稿", "Draft"),
    ExpenseStatus.submitted: Label("待队长确认", "Awaiting the team leader"),
    ExpenseStatus.activity_confirmed: Label("待财务审核", "Awaiting finance"),
    ExpenseStatus.finance_reviewed: Label("待审批", "Awaiting approval"),
    ExpenseStatus.approved: Label("待付款", "Awaiting payment"),
    ExpenseStatus.paid: Label("已付款", "Paid"),
    ExpenseStatus.closed: Label("已对账", "Reconciled"),
    ExpenseStatus.rejected: Label("已驳回", "Rejected"),
    ExpenseStatus.cancelled: Label("已取消", "Cancelled"),
}

EXPENSE_TYPE_LABELS = {
    ExpenseType.transport: Label("交通", "Transport"),
    ExpenseType.communication: Label("通讯", "Communication"),
    ExpenseType.lost_time: Label("误工补贴", "Lost-time allowance"),
    ExpenseType.materials: Label("材料", "Materials"),
    ExpenseType.meals: Label("餐费", "Meals"),
    ExpenseType.other: Label("其他", "Other"),
}

REWARD_KIND_LABELS = {
    RewardKind.commendation: Label("表彰奖励", "Commendation"),
    RewardKind.clue: Label("线索奖励", "Clue reward"),
    RewardKind.case_subsidy: Label("以案定补", "Per-case subsidy"),
    RewardKind.points: Label("积分兑换", "Points exchange"),
}

REWARD_STATUS_LABELS = {
    RewardStatus.proposed: Label("已提议", "Proposed"),
    RewardStatus.reviewed: Label("已审核", "Reviewed"),
    RewardStatus.approved: Label("已批准", "Approved"),
    RewardStatus.paid: Label("已发放", "Paid"),
    RewardStatus.published: Label("已公布", "Published"),
    RewardStatus.rejected: Label("未批准", "Rejected"),
}

COMPENSATION_BASIS_LABELS = {
    CompensationBasis.mediation_16: Label("人民调解法第十六条", "People's Mediation Law art. 16"),
    CompensationBasis.fire_50: Label("消防法第五十条", "Fire Protection Law art. 50"),
    CompensationBasis.good_samaritan: Label("见义勇为", "Good Samaritan"),
    CompensationBasis.martyr: Label("烈士褒扬条例", "Martyrs regulation"),
    CompensationBasis.condolence: Label("单位慰问", "Condolence by the unit"),
}

COMPENSATION_STATUS_LABELS = {
    CompensationStatus.referred: Label("已移送主管部门", "Referred"),
    CompensationStatus.dept_decided: Label("主管部门已决定", "Decided by the department"),
    CompensationStatus.paid_by_dept: Label("主管部门已发放", "Paid by the department"),
    CompensationStatus.platform_approved: Label("平台补助已批准", "Platform aid approved"),
    CompensationStatus.paid_by_platform: Label("平台已发放", "Paid by the platform"),
    CompensationStatus.closed: Label("已结案", "Closed"),
}

BUDGET_STATUS_LABELS = {
    BudgetStatus.draft: Label("草稿", "Draft"),
    BudgetStatus.submitted: Label("待批准", "Submitted"),
    BudgetStatus.active: Label("执行中", "Active"),
    BudgetStatus.revised: Label("已修订（旧版本）", "Revised (old version)"),
    BudgetStatus.closed: Label("已关闭", "Closed"),
}
