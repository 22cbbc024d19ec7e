"""The audit trail API: reading and exporting, within the auditor's reach."""

import json
from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import QueryParameter
from pydantic import BaseModel, ConfigDict
from sqlmodel import Session

from core.audit.models import AuditEntry
from core.audit.query import AuditFilter, audit_query
from core.audit.recorder import CONTENT_FIELDS, record
from core.security.csv import to_csv
from core.web.deps import Limit, Offset, SessionDep

EXPORT_LIMIT = 100_000


class AuditEntryRead(BaseModel):
    """One audit entry (sensitive values inside are stored masked)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    user_id: int | None
    username: str | None
    address: str | None
    event: str
    action: str | None
    object_type: str | None
    object_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    outcome: str
    hash: str


Text = Annotated[str | None, QueryParameter(max_length=100)]
When = Annotated[datetime | None, QueryParameter()]


def provide_audit_filter(
    event: Text = None,
    action: Text = None,
    username: Text = None,
    object_type: Text = None,
    object_id: Text = None,
    since: When = None,
    until: When = None,
) -> AuditFilter:
    """The audit filter from the query string, shared by the API and the pages."""
    return AuditFilter(event, action, username, object_type, object_id, since, until)


FILTER_DEPENDENCY = {"wanted": Provide(provide_audit_filter, sync_to_thread=False)}
WantedDep = NamedDependency[AuditFilter]


def csv_attachment(body: bytes, filename: str) -> Response[bytes]:
    """A CSV download."""
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _cell(entry: AuditEntry, column: str) -> Any:
    value = getattr(entry, column)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value.isoformat() if isinstance(value, datetime) else value


def export_audit(session: Session, request: Request, wanted: AuditFilter) -> bytes:
    """The filtered entries as CSV; the export itself is audited (after the rows are read)."""
    entries = session.exec(
        audit_query(request.scope["user"], "core.audit.export", wanted).limit(EXPORT_LIMIT)
    ).all()
    columns = ("id", *CONTENT_FIELDS, "hash")
    body = to_csv(
        list(columns), ([_cell(entry, column) for column in columns] for entry in entries)
    )
    record(
        session,
        "export",
        action="core.audit.export",
        object_type="audit_entry",
        after={"filter": wanted.as_dict(), "rows": len(entries)},
    )
    session.commit()
    return body


class AuditController(Controller):
    """Read and export the audit trail."""

    path = "/api/v1/audit"
    tags = ["audit"]
    dependencies = FILTER_DEPENDENCY

    @get(
        "/",
        sync_to_thread=True,
        operation_id="ListAuditEntries",
        opt={"action": "core.audit.read"},
    )
    def list_entries(
        self,
        request: Request,
        session: SessionDep,
        wanted: WantedDep,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[AuditEntryRead]:
        """Entries in reach, newest first."""
        query = audit_query(request.scope["user"], "core.audit.read", wanted)
        entries = session.exec(query.offset(offset).limit(limit))
        return [AuditEntryRead.model_validate(entry) for entry in entries]

    @get(
        "/export",
        sync_to_thread=True,
        operation_id="ExportAuditEntries",
        opt={"action": "core.audit.export"},
        media_type="text/csv",
    )
    def export(self, request: Request, session: SessionDep, wanted: WantedDep) -> Response[bytes]:
        """The filtered entries as a CSV file."""
        return csv_attachment(export_audit(session, request, wanted), "audit.csv")
