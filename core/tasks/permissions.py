"""Actions of this area and the roles that hold them by default.

Every action reaches the subtree of the unit where its role is held. Cross-region dispatch
(跨区域临时调度) needs ``core.assignment.dispatch`` held at the 总队, a 大队 or a 中队 whose
subtree contains both the volunteer's home unit and the shift's unit (checked by
``core.tasks.assignments``), so it is granted to those levels only.
"""

from core.contributions import Action, Label

READ = "core.task.read"
MANAGE = "core.task.manage"
PUBLISH = "core.task.publish"
ASSIGN = "core.assignment.manage"
DISPATCH = "core.assignment.dispatch"
SIGNUP = "core.shift.signup"

ACTIONS: list[Action] = [
    Action(READ, Label("查看任务、班次和排班", "View tasks, shifts and duty rosters")),
    Action(
        MANAGE,
        Label(
            "编制任务、分解任务、设置点位和班次，开始和完成任务",
            "Draft and break down tasks, set points and shifts, start and complete tasks",
        ),
    ),
    Action(PUBLISH, Label("发布和取消任务", "Publish and cancel tasks")),
    Action(
        ASSIGN,
        Label(
            "为本单位志愿者排班、审批报名、取消排班",
            "Assign own volunteers, approve sign-ups, cancel assignments",
        ),
    ),
    Action(
        DISPATCH,
        Label("跨区域临时调度志愿者（辖区内）", "Dispatch volunteers across units (own area)"),
    ),
    Action(SIGNUP, Label("报名参加开放的班次", "Sign up for open shifts")),
]

_LEADER = (READ, MANAGE, PUBLISH, ASSIGN)

#: Role name → the actions of this area it holds (added to the role's core actions).
GRANTS: dict[str, tuple[str, ...]] = {
    "city_admin": (*_LEADER, DISPATCH),
    "district_admin": (*_LEADER, DISPATCH),
    "township_leader": (*_LEADER, DISPATCH),
    "village_leader": _LEADER,
    "volunteer": (SIGNUP,),
}
