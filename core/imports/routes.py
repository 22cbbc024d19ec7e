"""API and pages of core's imports: upload a spreadsheet, follow its progress, fetch refused rows.

Every route names the unit it imports at in its path; batches are looked up within that
unit's subtree, so a batch elsewhere is simply not there (404).
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import Body, QueryParameter
from litestar.status_codes import HTTP_202_ACCEPTED
from pydantic import BaseModel
from sqlmodel import Session, col, select

from core.access import path_in
from core.audit.recorder import record
from core.errors import DomainError, FieldError
from core.files.models import StoredFile
from core.i18n import current_locale, text
from core.imports.jobs import import_file
from core.imports.models import ImportBatch, ImportStatus
from core.imports.pages import ImportPages
from core.imports.reader import XLSX_MEDIA_TYPE, write_workbook
from core.imports.services import (
    ACTION_OF_KIND,
    MAX_UPLOAD_BYTES,
    check_upload,
    columns_of,
    create_batch,
    template_headers,
)
from core.jobs import enqueue
from core.units.models import Unit
from core.web.deps import SessionDep, UnitDep

REVEAL = "core.person.reveal"
UPLOAD_LIMIT = MAX_UPLOAD_BYTES + 1024 * 1024  # the file and the form around it


class ImportRead(BaseModel):
    """An import and how far it has got."""

    id: int
    kind: str
    unit_id: int
    file_name: str
    status: ImportStatus
    rows_total: int
    rows_done: int
    percent: int
    created: int
    updated: int
    refused: int
    has_error_file: bool
    message: str | None
    created_at: datetime
    finished_at: datetime | None


@dataclass
class Upload:
    """A spreadsheet sent as ``multipart/form-data`` in the field ``file``."""

    file: UploadFile


def present(batch: ImportBatch, file_name: str) -> ImportRead:
    """A batch as the API shows it."""
    total = max(batch.rows_total, batch.rows_done)
    percent = (
        100
        if batch.status == ImportStatus.done
        else (int(batch.rows_done * 100 / total) if total else 0)
    )
    return ImportRead(
        id=batch.id,
        kind=batch.kind,
        unit_id=batch.unit_id,
        file_name=file_name,
        status=batch.status,
        rows_total=batch.rows_total,
        rows_done=batch.rows_done,
        percent=percent,
        created=batch.created,
        updated=batch.updated,
        refused=batch.refused,
        has_error_file=batch.error_file_id is not None,
        message=batch.message,
        created_at=batch.created_at,
        finished_at=batch.finished_at,
    )


def batches_at(
    session: Session, unit: Unit, kind: str, batch_id: int | None = None, limit: int = 20
) -> list[tuple[ImportBatch, str]]:
    """Batches of ``kind`` in ``unit``'s subtree, newest first, with their file names."""
    query = (
        select(ImportBatch, StoredFile.name)
        .join(StoredFile, StoredFile.id == ImportBatch.file_id)
        .where(ImportBatch.kind == kind, path_in(ImportBatch.unit_path, unit.path))
    )
    if batch_id is not None:
        query = query.where(ImportBatch.id == batch_id)
    return list(session.exec(query.order_by(col(ImportBatch.id).desc()).limit(limit)))


def accept_upload(
    session: Session, principal, unit: Unit, kind: str, upload: UploadFile | None
) -> ImportBatch:
    """Check the file's form and columns, store it, open the batch and queue its job.

    Raises:
        DomainError: no file, an unreadable one, or required columns missing (400).
    """
    if not unit.active:
        raise DomainError(
            text("该单位已撤并，不能导入", "This unit has been merged away"), "inactive", 409
        )
    if not isinstance(upload, UploadFile):
        message = text("请选择要上传的文件", "Choose a file to upload")
        raise DomainError(message, "invalid_file", 400, [FieldError("file", "missing", message)])
    upload.file.seek(0)
    content = upload.file.read(MAX_UPLOAD_BYTES + 1)
    name = upload.filename or "upload"
    check_upload(kind, name, content)
    batch = create_batch(
        session, kind=kind, unit=unit, name=name, content=content, by_user_id=principal.user_id
    )
    enqueue(session, import_file, unit_id=unit.id, batch_id=batch.id, locale=current_locale.get())
    session.commit()
    return batch


def error_file_response(
    session: Session, principal, unit: Unit, kind: str, batch_id: int
) -> Response:
    """The workbook of a batch's refused rows; its reading is audited.

    Refused volunteer rows hold resident IDs and phones in clear, so fetching them needs the
    reveal action as well as the import action.
    """
    rows = batches_at(session, unit, kind, batch_id, limit=1)
    if not rows or rows[0][0].error_file_id is None:
        raise NotFoundException(f"no refused rows for import {batch_id}")
    batch = rows[0][0]
    if kind == "volunteers" and not principal.can(REVEAL, batch.unit_path):
        raise PermissionDeniedException(f"not allowed: {REVEAL}")
    stored = session.get(StoredFile, batch.error_file_id)
    record(
        session,
        "export",
        action=ACTION_OF_KIND[kind],
        object_type="import_batch",
        object_id=batch.id,
        unit_path=batch.unit_path,
        after={"file": stored.name, "rows": batch.refused},
        reason="refused rows of an import",
    )
    session.commit()
    return attachment(stored.name, stored.media_type, stored.content)


def attachment(name: str, media_type: str, content: bytes) -> Response:
    """A file download with a UTF-8 file name."""
    return Response(
        content,
        media_type=media_type,
        headers={
            "content-disposition": (
                f"attachment; filename=\"import.xlsx\"; filename*=UTF-8''{quote(name)}"
            )
        },
    )


def template_response(kind: str) -> Response:
    """An empty workbook with the columns an import of ``kind`` reads."""
    content = write_workbook(template_headers(columns_of(kind)), iter(()))
    name = (
        text("志愿者导入模板.xlsx", "volunteer-import.xlsx")
        if kind == "volunteers"
        else text("单位导入模板.xlsx", "unit-import.xlsx")
    )
    return attachment(name, XLSX_MEDIA_TYPE, content)


BatchQuery = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1, description="One import.")]
RequiredBatch = Annotated[int, QueryParameter(ge=1, le=2**31 - 1, description="The import.")]
UploadBody = Annotated[Upload, Body(media_type=RequestEncodingType.MULTI_PART)]


class ImportController(Controller):
    """Imports of volunteers and of units at a unit."""

    path = "/api/v1/units/{unit_id:int}/imports"
    tags = ["imports"]

    # -- volunteers ------------------------------------------------------------------------

    @post(
        "/volunteers",
        sync_to_thread=True,
        operation_id="ImportVolunteers",
        opt={"action": ACTION_OF_KIND["volunteers"]},
        status_code=HTTP_202_ACCEPTED,
        request_max_body_size=UPLOAD_LIMIT,
    )
    def import_volunteers(
        self, request: Request, session: SessionDep, unit: UnitDep, data: UploadBody
    ) -> ImportRead:
        """Upload an XLSX or CSV of volunteers; they are imported in the background."""
        batch = accept_upload(session, request.scope["user"], unit, "volunteers", data.file)
        return present(batch, data.file.filename or "upload")

    @get(
        "/volunteers",
        sync_to_thread=True,
        operation_id="ListVolunteerImports",
        opt={"action": ACTION_OF_KIND["volunteers"]},
    )
    def volunteer_imports(
        self, session: SessionDep, unit: UnitDep, batch: BatchQuery = None
    ) -> list[ImportRead]:
        """Recent volunteer imports in the unit's subtree, or the one asked for, with progress."""
        return [present(row, name) for row, name in batches_at(session, unit, "volunteers", batch)]

    @get(
        "/volunteers/errors",
        sync_to_thread=True,
        operation_id="GetVolunteerImportErrors",
        opt={"action": ACTION_OF_KIND["volunteers"]},
        media_type=XLSX_MEDIA_TYPE,
    )
    def volunteer_errors(
        self, request: Request, session: SessionDep, unit: UnitDep, batch: RequiredBatch
    ) -> Response:
        """The refused rows of an import with their reasons, as XLSX (an audited export)."""
        return error_file_response(session, request.scope["user"], unit, "volunteers", batch)

    @get(
        "/volunteers/template",
        sync_to_thread=True,
        operation_id="GetVolunteerImportTemplate",
        opt={"action": ACTION_OF_KIND["volunteers"]},
        media_type=XLSX_MEDIA_TYPE,
    )
    def volunteer_template(self, unit: UnitDep) -> Response:
        """An empty workbook with the columns a volunteer import reads."""
        return template_response("volunteers")

    # -- units -----------------------------------------------------------------------------

    @post(
        "/units",
        sync_to_thread=True,
        operation_id="ImportUnits",
        opt={"action": ACTION_OF_KIND["units"]},
        status_code=HTTP_202_ACCEPTED,
        request_max_body_size=UPLOAD_LIMIT,
    )
    def import_units(
        self, request: Request, session: SessionDep, unit: UnitDep, data: UploadBody
    ) -> ImportRead:
        """Upload an XLSX or CSV of units below this one; each row is created or updated by code."""
        batch = accept_upload(session, request.scope["user"], unit, "units", data.file)
        return present(batch, data.file.filename or "upload")

    @get(
        "/units",
        sync_to_thread=True,
        operation_id="ListUnitImports",
        opt={"action": ACTION_OF_KIND["units"]},
    )
    def unit_imports(
        self, session: SessionDep, unit: UnitDep, batch: BatchQuery = None
    ) -> list[ImportRead]:
        """Recent unit imports in the unit's subtree, or the one asked for, with progress."""
        return [present(row, name) for row, name in batches_at(session, unit, "units", batch)]

    @get(
        "/units/errors",
        sync_to_thread=True,
        operation_id="GetUnitImportErrors",
        opt={"action": ACTION_OF_KIND["units"]},
        media_type=XLSX_MEDIA_TYPE,
    )
    def unit_errors(
        self, request: Request, session: SessionDep, unit: UnitDep, batch: RequiredBatch
    ) -> Response:
        """The refused rows of a unit import with their reasons, as XLSX."""
        return error_file_response(session, request.scope["user"], unit, "units", batch)

    @get(
        "/units/template",
        sync_to_thread=True,
        operation_id="GetUnitImportTemplate",
        opt={"action": ACTION_OF_KIND["units"]},
        media_type=XLSX_MEDIA_TYPE,
    )
    def unit_template(self, unit: UnitDep) -> Response:
        """An empty workbook with the columns a unit import reads."""
        return template_response("units")


ROUTES: list = [ImportController, ImportPages]
