"""Who is making a request, and what they may do where."""

from dataclasses import dataclass, field

from core.units.models import Unit


@dataclass(frozen=True)
class Grant:
    """A role held at a unit, with the actions the policy gives it."""

    id: int
    role: str
    unit_id: int
    unit_path: str
    actions: frozenset[str]

    def covers(self, path: str) -> bool:
        """Whether a unit or record with materialised ``path`` lies in this grant's subtree."""
        return path.startswith(self.unit_path)


@dataclass
class Principal:
    """A signed-in user and their grants. Every permission decision goes through here.

    Attributes:
        via: ``session`` (pages) or ``token`` (API).
    """

    user_id: int
    username: str
    display_name: str
    unit_id: int
    grants: list[Grant] = field(default_factory=list)
    via: str = "session"
    must_change_password: bool = False

    @property
    def roles(self) -> set[str]:
        """Names of the roles held anywhere."""
        return {grant.role for grant in self.grants}

    def can(self, action: str, unit: Unit | str | None = None) -> bool:
        """Whether some grant allows ``action`` at ``unit`` (a Unit or a path), or anywhere."""
        path = unit.path if isinstance(unit, Unit) else unit
        return any(
            action in grant.actions and (path is None or grant.covers(path))
            for grant in self.grants
        )

    def sees(self, unit: Unit | str) -> bool:
        """Whether ``unit`` lies in the subtree of any grant (whatever its actions)."""
        path = unit.path if isinstance(unit, Unit) else unit
        return any(grant.covers(path) for grant in self.grants)

    def reach(self, action: str) -> list[str]:
        """The unit paths under which ``action`` is allowed, without nested duplicates."""
        paths = sorted({g.unit_path for g in self.grants if action in g.actions}, key=len)
        kept: list[str] = []
        for path in paths:
            if not any(path.startswith(outer) for outer in kept):
                kept.append(path)
        return kept

    def actions_at(self, unit: Unit) -> set[str]:
        """Every action allowed at ``unit``."""
        return {a for grant in self.grants if grant.covers(unit.path) for a in grant.actions}
