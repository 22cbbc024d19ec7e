"""The auditors' pages: filter the trail, export it."""

from datetime import datetime
from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter
from litestar.response import Template

from core.audit.query import AuditFilter, audit_query
from core.audit.routes import export_audit
from core.web.deps import PlatformDep, SessionDep
from core.web.navigation import home_page_of

Text = Annotated[str | None, QueryParameter(max_length=100)]
When = Annotated[datetime | None, QueryParameter()]
PAGE = 100


class AuditPages(Controller):
    """The audit trail for auditors."""

    path = "/audit"
    include_in_schema = False

    @get("/", sync_to_thread=True, opt={"action": "core.audit.read"})
    def trail(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        event: Text = None,
        username: Text = None,
        object_type: Text = None,
        object_id: Text = None,
        since: When = None,
        until: When = None,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    ) -> Template:
        """Entries in reach, newest first, 100 a page."""
        wanted = AuditFilter(event, None, username, object_type, object_id, since, until)
        principal = request.scope["user"]
        query = (
            audit_query(principal, "core.audit.read", wanted)
            .offset((page - 1) * PAGE)
            .limit(PAGE + 1)
        )
        entries = session.exec(query).all()
        return Template(
            "core:audit.html",
            context={
                "entries": entries[:PAGE],
                "more": len(entries) > PAGE,
                "page_number": page,
                "filter": wanted.as_dict(),
                "can_export": principal.can("core.audit.export"),
                "nav": home_page_of(platform, session, principal),
            },
        )

    @get("/export", sync_to_thread=True, opt={"action": "core.audit.export"})
    def export(
        self,
        request: Request,
        session: SessionDep,
        event: Text = None,
        username: Text = None,
        object_type: Text = None,
        object_id: Text = None,
        since: When = None,
        until: When = None,
    ) -> Response[bytes]:
        """The filtered entries as CSV."""
        wanted = AuditFilter(event, None, username, object_type, object_id, since, until)
        return Response(
            export_audit(session, request, wanted),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="audit.csv"'},
        )
