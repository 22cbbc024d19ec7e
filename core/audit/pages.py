"""The auditors' pages: filter the trail, export it."""

from typing import Annotated

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter
from litestar.response import Template

from core.audit.query import audit_query
from core.audit.routes import FILTER_DEPENDENCY, WantedDep, csv_attachment, export_audit
from core.web.deps import PlatformDep, SessionDep
from core.web.navigation import home_page_of

PAGE = 100


class AuditPages(Controller):
    """The audit trail for auditors."""

    path = "/audit"
    include_in_schema = False
    dependencies = FILTER_DEPENDENCY

    @get("/", sync_to_thread=True, opt={"action": "core.audit.read"})
    def trail(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        wanted: WantedDep,
        page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1,
    ) -> Template:
        """Entries in reach, newest first, 100 a page."""
        principal = request.scope["user"]
        query = audit_query(principal, "core.audit.read", wanted)
        entries = session.exec(query.offset((page - 1) * PAGE).limit(PAGE + 1)).all()
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
    def export(self, request: Request, session: SessionDep, wanted: WantedDep) -> Response[bytes]:
        """The filtered entries as CSV."""
        return csv_attachment(export_audit(session, request, wanted), "audit.csv")
