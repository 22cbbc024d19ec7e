"""Notification e-mail: every inbox message also goes by e-mail to users who gave an address.

Callers write the inbox and ask for e-mail in one step with :func:`deliver_with_email`, inside
their own transaction (usually a job's): the e-mail job is recorded in the same transaction and
sent after it commits, so a rolled-back change e-mails nobody. The job claims each message
before sending it (``notification.emailed_at``), so two runs for the same messages (a
redelivery, two sweeps at once) send each e-mail once; a failed send releases the claim and
the job is retried. Without ``PINGAN_SMTP_HOST`` nothing is e-mailed.

SMTP is the standard library's ``smtplib``, with STARTTLS and login when configured.
"""

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import make_msgid

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.accounts.models import User
from core.accounts.passwords import verify_password
from core.errors import DomainError, FieldError
from core.i18n import text
from core.jobs import job
from core.jobs.outbox import enqueue
from core.notifications.models import Notification
from core.notifications.services import Message, deliver
from core.settings import Settings
from core.units.models import utcnow

EMAIL_JOB = "core.email_notifications"


def deliver_with_email(session: Session, messages: list[Message]) -> int:
    """Write the messages to the inbox (once per dedupe key) and e-mail them after commit.

    Only messages not e-mailed yet whose user is active and has an e-mail address are queued.
    Returns how many inbox messages were new.
    """
    written = deliver(session, messages)
    keys = sorted({key[:120] for *_, key in messages})
    if not keys:
        return written
    ids = session.exec(
        select(Notification.id)
        .join(User, User.id == Notification.user_id)
        .where(
            col(Notification.dedupe_key).in_(keys),
            col(Notification.emailed_at).is_(None),
            col(User.email).is_not(None),
            User.is_active == sa.true(),
        )
        .order_by(Notification.id)
    ).all()
    if ids:
        enqueue(session, EMAIL_JOB, notification_ids=list(ids))
    return written


def compose(settings: Settings, to: str, notification: Notification, base_url: str) -> EmailMessage:
    """The e-mail of one notification: its subject, its text and a link to the page."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = notification.subject
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    lines = [notification.body or notification.subject]
    if notification.url:
        lines += ["", base_url + notification.url]
    lines += [
        "",
        "—",
        "平安建设志愿服务平台 · 本邮件由系统发送，请勿回复。",
        "Pingan volunteer platform · sent automatically, please do not reply.",
    ]
    message.set_content("\n".join(lines))
    return message


def open_smtp(settings: Settings) -> smtplib.SMTP:
    """A connected (and, when configured, encrypted and logged-in) SMTP client."""
    client = smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    )
    try:
        if settings.smtp_starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password or "")
    except BaseException:
        client.close()
        raise
    return client


def _claim(session: Session, notification_id: int) -> bool:
    claimed = session.execute(
        sa.update(Notification)
        .where(Notification.id == notification_id, col(Notification.emailed_at).is_(None))
        .values(emailed_at=utcnow())
    ).rowcount
    session.commit()
    return bool(claimed)


def _release(session: Session, notification_id: int) -> None:
    session.execute(
        sa.update(Notification).where(Notification.id == notification_id).values(emailed_at=None)
    )
    session.commit()


@job(EMAIL_JOB, max_retries=5)
def email_notifications(notification_ids: list[int], context) -> dict:
    """E-mail each notification once to its user's address; idempotent."""
    settings: Settings = context.settings
    if not settings.smtp_host:
        return {"sent": 0, "skipped": "no smtp host"}
    base_url = settings.base_url
    sent = 0
    client: smtplib.SMTP | None = None
    try:
        with context.session_factory() as session:
            for notification_id in notification_ids:
                row = session.exec(
                    select(Notification, User.email, User.is_active)
                    .join(User, User.id == Notification.user_id)
                    .where(Notification.id == notification_id)
                ).first()
                if row is None or not row[1] or not row[2] or row[0].emailed_at is not None:
                    continue
                notification, address, _ = row
                if not _claim(session, notification_id):
                    continue  # another run has it
                try:
                    client = client or open_smtp(settings)
                    client.send_message(compose(settings, address, notification, base_url))
                except BaseException:
                    _release(session, notification_id)
                    raise
                sent += 1
    finally:
        if client is not None:
            try:
                client.quit()
            except smtplib.SMTPException:
                client.close()
    return {"sent": sent}


def mask_email(address: str | None) -> str | None:
    """``z***@example.com``: enough to recognise one's own address."""
    if not address:
        return None
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def set_email(session: Session, user: User, address: str | None, current_password: str) -> None:
    """Set or clear the user's notification address after checking their password.

    Raises:
        DomainError: the password is wrong (400, field ``current_password``).
    """
    if not verify_password(current_password, user.password_hash):
        raise DomainError(
            text("当前密码不正确", "The current password is wrong"),
            "wrong_password",
            400,
            [FieldError("current_password", "mismatch", text("当前密码不正确", "wrong password"))],
        )
    user.email = (address or "").strip() or None
    session.add(user)
    session.flush()
