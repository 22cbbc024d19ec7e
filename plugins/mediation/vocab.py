"""The closed vocabularies of mediation: codes stored in the tables and their display names.

Dispute categories are not here: they are per-unit configuration (``settings.py``), because
localities use different lists (the 建邺 assistant has 19 classes, others fewer).
"""

from enum import StrEnum

from core.contributions import Label


class CommitteeKind(StrEnum):
    """Where a 调委会 is formed (人民调解法 Art. 8 and later practice)."""

    village = "village"  # 村
    residential = "residential"  # 居
    township = "township"  # 乡镇、街道
    enterprise = "enterprise"  # 企事业单位
    industry = "industry"  # 行业性、专业性
    stationed = "stationed"  # 派驻（法院、公安、信访等）


class MemberRole(StrEnum):
    """A committee member's place: one 主任, any 副主任, members."""

    director = "director"
    deputy = "deputy"
    member = "member"


class Appointment(StrEnum):
    """How a mediator came to serve: elected (推选) or engaged (聘任)."""

    elected = "elected"
    engaged = "engaged"


class Grade(StrEnum):
    """Mediator grades used locally (雅安: 首席 / 一级 / 二级 / 三级)."""

    chief = "chief"
    first = "first"
    second = "second"
    third = "third"


class MediatorStatus(StrEnum):
    """Only active mediators may be assigned."""

    active = "active"
    suspended = "suspended"
    removed = "removed"


class RemovalReason(StrEnum):
    """The grounds of Art. 15 for criticism or removal of a mediator."""

    partiality = "partiality"  # 偏袒一方当事人
    insult = "insult"  # 侮辱当事人
    bribery = "bribery"  # 索取、收受财物或者牟取其他不正当利益
    privacy_leak = "privacy_leak"  # 泄露当事人的个人隐私、商业秘密
    other = "other"  # 任期届满、辞任等


class Source(StrEnum):
    """How a dispute came to the committee (案件来源)."""

    application = "application"  # 当事人申请
    initiative = "initiative"  # 主动调解
    screening = "screening"  # 排查发现
    police = "police"  # 公安移交
    court = "court"  # 法院委托
    government = "government"  # 政府指定
    hotline = "hotline"  # 12345 转办


class Risk(StrEnum):
    """Escalation risk (临海: red reported at once, orange the same day, yellow on the spot)."""

    none = "none"
    yellow = "yellow"
    orange = "orange"
    red = "red"


class Status(StrEnum):
    """The dispute's place in the state machine of the domain notes (§2.3)."""

    registered = "registered"
    not_accepted = "not_accepted"
    accepted = "accepted"
    in_mediation = "in_mediation"
    refused = "refused"
    failed = "failed"
    agreement_reached = "agreement_reached"
    performing = "performing"
    performed = "performed"
    defaulted = "defaulted"
    closed = "closed"
    archived = "archived"


#: Statuses of a dispute that is still being handled (escalation may be recorded in them).
OPEN_STATUSES = frozenset(
    {
        Status.registered,
        Status.accepted,
        Status.in_mediation,
        Status.agreement_reached,
        Status.performing,
        Status.defaulted,
    }
)


class Outcome(StrEnum):
    """How the mediation ended, kept after the dispute is closed and archived."""

    agreement_written = "agreement_written"
    agreement_oral = "agreement_oral"
    failed = "failed"
    refused = "refused"
    not_accepted = "not_accepted"


class NotAcceptedReason(StrEnum):
    """Why a committee does not take a dispute (告知书: 不予受理的情形)."""

    special_body = "special_body"  # 法律规定由专门机关管辖处理
    court_accepted = "court_accepted"  # 人民法院已经受理或者处理
    police_accepted = "police_accepted"  # 公安机关已经受理或者处理
    agency_accepted = "agency_accepted"  # 其他机关已经受理或者处理
    party_refused = "party_refused"  # 一方当事人明确拒绝调解 (Art. 17)
    other = "other"


class PartyRole(StrEnum):
    """A party's role in the dispute; an agent acts for one of the others."""

    applicant = "applicant"
    respondent = "respondent"
    third_party = "third_party"
    agent = "agent"


#: The parties whose consent and signature the process needs (not agents, not third parties).
PRINCIPAL_ROLES = frozenset({PartyRole.applicant, PartyRole.respondent})


class NoticeManner(StrEnum):
    """How the rights-and-duties notice (告知书) was given (2002 rules Art. 30)."""

    written = "written"
    oral = "oral"


class AssignmentHow(StrEnum):
    """The committee designates the mediator, or the parties choose one (Art. 19)."""

    designated = "designated"
    chosen = "chosen"


class AgreementForm(StrEnum):
    """Written 调解协议书 or an oral agreement entered in the register."""

    written = "written"
    oral = "oral"


class SignatureManner(StrEnum):
    """How a party executed the written agreement."""

    signature = "signature"
    seal = "seal"
    fingerprint = "fingerprint"


class TermStatus(StrEnum):
    """Performance of one term of an agreement."""

    pending = "pending"
    performed = "performed"
    defaulted = "defaulted"


class TermEvent(StrEnum):
    """What is recorded against a term: performance, or urging (督促) when it is late."""

    performed = "performed"
    urged = "urged"


class Satisfaction(StrEnum):
    """A party's satisfaction at the follow-up visit."""

    satisfied = "satisfied"
    fair = "fair"
    dissatisfied = "dissatisfied"


class ConfirmationResult(StrEnum):
    """司法确认: applied, then ruled valid (enforceable) or rejected."""

    applied = "applied"
    valid = "valid"
    rejected = "rejected"


class ReportedTo(StrEnum):
    """Whom a mediator reported a dispute that may escalate to (Art. 25)."""

    police = "police"
    judicial_office = "judicial_office"  # 司法所
    other = "other"


class LeadKind(StrEnum):
    """A screening lead, or the explicit "nothing to report" (零上报) for a period."""

    lead = "lead"
    zero_report = "zero_report"


class LeadStatus(StrEnum):
    """Where a lead stands."""

    new = "new"
    converted = "converted"
    dismissed = "dismissed"


class AttachmentPurpose(StrEnum):
    """What an uploaded file is for (each lands in the case file)."""

    evidence = "evidence"
    session_scan = "session_scan"  # signed 调解笔录
    power_of_attorney = "power_of_attorney"  # 授权委托书
    identity = "identity"  # 当事人身份证明
    performance_proof = "performance_proof"  # 收条、汇款单
    confirmation = "confirmation"  # 司法确认材料
    other = "other"


STATUS_LABELS = {
    Status.registered: Label("已登记", "registered"),
    Status.not_accepted: Label("不予受理", "not accepted"),
    Status.accepted: Label("已受理", "accepted"),
    Status.in_mediation: Label("调解中", "in mediation"),
    Status.refused: Label("当事人拒绝调解", "refused by a party"),
    Status.failed: Label("调解不成", "mediation failed"),
    Status.agreement_reached: Label("达成协议", "agreement reached"),
    Status.performing: Label("履行中", "performing"),
    Status.performed: Label("履行完毕", "performed"),
    Status.defaulted: Label("未履行", "defaulted"),
    Status.closed: Label("已结案", "closed"),
    Status.archived: Label("已归档", "archived"),
}

OUTCOME_LABELS = {
    Outcome.agreement_written: Label("书面协议", "written agreement"),
    Outcome.agreement_oral: Label("口头协议", "oral agreement"),
    Outcome.failed: Label("调解不成", "failed"),
    Outcome.refused: Label("拒绝调解", "refused"),
    Outcome.not_accepted: Label("不予受理", "not accepted"),
}

SOURCE_LABELS = {
    Source.application: Label("当事人申请", "party application"),
    Source.initiative: Label("主动调解", "committee initiative"),
    Source.screening: Label("排查发现", "found in screening"),
    Source.police: Label("公安移交", "referred by the police"),
    Source.court: Label("法院委托", "entrusted by a court"),
    Source.government: Label("政府指定", "assigned by the government"),
    Source.hotline: Label("12345 转办", "12345 hotline"),
}

RISK_LABELS = {
    Risk.none: Label("无", "none"),
    Risk.yellow: Label("黄", "yellow"),
    Risk.orange: Label("橙", "orange"),
    Risk.red: Label("红", "red"),
}

PARTY_ROLE_LABELS = {
    PartyRole.applicant: Label("申请人", "applicant"),
    PartyRole.respondent: Label("被申请人", "respondent"),
    PartyRole.third_party: Label("第三人", "third party"),
    PartyRole.agent: Label("委托代理人", "agent"),
}

COMMITTEE_KIND_LABELS = {
    CommitteeKind.village: Label("村调委会", "village committee"),
    CommitteeKind.residential: Label("居调委会", "residents' committee"),
    CommitteeKind.township: Label("乡镇（街道）调委会", "township committee"),
    CommitteeKind.enterprise: Label("企事业单位调委会", "enterprise committee"),
    CommitteeKind.industry: Label("行业性专业性调委会", "industry committee"),
    CommitteeKind.stationed: Label("派驻调解室", "stationed mediation office"),
}

GRADE_LABELS = {
    Grade.chief: Label("首席调解员", "chief mediator"),
    Grade.first: Label("一级调解员", "grade 1"),
    Grade.second: Label("二级调解员", "grade 2"),
    Grade.third: Label("三级调解员", "grade 3"),
}

MEDIATOR_STATUS_LABELS = {
    MediatorStatus.active: Label("在任", "active"),
    MediatorStatus.suspended: Label("暂停", "suspended"),
    MediatorStatus.removed: Label("已罢免", "removed"),
}

NOT_ACCEPTED_LABELS = {
    NotAcceptedReason.special_body: Label("依法由专门机关管辖", "for a special body by law"),
    NotAcceptedReason.court_accepted: Label("法院已受理", "already before a court"),
    NotAcceptedReason.police_accepted: Label("公安机关已受理", "already with the police"),
    NotAcceptedReason.agency_accepted: Label("其他机关已受理", "already with another agency"),
    NotAcceptedReason.party_refused: Label("一方当事人明确拒绝调解", "a party clearly refuses"),
    NotAcceptedReason.other: Label("其他", "other"),
}

REPORTED_TO_LABELS = {
    ReportedTo.police: Label("公安机关", "police"),
    ReportedTo.judicial_office: Label("司法所", "judicial office"),
    ReportedTo.other: Label("其他有关部门", "other agency"),
}
