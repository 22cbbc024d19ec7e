"""Bulk writes around the ORM, audited by one chained entry per operation.

A bulk operation (one chunk of a volunteer import) writes its new rows with plain-dict
statements — ``COPY`` on PostgreSQL, an ``INSERT … RETURNING id`` executemany elsewhere —
which the session's per-row capture does not see (``core.audit.recorder``). It records them
itself, as one ``bulk_insert`` entry holding:

* who, when, under which action (as every entry), and the common unit path of the rows;
* what the operation was (``object_type``/``object_id``, e.g. the import batch, and details
  such as the spreadsheet rows it covered);
* ``count`` and ``ids``: every id written, per table, as ``[first, last]`` ranges — indexed in
  ``audit_object_range``, so the trail filtered by one record finds the entry;
* ``digest``: SHA-256 over the rows' audited values (masked and hidden exactly as per-row
  entries would hold them), so the entry pins what was written; :func:`rows_digest` computes
  it again from the rows as they stand.

The entry is chained like any other; ``pingan audit verify`` also checks that the id index
matches the entries.
"""

import functools
import hashlib
import json
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from core.audit.models import AuditEntry
from core.audit.recorder import canonical_at, record, value_masker

BULK_EVENT = "bulk_insert"

Runs = list[list[int]]


def runs_of(ids: Iterable[int]) -> Runs:
    """Ids as sorted ``[first, last]`` ranges of consecutive ids."""
    runs: Runs = []
    for value in sorted(ids):
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return runs


def ids_of(runs: Runs) -> list[int]:
    """The ids ``[first, last]`` ranges stand for."""
    return [value for first, last in runs for value in range(first, last + 1)]


def covered_ids(entry: AuditEntry) -> dict[str, Runs]:
    """The ranges of ids a bulk entry lists, per table (empty for any other entry)."""
    if entry.event != BULK_EVENT or not entry.after:
        return {}
    return {table: [list(run) for run in runs] for table, runs in entry.after["ids"].items()}


def insert_rows(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (plain dicts of column values, no ``id``) and give each its ``id``.

    On PostgreSQL the ids are taken from the table's sequence in one query and the rows are
    loaded with ``COPY`` (each value through its column type, so encrypted columns are
    encrypted as by any insert); elsewhere one executemany ``INSERT … RETURNING id`` in the
    rows' order. Columns a row leaves out are written NULL.
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, table, rows)
    else:
        _insert_returning(session, table, rows)


def _insert_returning(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    keys = [column.key for column in table.columns if column.key != "id"]
    statement = sa.insert(table).returning(table.c.id, sort_by_parameter_order=True)
    complete = [{key: row.get(key) for key in keys} for row in rows]
    for row, new_id in zip(rows, session.execute(statement, complete).scalars(), strict=True):
        row["id"] = new_id


def _copy(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    ids = session.execute(
        sa.text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": len(rows)},
    ).scalars()
    for row, new_id in zip(rows, ids, strict=True):
        row["id"] = new_id
    dialect = session.get_bind().dialect
    keys = [column.key for column in table.columns]
    converters = _converters(table, dialect)
    names = ", ".join(dialect.identifier_preparer.quote(column.name) for column in table.columns)
    statement = f"COPY {table.name} ({names}) FROM STDIN"
    driver = session.connection().connection.driver_connection
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                values = [row.get(key) for key in keys]
                for position, convert in converters:
                    if values[position] is not None:
                        values[position] = convert(values[position])
                copy.write_row(values)
    except dialect.loaded_dbapi.IntegrityError as error:
        # As SQLAlchemy reports it for any statement, so callers handle one kind of error.
        raise sa.exc.IntegrityError(statement, None, error) from error


@functools.cache
def _converters(table: sa.Table, dialect: sa.Dialect) -> list[tuple[int, Callable[[Any], Any]]]:
    """By position, the columns whose values go through their type before being sent.

    As an INSERT would bind them: encrypted, JSON as text …; made once per table and
    dialect, since building a type's processor costs more than using it.
    """
    processors = (
        column.type.dialect_impl(dialect).bind_processor(dialect) for column in table.columns
    )
    return [(position, process) for position, process in enumerate(processors) if process]


class BulkWrite:
    """The new rows of one bulk operation, written and then recorded as one entry.

    Args:
        session: The operation's session; rows and entry are in its transaction.
        object_type: What the operation is about (``"import_batch"``).
        object_id: Which one.
        detail: What else the entry should say (the spreadsheet rows covered …).
    """

    def __init__(
        self, session: Session, *, object_type: str, object_id: Any, detail: dict[str, Any]
    ) -> None:
        self.session = session
        self.object_type = object_type
        self.object_id = object_id
        self.detail = detail
        self._lines: dict[str, list[tuple[int, bytes]]] = {}
        self._paths: set[str] = set()

    def insert(self, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """Write ``rows`` into ``table`` (:func:`insert_rows`) and account for them."""
        if not rows:
            return
        insert_rows(self.session, table, rows)
        snapshot = _snapshotter(self.session, table)
        self._lines.setdefault(table.name, []).extend((row["id"], snapshot(row)) for row in rows)
        self._paths.update(row["unit_path"] for row in rows if row.get("unit_path"))

    def record(self, count: int) -> None:
        """Add the entry to the transaction; nothing when no row was written.

        ``count`` is how many of the operation's own records it made (volunteers, for an
        import), whatever the number of rows in each table.
        """
        if not self._lines:
            return
        ids = {
            table: runs_of(row_id for row_id, _ in lines) for table, lines in self._lines.items()
        }
        record(
            self.session,
            BULK_EVENT,
            object_type=self.object_type,
            object_id=self.object_id,
            unit_path=_common_path(self._paths),
            after={
                **self.detail,
                "count": count,
                "ids": ids,
                "digest": _digest(self._lines),
            },
            covers=ids,
        )


def rows_digest(session: Session, ids: dict[str, Runs]) -> str:
    """The digest of the rows with these ids as they stand now.

    It equals the entry's as long as the rows are as they were written.
    """
    lines: dict[str, list[tuple[int, bytes]]] = {}
    for name, runs in ids.items():
        table = SQLModel.metadata.tables[name]
        snapshot = _snapshotter(session, table)
        found = lines.setdefault(name, [])
        for first, last in runs:
            for row in session.execute(
                sa.select(table).where(table.c.id.between(first, last)).order_by(table.c.id)
            ).mappings():
                found.append((row["id"], snapshot(dict(row))))
    return _digest(lines)


def _snapshotter(session: Session, table: sa.Table) -> Callable[[dict[str, Any]], bytes]:
    """One row's audited values as one canonical line.

    The values are masked and hidden as a per-row entry would hold them, and written as a
    JSON list in the table's column order (timestamps as the chain writes them).
    """
    keys = [column.key for column in table.columns]
    maskers = [
        (position, masker)
        for position, column in enumerate(table.columns)
        if (masker := value_masker(session, table.name, column)) is not None
    ]

    def line(row: dict[str, Any]) -> bytes:
        values = [row.get(key) for key in keys]
        for position, masker in maskers:
            values[position] = masker(values[position])
        return json.dumps(values, ensure_ascii=False, default=_canonical).encode()

    return line


def _canonical(value: Any) -> str:
    return canonical_at(value) if isinstance(value, datetime) else str(value)


def _digest(lines: dict[str, list[tuple[int, bytes]]]) -> str:
    """SHA-256 over each table's rows in id order, the tables in name order."""
    total = hashlib.sha256()
    for name in sorted(lines):
        total.update(name.encode() + b"\n")
        for _, line in sorted(lines[name], key=lambda item: item[0]):
            total.update(line + b"\n")
    return total.hexdigest()


def _common_path(paths: set[str]) -> str | None:
    """The deepest unit path all ``paths`` lie under (None for none)."""
    if not paths:
        return None
    common = os.path.commonprefix(sorted(paths))
    return common[: common.rfind(".") + 1] or None
