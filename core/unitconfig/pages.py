"""A unit's settings pages: the list of rules in force, one rule with its history and form."""

from datetime import date
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter, URLEncodedBody
from litestar.response import Redirect, Template
from sqlmodel import Session

from core.errors import DomainError, FieldError
from core.i18n import text
from core.platform import Platform
from core.unitconfig.changes import change_setting, display_value, form_value, is_city_office
from core.unitconfig.permissions import MANAGE, READ
from core.unitconfig.services import local_today
from core.unitconfig.views import key_named, owner_of, setting_detail, settings_at
from core.units.models import Unit
from core.web.deps import PlatformDep, SessionDep, UnitDep
from core.web.forms import errors_of
from core.web.navigation import unit_page

KeyName = Annotated[str, Parameter(max_length=80)]
Form = URLEncodedBody[dict[str, str]]


def _owner_label(platform: Platform, owner: str):
    return platform.plugins.meta(owner).label if owner in platform.plugins.names else None


class SettingPages(Controller):
    """The settings of a unit."""

    path = "/units/{unit_id:int}/settings"
    include_in_schema = False

    @get("/", sync_to_thread=True, opt={"action": READ})
    def settings(
        self, request: Request, session: SessionDep, platform: PlatformDep, unit: UnitDep
    ) -> Template:
        """Every rule at the unit today and where its value comes from."""
        today = local_today()
        keys = {key.name: key for key in platform.plugins.config_keys.values()}
        rows = [
            (row, keys[row.key], _owner_label(platform, owner_of(platform, keys[row.key])))
            for row in settings_at(platform, session, unit, today)
        ]
        return Template(
            "core:unitconfig/list.html",
            context={
                "page": unit_page(platform, session, unit, request.scope["user"]),
                "rows": rows,
                "today": today,
                "shown": lambda key, value: display_value(key, value),
            },
        )

    def _detail(
        self,
        request: Request,
        session: Session,
        platform: Platform,
        unit: Unit,
        key_name: str,
        form: dict[str, str] | None = None,
        errors: list[FieldError] | None = None,
        status_code: int = 200,
        code: str | None = None,
    ) -> Template:
        principal = request.scope["user"]
        key = key_named(platform, key_name)
        today = local_today()
        detail = setting_detail(session, unit, key, today)
        owner = owner_of(platform, key)
        return Template(
            "core:unitconfig/detail.html",
            context={
                "page": unit_page(platform, session, unit, principal),
                "key": key,
                "owner_label": _owner_label(platform, owner),
                "detail": detail,
                "today": today,
                "can_manage": principal.can(MANAGE, unit),
                "may_backdate": is_city_office(principal),
                "form": form
                or {"value": display_value(key, key.parse(detail.value)), "valid_from": ""},
                "errors": errors or [],
                "code": code,
                "shown": lambda value: display_value(key, key.parse(value)),
            },
            status_code=status_code,
        )

    @get("/{key:str}", sync_to_thread=True, opt={"action": READ})
    def detail(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        key: KeyName,
    ) -> Template:
        """One rule: the value in force, every value set here or above, overrides below."""
        return self._detail(request, session, platform, unit, key)

    @post("/{key:str}", sync_to_thread=True, opt={"action": MANAGE})
    def change(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        key: KeyName,
        data: Form,
    ) -> Response:
        """Set a new value from a day on."""
        config_key = key_named(platform, key)
        form = {name: data.get(name, "")[:2000] for name in ("value", "valid_from", "reason")}
        try:
            valid_from = _day(form["valid_from"])
            change_setting(
                session,
                request.scope["user"],
                unit,
                config_key,
                form_value(config_key, form["value"]),
                valid_from,
                form["reason"][:300],
            )
            session.commit()
        except DomainError as error:
            session.rollback()
            return self._detail(
                request,
                session,
                platform,
                unit,
                key,
                form,
                errors_of(error),
                error.status,
                error.code,
            )
        return Redirect(f"/units/{unit.id}/settings/{key}", status_code=303)


def _day(raw: str) -> date:
    """A form's ISO date, or a field error naming ``valid_from``."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        message = text("请填写生效日期（YYYY-MM-DD）", "Give the start date (YYYY-MM-DD)")
        raise DomainError(
            message, "validation_failed", 400, [FieldError("valid_from", "date_parsing", message)]
        ) from None
