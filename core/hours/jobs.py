"""Background jobs of this area: recomputing every volunteer's totals and star levels."""

from core.hours.totals import recompute
from core.jobs import job

RECOMPUTE_JOB = "core.recompute_hours"


@job(RECOMPUTE_JOB, max_retries=2)
def recompute_hours(context) -> dict:
    """Every volunteer's total and star level from the ledger, in one statement (nightly)."""
    with context.session_factory() as session:
        written = recompute(session)
        session.commit()
    return {"written": written}
