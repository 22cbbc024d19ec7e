"""The in-app inbox: delivering notifications once, listing them, marking them read."""

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from core.audit.recorder import record
from core.errors import DomainError
from core.i18n import text
from core.notifications.models import Notification
from core.units.models import utcnow

#: (user id, subject, body, url, dedupe key)
Message = tuple[int, str, str, str | None, str]


def deliver(session: Session, messages: list[Message]) -> int:
    """Write each message unless one with its ``dedupe_key`` exists; return how many were new.

    Inserting with ON CONFLICT DO NOTHING makes two concurrent runs of the same job write each
    notification once, without failing either transaction.
    """
    if not messages:
        return 0
    table = Notification.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = utcnow()
    written = 0
    for user_id, subject, body, url, key in messages:
        result = session.execute(
            insert(table)
            .values(
                user_id=user_id,
                subject=subject[:200],
                body=body[:2000],
                url=url,
                dedupe_key=key[:120],
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(table.c.id)
        )
        written += len(result.all())
    return written


def inbox(
    session: Session, user_id: int, *, unread_only: bool = False, limit: int = 50, offset: int = 0
) -> list[Notification]:
    """A user's notifications, newest first."""
    query = select(Notification).where(Notification.user_id == user_id)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    return list(
        session.exec(query.order_by(col(Notification.id).desc()).offset(offset).limit(limit)).all()
    )


def unread_count(session: Session, user_id: int) -> int:
    """How many of the user's notifications are unread."""
    return session.exec(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
    ).one()


def mark_read(session: Session, user_id: int, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (again is harmless).

    Raises:
        DomainError: it does not exist or belongs to someone else (404 either way).
    """
    notification = session.get(Notification, notification_id)
    if notification is None or notification.user_id != user_id:
        raise DomainError(text("没有这条消息", "No such notification"), "not_found", 404)
    if notification.read_at is None:
        notification.read_at = utcnow()
        session.add(notification)
        session.flush()
    # Notifications are not audited row by row (jobs write them); the user's act is.
    record(session, "mark_read", object_type="notification", object_id=notification.id)
    return notification


def mark_all_read(session: Session, user_id: int) -> int:
    """Mark every unread notification of the user read; return how many."""
    result = session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user_id, col(Notification.read_at).is_(None))
        .values(read_at=utcnow())
    )
    marked = result.rowcount or 0
    record(session, "mark_read", object_type="notification", after={"marked": marked})
    return marked
