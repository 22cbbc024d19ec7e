"""Background jobs: declare with :func:`job`, record with :func:`enqueue`.

A job row is written in the same transaction as the change that causes it and the message is
sent only after commit (a transactional outbox); rows left unsent or unfinished past a lease
are sent again, so a broker outage or a killed worker loses nothing.
"""

from core.jobs.definitions import JobDefinition, job
from core.jobs.models import Job, JobStatus
from core.jobs.outbox import enqueue

__all__ = ["Job", "JobDefinition", "JobStatus", "enqueue", "job"]
