"""Actions of this area and the roles that hold them by default."""

from core.contributions import Action

ACTIONS: list[Action] = []

#: Role name → the actions of this area it holds (added to the role's core actions).
GRANTS: dict[str, tuple[str, ...]] = {}
