"""The national registry export: volunteers in the national volunteer system's columns.

The columns come from a TOML file (``core/volunteers/national_export.toml`` unless the
setting ``national_export_file`` names another): an ordered list of ``[[columns]]``, each with
a ``header`` and either a ``source`` (one of :data:`SOURCES`) or a fixed ``value``. The rows,
the header row first, go to the ``export_volunteers`` hook, which writes the file; core's own
implementation (XLSX and CSV, in ``core/volunteers/hooks.py``) runs last, so a plugin may
replace it or add formats.

The national system needs ID numbers in clear, so the export is the sensitive action
``core.volunteer.export``: only its holders export, only volunteers under their grants, and
every export is written to the audit trail (event ``export``) with its reason, filters and
row count.
"""

import io
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlmodel import Session, col, select

from core.accounts.principal import Principal
from core.audit.recorder import record
from core.errors import DomainError, FieldError
from core.i18n import text
from core.people.models import Gender, Person
from core.people.taxonomy import EDUCATION, SKILLS
from core.security.csv import safe_cell, to_csv
from core.units.models import Unit, utcnow
from core.volunteers.models import SpecialTeamMembership, Volunteer, VolunteerStatus
from core.volunteers.profile import STATUS_LABELS, team_name
from core.volunteers.queries import VolunteerFilters, VolunteerRow, iter_volunteer_ids

if TYPE_CHECKING:
    from core.platform import Platform

EXPORT_ACTION = "core.volunteer.export"
DEFAULT_COLUMNS_FILE = Path(__file__).with_name("national_export.toml")
SERVICE_CATEGORY = "平安建设"
MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


class ExportConfigError(DomainError):
    """The column file is missing or malformed; the message names the file and the column."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(
            text("全国系统导出列配置有误：", "The national export columns are misconfigured: ")
            + f"{path}: {problem}",
            "export_misconfigured",
            500,
        )


@dataclass(frozen=True)
class Column:
    """One column of the export: its header and where its cells come from."""

    header: str
    source: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Context:
    """What a cell may need beyond its row: unit names and current special teams."""

    units: dict[int, Unit]
    special_teams: dict[int, list[str]]
    team_labels: dict[str, str]


def _date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def _residence_area(row: VolunteerRow, context: Context) -> str:
    names = [context.units[i].name for i in row.unit.ancestor_ids if i in context.units]
    return "".join(names)


def _service_category(row: VolunteerRow, context: Context) -> str:
    teams = [context.team_labels.get(t, t) for t in context.special_teams.get(row.volunteer.id, [])]
    return "；".join([SERVICE_CATEGORY, *teams])


GENDERS = {Gender.male: "男", Gender.female: "女"}

#: Source field → how a cell is read from a row (person, volunteer and unit), in clear.
SOURCES: dict[str, Callable[[VolunteerRow, Context], Any]] = {
    "name": lambda r, c: r.person.name,
    "gender": lambda r, c: GENDERS.get(r.person.gender, "") if r.person.gender else "",
    "birth_date": lambda r, c: _date(r.person.birth_date),
    "id_type": lambda r, c: "居民身份证" if r.person.id_number else "",
    "id_number": lambda r, c: r.person.id_number,
    "phone": lambda r, c: r.person.phone,
    "address": lambda r, c: r.person.address,
    "residence_area": _residence_area,
    "division_code": lambda r, c: r.unit.code,
    "education": lambda r, c: (
        EDUCATION[r.person.education].zh if r.person.education in EDUCATION else r.person.education
    ),
    "occupation": lambda r, c: r.person.occupation,
    "skills": lambda r, c: "、".join(SKILLS[s].zh if s in SKILLS else s for s in r.person.skills),
    "service_category": _service_category,
    "organisation": lambda r, c: team_name(r.unit),
    "enterprise": lambda r, c: r.unit.organisation,
    "number": lambda r, c: r.volunteer.number,
    "national_number": lambda r, c: r.volunteer.national_number,
    "status": lambda r, c: STATUS_LABELS[VolunteerStatus(r.volunteer.status)].zh,
    "registered_at": lambda r, c: _date(r.volunteer.registered_at),
    "certificate_number": lambda r, c: r.volunteer.certificate_number,
    "certified_at": lambda r, c: _date(r.volunteer.certified_at),
    "emergency_contact_name": lambda r, c: r.person.emergency_contact_name,
    "emergency_contact_phone": lambda r, c: r.person.emergency_contact_phone,
}


def load_columns(path: Path | None = None) -> list[Column]:
    """The configured columns, in order (``path`` or core's default file).

    Raises:
        ExportConfigError: the file is unreadable, not TOML, has no columns, or a column lacks
            a header, names an unknown source, or has both or neither of source and value.
    """
    path = path or DEFAULT_COLUMNS_FILE
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ExportConfigError(path, str(error)) from error
    entries = config.get("columns")
    if not isinstance(entries, list) or not entries:
        raise ExportConfigError(path, "no [[columns]]")
    columns = []
    for number, entry in enumerate(entries, start=1):
        where = f"column {number}"
        if not isinstance(entry, dict) or set(entry) - {"header", "source", "value"}:
            raise ExportConfigError(path, f"{where}: only header, source and value are allowed")
        header = entry.get("header")
        if not isinstance(header, str) or not header.strip():
            raise ExportConfigError(path, f"{where}: header is required")
        source, value = entry.get("source"), entry.get("value")
        if (source is None) == (value is None):
            raise ExportConfigError(path, f"{where} ({header}): give exactly one of source, value")
        if source is not None and source not in SOURCES:
            raise ExportConfigError(
                path, f"{where} ({header}): unknown source {source!r}; known: {', '.join(SOURCES)}"
            )
        if value is not None and not isinstance(value, str):
            raise ExportConfigError(path, f"{where} ({header}): value must be text")
        columns.append(Column(header.strip(), source, value))
    return columns


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


def _chunk_rows(session: Session, ids: list[int], units: dict[int, Unit]) -> list[VolunteerRow]:
    """The volunteers ``ids`` with their people (in clear) and units, in the order given.

    Read as plain rows rather than ORM objects, which a district's tens of thousands of
    volunteers would make slow. ``units`` (id → unit) is the cache of units and their
    ancestors, filled with those not in it yet.
    """
    volunteer_keys = [column.key for column in Volunteer.__table__.columns]
    person_keys = [column.key for column in Person.__table__.columns]
    split = len(volunteer_keys)
    result = session.execute(
        select(*Volunteer.__table__.columns, *Person.__table__.columns)
        .join_from(Volunteer, Person, Person.id == Volunteer.person_id)
        .where(col(Volunteer.id).in_(ids))
    )
    found = {}
    for values in result:
        volunteer = SimpleNamespace(**dict(zip(volunteer_keys, values[:split], strict=True)))
        person = SimpleNamespace(**dict(zip(person_keys, values[split:], strict=True)))
        found[volunteer.id] = (volunteer, person)
    needed = {int(part) for v, _ in found.values() for part in v.unit_path.split(".") if part}
    if needed - set(units):
        wanted = col(Unit.id).in_(needed - set(units))
        units.update({unit.id: unit for unit in session.exec(select(Unit).where(wanted))})
    return [
        VolunteerRow(volunteer, person, units[volunteer.unit_id])
        for volunteer, person in (found[i] for i in ids if i in found)
    ]


def _context(
    session: Session, platform: "Platform", rows: list[VolunteerRow], units: dict, on: date
) -> Context:
    teams: dict[int, list[str]] = {}
    for volunteer_id, team in session.exec(
        select(SpecialTeamMembership.volunteer_id, SpecialTeamMembership.team)
        .where(
            col(SpecialTeamMembership.volunteer_id).in_([row.volunteer.id for row in rows]),
            SpecialTeamMembership.since <= on,
            (SpecialTeamMembership.until == None)  # noqa: E711
            | (SpecialTeamMembership.until >= on),
        )
        .order_by(SpecialTeamMembership.team)
    ):
        if team not in teams.setdefault(volunteer_id, []):
            teams[volunteer_id].append(team)
    labels = {name: platform.plugins.meta(name).label.zh for name in platform.plugins.names}
    return Context(units, teams, labels)


def national_rows(
    session: Session,
    platform: "Platform",
    principal: Principal,
    filters: VolunteerFilters,
    columns: list[Column],
    *,
    action: str = EXPORT_ACTION,
) -> list[list[str]]:
    """The export table: the header row, then one row per volunteer in number order."""
    table = [[column.header for column in columns]]
    today = utcnow().date()
    units: dict[int, Unit] = {}
    for ids in iter_volunteer_ids(session, principal, filters, action):
        chunk = _chunk_rows(session, ids, units)
        context = _context(session, platform, chunk, units, today)
        for row in chunk:
            table.append(
                [
                    column.value
                    if column.source is None
                    else _cell(SOURCES[column.source](row, context))
                    for column in columns
                ]
            )
    return table


@dataclass(frozen=True)
class ExportFile:
    """A written export."""

    content: bytes
    media_type: str
    filename: str
    count: int


def export_volunteers(
    session: Session,
    platform: "Platform",
    principal: Principal,
    filters: VolunteerFilters,
    file_format: str,
    reason: str,
) -> ExportFile:
    """Write the national registry export of the volunteers in scope, and audit it.

    The caller has checked ``core.volunteer.export`` at ``filters.unit``; rows are limited to
    that unit's subtree (or, without a unit, to every unit the principal may export). The
    audit entry is added to ``session``: commit it.

    Raises:
        DomainError: no implementation writes ``file_format`` (400, field ``format``).
        ExportConfigError: the column file is broken.
    """
    columns = load_columns(platform.settings.national_export_file)
    rows = national_rows(session, platform, principal, filters, columns)
    content = platform.plugins.export_volunteers(file_format, rows)
    if content is None:
        raise DomainError(
            text("不支持此导出格式", "This export format is not supported"),
            "validation_failed",
            400,
            [FieldError("format", "unsupported", file_format)],
        )
    unit = filters.unit
    count = len(rows) - 1
    record(
        session,
        "export",
        action=EXPORT_ACTION,
        object_type="volunteer",
        object_id=None,
        unit_path=unit.path if unit is not None else _common_path(principal),
        reason=reason,
        after={
            "format": file_format,
            "rows": count,
            "columns": [column.header for column in columns],
            "filters": {
                "unit_id": unit.id if unit is not None else None,
                "status": filters.status.value if filters.status else None,
                "name": filters.name,
                "skill": filters.skill,
                "number": filters.number,
            },
        },
    )
    stamp = utcnow().strftime("%Y%m%d")
    where = (unit.code or str(unit.id)) if unit is not None else "all"
    return ExportFile(
        content=content,
        media_type=MEDIA_TYPES.get(file_format, "application/octet-stream"),
        filename=f"volunteers-{where}-{stamp}.{file_format}",
        count=count,
    )


def _common_path(principal: Principal) -> str | None:
    reach = principal.reach(EXPORT_ACTION)
    return reach[0] if len(reach) == 1 else None


# -- core's writers (called through the hook) ----------------------------------------------


def _text_cell(value: Any) -> str:
    return ILLEGAL_CHARACTERS_RE.sub("", safe_cell(value))


def write_xlsx(rows: list[list[Any]]) -> bytes:
    """An XLSX workbook of ``rows`` (header first): every cell an inline string, never a formula.

    Cells that a spreadsheet would read as a formula are prefixed with ``'`` as in CSV, and
    every cell is written as text so ID numbers keep their digits.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("志愿者")
    widths = [
        max((len(_text_cell(row[i])) for row in rows[:200] if i < len(row)), default=4)
        for i in range(len(rows[0]) if rows else 0)
    ]
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width * 2, 8), 40)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    for number, row in enumerate(rows):
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=_text_cell(value))
            cell.data_type = "s"
            if number == 0:
                cell.font = bold
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_csv(rows: list[list[Any]]) -> bytes:
    """A UTF-8 CSV of ``rows`` (header first), every cell escaped with ``safe_cell``."""
    header, *body = rows or [[]]
    return to_csv([safe_cell(h) for h in header], body)
