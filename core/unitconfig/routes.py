"""API of a unit's settings: every key with the value in force, one key's history, a change.

The guard scopes each route by the path's unit: leaders read the rules they work under, the
city and district offices change them for their subtree (``core.setting.manage``).
"""

from datetime import date
from typing import Annotated

from litestar import Controller, Request, get, post
from litestar.params import JSONBody, Parameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED

from core.unitconfig.changes import change_setting
from core.unitconfig.pages import SettingPages
from core.unitconfig.permissions import MANAGE, READ
from core.unitconfig.schemas import SettingChange, SettingDetail, SettingRead
from core.unitconfig.services import local_today
from core.unitconfig.views import key_named, setting_detail, settings_at
from core.web.deps import PlatformDep, SessionDep, UnitDep

KeyName = Annotated[str, Parameter(max_length=80)]
OnDay = Annotated[
    date | None, QueryParameter(description="The day asked about (default: today, China time).")
]


class SettingController(Controller):
    """Per-unit settings with a valid-from date."""

    path = "/api/v1/units/{unit_id:int}/settings"
    tags = ["settings"]

    @get("/", sync_to_thread=True, operation_id="ListUnitSettings", opt={"action": READ})
    def list_settings(
        self, session: SessionDep, platform: PlatformDep, unit: UnitDep, on: OnDay = None
    ) -> list[SettingRead]:
        """Every setting at the unit: the value in force and whether it is the unit's own."""
        return settings_at(platform, session, unit, on or local_today())

    @get("/{key:str}", sync_to_thread=True, operation_id="GetUnitSetting", opt={"action": READ})
    def get_setting(
        self,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        key: KeyName,
        on: OnDay = None,
    ) -> SettingDetail:
        """One setting at the unit, every value set here or above, and overrides below."""
        return setting_detail(session, unit, key_named(platform, key), on or local_today())

    @post(
        "/{key:str}",
        sync_to_thread=True,
        operation_id="ChangeUnitSetting",
        opt={"action": MANAGE},
        status_code=HTTP_201_CREATED,
    )
    def change(
        self,
        request: Request,
        session: SessionDep,
        platform: PlatformDep,
        unit: UnitDep,
        key: KeyName,
        data: JSONBody[SettingChange],
    ) -> SettingDetail:
        """Set a new value for the unit and its subtree from a day on (today or later)."""
        config_key = key_named(platform, key)
        change_setting(
            session,
            request.scope["user"],
            unit,
            config_key,
            data.value,
            data.valid_from,
            data.reason,
        )
        session.commit()
        return setting_detail(session, unit, config_key, local_today())


ROUTES: list = [SettingController, SettingPages]
