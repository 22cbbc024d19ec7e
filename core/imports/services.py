"""Bulk imports from spreadsheets: the batch, its rows in chunks, and the refused rows.

An upload becomes a :class:`~core.files.models.StoredFile` and an
:class:`~core.imports.models.ImportBatch`; a job (or ``pingan import`` in-process) reads the
file row by row and stores valid rows in chunks of :data:`CHUNK` rows, one transaction per
chunk that also advances the batch's counts, so progress is exact and nothing is half-written.
A run may stop after a time budget and be continued by another run from ``rows_done``.

Refused rows are kept, per chunk and in the chunk's transaction, as small JSON-lines parts;
when the last row is done they become one XLSX workbook: the original columns plus the row
number and the reason.

Importing volunteers is idempotent: the key of a row is the blind index of the person's
resident ID (also stored as ``Volunteer.import_key``), so a row already imported updates the
person and the volunteer instead of adding them again.
"""

import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from core.audit.bulk import BulkWrite
from core.audit.recorder import ACTOR, AuditActor
from core.db import SessionFactory
from core.errors import DomainError, FieldError
from core.files.models import StoredFile
from core.i18n import text
from core.imports.models import ImportBatch, ImportStatus
from core.imports.reader import (
    XLSX_MEDIA_TYPE,
    Sheet,
    SheetError,
    normalise_header,
    open_sheet,
    write_workbook,
)
from core.numbering import take_block
from core.people.models import Person
from core.people.services import (
    PersonDetails,
    check_details,
    person_values,
)
from core.people.taxonomy import EDUCATION, SKILLS
from core.security.fields import Keyring
from core.units.models import Unit, UnitLevel, utcnow
from core.volunteers.models import TeamMembership, TeamRole, Volunteer, VolunteerStatus

CHUNK = 500
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
PART_MEDIA_TYPE = "application/x-ndjson"
SORT_LIMIT = 200_000  # refused rows put back in file order in memory
KINDS = ("volunteers", "units")
#: The action that imports (and reads the batches) of each kind.
ACTION_OF_KIND = {"volunteers": "core.volunteer.import", "units": "core.unit.manage"}

Progress = Callable[[int, int], None]


# -- columns -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column a kind of import reads, with the headers it is known by."""

    key: str
    zh: str
    en: str
    aliases: tuple[str, ...] = ()
    required: bool = False

    def names(self) -> set[str]:
        """Every header (normalised) that means this column."""
        return {normalise_header(name) for name in (self.zh, self.en, self.key, *self.aliases)}


VOLUNTEER_COLUMNS = (
    Column("name", "姓名", "Name", required=True),
    Column("id_number", "身份证号", "ID number", ("身份证号码", "公民身份号码", "身份证"), True),
    Column("team_code", "队伍代码", "Team code", ("所属队伍代码", "单位代码", "队伍"), True),
    Column("phone", "手机号", "Mobile", ("手机", "手机号码", "联系电话", "电话")),
    Column("address", "住址", "Address", ("地址", "家庭住址", "居住地址")),
    Column("education", "学历", "Education", ("文化程度",)),
    Column("occupation", "职业", "Occupation", ("工作单位",)),
    Column("skills", "特长", "Skills", ("专长",)),
    Column("emergency_contact_name", "紧急联系人", "Emergency contact"),
    Column(
        "emergency_contact_phone",
        "紧急联系人电话",
        "Emergency contact phone",
        ("紧急联系电话",),
    ),
)


def match_columns(headers: list[str], columns: tuple[Column, ...]) -> dict[str, int]:
    """Column key → position in ``headers``; the first header that fits wins.

    Raises:
        DomainError: a required column is missing (400, each named).
    """
    positions: dict[str, int] = {}
    normalised = [normalise_header(header) for header in headers]
    for column in columns:
        names = column.names()
        for position, header in enumerate(normalised):
            if header in names:
                positions[column.key] = position
                break
    missing = [column for column in columns if column.required and column.key not in positions]
    if missing:
        raise DomainError(
            text("文件缺少必需的列", "The file lacks required columns"),
            "missing_columns",
            400,
            [
                FieldError(
                    column.key,
                    "missing_column",
                    text(f"缺少“{column.zh}”列", f"no “{column.en}” ({column.zh}) column"),
                )
                for column in missing
            ],
        )
    return positions


def template_headers(columns: tuple[Column, ...]) -> list[str]:
    """The header row of an empty template (Chinese, required ones marked ``*``)."""
    return [f"{column.zh}{'*' if column.required else ''}" for column in columns]


# -- batches -------------------------------------------------------------------------------


def check_upload(kind: str, name: str, content: bytes, *, count: bool = False) -> int:
    """Refuse at once a file that cannot be imported; with ``count``, return its data rows.

    Only the header is read unless ``count`` is asked for (a pass over the whole file).

    Raises:
        DomainError: empty, too large, unreadable, or missing required columns (400).
    """
    if not content:
        raise _upload_error("empty", "文件为空", "The file is empty")
    if len(content) > MAX_UPLOAD_BYTES:
        raise _upload_error(
            "too_large",
            f"文件超过 {MAX_UPLOAD_BYTES // 1024 // 1024} MB",
            f"The file exceeds {MAX_UPLOAD_BYTES // 1024 // 1024} MB",
        )
    try:
        with open_sheet(name, content) as sheet:
            match_columns(sheet.headers, columns_of(kind))
            return sheet.count() if count else 0
    except SheetError as error:
        raise _upload_error("unreadable", str(error), str(error)) from error


def _upload_error(rule: str, zh: str, en: str) -> DomainError:
    message = text(zh, en)
    return DomainError(message, "invalid_file", 400, [FieldError("file", rule, message)])


def columns_of(kind: str) -> tuple[Column, ...]:
    """The columns an import of ``kind`` reads."""
    if kind == "units":
        from core.units.importer import UNIT_COLUMNS

        return UNIT_COLUMNS
    return VOLUNTEER_COLUMNS


def create_batch(
    session: Session,
    *,
    kind: str,
    unit: Unit,
    name: str,
    content: bytes,
    by_user_id: int | None,
    rows_total: int = 0,
) -> ImportBatch:
    """Store the uploaded file and open its batch (pending). The caller enqueues the job."""
    if kind not in KINDS:
        raise ValueError(f"unknown import kind {kind!r}")
    safe_name = re.sub(r"[\\/\x00-\x1f]", "_", name or "upload")[-200:]
    media_type = XLSX_MEDIA_TYPE if content.startswith(b"PK\x03\x04") else "text/csv"
    stored = StoredFile(
        name=safe_name,
        media_type=media_type,
        content=content,
        size=len(content),
        unit_path=unit.path,
        created_by_id=by_user_id,
    )
    session.add(stored)
    session.flush()
    batch = ImportBatch(
        kind=kind,
        unit_id=unit.id,
        unit_path=unit.path,
        file_id=stored.id,
        rows_total=rows_total,
        created_by_id=by_user_id,
    )
    session.add(batch)
    session.flush()
    return batch


def file_name_of(session: Session, batch: ImportBatch) -> str:
    """The uploaded file's name (without loading its bytes)."""
    return session.exec(select(StoredFile.name).where(StoredFile.id == batch.file_id)).one()


# -- refused rows --------------------------------------------------------------------------


def _part_prefix(batch_id: int) -> str:
    return f"import-{batch_id}-refused-"


@dataclass
class Refusals:
    """Refused rows of the chunk being stored; written with the chunk's transaction."""

    batch: ImportBatch
    rows: list[tuple[int, str, list[str | None]]] = field(default_factory=list)

    def add(self, row_number: int, reasons: list[str], cells: list[str | None]) -> None:
        """Refuse a row, giving every reason."""
        self.rows.append((row_number, "；".join(reasons), cells))

    def write(self, session: Session) -> None:
        """Keep this chunk's refused rows as one part of the batch's error file."""
        if not self.rows:
            return
        lines = "\n".join(
            json.dumps([number, reason, cells], ensure_ascii=False)
            for number, reason, cells in self.rows
        ).encode()
        session.add(
            StoredFile(
                name=f"{_part_prefix(self.batch.id)}{self.rows[0][0]:010d}.jsonl",
                media_type=PART_MEDIA_TYPE,
                content=lines,
                size=len(lines),
                unit_path=self.batch.unit_path,
                created_by_id=self.batch.created_by_id,
            )
        )
        self.rows = []


def _parts(session: Session, batch_id: int) -> list[int]:
    return list(
        session.exec(
            select(StoredFile.id)
            .where(col(StoredFile.name).startswith(_part_prefix(batch_id)))
            .where(StoredFile.media_type == PART_MEDIA_TYPE)
            .order_by(StoredFile.name)
        )
    )


def error_workbook(session: Session, batch: ImportBatch, headers: list[str]) -> StoredFile | None:
    """Join the batch's refused-row parts into one XLSX file (the parts are removed)."""
    part_ids = _parts(session, batch.id)
    if not part_ids:
        return None

    def parts() -> Iterator[list[Any]]:
        for part_id in part_ids:
            part = session.get(StoredFile, part_id)
            for line in part.content.decode().splitlines():
                number, reason, cells = json.loads(line)
                cells = list(cells) + [None] * (len(headers) - len(cells))
                yield [*cells[: len(headers)], number, reason]
            session.expunge(part)

    def rows() -> Iterator[list[Any]]:
        # In the file's order; a very large set streams in the order it was stored.
        if batch.refused <= SORT_LIMIT:
            yield from sorted(parts(), key=lambda row: row[-2])
        else:
            yield from parts()

    reason_header = text("错误原因", "Reason")
    row_header = text("行号", "Row")
    content = write_workbook([*headers, row_header, reason_header], rows())
    stem = re.sub(r"\.(csv|xlsx)$", "", file_name_of(session, batch), flags=re.IGNORECASE)
    stored = StoredFile(
        name=f"{stem}-{text('错误行', 'refused')}.xlsx"[-200:],
        media_type=XLSX_MEDIA_TYPE,
        content=content,
        size=len(content),
        unit_path=batch.unit_path,
        created_by_id=batch.created_by_id,
    )
    session.add(stored)
    session.execute(sa.delete(StoredFile).where(col(StoredFile.id).in_(part_ids)))
    session.flush()
    return stored


# -- running -------------------------------------------------------------------------------


class RowHandler:
    """What one kind of import does with its rows (volunteers here, units in core.units)."""

    columns: tuple[Column, ...] = ()

    def __init__(self, session_factory: SessionFactory, keyring: Keyring, plugins: Any) -> None:
        self.session_factory = session_factory
        self.keyring = keyring
        self.plugins = plugins
        self.positions: dict[str, int] = {}

    def prepare(self, session: Session, batch: ImportBatch, sheet: Sheet) -> None:
        """Read what every chunk needs (the importing unit's subtree …)."""
        self.positions = match_columns(sheet.headers, self.columns)

    def rows(self, sheet: Sheet, start: int) -> Iterator[tuple[int, list[str | None]]]:
        """The data rows in the order they are stored, from the ``start``-th."""
        return sheet.rows(start)

    def store(
        self,
        session: Session,
        batch: ImportBatch,
        chunk: list[tuple[int, list[str | None]]],
        refusals: Refusals,
    ) -> tuple[int, int]:
        """Store a chunk's valid rows, refuse the others; return ``(created, updated)``."""
        raise NotImplementedError

    def cell(self, cells: list[str | None], key: str) -> str | None:
        """The value of column ``key`` in a row (``None`` if absent or blank)."""
        position = self.positions.get(key)
        if position is None or position >= len(cells):
            return None
        return cells[position]


def handler_for(
    kind: str, session_factory: SessionFactory, keyring: Keyring, plugins: Any
) -> RowHandler:
    """The row handler of an import kind."""
    if kind == "units":
        from core.units.importer import UnitRows

        return UnitRows(session_factory, keyring, plugins)
    return VolunteerRows(session_factory, keyring, plugins)


def run_batch(
    session_factory: SessionFactory,
    keyring: Keyring,
    plugins: Any,
    batch_id: int,
    *,
    progress: Progress | None = None,
    budget_seconds: float | None = None,
    actor: AuditActor | None = None,
) -> bool:
    """Import a batch's rows from where it stands; return whether this run is through.

    False means rows remain and another run should continue. A run that finds another run
    of the same batch ahead of it stops (True): that one finishes the batch.

    With ``budget_seconds`` the run stops after the chunk that exceeds it (the batch stays
    ``running`` and a later run continues from ``rows_done``). The rows' writes are audited
    as done by ``actor``, by default the user who uploaded the file.
    """
    started = time.monotonic()
    with session_factory() as session:
        batch = session.get(ImportBatch, batch_id)
        if batch is None or batch.status in (ImportStatus.done, ImportStatus.failed):
            return True
        session.info[ACTOR] = actor or _uploader(session, batch)
        stored = session.get(StoredFile, batch.file_id)
        name, content = stored.name, stored.content
        session.expunge(stored)
        del stored
        handler = handler_for(batch.kind, session_factory, keyring, plugins)
        try:
            with open_sheet(name, content) as sheet:
                handler.prepare(session, batch, sheet)
                if not batch.rows_total:
                    batch.rows_total = sheet.count()
                batch.status = ImportStatus.running
                session.add(batch)
                session.commit()
                if progress:
                    progress(batch.rows_done, batch.rows_total)
                finished = _run_rows(
                    session, batch, handler, sheet, progress, started, budget_seconds
                )
                if not finished:
                    return False
                error_file = error_workbook(session, batch, sheet.headers)
        except Superseded:
            session.rollback()
            return True  # the run that got further finishes the batch
        except (SheetError, DomainError) as error:
            session.rollback()
            _fail(session, batch_id, error)
            return True
        batch.error_file_id = error_file.id if error_file else None
        batch.rows_total = max(batch.rows_total, batch.rows_done)
        batch.status = ImportStatus.done
        batch.finished_at = utcnow()
        batch.message = None
        session.add(batch)
        forget_upload(session, batch)
        session.commit()
        if progress:
            progress(batch.rows_done, batch.rows_total)
    return True


def _uploader(session: Session, batch: ImportBatch) -> AuditActor:
    from core.accounts.models import User

    username = None
    if batch.created_by_id is not None:
        username = session.exec(select(User.username).where(User.id == batch.created_by_id)).first()
    return AuditActor(batch.created_by_id, username, None, ACTION_OF_KIND.get(batch.kind))


def _run_rows(
    session: Session,
    batch: ImportBatch,
    handler: RowHandler,
    sheet: Sheet,
    progress: Progress | None,
    started: float,
    budget_seconds: float | None,
) -> bool:
    chunk: list[tuple[int, list[str | None]]] = []
    for row in handler.rows(sheet, batch.rows_done):
        chunk.append(row)
        if len(chunk) >= CHUNK:
            _commit_chunk(session, batch, handler, chunk)
            chunk = []
            if progress:
                progress(batch.rows_done, batch.rows_total)
            if budget_seconds is not None and time.monotonic() - started > budget_seconds:
                return False
    if chunk:
        _commit_chunk(session, batch, handler, chunk)
        if progress:
            progress(batch.rows_done, batch.rows_total)
    return True


class Superseded(Exception):
    """Another run of the same batch got further meanwhile; this one stops."""


def _claim(session: Session, batch: ImportBatch) -> None:
    """Lock the batch for this chunk and check no other run has moved it on."""
    stored = session.exec(
        select(ImportBatch.rows_done).where(ImportBatch.id == batch.id).with_for_update()
    ).one()
    if stored != batch.rows_done:
        raise Superseded(f"import {batch.id} is at row {stored}, not {batch.rows_done}")


def _commit_chunk(
    session: Session, batch: ImportBatch, handler: RowHandler, chunk: list[tuple[int, list]]
) -> None:
    """Store one chunk and advance the batch, in one transaction.

    If the database refuses the chunk (a person registered by someone else meanwhile), the
    chunk is stored again row by row, so only the rows at fault are refused.
    """
    refusals = Refusals(batch)
    try:
        _claim(session, batch)
        created, updated = handler.store(session, batch, chunk, refusals)
        _advance(session, batch, len(chunk), created, updated, refusals)
        session.commit()
        _let_go(session, batch)
        return
    except sa.exc.IntegrityError:
        session.rollback()
    batch = session.get(ImportBatch, batch.id)
    _claim(session, batch)
    created = updated = 0
    refusals = Refusals(batch)
    for row in chunk:
        single = Refusals(batch)
        try:
            with session.begin_nested():
                one_created, one_updated = handler.store(session, batch, [row], single)
        except sa.exc.IntegrityError:
            single.rows = []
            single.add(
                row[0],
                [text("与已登记的数据冲突（身份证号或代码重复）", "conflicts with existing data")],
                row[1],
            )
            one_created = one_updated = 0
        created += one_created
        updated += one_updated
        refusals.rows += single.rows
    _advance(session, batch, len(chunk), created, updated, refusals)
    session.commit()
    _let_go(session, batch)


def _let_go(session: Session, batch: ImportBatch) -> None:
    """Forget the chunk's rows, so a run over a million rows keeps a chunk in memory."""
    session.expunge_all()
    session.add(batch)


def _advance(
    session: Session, batch: ImportBatch, rows: int, created: int, updated: int, refusals: Refusals
) -> None:
    batch.rows_done += rows
    batch.created += created
    batch.updated += updated
    batch.refused += len(refusals.rows)
    refusals.write(session)
    session.add(batch)


def _fail(session: Session, batch_id: int, error: Exception) -> None:
    batch = session.get(ImportBatch, batch_id)
    batch.status = ImportStatus.failed
    batch.finished_at = utcnow()
    message = str(error)
    if isinstance(error, DomainError) and error.errors:
        message += ": " + "; ".join(e.message for e in error.errors)
    batch.message = message[:500]
    session.add(batch)
    forget_upload(session, batch)
    session.commit()


def forget_upload(session: Session, batch: ImportBatch) -> None:
    """Empty a finished volunteer upload: it holds ID numbers and phones in clear.

    What was imported is in the encrypted person records, what was refused in the error
    workbook; the stored row keeps the file's name and size for the record.
    """
    if batch.kind == "volunteers":
        session.execute(
            sa.update(StoredFile).where(StoredFile.id == batch.file_id).values(content=b"")
        )


def mark_failed(session_factory: SessionFactory, batch_id: int, message: str) -> None:
    """Record that a batch could not finish (the job's last retry failed)."""
    with session_factory() as session:
        batch = session.get(ImportBatch, batch_id)
        if batch is not None and batch.status not in (ImportStatus.done, ImportStatus.failed):
            batch.status = ImportStatus.failed
            batch.finished_at = utcnow()
            batch.message = message[:500]
            session.add(batch)
            forget_upload(session, batch)
            session.commit()


# -- volunteers ----------------------------------------------------------------------------

_SPLIT = re.compile(r"[,，、;；/\s]+")
_EDUCATION_BY_NAME = {
    **{code: code for code in EDUCATION},
    **{label.zh: code for code, label in EDUCATION.items()},
    **{label.en.lower(): code for code, label in EDUCATION.items()},
    "高中": "senior",
    "中专": "senior",
    "大学": "bachelor",
    "硕士": "postgraduate",
    "博士": "postgraduate",
}
_SKILL_BY_NAME = {
    **{code: code for code in SKILLS},
    **{label.zh: code for code, label in SKILLS.items()},
    **{label.en.lower(): code for code, label in SKILLS.items()},
}
TEAM_LEVELS = (UnitLevel.district, UnitLevel.township, UnitLevel.village)


@dataclass(frozen=True)
class Team:
    """A unit a volunteer may be placed in, as the import needs it."""

    id: int
    path: str
    district_id: int


@dataclass
class _Valid:
    number: int
    cells: list[str | None]
    values: dict[str, Any]  # the person's columns (core.people.services.person_values)
    team: Team

    @property
    def index(self) -> str:
        """The blind index of the resident ID: the row's key."""
        return self.values["id_number_index"]


class VolunteerRows(RowHandler):
    """Volunteers: person details checked like a registration, a team in the subtree."""

    columns = VOLUNTEER_COLUMNS

    def prepare(self, session: Session, batch: ImportBatch, sheet: Sheet) -> None:
        """The teams of the importing unit's subtree, by code, and the districts' codes."""
        super().prepare(session, batch, sheet)
        unit = session.get(Unit, batch.unit_id)
        self.unit_path = unit.path
        low, high = unit.subtree_bounds()
        self.teams: dict[str, Team] = {}
        self.outside: set[str] = set()
        self.unusable: dict[str, str] = {}
        for unit_id, code, path, level, active in session.exec(
            select(Unit.id, Unit.code, Unit.path, Unit.level, Unit.active).where(
                Unit.path >= low, Unit.path < high, col(Unit.code).is_not(None)
            )
        ):
            parts = path.split(".")
            if not active:
                self.unusable[code] = text("该队伍已撤并", "that team has been merged away")
            elif level not in TEAM_LEVELS:
                self.unusable[code] = text(
                    "市级单位不能直接编入志愿者", "not a team volunteers join"
                )
            else:
                self.teams[code] = Team(unit_id, path, int(parts[1]))
        district_ids = {team.district_id for team in self.teams.values()}
        self.district_codes = {
            district_id: code or str(district_id)
            for district_id, code in session.exec(
                select(Unit.id, Unit.code).where(col(Unit.id).in_(district_ids or {0}))
            )
        }
        self.now = utcnow()
        self.today = self.now.date()
        self.labels = {column.key: text(column.zh, column.en) for column in VOLUNTEER_COLUMNS}

    def _parse(
        self, cells: list[str | None]
    ) -> tuple[PersonDetails | None, Team | None, list[str]]:
        reasons: list[str] = []
        raw_skills = self.cell(cells, "skills")
        skills = [
            _SKILL_BY_NAME.get(item.lower(), _SKILL_BY_NAME.get(item, item))
            for item in _SPLIT.split(raw_skills or "")
            if item
        ]
        education = self.cell(cells, "education")
        if education:
            education = _EDUCATION_BY_NAME.get(
                education, _EDUCATION_BY_NAME.get(education.lower(), education)
            )
        id_number = self.cell(cells, "id_number")
        details = PersonDetails(
            name=self.cell(cells, "name") or "",
            id_number=id_number,
            phone=self.cell(cells, "phone"),
            address=self.cell(cells, "address"),
            education=education,
            occupation=self.cell(cells, "occupation"),
            skills=skills,
            emergency_contact_name=self.cell(cells, "emergency_contact_name"),
            emergency_contact_phone=self.cell(cells, "emergency_contact_phone"),
        )
        if not id_number:
            reasons.append(text("身份证号：必填", "ID number: is required"))
        elif "e+" in id_number.lower() or "." in id_number:
            reasons.append(
                text(
                    "身份证号：被表格存成了数字，末几位已丢失，请把该列设为文本后重新填写",
                    "ID number: the spreadsheet stored it as a number and lost digits; "
                    "format the column as text",
                )
            )
            details.id_number = None
        labels = self.labels
        for error in check_details(details, today=self.today, adult=True):
            reasons.append(f"{labels.get(error.field, error.field)}：{error.message}")
        for attribute, limit in (
            ("address", 200),
            ("occupation", 64),
            ("emergency_contact_name", 50),
        ):
            value = getattr(details, attribute)
            if value and len(value) > limit:
                reasons.append(
                    f"{labels[attribute]}："
                    + text(f"最多 {limit} 个字", f"at most {limit} characters")
                )
        code = self.cell(cells, "team_code")
        team = None
        if not code:
            reasons.append(text("队伍代码：必填", "Team code: is required"))
        elif code in self.teams:
            team = self.teams[code]
        elif code in self.unusable:
            reasons.append(f"{labels['team_code']}：{self.unusable[code]}")
        else:
            reasons.append(
                text(
                    f"队伍代码：{code} 不在本单位范围内",
                    f"Team code: {code} is not a unit within the importing unit",
                )
            )
        return details, team, reasons

    def store(
        self,
        session: Session,
        batch: ImportBatch,
        chunk: list[tuple[int, list[str | None]]],
        refusals: Refusals,
    ) -> tuple[int, int]:
        """Check every row, then write the chunk's new people, volunteers and memberships in bulk.

        New rows are written as plain dicts (``core.audit.bulk``: COPY on PostgreSQL) and
        recorded by one audit entry for the chunk, listing their ids; people and volunteers
        already there are updated through the session, audited row by row with what changed.
        A person listed twice in one chunk is written once and then updated by the later row,
        as if the rows had come in separate files.
        """
        pending: list[_Valid] = []
        for number, cells in chunk:
            if not any(cells):
                continue  # a blank line is not a row
            details, team, reasons = self._parse(cells)
            if reasons:
                refusals.add(number, reasons, cells)
                continue
            pending.append(_Valid(number, cells, person_values(details, self.keyring), team))
        bulk = BulkWrite(
            session,
            object_type="import_batch",
            object_id=batch.id,
            detail={"batch": batch.id, "rows": [chunk[0][0], chunk[-1][0]]},
        )
        created = updated = 0
        while pending:
            keys: set[str] = set()
            now, later = [], []
            for row in pending:
                (later if row.index in keys else now).append(row)
                keys.add(row.index)
            more_created, more_updated = self._store_valid(session, now, refusals, bulk)
            created, updated = created + more_created, updated + more_updated
            pending = later
        bulk.record(count=created)
        return created, updated

    def _store_valid(
        self, session: Session, valid: list[_Valid], refusals: Refusals, bulk: BulkWrite
    ) -> tuple[int, int]:
        """Write rows with distinct keys: new people and volunteers in bulk, others updated."""
        people = {
            person.id_number_index: person
            for person in session.exec(
                select(Person).where(col(Person.id_number_index).in_([r.index for r in valid]))
            )
        }
        volunteers = {
            volunteer.person_id: volunteer
            for volunteer in session.exec(
                select(Volunteer).where(
                    col(Volunteer.person_id).in_([p.id for p in people.values()] or [0])
                )
            )
        }
        created = updated = 0
        new_people: list[dict[str, Any]] = []
        enrol: list[tuple[dict[str, Any], Team, str]] = []
        transfers: list[tuple[Volunteer, Person, Team]] = []
        for row in valid:
            person = people.get(row.index)
            volunteer = volunteers.get(person.id) if person is not None else None
            held = [person.unit_path] if person is not None else []
            held += [volunteer.unit_path] if volunteer is not None else []
            if any(not path.startswith(self.unit_path) for path in held):
                refusals.add(
                    row.number,
                    [
                        text(
                            "身份证号：此人已在本单位范围以外登记，请联系其所在单位",
                            "ID number: this person is registered outside the importing unit",
                        )
                    ],
                    row.cells,
                )
                continue
            if person is None:
                values = dict(
                    row.values, unit_id=row.team.id, unit_path=row.team.path, created_at=self.now
                )
                new_people.append(values)
                enrol.append((values, row.team, row.index))
                created += 1
                continue
            for column, value in row.values.items():
                setattr(person, column, value)
            if volunteer is None:
                person.unit_id, person.unit_path = row.team.id, row.team.path
                enrol.append((_listed(person), row.team, row.index))
                created += 1
                continue
            if volunteer.import_key is None:
                volunteer.import_key = row.index
            if volunteer.unit_id != row.team.id:
                transfers.append((volunteer, person, row.team))
            updated += 1
        bulk.insert(Person.__table__, new_people)
        session.flush()
        self._enrol(session, enrol, bulk)
        self._transfer(session, transfers)
        session.flush()
        return created, updated

    def _enrol(
        self, session: Session, enrol: list[tuple[dict[str, Any], Team, str]], bulk: BulkWrite
    ) -> None:
        """Make volunteers of new people, numbered per district, each in their team.

        Each district's numbers are taken as one block (``core.numbering.take_block``).
        """
        if not enrol:
            return
        by_district: dict[int, list[tuple[dict[str, Any], Team, str]]] = {}
        for item in enrol:
            by_district.setdefault(item[1].district_id, []).append(item)
        year = self.today.year
        volunteers: list[dict[str, Any]] = []
        for district_id, items in sorted(by_district.items()):
            prefix = self.district_codes.get(district_id, str(district_id))
            first = take_block(session, "volunteer", prefix, year, len(items))
            for sequence, (person, team, key) in enumerate(items, start=first):
                volunteers.append(
                    {
                        "person_id": person["id"],
                        "unit_id": team.id,
                        "unit_path": team.path,
                        "number": f"{prefix}{year}{sequence:06d}",
                        "status": VolunteerStatus.active.value,
                        "registered_at": self.now,
                        "import_key": key,
                        "district_id": team.district_id,
                        "name": person["name"],
                        "skills": person["skills"],
                    }
                )
        bulk.insert(Volunteer.__table__, volunteers)
        bulk.insert(
            TeamMembership.__table__,
            [
                {
                    "volunteer_id": volunteer["id"],
                    "unit_id": volunteer["unit_id"],
                    "unit_path": volunteer["unit_path"],
                    "role": TeamRole.member.value,
                    "since": self.today,
                }
                for volunteer in volunteers
            ],
        )

    def _transfer(self, session: Session, transfers: list[tuple[Volunteer, Person, Team]]) -> None:
        """Place volunteers whose team code changed in their new team (the old one ends today)."""
        if not transfers:
            return
        current = session.exec(
            select(TeamMembership).where(
                col(TeamMembership.volunteer_id).in_([v.id for v, _, _ in transfers]),
                col(TeamMembership.until).is_(None),
            )
        ).all()
        by_volunteer: dict[int, list[TeamMembership]] = {}
        for membership in current:
            by_volunteer.setdefault(membership.volunteer_id, []).append(membership)
        for volunteer, person, team in transfers:
            for membership in by_volunteer.get(volunteer.id, []):
                if membership.unit_id == volunteer.unit_id:
                    membership.until = self.today
            volunteer.unit_id, volunteer.unit_path = team.id, team.path
            person.unit_id, person.unit_path = team.id, team.path
            session.add(
                TeamMembership(
                    volunteer_id=volunteer.id,
                    unit_id=team.id,
                    unit_path=team.path,
                    role=TeamRole.member,
                    since=self.today,
                )
            )


def _listed(person: Person) -> dict[str, Any]:
    """What a new volunteer row copies from a person already registered."""
    return {"id": person.id, "name": person.name, "skills": list(person.skills or [])}


def batches_in_reach(principal: Any, kind: str) -> Any:
    """Batches of ``kind`` whose unit the principal may import at."""
    from core.access import scope_predicate

    return select(ImportBatch).where(
        ImportBatch.kind == kind,
        scope_predicate(ImportBatch.unit_path, principal, ACTION_OF_KIND[kind]),
    )


__all__ = [
    "ACTION_OF_KIND",
    "CHUNK",
    "Column",
    "Refusals",
    "RowHandler",
    "VOLUNTEER_COLUMNS",
    "VolunteerRows",
    "batches_in_reach",
    "check_upload",
    "create_batch",
    "error_workbook",
    "match_columns",
    "run_batch",
]
