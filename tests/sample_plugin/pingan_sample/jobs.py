"""The plugin's background jobs."""

import time

from sqlmodel import func, select

from core.jobs import job
from pingan_sample.models import SampleNote, SampleTally


@job("sample.count_notes")
def count_notes(unit_id: int, pause_seconds: float = 0, fail_times: int = 0, context=None):
    """Count a unit's notes into a tally keyed by the job, so a second run changes nothing.

    ``pause_seconds`` keeps the job busy (to stop a worker mid-run); ``fail_times`` makes the
    first runs fail (to exercise retries).
    """
    with context.session_factory() as session:
        tally = session.get(SampleTally, context.job_id)
        if tally is not None:
            tally.runs += 1
            session.commit()
            return tally.notes
        from core.jobs.models import Job

        attempts = session.get(Job, context.job_id).attempts
    if attempts <= fail_times:
        raise RuntimeError(f"failing on purpose, attempt {attempts}")
    time.sleep(pause_seconds)
    with context.session_factory() as session:
        notes = session.exec(select(func.count()).where(SampleNote.unit_id == unit_id)).one()
        session.add(SampleTally(job_id=context.job_id, unit_id=unit_id, notes=notes))
        session.commit()
    return notes


@job("sample.heartbeat")
def heartbeat():
    """A periodic job with nothing to do but be scheduled."""
    return "ok"
