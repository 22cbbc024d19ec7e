"""Background jobs: outbox, retries, duplicates, real brokers, a killed worker, the scheduler."""

import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import anyio
import pytest
import redis
from dramatiq import Message
from pingan_sample.jobs import count_notes
from pingan_sample.models import SampleNote, SampleTally
from sqlmodel import select

from core.accounts.services import create_user, grant_role, issue_token, open_session
from core.db import transaction
from core.jobs import Job, JobStatus, enqueue
from core.jobs.runtime import JOB_ID_OPTION
from core.platform import Platform, build_platform
from core.scheduler import make_scheduler, record_run
from core.settings import Settings
from core.units.models import Unit, utcnow
from core.web.auth import session_cookie_name
from tests.support import services

WORKER_COMMAND = [
    sys.executable,
    "-c",
    "from core.cli import main; main()",
    "worker",
    "--threads",
    "1",
]


# -- helpers -----------------------------------------------------------------------------


def _job(platform: Platform, job_id: str) -> Job:
    with platform.session_factory() as session:
        return session.get(Job, job_id)


def _tallies(platform: Platform, job_id: str) -> list[SampleTally]:
    with platform.session_factory() as session:
        return list(session.exec(select(SampleTally).where(SampleTally.job_id == job_id)))


def _queued_job_ids(broker, queue_name: str) -> list[str]:
    """Take every message off a StubBroker queue (no worker running); return their job ids."""
    queue = broker.queues[queue_name]
    messages = [Message.decode(queue.get_nowait()) for _ in range(queue.qsize())]
    return [message.options[JOB_ID_OPTION] for message in messages]


def _pin_notes(platform: Platform, unit_id: int, count: int) -> None:
    with transaction(platform.session_factory) as session:
        session.add_all(SampleNote(unit_id=unit_id, text=f"note {n}") for n in range(count))


def _count_notes_later(platform: Platform, unit_id: int, **kwargs) -> Job:
    """Enqueue ``sample.count_notes`` for ``unit_id`` and commit, as the plugin's route does."""
    with transaction(platform.session_factory) as session:
        return enqueue(session, count_notes, unit_id=unit_id, **kwargs)


def _wait_for(
    platform: Platform,
    job_id: str,
    done: Callable[[Job], bool],
    *,
    timeout: float,
    logs: tuple[Path, ...] = (),
) -> Job:
    """Poll the row until ``done(row)``; after ``timeout``, fail with its state and ``logs``."""
    deadline = time.monotonic() + timeout
    while True:
        job = _job(platform, job_id)
        if job is not None and done(job):
            return job
        if time.monotonic() > deadline:
            state = f"{job.status} attempts={job.attempts} error={job.error}" if job else "missing"
            output = "".join(f"\n--- {p.name}\n{p.read_text(errors='replace')}" for p in logs)
            raise AssertionError(f"job {job_id} still {state} after {timeout}s{output}")
        time.sleep(0.05)


def _signed_in(platform: Platform, role: str, unit: Unit) -> tuple[dict[str, str], dict[str, str]]:
    """A new account holding ``role`` at ``unit``: (API headers, page cookies)."""
    with transaction(platform.session_factory) as session:
        user, _ = create_user(
            session,
            platform.settings,
            username=f"{role}-{unit.id}",
            display_name=role,
            unit=unit,
            password="Tally-Ho-Jobs-2718",
        )
        grant_role(session, platform.policy, None, user, role, unit)
        _, token = issue_token(session, platform.settings, user, "tests", None)
        cookie = open_session(session, user, "127.0.0.1", "pytest")
    name = session_cookie_name(platform.settings.secure_cookies)
    return {"authorization": f"Bearer {token}"}, {name: cookie}


def _broker_settings(
    database_url: str, tmp_path: Path, keys: dict[str, str], broker_url: str, **overrides
) -> Settings:
    values = dict(
        **keys,
        var_dir=tmp_path / "var",
        database_url=database_url,
        broker_url=broker_url,
        embedded_scheduler=False,
        worker_threads=1,
        job_max_retries=2,
        job_min_backoff_ms=10,
        job_max_backoff_ms=50,
    )
    return Settings(_env_file=None, **{**values, **overrides})


@contextmanager
def _broker_platform(settings: Settings, pm):
    """A platform on a real broker; its worker, broker connections and engine closed after."""
    built = build_platform(settings, pm)
    try:
        yield built
    finally:
        built.jobs.stop_worker()
        built.jobs.broker.close()
        built.engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def _redis_server(port: int, folder: Path):
    """A private, throw-away redis-server on ``port``, answering before the block starts."""
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(port=port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert process.poll() is None, "redis-server exited at start"
                assert time.monotonic() < deadline, "redis-server did not answer within 10s"
                time.sleep(0.05)
        client.close()
        yield
    finally:
        _kill(process)


def _start_worker_process(log: Path, env: dict[str, str], cwd: Path) -> subprocess.Popen:
    with log.open("wb") as output:
        return subprocess.Popen(
            WORKER_COMMAND,
            env={**os.environ, **env},
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


@pytest.fixture
def shared_brokers(tmp_path_factory: pytest.TempPathFactory, worker_id: str):
    """Take turns with other xdist workers at the shared Redis database and RabbitMQ queues."""
    root = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        root = root.parent  # the folder every xdist worker's base temp lives in
    with (root / "pingan-shared-brokers.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# -- the outbox --------------------------------------------------------------------------


def test_a_job_enqueued_in_a_rolled_back_transaction_never_exists(platform, broker, unit_tree):
    unit_id = unit_tree.district.id
    with platform.session_factory() as session:
        doomed = enqueue(session, count_notes, unit_id=unit_id)
        session.flush()
        session.rollback()
        kept = enqueue(session, count_notes, unit_id=unit_id)  # same session, later commit
        session.commit()
    with platform.session_factory() as session:
        assert session.get(Job, doomed.id) is None
        assert [job.id for job in session.exec(select(Job))] == [kept.id]
    assert _queued_job_ids(broker, "sample") == [kept.id]


def test_a_committed_job_is_sent_after_commit_and_runs_once(
    platform, worker, broker, unit_tree, monkeypatch
):
    unit_id = unit_tree.district.id
    _pin_notes(platform, unit_id, 3)
    handed_over: list[tuple[str, bool]] = []
    real_enqueue = broker.enqueue

    def spying_enqueue(message, *, delay=None):
        job_id = message.options[JOB_ID_OPTION]
        with platform.session_factory() as other:  # what any worker would see at this moment
            handed_over.append((job_id, other.get(Job, job_id) is not None))
        return real_enqueue(message, delay=delay)

    monkeypatch.setattr(broker, "enqueue", spying_enqueue)
    with platform.session_factory() as session:
        job = enqueue(session, count_notes, unit_id=unit_id)
        session.flush()
        assert handed_over == []  # nothing leaves before commit
        session.commit()
    assert handed_over == [(job.id, True)]  # sent once, and only once the row was visible
    broker.join("sample", fail_fast=True)
    row = _job(platform, job.id)
    assert row.sent_at is not None
    assert (row.status, row.attempts, row.result, row.error) == (JobStatus.done, 1, 3, None)
    assert row.unit_id == unit_id
    assert row.started_at is not None and row.finished_at >= row.started_at
    assert [(t.notes, t.runs) for t in _tallies(platform, job.id)] == [(3, 1)]


# -- retries -----------------------------------------------------------------------------


def test_a_job_that_fails_once_is_retried_and_ends_done(platform, worker, broker, unit_tree):
    job = _count_notes_later(platform, unit_tree.district.id, fail_times=1)
    broker.join("sample", fail_fast=True)
    row = _job(platform, job.id)
    assert (row.status, row.attempts, row.result, row.error) == (JobStatus.done, 2, 0, None)
    assert len(_tallies(platform, job.id)) == 1


def test_a_job_that_keeps_failing_ends_failed_after_its_retries(
    platform, worker, broker, unit_tree, settings
):
    job = _count_notes_later(platform, unit_tree.district.id, fail_times=10)
    broker.join("sample", fail_fast=False)
    row = _job(platform, job.id)
    attempts = 1 + settings.job_max_retries
    assert (row.status, row.attempts) == (JobStatus.failed, attempts)
    assert f"RuntimeError: failing on purpose, attempt {attempts}" in row.error
    assert row.result is None
    assert _tallies(platform, job.id) == []
    assert [m.options[JOB_ID_OPTION] for m in broker.dead_letters] == [job.id]
    assert platform.jobs.resend_stale(timedelta(0)) == 0  # failed is final: never sent again


# -- duplicate delivery and re-sending ---------------------------------------------------


def test_a_job_delivered_twice_has_one_effect(platform, worker, broker, unit_tree):
    job = _count_notes_later(platform, unit_tree.district.id)
    broker.join("sample", fail_fast=True)
    first = _job(platform, job.id)
    platform.jobs.send([first])  # the broker delivers the same job again
    platform.jobs.send([first])
    broker.join("sample", fail_fast=True)
    row = _job(platform, job.id)
    assert row.sent_at > first.sent_at  # the broker took the duplicates
    assert (row.status, row.attempts, row.finished_at) == (JobStatus.done, 1, first.finished_at)
    assert [t.runs for t in _tallies(platform, job.id)] == [1]


def test_resend_stale_picks_unsent_rows_after_the_grace_and_unfinished_rows_after_the_lease(
    platform, broker, settings
):
    now = utcnow()
    grace = timedelta(seconds=settings.job_send_grace_seconds)
    lease = timedelta(seconds=settings.job_lease_seconds)
    rows = {
        "unsent_old": Job(name="sample.heartbeat", queue="sample", created_at=now - 2 * grace),
        "unsent_new": Job(name="sample.heartbeat", queue="sample", created_at=now),
        "sent_recently": Job(
            name="sample.heartbeat", queue="sample", created_at=now - 2 * grace, sent_at=now - grace
        ),
        "running_too_long": Job(
            name="sample.heartbeat",
            queue="sample",
            status=JobStatus.running,
            created_at=now - 2 * lease,
            sent_at=now - 2 * lease,
            started_at=now - lease - timedelta(seconds=1),
        ),
        "done_long_ago": Job(
            name="sample.heartbeat",
            queue="sample",
            status=JobStatus.done,
            created_at=now - 2 * lease,
            finished_at=now - 2 * lease,
        ),
    }
    with transaction(platform.session_factory) as session:
        session.add_all(rows.values())  # added directly: not enqueued, so nothing is sent
    assert broker.queues["sample"].qsize() == 0

    assert platform.jobs.resend_stale() == 2
    assert sorted(_queued_job_ids(broker, "sample")) == sorted(
        [rows["unsent_old"].id, rows["running_too_long"].id]
    )
    assert _job(platform, rows["unsent_old"].id).sent_at is not None
    assert _job(platform, rows["unsent_new"].id).sent_at is None
    # lease zero: every unfinished job, whenever it was last touched
    assert platform.jobs.resend_stale(timedelta(0)) == 4


# -- job state on the web ----------------------------------------------------------------


@pytest.fixture
def admin(platform, unit_tree) -> tuple[dict[str, str], dict[str, str]]:
    """A platform administrator at the top unit: (API headers, page cookies)."""
    return _signed_in(platform, "platform_admin", unit_tree.city)


@pytest.mark.anyio
async def test_jobs_api_lists_filters_and_shows_jobs(client, platform, broker, unit_tree, admin):
    headers, _ = admin
    unit_id = unit_tree.district.id
    counted = _count_notes_later(platform, unit_id)
    broken = _count_notes_later(platform, unit_id, fail_times=10)
    with transaction(platform.session_factory) as session:
        beat = enqueue(session, "sample.heartbeat")
    await anyio.to_thread.run_sync(lambda: broker.join("sample", fail_fast=False))

    async def listed(**params) -> list[dict]:
        response = await client.get("/api/v1/jobs", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    everything = await listed()
    assert [job["id"] for job in everything] == [beat.id, broken.id, counted.id]  # newest first
    assert [job["status"] for job in everything] == ["done", "failed", "done"]
    assert {job["id"] for job in await listed(status="done")} == {counted.id, beat.id}
    assert [job["id"] for job in await listed(status="failed")] == [broken.id]
    beats = await listed(name="sample.heartbeat")
    assert [(job["id"], job["result"], job["unit_id"]) for job in beats] == [(beat.id, "ok", None)]
    assert [job["id"] for job in await listed(limit=1)] == [beat.id]

    response = await client.get(f"/api/v1/jobs/{broken.id}", headers=headers)
    assert response.status_code == 200
    shown = response.json()
    assert (shown["name"], shown["queue"], shown["unit_id"]) == (
        "sample.count_notes",
        "sample",
        unit_id,
    )
    assert (shown["status"], shown["attempts"]) == ("failed", 3)
    assert shown["kwargs"] == {"fail_times": 10}  # the unit is the row's, not an argument
    assert "failing on purpose, attempt 3" in shown["error"]
    assert shown["sent_at"] is not None and shown["finished_at"] is not None


@pytest.mark.anyio
async def test_unknown_job_is_a_404_in_the_common_shape(client, admin):
    headers, _ = admin
    response = await client.get("/api/v1/jobs/0123456789abcdef0123456789abcdef", headers=headers)
    assert response.status_code == 404
    not_found = {"status": 404, "code": "not_found", "message": "未找到", "errors": []}
    assert response.json() == not_found


@pytest.mark.anyio
async def test_unknown_status_filter_is_a_400_in_the_common_shape(client, admin):
    headers, _ = admin
    response = await client.get("/api/v1/jobs", params={"status": "lost"}, headers=headers)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_failed"
    assert [error["field"] for error in body["errors"]] == ["status"]


@pytest.mark.anyio
async def test_jobs_api_shows_a_district_only_its_own_jobs(client, platform, broker, unit_tree):
    mine = _count_notes_later(platform, unit_tree.district.id)
    theirs = _count_notes_later(platform, unit_tree.other_district.id)
    with transaction(platform.session_factory) as session:
        housekeeping = enqueue(session, "sample.heartbeat")  # about no unit
    await anyio.to_thread.run_sync(lambda: broker.join("sample", fail_fast=True))
    headers, _ = _signed_in(platform, "district_admin", unit_tree.district)

    response = await client.get("/api/v1/jobs", headers=headers)
    assert [job["id"] for job in response.json()] == [mine.id]
    for hidden in (theirs, housekeeping):
        response = await client.get(f"/api/v1/jobs/{hidden.id}", headers=headers)
        assert response.status_code == 404
    assert (await client.get("/api/v1/jobs")).status_code == 401  # no token, no jobs


@pytest.mark.anyio
async def test_jobs_page_lists_jobs_and_filters_by_status(
    client, platform, broker, unit_tree, admin
):
    _, cookies = admin
    client.cookies.update(cookies)
    _count_notes_later(platform, unit_tree.district.id)
    _count_notes_later(platform, unit_tree.district.id, fail_times=10)
    await anyio.to_thread.run_sync(lambda: broker.join("sample", fail_fast=False))

    page = await client.get("/jobs")
    assert page.status_code == 200, page.text
    assert "text/html" in page.headers["content-type"]
    assert page.text.count("<code>sample.count_notes</code>") == 2
    assert '<tr class="status-done">' in page.text and '<tr class="status-failed">' in page.text
    assert "failing on purpose, attempt 3" in page.text  # the failed job's error

    only_done = await client.get("/jobs", params={"status": "done"})
    assert only_done.text.count("<code>sample.count_notes</code>") == 1
    assert "status-failed" not in only_done.text


# -- real brokers ------------------------------------------------------------------------


def test_a_job_committed_while_redis_is_down_is_sent_once_it_is_back(
    database_url, tmp_path, test_keys, pm, unit_tree
):
    services.require("redis-server")
    port = _free_port()
    settings = _broker_settings(
        database_url, tmp_path, test_keys, f"redis://127.0.0.1:{port}/0", job_send_grace_seconds=0
    )
    with _broker_platform(settings, pm) as platform:
        job = _count_notes_later(platform, unit_tree.district.id)  # nothing listens on the port
        row = _job(platform, job.id)
        assert (row.status, row.sent_at) == (JobStatus.pending, None)
        assert platform.jobs.resend_stale() == 1  # the sweep tries, and fails quietly
        assert _job(platform, job.id).sent_at is None

        with _redis_server(port, tmp_path):
            assert platform.jobs.resend_stale() == 1
            assert _job(platform, job.id).sent_at is not None
            platform.jobs.start_worker()
            row = _wait_for(platform, job.id, lambda j: j.status == JobStatus.done, timeout=30)
            platform.jobs.stop_worker()  # while its server still answers
        assert (row.attempts, row.result) == (1, 0)
        assert [t.runs for t in _tallies(platform, job.id)] == [1]


def test_a_job_on_a_sigkilled_worker_is_finished_by_another_worker(
    database_url, tmp_path, test_keys, pm, unit_tree, shared_brokers
):
    services.require("redis")
    redis.Redis.from_url(services.REDIS_URL).flushdb()
    worker_env = {
        "PINGAN_DATABASE_URL": database_url,
        "PINGAN_BROKER_URL": services.REDIS_URL,
        "PINGAN_REDIS_HEARTBEAT_TIMEOUT_MS": "2000",
        # Requeueing a dead worker's messages runs in "maintenance"; make every fetch do it.
        "PINGAN_REDIS_MAINTENANCE_CHANCE": "1000000",
        "PINGAN_VAR_DIR": str(tmp_path / "var"),
        **{f"PINGAN_{name.upper()}": value for name, value in test_keys.items()},
    }
    settings = _broker_settings(
        database_url, tmp_path, test_keys, services.REDIS_URL, redis_heartbeat_timeout_ms=2000
    )
    logs = (tmp_path / "worker-1.log", tmp_path / "worker-2.log")
    processes: list[subprocess.Popen] = []
    try:
        with _broker_platform(settings, pm) as platform:
            processes.append(_start_worker_process(logs[0], worker_env, tmp_path))
            # long enough to be killed mid-run; short enough that the second run stays quick
            job = _count_notes_later(platform, unit_tree.district.id, pause_seconds=3)
            _wait_for(
                platform, job.id, lambda j: j.status == JobStatus.running, timeout=30, logs=logs
            )
            _kill(processes[0])
            row = _job(platform, job.id)
            assert (row.status, row.attempts) == (JobStatus.running, 1)
            assert _tallies(platform, job.id) == []  # killed before the job had any effect

            processes.append(_start_worker_process(logs[1], worker_env, tmp_path))
            row = _wait_for(
                platform, job.id, lambda j: j.status == JobStatus.done, timeout=60, logs=logs
            )
            assert (row.attempts, row.result, row.error) == (2, 0, None)
            assert [t.runs for t in _tallies(platform, job.id)] == [1]
    finally:
        for process in processes:
            _kill(process)


def test_a_job_sent_through_rabbitmq_runs_to_done(
    database_url, tmp_path, test_keys, pm, unit_tree, shared_brokers
):
    services.require("rabbitmq")
    settings = _broker_settings(database_url, tmp_path, test_keys, services.AMQP_URL)
    with _broker_platform(settings, pm) as platform:
        platform.jobs.broker.flush_all()  # leftovers of earlier runs
        _pin_notes(platform, unit_tree.district.id, 2)
        job = _count_notes_later(platform, unit_tree.district.id)
        assert _job(platform, job.id).sent_at is not None
        platform.jobs.start_worker()
        row = _wait_for(platform, job.id, lambda j: j.status == JobStatus.done, timeout=30)
        assert (row.attempts, row.result) == (1, 2)
        assert [(t.notes, t.runs) for t in _tallies(platform, job.id)] == [(2, 1)]


# -- the scheduler and housekeeping ------------------------------------------------------


def test_a_scheduled_run_is_recorded_and_then_run_by_the_worker(platform, broker):
    record_run(platform, "sample.heartbeat")
    with platform.session_factory() as session:
        (job,) = session.exec(select(Job)).all()
    assert (job.name, job.queue, job.status, job.attempts) == (
        "sample.heartbeat",
        "sample",
        JobStatus.pending,
        0,
    )
    assert job.sent_at is not None
    platform.jobs.start_worker()
    broker.join("sample", fail_fast=True)
    row = _job(platform, job.id)
    assert (row.status, row.attempts, row.result) == (JobStatus.done, 1, "ok")


def test_the_scheduler_has_every_registered_schedule_and_the_resend_sweep(platform, settings):
    scheduler = make_scheduler(platform)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    schedules = {schedule.job for schedule in platform.plugins.schedules}
    assert {"sample.heartbeat", "core.purge_jobs"} <= schedules
    assert set(jobs) == schedules | {"core.resend_stale_jobs"}
    assert jobs["sample.heartbeat"].trigger.interval == timedelta(hours=1)
    assert jobs["sample.heartbeat"].args == (platform, "sample.heartbeat")
    purge_fields = {field.name: str(field) for field in jobs["core.purge_jobs"].trigger.fields}
    assert (purge_fields["minute"], purge_fields["hour"]) == ("17", "3")
    sweep = jobs["core.resend_stale_jobs"]
    assert sweep.func == platform.jobs.resend_stale
    assert sweep.trigger.interval == timedelta(seconds=settings.sweep_interval_seconds)


def test_purge_deletes_only_finished_jobs_older_than_the_retention(
    platform, worker, broker, settings
):
    now = utcnow()
    old = now - timedelta(days=settings.job_retention_days + 1)
    recent = now - timedelta(days=settings.job_retention_days - 1)

    def row(status: JobStatus, finished_at=None) -> Job:
        return Job(
            name="sample.heartbeat",
            queue="sample",
            status=status,
            created_at=old,
            finished_at=finished_at,
        )

    rows = {
        "done_old": row(JobStatus.done, old),
        "failed_old": row(JobStatus.failed, old),
        "done_recent": row(JobStatus.done, recent),
        "retrying_old": row(JobStatus.retrying, old),
        "pending_old": row(JobStatus.pending),
    }
    with transaction(platform.session_factory) as session:
        session.add_all(rows.values())
        purge = enqueue(session, "core.purge_jobs")
    broker.join("core", fail_fast=True)
    assert _job(platform, purge.id).result == 2
    with platform.session_factory() as session:
        left = {job.id for job in session.exec(select(Job))}
    kept = {rows[name].id for name in ("done_recent", "retrying_old", "pending_old")}
    assert left == kept | {purge.id}
