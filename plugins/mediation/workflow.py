"""The dispute's state machine: which transition leads where, and who may take it.

Each transition names the statuses it starts from, the status it leads to, and the
authorities that may take it: the committee director (``mediation.case.decide`` over the
dispute's unit), a mediator *assigned to this dispute* (``mediation.case.mediate`` and an
active assignment), the clerk (``mediation.case.archive``), or the system (jobs and
automatic follow-on steps, never a request). A refusal says which obstacle stands: the
status (409 ``wrong_status``), the red-risk report still missing (409
``escalation_required``), or the caller's role (403 ``wrong_role``).

Whatever a transition requires besides (the notice given, consent, an effective agreement,
a complete case file) is checked by the service that takes it, before :func:`move`.
"""

from dataclasses import dataclass

from sqlmodel import Session

from core.accounts.principal import Principal
from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from plugins.mediation import clock
from plugins.mediation.access import is_assigned
from plugins.mediation.models import Dispute, DisputeStep
from plugins.mediation.permissions import CASE_ARCHIVE, CASE_DECIDE, CASE_MEDIATE, CASE_REGISTER
from plugins.mediation.vocab import STATUS_LABELS, Risk, Status


@dataclass(frozen=True)
class Authority:
    """Someone who may take a transition.

    An action over the dispute's unit, and for a mediator the assignment to the dispute;
    ``action=None`` is the system.
    """

    action: str | None
    assigned: bool
    label: Label


DIRECTOR = Authority(CASE_DECIDE, False, Label("调委会主任", "the committee director"))
MEDIATOR = Authority(
    CASE_MEDIATE, True, Label("本案承办调解员", "a mediator assigned to this dispute")
)
CLERK = Authority(CASE_ARCHIVE, False, Label("调委会文书", "the committee clerk"))
SYSTEM = Authority(None, False, Label("系统", "the system"))
REGISTRAR = Authority(CASE_REGISTER, False, Label("纠纷登记人员", "whoever registers disputes"))


@dataclass(frozen=True)
class Transition:
    """A move of a dispute from one of ``sources`` to ``target``."""

    name: str
    sources: frozenset[Status]
    target: Status
    by: tuple[Authority, ...]
    label: Label


def _t(name: str, sources, target: Status, by, zh: str, en: str) -> Transition:
    return Transition(name, frozenset(sources), target, tuple(by), Label(zh, en))


S = Status
TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("register", (), S.registered, (), "登记", "Registration"),
        _t("accept", (S.registered,), S.accepted, (DIRECTOR,), "受理", "Acceptance"),
        _t(
            "not_accept", (S.registered,), S.not_accepted, (DIRECTOR,), "不予受理", "Non-acceptance"
        ),
        _t(
            "assign",
            (S.accepted, S.in_mediation),
            S.in_mediation,
            (DIRECTOR,),
            "指派调解员",
            "Assigning mediators",
        ),
        _t(
            "refuse",
            (S.accepted, S.in_mediation),
            S.refused,
            (MEDIATOR, DIRECTOR),
            "记录当事人拒绝调解",
            "Recording a party's refusal",
        ),
        _t("extend", (S.in_mediation,), S.in_mediation, (DIRECTOR,), "延长调解期限", "Extension"),
        _t(
            "reach_agreement",
            (S.in_mediation,),
            S.agreement_reached,
            (MEDIATOR,),
            "确认达成协议",
            "Recording the agreement",
        ),
        _t(
            "fail",
            (S.in_mediation,),
            S.failed,
            (MEDIATOR,),
            "终止调解（调解不成）",
            "Ending as failed",
        ),
        _t(
            "start_performing",
            (S.agreement_reached,),
            S.performing,
            (SYSTEM,),
            "进入履行",
            "Start of performance",
        ),
        _t(
            "perform_at_once",
            (S.agreement_reached,),
            S.performed,
            (MEDIATOR,),
            "当即履行完毕",
            "Performed at once",
        ),
        _t(
            "complete",
            (S.performing,),
            S.performed,
            (MEDIATOR, SYSTEM),
            "履行完毕",
            "Performance complete",
        ),
        _t("default", (S.performing,), S.defaulted, (MEDIATOR,), "确认未履行", "Default"),
        _t("close", (S.performed, S.defaulted), S.closed, (MEDIATOR,), "结案", "Closing"),
        _t(
            "close_finished",
            (S.failed, S.refused, S.not_accepted),
            S.closed,
            (SYSTEM,),
            "自动结案",
            "Closing a finished dispute",
        ),
        _t("archive", (S.closed,), S.archived, (CLERK,), "归档", "Archiving"),
    )
}

#: Transitions a red-risk dispute may still take before its report is recorded: ending it.
ALLOWED_WITHOUT_REPORT = frozenset({"refuse", "fail", "close_finished"})


def status_label(status: str) -> Label:
    """The name of a status."""
    return STATUS_LABELS.get(status, Label(status, status))


def wrong_status(dispute: Dispute, what: Label, statuses) -> DomainError:
    """The refusal of something not possible in the dispute's current status."""
    current = status_label(dispute.status)
    wanted = "、".join(status_label(s).zh for s in sorted(statuses))
    wanted_en = ", ".join(status_label(s).en for s in sorted(statuses))
    message = text(
        f"该纠纷当前状态为「{current.zh}」，不能{what.zh}（仅在「{wanted}」时可以）",
        f"The dispute is {current.en}; {what.en.lower()} is possible only when it is {wanted_en}",
    )
    return DomainError(
        message, "wrong_status", 409, [FieldError("status", "wrong_status", message)]
    )


def wrong_role(what: Label, by: tuple[Authority, ...]) -> DomainError:
    """The refusal of a caller who is none of those who may do ``what``."""
    people = [a.label for a in by if a.action is not None]
    if not people:
        message = text(f"{what.zh}由系统自动办理", f"{what.en} is done by the system")
    else:
        message = text(
            f"{what.zh}须由{'或'.join(p.zh for p in people)}办理",
            f"{what.en} is taken by {' or '.join(p.en for p in people)}",
        )
    return DomainError(message, "wrong_role", 403, [FieldError("role", "wrong_role", message)])


def needs_report(dispute: Dispute) -> bool:
    """A red-risk dispute whose report to the police or 司法所 is not yet recorded."""
    return dispute.risk_level == Risk.red and dispute.escalation_reported_at is None


def _escalation_required(transition: Transition) -> DomainError:
    message = text(
        f"红色风险纠纷须先报告公安机关或司法所并登记，才能{transition.label.zh}",
        f"A red-risk dispute must first be reported to the police or the judicial office; "
        f"{transition.label.en.lower()} waits for that report",
    )
    return DomainError(
        message,
        "escalation_required",
        409,
        [FieldError("risk_level", "escalation_required", message)],
    )


def acting_authority(
    session: Session, principal: Principal | None, dispute: Dispute, transition: Transition
) -> Authority | None:
    """The authority under which the caller takes ``transition``, if any (None: refused)."""
    for authority in transition.by:
        if authority.action is None:
            if principal is None:
                return authority
            continue
        if principal is None or not principal.can(authority.action, dispute.unit_path):
            continue
        if authority.assigned and not is_assigned(session, principal, dispute):
            continue
        return authority
    return None


def authorise(
    session: Session, principal: Principal | None, dispute: Dispute, name: str
) -> Transition:
    """Check that the caller (``None``: the system) may take transition ``name`` now.

    Raises:
        DomainError: wrong status (409), red risk not yet reported (409), or not the
            caller's to take (403).
    """
    transition = TRANSITIONS[name]
    if dispute.status not in transition.sources:
        raise wrong_status(dispute, transition.label, transition.sources)
    if needs_report(dispute) and name not in ALLOWED_WITHOUT_REPORT:
        raise _escalation_required(transition)
    if acting_authority(session, principal, dispute, transition) is None:
        raise wrong_role(transition.label, transition.by)
    return transition


def require(
    session: Session,
    principal: Principal,
    dispute: Dispute,
    what: Label,
    by: tuple[Authority, ...],
    statuses,
) -> Authority:
    """Check a record-keeping step (not a transition): its statuses, then who acts.

    Raises:
        DomainError: wrong status (409) or not the caller's to do (403).
    """
    if dispute.status not in statuses:
        raise wrong_status(dispute, what, statuses)
    check = Transition("", frozenset(statuses), dispute.status, by, what)
    authority = acting_authority(session, principal, dispute, check)
    if authority is None:
        raise wrong_role(what, by)
    return authority


def allowed(session: Session, principal: Principal, dispute: Dispute) -> list[str]:
    """The transitions the caller may take on ``dispute`` now (for buttons and the API)."""
    names = []
    for name, transition in TRANSITIONS.items():
        try:
            authorise(session, principal, dispute, name)
        except DomainError:
            continue
        if acting_authority(session, principal, dispute, transition) is not SYSTEM:
            names.append(name)
    return names


def move(
    session: Session,
    dispute: Dispute,
    name: str,
    *,
    by_user_id: int | None,
    reason_code: str | None = None,
    note: str | None = None,
) -> DisputeStep:
    """Put ``dispute`` in the transition's target status and record the step."""
    transition = TRANSITIONS[name]
    step = DisputeStep(
        dispute_id=dispute.id,
        unit_path=dispute.unit_path,
        transition=name,
        from_status=str(dispute.status) if name != "register" else "new",
        to_status=str(transition.target),
        by_user_id=by_user_id,
        reason_code=reason_code,
        note=note,
        at=clock.now(),
    )
    dispute.status = transition.target
    session.add(dispute)
    session.add(step)
    session.flush()
    return step


def may(
    session: Session, principal: Principal, dispute: Dispute, by: tuple[Authority, ...], statuses
) -> bool:
    """Whether :func:`require` would let the caller through (for showing forms)."""
    if dispute.status not in statuses:
        return False
    check = Transition("", frozenset(statuses), dispute.status, by, Label("", ""))
    return acting_authority(session, principal, dispute, check) is not None


#: Who keeps the records of a case while it is handled: its mediators or the director.
CASE_HANDLERS = (MEDIATOR, DIRECTOR)


def require_intake(
    session: Session, principal: Principal, dispute: Dispute, what: Label, statuses
) -> None:
    """Check a change to the intake record (parties, notices, corrections).

    Until the committee accepts the dispute, whoever may register disputes keeps its intake
    record right; afterwards, only its mediators or the director, in ``statuses``.
    """
    if dispute.status == Status.registered:
        if not principal.can(CASE_REGISTER, dispute.unit_path):
            raise wrong_role(what, (REGISTRAR,))
        return
    require(session, principal, dispute, what, CASE_HANDLERS, statuses)
