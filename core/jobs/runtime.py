"""The broker, its workers, and the outbox's sending and re-sending of jobs."""

import inspect
import logging
import threading
import traceback
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dramatiq
import sqlalchemy as sa
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import Middleware, Retries, SkipMessage, default_middleware
from sqlmodel import select

from core.db import SessionFactory
from core.jobs.definitions import JobDefinition
from core.jobs.models import FINAL_STATUSES, Job, JobStatus
from core.settings import Settings
from core.units.models import utcnow

log = logging.getLogger(__name__)

JOB_ID_OPTION = "pingan_job_id"


@dataclass(frozen=True)
class JobContext:
    """What a running job may use besides its arguments."""

    job_id: str | None
    session_factory: SessionFactory
    settings: Settings
    plugins: Any  # core.plugins.Plugins; typed loosely to keep this module import-light


def make_broker(settings: Settings) -> dramatiq.Broker:
    """Build the deployment's broker: Redis or RabbitMQ by URL, else an in-process stub."""
    middleware = [m() for m in default_middleware if m is not Retries]
    middleware.append(
        Retries(
            max_retries=settings.job_max_retries,
            min_backoff=settings.job_min_backoff_ms,
            max_backoff=settings.job_max_backoff_ms,
        )
    )
    url = settings.broker_url
    if url is None:
        return StubBroker(middleware=middleware)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(
            url=url,
            middleware=middleware,
            heartbeat_timeout=settings.redis_heartbeat_timeout_ms,
            # Requeueing a dead worker's messages happens during "maintenance".
            maintenance_chance=settings.redis_maintenance_chance,
        )
    if url.startswith(("amqp://", "amqps://")):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url, middleware=middleware)
    raise ValueError(f"PINGAN_BROKER_URL: unsupported scheme in {url!r} (redis:// or amqp://)")


class OutboxMiddleware(Middleware):
    """Keeps each job row in step with its message: running, done, retrying or failed.

    A message for a job already done is skipped, so a job delivered twice has one effect.
    """

    def __init__(self, session_factory: SessionFactory) -> None:
        self.session_factory = session_factory
        self.current = threading.local()  # the job id a worker thread is running

    def before_process_message(self, broker: dramatiq.Broker, message: dramatiq.Message) -> None:
        """Mark the job running (or skip a message whose job is already finished)."""
        job_id = message.options.get(JOB_ID_OPTION)
        self.current.job_id = job_id
        if job_id is None:
            return
        with self.session_factory() as session:
            job = session.get(Job, job_id)
            if job is None or job.status in FINAL_STATUSES:
                raise SkipMessage(f"job {job_id} is {job.status if job else 'gone'}")
            job.status = JobStatus.running
            job.attempts += 1
            job.started_at = utcnow()
            session.commit()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: dramatiq.Message,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        """Record the outcome: done, retrying, or failed for good."""
        job_id = message.options.get(JOB_ID_OPTION)
        self.current.job_id = None
        if job_id is None:
            return
        with self.session_factory() as session:
            job = session.get(Job, job_id)
            if job is None:
                return
            job.finished_at = utcnow()
            if exception is None:
                job.status = JobStatus.done
                job.result = result if _is_small_json(result) else None
                job.error = None
            else:
                job.status = JobStatus.failed if message.failed else JobStatus.retrying
                job.error = "".join(traceback.format_exception(exception, limit=20))[-4000:]
            session.commit()


def _is_small_json(value: Any) -> bool:
    return (
        value is None
        or isinstance(value, bool | int | float | str | list | dict)
        and len(repr(value)) < 4000
    )


class JobRuntime:
    """Binds job definitions to one broker, sends outbox rows, and runs workers and sweeps.

    Args:
        settings: Deployment settings (broker URL, retries, lease).
        session_factory: Sessions for the outbox middleware and sweeps.
        definitions: Every registered job (core's and the plugins').
        plugins: The plugin facade, handed to jobs through their context.
        broker: A broker to use instead of building one from settings (tests).
    """

    def __init__(
        self,
        settings: Settings,
        session_factory: SessionFactory,
        definitions: list[JobDefinition],
        plugins: Any = None,
        broker: dramatiq.Broker | None = None,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.broker = broker or make_broker(settings)
        self.outbox = OutboxMiddleware(session_factory)
        # Before Retries, so that its after-hooks run after Retries has decided whether the
        # message failed for good (dramatiq runs after-hooks in reverse order).
        self.broker.add_middleware(self.outbox, before=Retries)
        self.definitions = {d.name: d for d in definitions}
        self.actors = {d.name: self._declare(d, plugins) for d in definitions}
        self._worker: dramatiq.Worker | None = None
        self._booted = False
        self._lock = threading.Lock()

    def _declare(self, definition: JobDefinition, plugins: Any) -> dramatiq.Actor:
        wants_context = "context" in inspect.signature(definition.fn).parameters
        session_factory = self.session_factory
        settings = self.settings
        current = self.outbox.current

        def run(**kwargs: Any) -> Any:
            if wants_context:
                job_id = getattr(current, "job_id", None)
                kwargs["context"] = JobContext(job_id, session_factory, settings, plugins)
            return definition.fn(**kwargs)

        run.__name__ = definition.fn.__name__
        run.__module__ = definition.fn.__module__
        options = {"time_limit": self.settings.job_time_limit_seconds * 1000}
        options.update(definition.options)
        return dramatiq.Actor(
            run,
            broker=self.broker,
            actor_name=definition.name,
            queue_name=definition.queue,
            priority=0,
            options=options,
        )

    # -- sending ---------------------------------------------------------------------------

    def send(self, jobs: list[Job]) -> None:
        """Hand committed job rows to the broker and stamp them sent; never raises."""
        sent: list[str] = []
        for job in jobs:
            if job.name not in self.actors:
                log.error("job %s names unknown job %r; left pending", job.id, job.name)
                continue
            message = dramatiq.Message(
                queue_name=job.queue,
                actor_name=job.name,
                args=(),
                kwargs=self._arguments(job),
                options={JOB_ID_OPTION: job.id},
            )
            try:
                self.broker.enqueue(message)
            except Exception:  # noqa: BLE001 - any broker failure leaves the row for the sweep
                log.warning("broker unreachable; job %s (%s) stays pending", job.id, job.name)
                break
            sent.append(job.id)
        if sent:
            self._stamp_sent(sent)

    def _arguments(self, job: Job) -> dict[str, Any]:
        """The row's arguments, plus its ``unit_id`` when the job function declares one.

        ``enqueue`` takes ``unit_id`` as the row's scope, so it never reaches ``job.kwargs``.
        """
        kwargs = dict(job.kwargs or {})
        fn = self.definitions[job.name].fn
        if job.unit_id is not None and "unit_id" in inspect.signature(fn).parameters:
            kwargs.setdefault("unit_id", job.unit_id)
        return kwargs

    def _stamp_sent(self, job_ids: list[str]) -> None:
        try:
            with self.session_factory() as session:
                session.execute(sa.update(Job).where(Job.id.in_(job_ids)).values(sent_at=utcnow()))
                session.commit()
        except Exception:  # noqa: BLE001 - the jobs are on the broker; the stamp is advisory
            log.exception("could not stamp %d sent job(s)", len(job_ids))

    def resend_stale(self, lease: timedelta | None = None) -> int:
        """Send again every unfinished job untouched for ``lease``; return how many.

        Jobs never handed to the broker (it was unreachable at commit) go again after a short
        grace instead of a whole lease.
        With ``lease=None`` the configured lease applies; ``timedelta(0)`` re-sends every
        unfinished job (the embedded broker's queue does not survive a restart).
        """
        lease = timedelta(seconds=self.settings.job_lease_seconds) if lease is None else lease
        last_touched = sa.func.coalesce(
            Job.finished_at, Job.started_at, Job.sent_at, Job.created_at
        )
        now = utcnow()
        query = select(Job).where(Job.status.not_in([s.value for s in FINAL_STATUSES]))
        if lease:
            never_sent = sa.and_(
                Job.sent_at.is_(None),
                Job.created_at <= now - timedelta(seconds=self.settings.job_send_grace_seconds),
            )
            query = query.where(sa.or_(never_sent, last_touched <= now - lease))
        with self.session_factory() as session:
            stale = session.exec(query.order_by(Job.created_at).limit(1000)).all()
        if stale:
            log.info("re-sending %d stale job(s)", len(stale))
            self.send(list(stale))
        return len(stale)

    # -- workers ---------------------------------------------------------------------------

    def start_worker(self, threads: int | None = None) -> dramatiq.Worker:
        """Start worker threads consuming every queue of this runtime's broker."""
        with self._lock:
            if not self._booted:
                self.broker.emit_after("process_boot")  # arms time limits in this process
                self._booted = True
            if self._worker is None:
                self._worker = dramatiq.Worker(
                    self.broker,
                    worker_threads=threads or self.settings.worker_threads,
                    # Idle threads wake this often to notice a stop; in-process polling of
                    # the stub's queue is cheap, so stop quickly there.
                    worker_timeout=100 if isinstance(self.broker, StubBroker) else 1000,
                )
                self._worker.start()
            return self._worker

    def stop_worker(self, timeout_ms: int = 10_000) -> None:
        """Stop the worker threads, waiting up to ``timeout_ms`` for running jobs."""
        with self._lock:
            if self._worker is not None:
                self._worker.stop(timeout=timeout_ms)
                self._worker = None

    def check(self) -> tuple[bool, str]:
        """Whether the broker answers, and a short description."""
        if isinstance(self.broker, StubBroker):
            running = self._worker is not None
            return running, "embedded" + ("" if running else " (no worker running)")
        try:
            if hasattr(self.broker, "client"):  # Redis
                self.broker.client.ping()
            else:  # RabbitMQ: opening a channel proves the connection
                self.broker.channel  # noqa: B018
        except Exception as error:  # noqa: BLE001
            return False, f"{type(self.broker).__name__}: {error}"
        return True, type(self.broker).__name__


def bind_sender(runtime: JobRuntime) -> dict[str, Any]:
    """Session ``info`` entries that make committed jobs go to ``runtime``."""
    from core.jobs.outbox import SENDER

    return {SENDER: runtime}
