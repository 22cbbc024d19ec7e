"""The unit page: details, leaders, units below and history; edit, add below, move, merge."""

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import URLEncodedBody
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import Session, col, select

from core.accounts.models import User
from core.errors import DomainError, FieldError
from core.i18n import text
from core.units.models import Unit, UnitEvent, UnitKind, UnitLevel
from core.units.schemas import UnitCreate, UnitMergeForm, UnitMoveForm, UnitUpdate
from core.units.services import (
    CHILD_LEVEL,
    UnitFields,
    add_unit,
    children_of,
    default_plugins_of,
    history_of,
    leaders_of,
    level_name,
    unit_by_code,
    update_unit,
)
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.forms import FormErrors, submit_form
from core.web.navigation import unit_page

Form = URLEncodedBody[dict[str, str]]
READ = "core.unit.read"
MANAGE = "core.unit.manage"

EVENT_NAMES = {
    "created": ("新建", "created"),
    "updated": ("修改", "changed"),
    "moved": ("移动", "moved"),
    "merged": ("并入其他单位", "merged into another unit"),
    "absorbed": ("接收合并", "received a merged unit"),
    "imported": ("导入", "imported"),
}
FIELD_NAMES = {
    "name": ("名称", "name"),
    "code": ("代码", "code"),
    "team_name": ("队伍名称", "team name"),
    "organisation": ("组建单位", "organisation"),
    "population": ("常住人口", "population"),
    "population_year": ("人口年份", "population year"),
}


def event_text(event: UnitEvent, names: dict[int, str]) -> str:
    """One history line in the current language."""
    detail = event.detail or {}

    def name(unit_id: Any) -> str:
        return names.get(unit_id, f"#{unit_id}") if unit_id else "-"

    if event.event == "moved":
        line = text(
            f"从 {name(detail.get('from_parent_id'))} 移至 {name(detail.get('to_parent_id'))}",
            f"from {name(detail.get('from_parent_id'))} to {name(detail.get('to_parent_id'))}",
        )
        if detail.get("from_code") != detail.get("to_code"):
            line += (
                text("；代码 ", "; code ") + f"{detail.get('from_code')} → {detail.get('to_code')}"
            )
        if detail.get("reason") == "merge":
            line += text("（因上级合并）", " (its parent was merged)")
        return line
    if event.event == "merged":
        return text(f"并入 {name(detail.get('into_id'))}", f"into {name(detail.get('into_id'))}")
    if event.event == "absorbed":
        return text(
            f"接收 {name(detail.get('from_id'))}", f"received {name(detail.get('from_id'))}"
        )
    changes = detail.get("changes") or {}
    if changes:
        parts = []
        for field_name, (old, new) in changes.items():
            zh, en = FIELD_NAMES.get(field_name, (field_name, field_name))
            before = "-" if old is None else old
            after = "-" if new is None else new
            parts.append(f"{text(zh, en)}: {before} → {after}")
        return "；".join(parts)
    if detail.get("code"):
        return text("代码 ", "code ") + str(detail["code"])
    return ""


class UnitPages(Controller):
    """A unit's own page and its forms."""

    path = "/units/{unit_id:int}"
    include_in_schema = False

    def _page(
        self,
        request: Request,
        session: Session,
        platform: Any,
        unit: Unit,
        *,
        errors: list[FieldError] | None = None,
        form_name: str | None = None,
        form: dict[str, str] | None = None,
    ) -> Template:
        actor = request.scope["user"]
        children = children_of(session, unit, include_inactive=True)
        events = history_of(session, unit, 50)
        mentioned = {unit.parent_id, unit.merged_into_id}
        for event in events:
            for key in ("from_parent_id", "to_parent_id", "into_id", "from_id"):
                mentioned.add((event.detail or {}).get(key))
        mentioned.discard(None)
        names = {
            unit_id: name
            for unit_id, name in session.exec(
                select(Unit.id, Unit.name).where(col(Unit.id).in_(mentioned or {0}))
            )
        }
        by_ids = {event.by_user_id for event in events if event.by_user_id}
        people = {
            user_id: display
            for user_id, display in session.exec(
                select(User.id, User.display_name).where(col(User.id).in_(by_ids or {0}))
            )
        }
        child_level = CHILD_LEVEL.get(UnitLevel(unit.level))
        return Template(
            "core:units/unit.html",
            context={
                "page": unit_page(platform, session, unit, actor),
                "unit": unit,
                "level_label": level_name(unit.level),
                "child_level_label": level_name(child_level) if child_level else None,
                "parent_name": names.get(unit.parent_id),
                "merged_into": names.get(unit.merged_into_id),
                "leaders": leaders_of(session, unit),
                "children": [child for child in children if child.active],
                "merged_children": [child for child in children if not child.active],
                "events": [
                    (
                        event,
                        text(*EVENT_NAMES.get(event.event, (event.event, event.event))),
                        event_text(event, names),
                        people.get(event.by_user_id),
                    )
                    for event in events
                ],
                "can_manage": actor.can(MANAGE, unit) and unit.active,
                "can_add_enterprise": unit.level == UnitLevel.district,
                "is_root": unit.parent_id is None,
                "errors": errors or [],
                "form_name": form_name,
                "form": form or {},
            },
            status_code=400 if errors else 200,
        )

    @get("/about", sync_to_thread=True, opt={"action": READ})
    def show(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """The unit's details, team leaders, units below and history."""
        return self._page(request, session, platform, unit)

    def _answer(self, request, session, platform, unit, outcome, form_name, data) -> Response:
        """The page of the unit a change leads to, or this page again with what was refused."""
        if not isinstance(outcome, FormErrors):
            return Redirect(f"/units/{outcome}/about", status_code=303)
        session.rollback()
        unit = session.get(Unit, unit.id)
        return self._page(
            request, session, platform, unit, errors=outcome.errors, form_name=form_name, form=data
        )

    @post("/about", sync_to_thread=True, opt={"action": MANAGE})
    def edit(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Change the unit's name, code, team name, organisation or population."""

        def edit(wanted: UnitUpdate) -> int:
            changes = wanted.model_dump(exclude_unset=True)  # a blank field clears its value
            update_unit(session, unit, changes, by_user_id=request.scope["user"].user_id)
            return unit.id

        outcome = submit_form(session, UnitUpdate, _fields_of(UnitUpdate, data), edit)
        return self._answer(request, session, platform, unit, outcome, "edit", data)

    @post("/children", sync_to_thread=True, opt={"action": MANAGE})
    def add_child(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Add a unit one level below (or an enterprise 中队 below a district)."""
        level = CHILD_LEVEL.get(UnitLevel(unit.level))

        def add(wanted: UnitCreate) -> int:
            if level is None:
                message = text("村（社区）分队之下不能再设单位", "No unit stands below a village")
                raise DomainError(
                    message, "no_children", 400, [FieldError("", "no_children", message)]
                )
            child = add_unit(
                session,
                UnitFields(
                    name=wanted.name,
                    level=level,
                    kind=wanted.kind,
                    code=wanted.code,
                    team_name=wanted.team_name,
                    organisation=wanted.organisation,
                    population=wanted.population,
                    population_year=wanted.population_year,
                ),
                unit,
                by_user_id=request.scope["user"].user_id,
                default_plugins=default_plugins_of(platform.plugins),
            )
            return child.id

        outcome = submit_form(session, UnitCreate, _fields_of(UnitCreate, data), add)
        return self._answer(request, session, platform, unit, outcome, "child", data)

    @post("/move", sync_to_thread=True, opt={"action": MANAGE})
    def move(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Move the unit under the parent with the given code; everything under it follows."""
        from core.units.moves import move_unit

        principal = request.scope["user"]

        def move(wanted: UnitMoveForm) -> int:
            parent = unit_by_code(session, principal, wanted.parent_code, "parent_code", MANAGE)
            move_unit(
                session,
                unit,
                parent,
                models=platform.plugins.models,
                by_user_id=principal.user_id,
                code=wanted.code,
            )
            return unit.id

        outcome = submit_form(session, UnitMoveForm, _fields_of(UnitMoveForm, data), move)
        return self._answer(request, session, platform, unit, outcome, "move", data)

    @post("/merge", sync_to_thread=True, opt={"action": MANAGE})
    def merge(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        data: Form,
    ) -> Response:
        """Merge the unit into the unit with the given code."""
        from core.units.moves import merge_unit

        principal = request.scope["user"]

        def merge(wanted: UnitMergeForm) -> int:
            into = unit_by_code(session, principal, wanted.into_code, "into_code", MANAGE)
            merge_unit(
                session, unit, into, models=platform.plugins.models, by_user_id=principal.user_id
            )
            return into.id

        outcome = submit_form(session, UnitMergeForm, _fields_of(UnitMergeForm, data), merge)
        return self._answer(request, session, platform, unit, outcome, "merge", data)


def _fields_of(model: type[BaseModel], data: dict[str, str]) -> dict[str, str]:
    """The form's fields that ``model`` knows (the CSRF token and strays left out)."""
    return {key: data.get(key, "") for key in model.model_fields if key in data}


__all__ = ["UnitPages", "UnitKind"]
