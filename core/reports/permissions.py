"""Actions of this area and the roles that hold them by default.

Volunteers and leaders submit reports and follow their own. Village leaders read the reports
that come from their village, without the reporter. The township leaders and the district
and city offices handle them (triage, referral, closing) in their subtree and are the only
ones who may see who reported — on purpose, with a reason, in the audit trail.
"""

from core.contributions import Action, Label

SUBMIT = "core.report.submit"
READ = "core.report.read"
HANDLE = "core.report.handle"
REVEAL = "core.report.reveal"

ACTIONS: list[Action] = [
    Action(SUBMIT, Label("报告线索和社情民意", "Submit reports of clues and public opinion")),
    Action(READ, Label("查看线索和社情民意（不含报告人）", "View reports (without the reporter)")),
    Action(HANDLE, Label("分拣、转办和答复线索", "Triage, refer and answer reports")),
    Action(
        REVEAL,
        Label("查看线索报告人身份", "See who submitted a report"),
        sensitive=True,
    ),
]

#: Role name → the actions of this area it holds (added to the role's core actions).
GRANTS: dict[str, tuple[str, ...]] = {
    "city_admin": (SUBMIT, READ, HANDLE, REVEAL),
    "district_admin": (SUBMIT, READ, HANDLE, REVEAL),
    "township_leader": (SUBMIT, READ, HANDLE, REVEAL),
    "village_leader": (SUBMIT, READ),
    "volunteer": (SUBMIT,),
}
