"""Actions of this area and the roles that hold them by default.

The city and district offices set local rules for their subtree; the leaders below read the
rules they work under.
"""

from core.contributions import Action, Label

READ = "core.setting.read"
MANAGE = "core.setting.manage"

ACTIONS: list[Action] = [
    Action(READ, Label("查看单位设置", "View unit settings")),
    Action(MANAGE, Label("修改单位设置", "Change unit settings")),
]

#: Role name → the actions of this area it holds (added to the role's core actions).
GRANTS: dict[str, tuple[str, ...]] = {
    "city_admin": (READ, MANAGE),
    "district_admin": (READ, MANAGE),
    "township_leader": (READ,),
    "village_leader": (READ,),
}
