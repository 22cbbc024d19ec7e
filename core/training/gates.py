"""The training gates: what a task, a team role or a plugin requires before someone works.

* **Tasks.** A task type (``TaskType.required_modules``) and a shift may require modules;
  core's ``check_assignment`` hook implementation refuses an assignment naming each module
  the volunteer does not hold on the shift's day (:func:`assignment_refusals`).
* **Roles.** A team role (队长, 副队长) or a department role (``mediation.mediator``) requires
  the modules whose ``required_roles`` name it, plus those configured per unit with a
  valid-from date (``requirements:<role>`` settings, every level's counting): the city's
  minimum and what a district adds (:func:`required_for_role`). Appointing a captain or
  vice-captain checks them (:func:`require_for_team_role`); a plugin checks its own roles
  with the same two calls.
"""

from collections.abc import Iterable, Mapping
from datetime import date

from sqlmodel import Session

from core.contributions import AssignmentCheck, Label, Refusal, TrainingModule
from core.errors import DomainError, FieldError
from core.i18n import text
from core.training import config
from core.training.catalogue import title_of
from core.training.dates import local_date
from core.training.qualifications import missing_modules
from core.units.models import Unit
from core.volunteers.models import TeamRole

MISSING_MODULE = "training.missing_module"
#: Team roles whose appointment checks training (a member's own team is joined at enrolment).
GATED_TEAM_ROLES = (TeamRole.captain.value, TeamRole.vice_captain.value)


def required_for_role(
    session: Session, modules: Iterable[TrainingModule], unit: Unit, role: str, on: date
) -> list[str]:
    """The module codes ``role`` requires at ``unit`` on ``on``.

    Args:
        session: A database session.
        modules: The catalogue at ``unit`` (``Platform.training_modules``): a module of a
            plugin switched off there requires nothing there.
        unit: Where the role is held.
        role: ``captain``, ``vice_captain`` or a registered role name.
        on: The day the role is taken up.
    """
    available = list(modules)
    codes = [module.code for module in available if role in module.required_roles]
    known = {module.code for module in available}
    for version in config.in_force(session, unit, config.requirement_key(role), on):
        codes += [code for code in version.value.get("modules", []) if code in known]
    return list(dict.fromkeys(codes))


def missing_message(catalogue: Mapping[str, TrainingModule], codes: list[str]) -> Label:
    """``缺少培训：<title>`` naming every missing module, in both languages."""
    titles = [title_of(catalogue, code) for code in codes]
    return Label(
        "缺少培训：" + "、".join(title.zh for title in titles),
        "Missing training: " + ", ".join(title.en for title in titles),
    )


def require_for_team_role(
    session: Session,
    modules: Iterable[TrainingModule],
    person_id: int,
    unit: Unit,
    role: str,
    on: date,
) -> None:
    """Refuse to appoint ``person_id`` to ``role`` in ``unit``'s team without its training.

    Raises:
        DomainError: a required module is not held on ``on`` (400, field ``role``, rule
            ``training``), its message naming each missing module.
    """
    if role not in GATED_TEAM_ROLES:
        return
    catalogue = {module.code: module for module in modules}
    missing = missing_modules(
        session, person_id, required_for_role(session, catalogue.values(), unit, role, on), on
    )
    if missing:
        message = missing_message(catalogue, missing)
        shown = text(message.zh, message.en)
        raise DomainError(shown, "validation_failed", 400, [FieldError("role", "training", shown)])


def assignment_refusals(
    session: Session, check: AssignmentCheck, catalogue: Mapping[str, TrainingModule]
) -> list[Refusal]:
    """One blocking refusal per required module the volunteer lacks on the shift's day.

    The day is the shift's local (China) date: a shift at 07:00 in Chongqing starts the
    evening before in UTC, and a qualification expiring that morning must not count.
    """
    day = local_date(check.starts_at)
    missing = missing_modules(session, check.person_id, check.required_modules, day)
    refusals = []
    for code in missing:
        title = title_of(catalogue, code)
        refusals.append(
            Refusal(
                rule=MISSING_MODULE,
                message=Label(f"缺少培训：{title.zh}", f"Missing training: {title.en}"),
            )
        )
    return refusals


def set_requirement(
    session: Session,
    unit: Unit,
    role: str,
    modules: list[str],
    valid_from: date,
    by_user_id: int | None,
    *,
    roles: Iterable[str],
    catalogue: Mapping[str, TrainingModule],
) -> None:
    """From ``valid_from``, ``role`` requires ``modules`` at ``unit`` and below.

    An empty list clears what this unit asked (what units above ask still counts).

    Args:
        session: The database session.
        unit: The unit setting it.
        role: One of ``roles``.
        modules: Codes of the unit's ``catalogue``.
        valid_from: The first day it applies.
        by_user_id: Who set it.
        roles: The roles a requirement may name (:data:`GATED_TEAM_ROLES` and the
            registered roles).
        catalogue: The catalogue at ``unit``.

    Raises:
        DomainError: an unknown role or module (400, naming ``role`` or ``modules[i]``).
    """
    if role not in set(roles):
        message = text("没有这个岗位或角色", "No such role")
        raise DomainError(
            message, "validation_failed", 400, [FieldError("role", "choice", message)]
        )
    for index, code in enumerate(modules):
        if code not in catalogue:
            message = text(f"本单位没有培训模块 {code}", f"No training module {code} here")
            raise DomainError(
                message,
                "validation_failed",
                400,
                [FieldError(f"modules[{index}]", "unknown", message)],
            )
    config.set_value(
        session,
        unit,
        config.requirement_key(role),
        {"modules": list(dict.fromkeys(modules))},
        valid_from,
        by_user_id,
    )
