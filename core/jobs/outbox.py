"""Recording jobs in the business transaction and sending them after it commits."""

import logging
from typing import Any, Protocol

from sqlalchemy import event
from sqlmodel import Session

from core.jobs.definitions import JobDefinition
from core.jobs.models import Job

log = logging.getLogger(__name__)

_PENDING = "pingan.outbox.pending"
SENDER = "pingan.outbox.sender"


class JobSender(Protocol):
    """Hands committed job rows to the broker (``JobRuntime.send``)."""

    def send(self, jobs: list[Job]) -> None:
        """Send ``jobs``; never raise (unsent rows are picked up by the sweep)."""


def enqueue(
    session: Session, job: JobDefinition | str, *, unit_id: int | None = None, **kwargs: Any
) -> Job:
    """Record a run of ``job`` in ``session``'s transaction; it is sent after commit.

    If the transaction rolls back, the job never existed. If the broker is unreachable at
    commit, the row stays pending and the sweep sends it later, so no job is lost.

    Args:
        session: The session of the change that causes the job.
        job: The job definition or its name.
        unit_id: The unit the job concerns, for scoping who may see it; a job function
            that declares a ``unit_id`` parameter receives it too.
        **kwargs: JSON-serialisable arguments: ids and small values only.
    """
    name = job.name if isinstance(job, JobDefinition) else job
    queue = job.queue if isinstance(job, JobDefinition) else name.split(".")[0]
    row = Job(name=name, queue=queue, kwargs=kwargs, unit_id=unit_id)
    session.add(row)
    session.info.setdefault(_PENDING, []).append(row)
    return row


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    jobs = session.info.pop(_PENDING, [])
    sender: JobSender | None = session.info.get(SENDER)
    if jobs and sender is not None:
        sender.send(jobs)
    elif jobs:
        log.warning(
            "%d job(s) committed by a session without a sender; the sweep sends them", len(jobs)
        )


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING, None)
