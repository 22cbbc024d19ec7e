"""The display names every mediation page uses."""

from sqlmodel import Session

from core.units.models import Unit
from plugins.mediation import clock, vocab
from plugins.mediation.settings import config_at


def labels(session: Session, unit: Unit) -> dict:
    """Vocabulary labels, and the categories and case file documents configured at ``unit``."""
    config = config_at(session, unit.path, clock.today())
    return {
        "statuses": vocab.STATUS_LABELS,
        "outcomes": vocab.OUTCOME_LABELS,
        "sources": vocab.SOURCE_LABELS,
        "risks": vocab.RISK_LABELS,
        "roles": vocab.PARTY_ROLE_LABELS,
        "kinds": vocab.COMMITTEE_KIND_LABELS,
        "grades": vocab.GRADE_LABELS,
        "mediator_statuses": vocab.MEDIATOR_STATUS_LABELS,
        "not_accepted_reasons": vocab.NOT_ACCEPTED_LABELS,
        "reported_to": vocab.REPORTED_TO_LABELS,
        "categories": {c.code: c.label for c in config.categories},
        "config": config,
    }
