"""Importing units from a spreadsheet: every row checked, each created or updated by its code.

Columns: code, name, level, parent code, population, year, team name, kind, organisation
(Chinese or English headers). Rows are stored parents first (districts, then townships, then
villages), so a file may list a village before its township. A row whose code exists updates
that unit (name, team name, organisation, population); a row that would change a unit's
level, kind or parent is refused: moving is done with the move function, which re-scopes
everything under the unit. Every row must lie within the importing unit's subtree.
"""

from collections.abc import Iterator
from typing import Any

from sqlmodel import Session, col, select

from core.errors import DomainError
from core.i18n import text
from core.imports.models import ImportBatch
from core.imports.reader import Sheet
from core.imports.services import Column, Refusals, RowHandler
from core.units.models import Unit, UnitKind, UnitLevel
from core.units.services import (
    UnitFields,
    add_unit,
    default_plugins_of,
    field_errors,
    level_name,
    update_unit,
)

UNIT_COLUMNS = (
    Column("code", "代码", "Code", ("区划代码", "单位代码", "统计用区划代码"), True),
    Column("name", "名称", "Name", ("单位名称",), True),
    Column("level", "层级", "Level", ("级别",), True),
    Column("parent_code", "上级代码", "Parent code", ("上级区划代码",)),
    Column("population", "常住人口", "Population", ("人口", "resident_population")),
    Column("population_year", "人口年份", "Population year", ("年份", "year")),
    Column("team_name", "队伍名称", "Team name", ("队名",)),
    Column("kind", "类型", "Kind"),
    Column("organisation", "组建单位", "Organisation", ("组织名称", "单位全称")),
)
MAX_UNIT_ROWS = 100_000

LEVELS = {
    UnitLevel.city: ("city", "市", "总队", "市级"),
    UnitLevel.district: ("district", "county", "区", "县", "区县", "大队", "区县级", "自治县"),
    UnitLevel.township: ("township", "street", "乡镇", "街道", "镇", "乡", "中队", "乡镇街道"),
    UnitLevel.village: ("village", "community", "村", "社区", "分队", "村社区"),
}
LEVEL_BY_NAME = {name: level for level, names in LEVELS.items() for name in names}
KINDS = {
    UnitKind.territorial: ("territorial", "属地", "行政区划", "地域"),
    UnitKind.enterprise: ("enterprise", "企事业", "企业", "单位", "机关", "学校", "商场", "场所"),
}
KIND_BY_NAME = {name: kind for kind, names in KINDS.items() for name in names}
LEVEL_ORDER = {
    UnitLevel.city: 0,
    UnitLevel.district: 1,
    UnitLevel.township: 2,
    UnitLevel.village: 3,
}


def _number(value: str | None) -> int | None:
    if value is None:
        return None
    cleaned = value.replace(",", "").replace("，", "").strip()
    if not cleaned.isdigit():
        raise ValueError(value)
    return int(cleaned)


class UnitRows(RowHandler):
    """Units: created or updated by code, parents first, within the importing unit."""

    columns = UNIT_COLUMNS

    def prepare(self, session: Session, batch: ImportBatch, sheet: Sheet) -> None:
        """Remember the importing unit and the plugins new units get."""
        super().prepare(session, batch, sheet)
        self.unit_path = session.get(Unit, batch.unit_id).path
        self.by_user_id = batch.created_by_id
        self.batch_id = batch.id
        self.default_plugins = default_plugins_of(self.plugins) if self.plugins else []

    def rows(self, sheet: Sheet, start: int) -> Iterator[tuple[int, list[str | None]]]:
        """Parents before children: the rows sorted by level (then as in the file)."""
        rows = []
        for number, cells in sheet.rows():
            if len(rows) >= MAX_UNIT_ROWS:
                raise DomainError(
                    text(
                        f"单位文件最多 {MAX_UNIT_ROWS} 行",
                        f"A unit file has at most {MAX_UNIT_ROWS} rows",
                    ),
                    "too_many_rows",
                    400,
                )
            level = LEVEL_BY_NAME.get((self.cell(cells, "level") or "").lower())
            rows.append((LEVEL_ORDER.get(level, 9), number, cells))
        rows.sort(key=lambda row: (row[0], row[1]))
        return iter([(number, cells) for _, number, cells in rows[start:]])

    def store(
        self,
        session: Session,
        batch: ImportBatch,
        chunk: list[tuple[int, list[str | None]]],
        refusals: Refusals,
    ) -> tuple[int, int]:
        """Check and store the rows one by one (each in a savepoint)."""
        created = updated = 0
        for number, cells in chunk:
            if not any(cells):
                continue
            try:
                with session.begin_nested():
                    outcome = self._store_row(session, cells)
            except DomainError as error:
                reasons = [f"{self._label(e.field)}：{e.message}" for e in error.errors] or [
                    error.message
                ]
                refusals.add(number, reasons, cells)
                continue
            created += outcome == "created"
            updated += outcome == "updated"
        return created, updated

    def _label(self, key: str) -> str:
        for column in UNIT_COLUMNS:
            if column.key == key:
                return text(column.zh, column.en)
        labels = {"parent_id": ("上级代码", "Parent code")}
        zh, en = labels.get(key, (key, key))
        return text(zh, en)

    def _refuse(self, field: str, rule: str, zh: str, en: str) -> DomainError:
        from core.errors import FieldError

        return DomainError(
            text(zh, en), "invalid_row", 400, [FieldError(field, rule, text(zh, en))]
        )

    def _store_row(self, session: Session, cells: list[str | None]) -> str:
        code = self.cell(cells, "code")
        raw_level = self.cell(cells, "level") or ""
        level = LEVEL_BY_NAME.get(raw_level.lower())
        if level is None:
            raise self._refuse(
                "level",
                "choice",
                f"无法识别的层级“{raw_level}”（市、区县、乡镇街道、村社区）",
                f"unknown level “{raw_level}” (city, district, township, village)",
            )
        raw_kind = self.cell(cells, "kind") or "territorial"
        kind = KIND_BY_NAME.get(raw_kind.lower())
        if kind is None:
            raise self._refuse(
                "kind",
                "choice",
                f"无法识别的类型“{raw_kind}”（属地、企事业）",
                f"unknown kind “{raw_kind}” (territorial, enterprise)",
            )
        figures: dict[str, Any] = {}
        for key in ("population", "population_year"):
            try:
                figures[key] = _number(self.cell(cells, key))
            except ValueError:
                raise self._refuse(key, "int", "应为整数", "must be a whole number") from None
        fields = UnitFields(
            name=self.cell(cells, "name") or "",
            level=level,
            kind=kind,
            code=code,
            team_name=self.cell(cells, "team_name"),
            organisation=self.cell(cells, "organisation"),
            **figures,
        )
        parent_code = self.cell(cells, "parent_code")
        parent = None
        if parent_code:
            parent = session.exec(select(Unit).where(Unit.code == parent_code)).first()
            if parent is None:
                raise self._refuse(
                    "parent_code",
                    "unknown",
                    f"上级代码 {parent_code} 不存在",
                    f"no unit has the parent code {parent_code}",
                )
        existing = session.exec(select(Unit).where(Unit.code == code)).first() if code else None
        if parent is not None and not parent.path.startswith(self.unit_path):
            if existing is None or existing.parent_id != parent.id:
                raise self._refuse(
                    "parent_code",
                    "outside",
                    "上级单位不在本单位范围内",
                    "the parent unit is not within the importing unit",
                )
        if existing is None:
            if level == UnitLevel.city:
                raise self._refuse(
                    "level", "root", "不能导入新的市级单位", "a new city unit cannot be imported"
                )
            if parent is None:
                raise self._refuse(
                    "parent_code",
                    "missing",
                    "新单位须填写上级代码",
                    "a new unit needs its parent code",
                )
            add_unit(
                session,
                fields,
                parent,
                by_user_id=self.by_user_id,
                default_plugins=self.default_plugins,
                event="imported",
                detail={"import_batch_id": self.batch_id},
            )
            return "created"
        if not existing.path.startswith(self.unit_path):
            raise self._refuse(
                "code",
                "outside",
                "该代码的单位不在本单位范围内",
                "that unit is not within the importing unit",
            )
        if existing.level != level or existing.kind != kind:
            raise self._refuse(
                "level",
                "changed",
                f"该单位为{level_name(existing.level)}，层级和类型不能通过导入修改",
                f"the unit is a {existing.level} unit; level and kind cannot change by import",
            )
        if parent is not None and parent.id != existing.parent_id:
            raise self._refuse(
                "parent_code",
                "changed",
                "上级单位不同：请使用“移动单位”调整隶属关系",
                "a different parent: move the unit instead",
            )
        # Check the row as a whole, then change only what it gives.
        current_parent = session.get(Unit, existing.parent_id) if existing.parent_id else None
        errors = [
            error
            for error in field_errors(session, fields, current_parent, unit_id=existing.id)
            if error.rule != "inactive"
        ]
        if errors:
            raise DomainError(
                text("单位信息有误", "The unit's details are invalid"), "invalid_row", 400, errors
            )
        changes = {"name": fields.name}
        for key in ("team_name", "organisation", "population", "population_year"):
            if getattr(fields, key) is not None:
                changes[key] = getattr(fields, key)
        update_unit(
            session,
            existing,
            changes,
            by_user_id=self.by_user_id,
            event="imported",
            detail={"import_batch_id": self.batch_id},
        )
        return "updated"


def unit_codes(session: Session, codes: list[str]) -> dict[str, Unit]:
    """The units with these codes."""
    return {unit.code: unit for unit in session.exec(select(Unit).where(col(Unit.code).in_(codes)))}
