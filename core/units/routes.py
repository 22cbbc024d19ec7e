"""API and pages of core's units: the tree in reach, a unit, its history, moves and merges."""

from typing import Annotated

from litestar import Controller, Request, get, patch, post
from litestar.params import JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlmodel import col, func, select

from core.access import get_scoped, scoped
from core.errors import DomainError
from core.i18n import text
from core.platform import Platform
from core.units.models import Unit, UnitKind, UnitLevel
from core.units.moves import Rescoped, merge_unit, move_unit
from core.units.pages import UnitPages
from core.units.schemas import (
    LeaderRead,
    RescopeRead,
    UnitCreate,
    UnitDetail,
    UnitEventRead,
    UnitMerge,
    UnitMove,
    UnitRead,
    UnitUpdate,
)
from core.units.services import (
    CHILD_LEVEL,
    UnitFields,
    add_unit,
    default_plugins_of,
    history_of,
    leaders_of,
    update_unit,
)
from core.web.deps import Limit, Offset, PlatformDep, SessionDep, UnitDep

READ = "core.unit.read"
MANAGE = "core.unit.manage"


def detail_of(session, unit: Unit) -> UnitDetail:
    """A unit with its leaders and the number of units directly below it."""
    children = session.exec(
        select(func.count()).select_from(Unit).where(Unit.parent_id == unit.id)
    ).one()
    return UnitDetail(
        **UnitRead.model_validate(unit).model_dump(),
        leaders=[
            LeaderRead(role=role, name=name, volunteer_id=volunteer_id)
            for role, name, volunteer_id in leaders_of(session, unit)
        ],
        children=children,
    )


def rescope_read(session, outcome: Rescoped) -> RescopeRead:
    """What a move or merge did, for the API."""
    return RescopeRead(
        unit=UnitRead.model_validate(session.get(Unit, outcome.unit_id)),
        old_path=outcome.old_path,
        new_path=outcome.new_path,
        rows=outcome.rows,
        recoded=outcome.recoded,
    )


def child_fields(parent: Unit, data: UnitCreate) -> UnitFields:
    """The fields of a new unit one level below ``parent``."""
    level = CHILD_LEVEL.get(UnitLevel(parent.level))
    if level is None:
        raise DomainError(
            text("村（社区）分队之下不能再设单位", "No unit stands below a village"),
            "invalid_unit",
            400,
        )
    return UnitFields(
        name=data.name,
        level=level,
        kind=data.kind,
        code=data.code,
        team_name=data.team_name,
        organisation=data.organisation,
        population=data.population,
        population_year=data.population_year,
    )


def create_child(platform: Platform, session, principal, parent: Unit, fields: UnitFields) -> Unit:
    """Create a unit below ``parent`` with the deployment's default plugins."""
    return add_unit(
        session,
        fields,
        parent,
        by_user_id=principal.user_id,
        default_plugins=default_plugins_of(platform.plugins),
    )


class UnitController(Controller):
    """Units within the caller's reach."""

    path = "/api/v1/units"
    tags = ["units"]

    @get("/", sync_to_thread=True, operation_id="ListUnits", opt={"action": READ})
    def list_units(
        self,
        request: Request,
        session: SessionDep,
        parent_id: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        level: Annotated[UnitLevel | None, QueryParameter()] = None,
        kind: Annotated[UnitKind | None, QueryParameter()] = None,
        code: Annotated[str | None, QueryParameter(max_length=12)] = None,
        name: Annotated[str | None, QueryParameter(max_length=100)] = None,
        include_inactive: Annotated[bool, QueryParameter()] = False,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[UnitRead]:
        """Units in reach, in tree order; merged units only when asked for."""
        query = scoped(select(Unit), Unit.path, request.scope["user"], READ)
        if parent_id is not None:
            query = query.where(Unit.parent_id == parent_id)
        if level is not None:
            query = query.where(Unit.level == level)
        if kind is not None:
            query = query.where(Unit.kind == kind)
        if code:
            query = query.where(Unit.code == code)
        if name:
            query = query.where(col(Unit.name).contains(name))
        if not include_inactive:
            query = query.where(col(Unit.active).is_(True))
        rows = session.exec(query.order_by(Unit.path).offset(offset).limit(limit))
        return [UnitRead.model_validate(unit) for unit in rows]

    @get("/{unit_id:int}", sync_to_thread=True, operation_id="GetUnit", opt={"action": READ})
    def get_unit(self, session: SessionDep, unit: UnitDep) -> UnitDetail:
        """One unit, with its team's leaders."""
        return detail_of(session, unit)

    @get(
        "/{unit_id:int}/events",
        sync_to_thread=True,
        operation_id="ListUnitEvents",
        opt={"action": READ},
    )
    def unit_events(
        self, session: SessionDep, unit: UnitDep, limit: Limit = 100
    ) -> list[UnitEventRead]:
        """The unit's history (created, changed, moved, merged, imported), newest first."""
        return [UnitEventRead.model_validate(event) for event in history_of(session, unit, limit)]

    @post(
        "/{unit_id:int}/children",
        sync_to_thread=True,
        operation_id="CreateChildUnit",
        opt={"action": MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def create_child_unit(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[UnitCreate],
    ) -> UnitRead:
        """Create a unit one level below (an enterprise 中队 directly below a district)."""
        child = create_child(
            platform, session, request.scope["user"], unit, child_fields(unit, data)
        )
        session.commit()
        return UnitRead.model_validate(child)

    @patch("/{unit_id:int}", sync_to_thread=True, operation_id="UpdateUnit", opt={"action": MANAGE})
    def update_unit(
        self, request: Request, session: SessionDep, unit: UnitDep, data: JSONBody[UnitUpdate]
    ) -> UnitDetail:
        """Change name, code, team name, organisation or population (recorded in the history)."""
        changes = data.model_dump(exclude_unset=True)
        update_unit(session, unit, changes, by_user_id=request.scope["user"].user_id)
        session.commit()
        return detail_of(session, unit)

    @post(
        "/{unit_id:int}/move",
        sync_to_thread=True,
        operation_id="MoveUnit",
        opt={"action": MANAGE},
        status_code=200,
    )
    def move(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[UnitMove],
    ) -> RescopeRead:
        """Move the unit under another parent; everything under it follows, in one go."""
        principal = request.scope["user"]
        parent = get_scoped(session, Unit, data.parent_id, principal, MANAGE, "path")
        outcome = move_unit(
            session,
            unit,
            parent,
            models=platform.plugins.models,
            by_user_id=principal.user_id,
            code=data.code,
        )
        session.commit()
        return rescope_read(session, outcome)

    @post(
        "/{unit_id:int}/merge",
        sync_to_thread=True,
        operation_id="MergeUnit",
        opt={"action": MANAGE},
        status_code=200,
    )
    def merge(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: JSONBody[UnitMerge],
    ) -> RescopeRead:
        """Merge the unit into another: children and records pass over, the unit stays inactive."""
        principal = request.scope["user"]
        into = get_scoped(session, Unit, data.into_id, principal, MANAGE, "path")
        outcome = merge_unit(
            session, unit, into, models=platform.plugins.models, by_user_id=principal.user_id
        )
        session.commit()
        return rescope_read(session, outcome)


ROUTES: list = [UnitController, UnitPages]
