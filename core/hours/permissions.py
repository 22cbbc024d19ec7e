"""Actions of this area and the roles that hold them by default.

A volunteer's own check-in, record and calendar need no action (they are the signed-in
user's own, like the inbox); a shift's leader (带班) acts on their shift by being its leader.
The actions below are the unit leaders' and offices', each within their subtree.
"""

from core.contributions import Action, Label

READ = "core.hours.read"
RECORD = "core.hours.record"
CORRECT = "core.hours.correct"
APPROVE = "core.hours.approve"
CERTIFY = "core.hours.certify"
RECOMPUTE = "core.hours.recompute"

ACTIONS: list[Action] = [
    Action(READ, Label("查看服务时长记录", "View service-hour records")),
    Action(
        RECORD,
        Label("代为签到签退、确认服务时长", "Check volunteers in and out, confirm their hours"),
    ),
    Action(CORRECT, Label("申请更正服务时长", "Ask for a correction of service hours")),
    Action(APPROVE, Label("审批服务时长更正", "Decide corrections of service hours")),
    Action(CERTIFY, Label("出具志愿服务记录证明", "Issue service-record certificates")),
    Action(RECOMPUTE, Label("重算全部时长与星级", "Recompute all totals and star levels")),
]

_LEADER = (READ, RECORD, CORRECT)

#: Role name → the actions of this area it holds (added to the role's core actions).
GRANTS: dict[str, tuple[str, ...]] = {
    "city_admin": (READ, RECORD, CORRECT, APPROVE, CERTIFY, RECOMPUTE),
    "district_admin": (READ, RECORD, CORRECT, APPROVE, CERTIFY),
    "township_leader": (*_LEADER, APPROVE, CERTIFY),
    "village_leader": _LEADER,
}
