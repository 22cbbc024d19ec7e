"""The plugin's actions and the department roles that hold them by default.

Seeing a case's parties and records is not an action held over a subtree alone: a mediator
sees the details of the disputes they are assigned to (``mediation.case.mediate`` plus the
assignment), the committee's director, clerk and the supervising 司法所 officer see them all
in their reach (``mediation.case.detail``). Everyone else with ``mediation.case.read`` —
information collectors, mediators on other cases — sees the case number, category, status
and unit only.
"""

from core.contributions import Action, Label, Role

COMMITTEE_READ = "mediation.committee.read"
COMMITTEE_MANAGE = "mediation.committee.manage"
MEDIATOR_READ = "mediation.mediator.read"
MEDIATOR_MANAGE = "mediation.mediator.manage"
CASE_READ = "mediation.case.read"
CASE_DETAIL = "mediation.case.detail"
CASE_REGISTER = "mediation.case.register"
CASE_DECIDE = "mediation.case.decide"
CASE_MEDIATE = "mediation.case.mediate"
CASE_ARCHIVE = "mediation.case.archive"
PARTY_REVEAL = "mediation.party.reveal"
DOCUMENT_EXPORT = "mediation.document.export"
LEAD_REPORT = "mediation.lead.report"
LEAD_READ = "mediation.lead.read"
LEAD_CONVERT = "mediation.lead.convert"
REPORT_READ = "mediation.report.read"
REPORT_EXPORT = "mediation.report.export"
SETTING_MANAGE = "mediation.setting.manage"

ACTIONS = [
    Action(COMMITTEE_READ, Label("查看调委会", "View mediation committees")),
    Action(COMMITTEE_MANAGE, Label("设立和调整调委会", "Set up and change committees")),
    Action(MEDIATOR_READ, Label("查看调解员", "View mediators")),
    Action(MEDIATOR_MANAGE, Label("聘任和管理调解员", "Appoint and manage mediators")),
    Action(
        CASE_READ, Label("查看纠纷（案号、类别、状态）", "View disputes (number, category, status)")
    ),
    Action(
        CASE_DETAIL,
        Label("查看辖区全部纠纷详情", "See the details of every dispute in reach"),
        sensitive=True,
    ),
    Action(CASE_REGISTER, Label("登记纠纷", "Register disputes")),
    Action(
        CASE_DECIDE, Label("受理、指派和延期（调委会主任）", "Accept, assign, extend (director)")
    ),
    Action(CASE_MEDIATE, Label("调解所承办的纠纷", "Mediate assigned disputes")),
    Action(CASE_ARCHIVE, Label("整理卷宗并归档", "Keep case files and archive")),
    Action(
        PARTY_REVEAL,
        Label("查看当事人完整身份信息", "See parties' full identity data"),
        sensitive=True,
    ),
    Action(
        DOCUMENT_EXPORT,
        Label("生成调解协议书和告知书", "Print agreements and notices"),
        sensitive=True,
    ),
    Action(LEAD_REPORT, Label("上报排查线索和零上报", "Report leads and zero reports")),
    Action(LEAD_READ, Label("查看排查线索", "View screening leads")),
    Action(LEAD_CONVERT, Label("将线索登记为纠纷", "Register leads as disputes")),
    Action(REPORT_READ, Label("查看调解统计", "View mediation statistics")),
    Action(REPORT_EXPORT, Label("导出调解统计", "Export mediation statistics")),
    Action(SETTING_MANAGE, Label("调整本地调解参数", "Change local mediation settings")),
]

_SEE = ("core.unit.read", COMMITTEE_READ, MEDIATOR_READ, CASE_READ, LEAD_READ, REPORT_READ)

ROLES = [
    Role(
        "mediation.director",
        Label("调委会主任", "Committee director"),
        (
            *_SEE,
            MEDIATOR_MANAGE,
            CASE_DETAIL,
            CASE_REGISTER,
            CASE_DECIDE,
            CASE_MEDIATE,
            CASE_ARCHIVE,
            PARTY_REVEAL,
            DOCUMENT_EXPORT,
            LEAD_CONVERT,
            REPORT_EXPORT,
        ),
    ),
    Role(
        "mediation.clerk",
        Label("调委会文书", "Committee clerk"),
        (*_SEE, CASE_DETAIL, CASE_REGISTER, CASE_ARCHIVE, DOCUMENT_EXPORT, LEAD_CONVERT),
    ),
    Role(
        "mediation.mediator",
        Label("人民调解员", "People's mediator"),
        (
            *_SEE,
            CASE_REGISTER,
            CASE_MEDIATE,
            DOCUMENT_EXPORT,
            LEAD_REPORT,
            LEAD_CONVERT,
        ),
    ),
    Role(
        "mediation.collector",
        Label("矛盾纠纷信息员", "Dispute information collector"),
        ("core.unit.read", CASE_READ, LEAD_REPORT, LEAD_READ),
    ),
    Role(
        "mediation.officer",
        Label("司法所指导人员", "Judicial office supervisor"),
        (
            *_SEE,
            COMMITTEE_MANAGE,
            MEDIATOR_MANAGE,
            CASE_DETAIL,
            PARTY_REVEAL,
            REPORT_EXPORT,
            SETTING_MANAGE,
        ),
    ),
]
