"""What the API handlers share: the caller, the path's dispute, the answer after a step."""

from litestar import Request
from sqlmodel import Session

from core.accounts.principal import Principal
from core.audit.recorder import record
from core.units.models import Unit
from plugins.mediation import present
from plugins.mediation.access import sees_details, within
from plugins.mediation.models import Dispute


def caller(request: Request) -> Principal:
    """The signed-in principal (the guard has let only them through)."""
    return request.scope["user"]


def dispute_at(session: Session, unit: Unit, dispute_id: int) -> Dispute:
    """The dispute ``dispute_id`` if it lies in the path unit's subtree (else 404)."""
    return within(session, Dispute, dispute_id, unit)


def shown(session: Session, principal: Principal, dispute: Dispute):
    """The dispute as the caller may see it, after committing.

    A full view is written to the audit trail as a read of the parties' data.
    """
    if sees_details(session, principal, dispute):
        record(
            session,
            "read",
            object_type="mediation_dispute",
            object_id=dispute.id,
            unit_path=dispute.unit_path,
        )
        session.commit()
        return present.detail(session, principal, dispute)
    session.commit()
    return present.view(session, principal, dispute)


def after_step(session: Session, principal: Principal, dispute: Dispute):
    """Commit a step and answer with the dispute as the caller may now see it."""
    session.commit()
    return present.view(session, principal, dispute)
