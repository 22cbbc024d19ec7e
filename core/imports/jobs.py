"""The background job that imports an uploaded file, a time slice at a time.

One run imports chunks until :data:`SLICE_SECONDS` have passed, then records the next run in
the transaction of its last chunk and ends, so no run comes near the job time limit or the
outbox lease however large the file; a run that dies is retried and goes on from the last
committed chunk.
"""

from core.i18n import current_locale
from core.imports.models import ImportBatch, ImportStatus
from core.imports.services import mark_failed, run_batch
from core.jobs import enqueue, job
from core.security.fields import keyring_of

SLICE_SECONDS = 240
JOB_NAME = "core.import_file"
MAX_RETRIES = 3


@job(JOB_NAME, max_retries=MAX_RETRIES)
def import_file(batch_id: int, context, locale: str = "zh", unit_id: int | None = None):
    """Import the batch's rows for one time slice; queue the next slice if rows remain."""
    token = current_locale.set(locale if locale in ("zh", "en") else "zh")
    try:
        with context.session_factory() as session:
            keyring = keyring_of(session.get_bind().dialect)
        try:
            finished = run_batch(
                context.session_factory,
                keyring,
                context.plugins,
                batch_id,
                budget_seconds=SLICE_SECONDS,
            )
        except Exception as error:
            mark_failed_if_last(context, batch_id, error)
            raise
        if not finished:
            with context.session_factory() as session:
                batch = session.get(ImportBatch, batch_id)
                if batch is not None and batch.status == ImportStatus.running:
                    enqueue(
                        session, JOB_NAME, unit_id=batch.unit_id, batch_id=batch_id, locale=locale
                    )
                    session.commit()
        return {"batch_id": batch_id, "finished": finished}
    finally:
        current_locale.reset(token)


def mark_failed_if_last(context, batch_id: int, error: Exception) -> None:
    """On the run's last attempt, mark the batch failed so the page stops waiting."""
    from core.jobs.models import Job

    if context.job_id is None:
        return
    with context.session_factory() as session:
        row = session.get(Job, context.job_id)
        last = row is None or row.attempts > MAX_RETRIES
    if last:
        mark_failed(context.session_factory, batch_id, f"{type(error).__name__}: {error}")
