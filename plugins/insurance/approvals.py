"""Who decided what, when and from where; four eyes; the approval level an amount needs.

Every workflow decision writes an :class:`Approval` with the user, the time, the client
address and the acting unit. Nobody decides on their own claim, reimbursement or reward
(the document's party), and one person never holds two incompatible steps of the same
document (finance review, approval and payment are three different people). The
segregation-of-duties report re-checks all of it from the stored approvals: in a correct run
it is empty.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from core.access import path_in
from core.accounts.models import User
from core.accounts.principal import Grant, Principal
from core.audit.recorder import ACTOR
from core.contributions import Label
from core.errors import DomainError, FieldError
from core.i18n import text
from core.units.models import utcnow
from plugins.insurance.config import APPROVAL_TIERS, ancestor_ids, setting
from plugins.insurance.models import Approval
from plugins.insurance.vocab import LEVEL_RANK

LEVEL_LABELS = {
    "city": Label("市级", "city"),
    "district": Label("区县级", "district"),
    "township": Label("乡镇街道级", "township"),
    "village": Label("村社区级", "village"),
}

#: Steps a document's own claimant takes (never a violation when they do).
PARTY_STEPS = frozenset({"created", "submitted", "cancelled", "withdrawn", "confirmed_by_claimant"})

#: Per document type, pairs of steps one person must not both take.
INCOMPATIBLE: dict[str, tuple[tuple[str, str], ...]] = {
    "expense": (
        ("finance_reviewed", "approved"),
        ("approved", "paid"),
        ("finance_reviewed", "paid"),
    ),
    "claim": (("agreed", "paid"), ("decided", "paid")),
    "reward": (("proposed", "approved"), ("reviewed", "approved"), ("approved", "paid")),
    "compensation": (("referred", "platform_approved"), ("platform_approved", "paid_by_platform")),
    "budget": (("created", "approved"),),
    "premium": (("premium_approved", "paid"),),
}


@dataclass(frozen=True)
class Actor:
    """Someone acting through the API or pages: their principal, person and address."""

    principal: Principal
    person_id: int | None
    address: str | None

    @property
    def user_id(self) -> int:
        """The acting user's id."""
        return self.principal.user_id

    @property
    def username(self) -> str:
        """The acting user's name."""
        return self.principal.username


def actor_of(session: Session, principal: Principal) -> Actor:
    """The actor behind a request's session (its address comes from the audit context)."""
    user = session.get(User, principal.user_id)
    audit = session.info.get(ACTOR)
    return Actor(principal, user.person_id if user else None, audit.address if audit else None)


def four_eyes(message: str, field: str = "user") -> DomainError:
    """A refusal by the four-eyes rule."""
    return DomainError(message, "four_eyes", 403, [FieldError(field, "four_eyes", message)])


def refuse_own(actor: Actor, party_user_id: int | None, party_person_id: int | None) -> None:
    """Refuse when the actor is the document's own claimant or recipient.

    Raises:
        DomainError: 403 ``four_eyes``.
    """
    if actor.user_id == party_user_id or (
        actor.person_id is not None and actor.person_id == party_person_id
    ):
        raise four_eyes(
            text(
                "不能审批、核定或支付本人的申请（四眼原则）",
                "You may not decide on or pay your own claim (four eyes)",
            )
        )


def refuse_same_hand(
    session: Session, actor: Actor, subject_type: str, subject_id: int, step: str
) -> None:
    """Refuse when the actor already took a step incompatible with ``step`` on the document.

    Raises:
        DomainError: 403 ``four_eyes``.
    """
    incompatible = {
        other
        for pair in INCOMPATIBLE.get(subject_type, ())
        if step in pair
        for other in pair
        if other != step
    }
    if not incompatible:
        return
    prior = session.exec(
        select(Approval.step).where(
            Approval.subject_type == subject_type,
            Approval.subject_id == subject_id,
            Approval.by_user_id == actor.user_id,
            Approval.step.in_(sorted(incompatible)),
            Approval.decision.in_(["approve", "record"]),
        )
    ).first()
    if prior is not None:
        raise four_eyes(
            text(
                f"同一人不能既办理「{prior}」又办理「{step}」（四眼原则）",
                f"The same person may not take both '{prior}' and '{step}' (four eyes)",
            )
        )


def record_approval(
    session: Session,
    actor: Actor,
    *,
    subject_type: str,
    subject_id: int,
    unit_path: str,
    step: str,
    decision: str = "approve",
    party_user_id: int | None = None,
    party_person_id: int | None = None,
    amount_fen: int | None = None,
    reason: str | None = None,
    note: str | None = None,
    acting_unit_id: int | None = None,
    now: datetime | None = None,
) -> Approval:
    """Write one decision: who, when, from which address, at which unit."""
    approval = Approval(
        subject_type=subject_type,
        subject_id=subject_id,
        unit_path=unit_path,
        step=step,
        decision=decision,
        by_user_id=actor.user_id,
        by_username=actor.username,
        by_person_id=actor.person_id,
        acting_unit_id=acting_unit_id,
        address=actor.address,
        at=now or utcnow(),
        amount_fen=amount_fen,
        reason=reason,
        note=note[:500] if note else None,
        party_user_id=party_user_id,
        party_person_id=party_person_id,
    )
    session.add(approval)
    session.flush()
    return approval


def history(session: Session, subject_type: str, subject_id: int) -> list[Approval]:
    """A document's decisions, oldest first."""
    return list(
        session.exec(
            select(Approval)
            .where(Approval.subject_type == subject_type, Approval.subject_id == subject_id)
            .order_by(Approval.id)
        )
    )


# -- the level an amount needs ---------------------------------------------------------------


def required_level(session: Session, path: str, amount_fen: int, on) -> str:
    """The lowest level allowed to approve ``amount_fen`` at the unit of ``path``."""
    for tier in setting(session, path, APPROVAL_TIERS, on):
        if tier.up_to_fen is None or amount_fen <= tier.up_to_fen:
            return tier.level
    return "city"


def grant_rank(grant: Grant) -> int:
    """0 for a grant held at the city, 1 at a district, 2 at a township, 3 at a village."""
    return len(ancestor_ids(grant.unit_path)) - 1


def acting_grant(principal: Principal, action: str, path: str, level: str) -> Grant | None:
    """The caller's grant allowing ``action`` over ``path`` held at ``level`` or higher."""
    candidates = [
        grant
        for grant in principal.grants
        if action in grant.actions and grant.covers(path) and grant_rank(grant) <= LEVEL_RANK[level]
    ]
    return min(candidates, key=grant_rank, default=None)


def require_level(principal: Principal, action: str, path: str, level: str) -> Grant:
    """The acting grant at the level the amount needs.

    Raises:
        DomainError: 403 ``approval_level`` naming the level required.
    """
    grant = acting_grant(principal, action, path, level)
    if grant is None:
        label = LEVEL_LABELS[level]
        message = text(
            f"该金额须由{label.zh}或以上审批",
            f"This amount needs approval at {label.en} level or above",
        )
        raise DomainError(
            message, "approval_level", 403, [FieldError("amount_fen", "level", message)]
        )
    return grant


# -- the segregation-of-duties report --------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """A decision that breaks the four-eyes or segregation-of-duties rule."""

    subject_type: str
    subject_id: int
    rule: str  # own, same_hand
    steps: tuple[str, ...]
    user_id: int
    username: str


def sod_violations(session: Session, path: str) -> list[Violation]:
    """Every stored decision in a subtree that breaks the rules (empty in a correct run)."""
    approvals = session.exec(
        select(Approval)
        .where(path_in(Approval.unit_path, path))
        .where(Approval.decision.in_(["approve", "record", "return", "reject"]))
        .order_by(Approval.subject_type, Approval.subject_id, Approval.id)
    ).all()
    found: list[Violation] = []
    by_subject: dict[tuple[str, int], list[Approval]] = {}
    for approval in approvals:
        by_subject.setdefault((approval.subject_type, approval.subject_id), []).append(approval)
        if approval.step in PARTY_STEPS:
            continue
        own = approval.by_user_id == approval.party_user_id or (
            approval.by_person_id is not None and approval.by_person_id == approval.party_person_id
        )
        if own:
            found.append(
                Violation(
                    approval.subject_type,
                    approval.subject_id,
                    "own",
                    (approval.step,),
                    approval.by_user_id,
                    approval.by_username,
                )
            )
    for (subject_type, subject_id), decisions in by_subject.items():
        for first, second in INCOMPATIBLE.get(subject_type, ()):
            takers_first = {
                a.by_user_id: a.by_username
                for a in decisions
                if a.step == first and a.decision in ("approve", "record")
            }
            for a in decisions:
                if (
                    a.step == second
                    and a.decision in ("approve", "record")
                    and a.by_user_id in takers_first
                ):
                    found.append(
                        Violation(
                            subject_type,
                            subject_id,
                            "same_hand",
                            (first, second),
                            a.by_user_id,
                            a.by_username,
                        )
                    )
    return found
