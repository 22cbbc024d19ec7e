"""The inbox API: one's own notifications only, so any signed-in user may call it."""

from datetime import datetime
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import FromPath, QueryParameter
from pydantic import BaseModel

from core.notifications import services
from core.web.auth import AUTHENTICATED
from core.web.deps import Limit, Offset, SessionDep


class NotificationRead(BaseModel):
    """A message in the caller's inbox."""

    id: int
    subject: str
    body: str
    url: str | None
    created_at: datetime
    read_at: datetime | None


class MarkedRead(BaseModel):
    """How many notifications were marked read."""

    marked: int


class NotificationController(Controller):
    """The caller's inbox."""

    path = "/api/v1/notifications"
    tags = ["notifications"]

    @get("/", sync_to_thread=True, operation_id="ListNotifications", opt={"action": AUTHENTICATED})
    def list_notifications(
        self,
        request: Request,
        session: SessionDep,
        unread: Annotated[bool, QueryParameter(description="Only unread ones.")] = False,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> list[NotificationRead]:
        """My notifications, newest first."""
        rows = services.inbox(
            session, request.scope["user"].user_id, unread_only=unread, limit=limit, offset=offset
        )
        return [NotificationRead.model_validate(row, from_attributes=True) for row in rows]

    @post(
        "/{notification_id:int}/read",
        sync_to_thread=True,
        operation_id="MarkNotificationRead",
        opt={"action": AUTHENTICATED},
        status_code=200,
    )
    def mark_read(
        self, request: Request, session: SessionDep, notification_id: FromPath[int]
    ) -> NotificationRead:
        """Mark one of my notifications read."""
        row = services.mark_read(session, request.scope["user"].user_id, notification_id)
        session.commit()
        return NotificationRead.model_validate(row, from_attributes=True)

    @post(
        "/read",
        sync_to_thread=True,
        operation_id="MarkAllNotificationsRead",
        opt={"action": AUTHENTICATED},
        status_code=200,
    )
    def mark_all_read(self, request: Request, session: SessionDep) -> MarkedRead:
        """Mark all my notifications read."""
        marked = services.mark_all_read(session, request.scope["user"].user_id)
        session.commit()
        return MarkedRead(marked=marked)


ROUTES = [NotificationController]
