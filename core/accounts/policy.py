"""Which actions each role allows: the roles' defaults, optionally remapped by a policy file.

The policy is data (ASVS 8.1.1): a TOML file named by ``PINGAN_POLICY_FILE`` may replace the
action list of any role::

    [roles.township_leader]
    actions = ["core.unit.read", "core.person.*"]

Patterns end in ``.*`` and match every registered action below that prefix.
"""

import tomllib
from collections.abc import Iterable
from fnmatch import fnmatchcase
from pathlib import Path

from core.contributions import Role
from core.plugins import StartupError


class Policy:
    """Role → the set of registered actions it allows."""

    def __init__(
        self, roles: dict[str, Role], actions: Iterable[str], policy_file: Path | None = None
    ) -> None:
        self.roles = roles
        known = sorted(actions)
        overrides = _read_overrides(policy_file) if policy_file else {}
        unknown_roles = set(overrides) - set(roles)
        if unknown_roles:
            raise StartupError(
                f"policy file names unknown roles: {', '.join(sorted(unknown_roles))}"
            )
        self.actions_by_role = {
            name: _expand(name, overrides.get(name, role.actions), known)
            for name, role in roles.items()
        }

    def actions(self, role: str) -> frozenset[str]:
        """The actions ``role`` allows (empty for a role no longer registered)."""
        return self.actions_by_role.get(role, frozenset())

    def allowed_at(self, role: str, level: str) -> bool:
        """Whether ``role`` may be held at a unit of ``level``."""
        definition = self.roles.get(role)
        return definition is not None and (not definition.levels or level in definition.levels)


def _read_overrides(path: Path) -> dict[str, tuple[str, ...]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise StartupError(f"policy file {path}: {error}") from error
    roles = data.get("roles", {})
    return {name: tuple(entry.get("actions", ())) for name, entry in roles.items()}


def _expand(role: str, patterns: Iterable[str], known: list[str]) -> frozenset[str]:
    allowed: set[str] = set()
    for pattern in patterns:
        matched = (
            [name for name in known if fnmatchcase(name, pattern)]
            if "*" in pattern
            else ([pattern] if pattern in known else [])
        )
        if not matched and "*" not in pattern:
            raise StartupError(f"role {role!r} names unknown action {pattern!r}")
        allowed.update(matched)
    return frozenset(allowed)
