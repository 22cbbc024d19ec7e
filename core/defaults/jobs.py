"""Core's periodic housekeeping jobs."""

from datetime import timedelta

import sqlalchemy as sa

from core.audit.models import AuditEntry
from core.audit.recorder import canonical_at, record
from core.contributions import Schedule
from core.hookspecs import hookimpl
from core.jobs import Job, JobStatus, job
from core.training.reminders import send_training_reminders
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


@job("core.purge_audit")
def purge_audit(context):
    """Delete audit entries older than the retention setting; return how many.

    The oldest entry kept anchors the chain from then on (``pingan audit verify`` checks the
    links from there), and the purge itself is recorded in the trail.
    """
    cutoff = utcnow() - timedelta(days=context.settings.audit_retention_days)
    with context.session_factory() as session:
        deleted = session.execute(sa.delete(AuditEntry).where(AuditEntry.at < cutoff)).rowcount
        if deleted:
            record(
                session,
                "purge",
                object_type="audit_entry",
                after={"older_than": canonical_at(cutoff), "rows": deleted},
            )
        session.commit()
    return deleted


@hookimpl
def register_jobs():
    return [purge_jobs, purge_audit, send_training_reminders]


@hookimpl
def register_schedules():
    return [
        Schedule(job="core.purge_jobs", cron="17 3 * * *"),
        Schedule(job="core.purge_audit", cron="47 3 * * *"),
        # Reminders of expiring qualifications and tomorrow's sessions, each morning.
        Schedule(job="core.training_reminders", cron="30 8 * * *"),
    ]
