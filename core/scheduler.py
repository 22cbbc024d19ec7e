"""The scheduler: records due runs of periodic jobs and re-sends stale ones.

Exactly one scheduler runs per deployment: a thread of ``pingan run`` on the embedded
default, the ``pingan scheduler`` process in production. It only writes job rows (sent
after commit); workers do the work.
"""

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from core.contributions import Schedule
from core.db import transaction
from core.jobs.outbox import enqueue
from core.platform import Platform

log = logging.getLogger(__name__)


def make_scheduler(platform: Platform, *, blocking: bool = False) -> BaseScheduler:
    """A scheduler (not started) with every registered schedule and the re-send sweep."""
    scheduler = BlockingScheduler() if blocking else BackgroundScheduler(daemon=True)
    for schedule in platform.plugins.schedules:
        scheduler.add_job(
            record_run,
            _trigger(schedule),
            args=[platform, schedule.job],
            id=schedule.job,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=300,
        )
    scheduler.add_job(
        platform.jobs.resend_stale,
        IntervalTrigger(seconds=platform.settings.sweep_interval_seconds),
        id="core.resend_stale_jobs",
        coalesce=True,
        max_instances=1,
    )
    return scheduler


def _trigger(schedule: Schedule) -> CronTrigger | IntervalTrigger:
    if schedule.cron is not None:
        return CronTrigger.from_crontab(schedule.cron)
    return IntervalTrigger(seconds=schedule.every_seconds)


def record_run(platform: Platform, job_name: str) -> None:
    """Record one run of a periodic job; it is sent when the row commits."""
    with transaction(platform.session_factory) as session:
        enqueue(session, platform.plugins.jobs[job_name])
    log.info("scheduled run of %s recorded", job_name)
