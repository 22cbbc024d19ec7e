"""Coverage pages: a unit with its children (drill down), rankings, and the workbook."""

from typing import Annotated, Literal

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from core.coverage import export as workbook
from core.coverage.services import (
    EXPORT,
    READ,
    child_level,
    compute_coverage,
    levels_below,
    reach_roots,
)
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.navigation import home_page_of, unit_page


class CoveragePages(Controller):
    """The 1 % target, unit by unit."""

    include_in_schema = False

    @get("/coverage", sync_to_thread=True, opt={"action": READ})
    def reach(self, request: Request, session: SessionDep, platform: PlatformDep) -> Response:
        """The caller's own units: straight to the one, or a choice among several."""
        principal = request.scope["user"]
        roots = reach_roots(session, principal)
        if len(roots) == 1:
            return Redirect(f"/units/{roots[0].id}/coverage")
        rows = [compute_coverage(session, root).root for root in roots]
        return Template(
            "core:coverage/reach.html",
            context={"rows": rows, "nav": home_page_of(platform, session, principal)},
        )

    @get("/units/{unit_id:int}/coverage", sync_to_thread=True, opt={"action": READ})
    def unit(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """A unit's coverage and its children's, each a link one level down."""
        principal = request.scope["user"]
        coverage = compute_coverage(session, unit)
        page = unit_page(platform, session, unit, principal)
        return Template(
            "core:coverage/unit.html",
            context={
                "page": page,
                "row": coverage.root,
                "children": coverage.children_of(unit.id),
                "up": [ancestor for ancestor in page.ancestors if principal.can(READ, ancestor)],
                "levels": levels_below(unit.level),
                "can_export": principal.can(EXPORT, unit),
            },
        )

    @get("/units/{unit_id:int}/coverage/ranking", sync_to_thread=True, opt={"action": READ})
    def ranking(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        level: Annotated[
            Literal["district", "township", "village"] | None, QueryParameter()
        ] = None,
        order: Annotated[Literal["best", "worst"], QueryParameter()] = "best",
    ) -> Template:
        """Units of one level within the unit's subtree, by ratio."""
        wanted = level or child_level(unit.level) or unit.level
        coverage = compute_coverage(session, unit)
        ranked = coverage.ranking(wanted, worst_first=order == "worst")
        parents = {
            row.unit_id: coverage.rows[row.parent_id].name
            for _, row in ranked
            if row.parent_id in coverage.rows and row.unit_id != unit.id
        }
        return Template(
            "core:coverage/ranking.html",
            context={
                "page": unit_page(platform, session, unit, request.scope["user"]),
                "root": coverage.root,
                "ranked": ranked,
                "parents": parents,
                "level": wanted,
                "order": order,
                "levels": levels_below(unit.level) or [unit.level],
            },
        )

    @get("/units/{unit_id:int}/coverage/export", sync_to_thread=True, opt={"action": EXPORT})
    def export(self, request: Request, session: SessionDep, unit: UnitDep) -> Response[bytes]:
        """The subtree's coverage as an XLSX workbook."""
        coverage = compute_coverage(session, unit)
        body = workbook.coverage_workbook(coverage, generated_by=request.scope["user"].username)
        disposition = f'attachment; filename="{workbook.export_filename(coverage)}"'
        return Response(
            body, media_type=workbook.MEDIA_TYPE, headers={"content-disposition": disposition}
        )
