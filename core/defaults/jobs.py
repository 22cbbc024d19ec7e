"""Core's periodic housekeeping jobs."""

from datetime import timedelta

import sqlalchemy as sa

from core.contributions import Schedule
from core.hookspecs import hookimpl
from core.jobs import Job, JobStatus, job
from core.units.models import utcnow


@job("core.purge_jobs")
def purge_jobs(context):
    """Delete finished job rows older than the retention setting; return how many."""
    cutoff = utcnow() - timedelta(days=context.settings.job_retention_days)
    with context.session_factory() as session:
        deleted = session.execute(
            sa.delete(Job).where(
                Job.status.in_([JobStatus.done.value, JobStatus.failed.value]),
                Job.finished_at < cutoff,
            )
        ).rowcount
        session.commit()
    return deleted


@hookimpl
def register_jobs():
    return [purge_jobs]


@hookimpl
def register_schedules():
    return [Schedule(job="core.purge_jobs", cron="17 3 * * *")]
