"""The coverage API: a unit and its children, the whole subtree, rankings and the workbook."""

from typing import Annotated, Literal

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter
from pydantic import BaseModel

from core.coverage import export as workbook
from core.coverage.pages import CoveragePages
from core.coverage.services import (
    EXPORT,
    READ,
    Coverage,
    CoverageRow,
    child_level,
    compute_coverage,
    reach_roots,
)
from core.web.deps import SessionDep, UnitDep

Level = Literal["district", "township", "village"]


class CoverageRead(BaseModel):
    """One unit's coverage, for its whole subtree."""

    unit_id: int
    parent_id: int | None
    name: str
    level: str
    kind: str
    code: str | None
    active: bool
    population: int | None
    population_year: int | None
    population_source: Literal["unit", "children", "none"]
    population_complete: bool
    volunteers: int
    own_volunteers: int
    percent: float | None
    met: bool | None
    target: int | None
    shortfall: int | None
    children: int


class CoverageView(BaseModel):
    """A unit's coverage and its children's (or every unit's below it)."""

    unit: CoverageRead
    children: list[CoverageRead]


class RankedUnit(CoverageRead):
    """A unit's place in a ranking (equal ratios share a place)."""

    position: int


class Ranking(BaseModel):
    """Units of one level within a subtree, best (or worst) ratio first."""

    unit_id: int
    level: str
    worst_first: bool
    units: list[RankedUnit]


def read(row: CoverageRow) -> CoverageRead:
    """The API form of a row."""
    return CoverageRead(**row.as_dict())


def view(coverage: Coverage, unit_id: int, everything: bool) -> CoverageView:
    """The unit and either its children or every unit below it."""
    if everything:
        below = [row for row in coverage.walk(unit_id) if row.unit_id != unit_id]
    else:
        below = coverage.children_of(unit_id)
    return CoverageView(unit=read(coverage.rows[unit_id]), children=[read(r) for r in below])


def xlsx_attachment(body: bytes, filename: str) -> Response[bytes]:
    """A workbook download."""
    return Response(
        body,
        media_type=workbook.MEDIA_TYPE,
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


class CoverageController(Controller):
    """Coverage of the units in the caller's reach."""

    path = "/api/v1"
    tags = ["coverage"]

    @get("/coverage", sync_to_thread=True, operation_id="ListCoverage", opt={"action": READ})
    def reach(self, request: Request, session: SessionDep) -> list[CoverageView]:
        """The highest units in reach, each with its children."""
        views = []
        for root in reach_roots(session, request.scope["user"]):
            views.append(view(compute_coverage(session, root), root.id, False))
        return views

    @get(
        "/units/{unit_id:int}/coverage",
        sync_to_thread=True,
        operation_id="GetUnitCoverage",
        opt={"action": READ},
    )
    def unit(
        self,
        session: SessionDep,
        unit: UnitDep,
        depth: Annotated[
            Literal["children", "all"],
            QueryParameter(description="children: the unit's children; all: its whole subtree"),
        ] = "children",
    ) -> CoverageView:
        """A unit's coverage with its children's (or every unit below it)."""
        return view(compute_coverage(session, unit), unit.id, depth == "all")

    @get(
        "/units/{unit_id:int}/coverage/ranking",
        sync_to_thread=True,
        operation_id="RankUnitCoverage",
        opt={"action": READ},
    )
    def ranking(
        self,
        session: SessionDep,
        unit: UnitDep,
        level: Annotated[
            Level | None, QueryParameter(description="default: the level below")
        ] = None,
        worst_first: Annotated[bool, QueryParameter(description="lowest ratio first")] = False,
        limit: Annotated[int | None, QueryParameter(ge=1, le=20_000)] = None,
    ) -> Ranking:
        """Units of a level within the unit's subtree, ranked by ratio."""
        wanted = level or child_level(unit.level) or unit.level
        coverage = compute_coverage(session, unit)
        ranked = coverage.ranking(wanted, worst_first=worst_first, limit=limit)
        return Ranking(
            unit_id=unit.id,
            level=wanted,
            worst_first=worst_first,
            units=[RankedUnit(position=position, **row.as_dict()) for position, row in ranked],
        )

    @get(
        "/units/{unit_id:int}/coverage/export",
        sync_to_thread=True,
        operation_id="ExportUnitCoverage",
        opt={"action": EXPORT},
        media_type=workbook.MEDIA_TYPE,
    )
    def export(self, request: Request, session: SessionDep, unit: UnitDep) -> Response[bytes]:
        """Every unit of the subtree as an XLSX workbook."""
        coverage = compute_coverage(session, unit)
        body = workbook.coverage_workbook(coverage, generated_by=request.scope["user"].username)
        return xlsx_attachment(body, workbook.export_filename(coverage))


ROUTES: list = [CoverageController, CoveragePages]
