"""The import pages: upload a spreadsheet, watch its progress, download refused rows."""

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, QueryParameter
from litestar.response import Redirect, Template

from core.errors import DomainError
from core.imports.models import ImportStatus
from core.imports.services import ACTION_OF_KIND, MAX_UPLOAD_BYTES, columns_of
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.forms import errors_of
from core.web.navigation import unit_page

REFRESH_SECONDS = 2
MultipartForm = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
BatchQuery = Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)]
RequiredBatch = Annotated[int, QueryParameter(ge=1, le=2**31 - 1)]


class ImportPages(Controller):
    """Volunteer and unit imports at a unit."""

    path = "/units/{unit_id:int}/imports"
    include_in_schema = False

    def _page(
        self,
        request: Request,
        session,
        platform,
        unit,
        kind: str,
        *,
        batch: int | None = None,
        errors: list | None = None,
    ) -> Template:
        from core.imports.routes import batches_at, present

        rows = [present(row, name) for row, name in batches_at(session, unit, kind, limit=20)]
        chosen = None
        if batch is not None:
            found = batches_at(session, unit, kind, batch, limit=1)
            chosen = present(*found[0]) if found else None
        unfinished = any(
            row.status in (ImportStatus.pending, ImportStatus.running)
            for row in ([chosen] if chosen else rows)
        )
        actor = request.scope["user"]
        return Template(
            "core:imports/imports.html",
            context={
                "page": unit_page(platform, session, unit, actor),
                "kind": kind,
                "batches": rows,
                "chosen": chosen,
                "columns": columns_of(kind),
                "max_mb": MAX_UPLOAD_BYTES // 1024 // 1024,
                "errors": errors or [],
                "can_download": kind != "volunteers" or actor.can("core.person.reveal", unit),
                "refresh": unfinished,
            },
            headers={"refresh": str(REFRESH_SECONDS)} if unfinished else None,
            status_code=400 if errors else 200,
        )

    def _upload(
        self, request, session, platform, unit, kind: str, data: dict[str, Any]
    ) -> Response:
        from core.imports.routes import accept_upload

        try:
            batch = accept_upload(session, request.scope["user"], unit, kind, data.get("file"))
        except DomainError as refused:
            session.rollback()
            return self._page(request, session, platform, unit, kind, errors=errors_of(refused))
        return Redirect(f"/units/{unit.id}/imports/{kind}?batch={batch.id}", status_code=303)

    # -- volunteers ------------------------------------------------------------------------

    @get("/volunteers", sync_to_thread=True, opt={"action": ACTION_OF_KIND["volunteers"]})
    def volunteers(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        batch: BatchQuery = None,
    ) -> Template:
        """The upload form, recent imports and the progress of the one just started."""
        return self._page(request, session, platform, unit, "volunteers", batch=batch)

    @post(
        "/volunteers",
        sync_to_thread=True,
        opt={"action": ACTION_OF_KIND["volunteers"]},
        request_max_body_size=MAX_UPLOAD_BYTES + 1024 * 1024,
    )
    def upload_volunteers(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: MultipartForm,
    ) -> Response:
        """Take an uploaded spreadsheet of volunteers and start importing it."""
        return self._upload(request, session, platform, unit, "volunteers", data)

    @get("/volunteers/errors", sync_to_thread=True, opt={"action": ACTION_OF_KIND["volunteers"]})
    def volunteer_errors(
        self, request: Request, session: SessionDep, unit: UnitDep, batch: RequiredBatch
    ) -> Response:
        """Download the refused rows with their reasons (an audited export)."""
        from core.imports.routes import error_file_response

        return error_file_response(session, request.scope["user"], unit, "volunteers", batch)

    @get("/volunteers/template", sync_to_thread=True, opt={"action": ACTION_OF_KIND["volunteers"]})
    def volunteer_template(self, unit: UnitDep) -> Response:
        """Download an empty workbook with the columns."""
        from core.imports.routes import template_response

        return template_response("volunteers")

    # -- units -----------------------------------------------------------------------------

    @get("/units", sync_to_thread=True, opt={"action": ACTION_OF_KIND["units"]})
    def units(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        batch: BatchQuery = None,
    ) -> Template:
        """The upload form for units, recent unit imports and their progress."""
        return self._page(request, session, platform, unit, "units", batch=batch)

    @post(
        "/units",
        sync_to_thread=True,
        opt={"action": ACTION_OF_KIND["units"]},
        request_max_body_size=MAX_UPLOAD_BYTES + 1024 * 1024,
    )
    def upload_units(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: MultipartForm,
    ) -> Response:
        """Take an uploaded spreadsheet of units and start importing it."""
        return self._upload(request, session, platform, unit, "units", data)

    @get("/units/errors", sync_to_thread=True, opt={"action": ACTION_OF_KIND["units"]})
    def unit_errors(
        self, request: Request, session: SessionDep, unit: UnitDep, batch: RequiredBatch
    ) -> Response:
        """Download the refused unit rows with their reasons."""
        from core.imports.routes import error_file_response

        return error_file_response(session, request.scope["user"], unit, "units", batch)

    @get("/units/template", sync_to_thread=True, opt={"action": ACTION_OF_KIND["units"]})
    def unit_template(self, unit: UnitDep) -> Response:
        """Download an empty workbook with the unit columns."""
        from core.imports.routes import template_response

        return template_response("units")
