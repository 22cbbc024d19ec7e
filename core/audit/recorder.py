"""Writing the audit trail in the same transaction as the change it records.

Every insert, update and delete of an audited table that the session flushes is captured by
session events, so no write route can forget it; reads and exports of sensitive data and
sign-ins are recorded explicitly with :func:`record`. Entries are chained when the transaction
commits, under a lock, so the chain follows commit order.

Statements the session does not flush — Core ``insert()``/``update()``, ``COPY`` — are not
captured: whoever issues them records them explicitly. Unit moves record the rows rewritten per
table; bulk writes (the volunteer import) go through :mod:`core.audit.bulk`, which writes the
rows and records **one entry per chunk** naming what was done, the rows' ids and a digest of
their content, instead of one entry per row. The per-row capture is thereby left out only for
those statements: whatever the same transaction changes through the session (people updated by
a re-import, the batch's progress) is captured row by row as always. Why: at a million
volunteers the per-row entries were half the import's time and doubled its writes, while an
entry per chunk keeps every guarantee an auditor relies on — the entry is chained like any
other (``pingan audit verify``), it names who, when and under which action, it lists every id
written (indexed in ``audit_object_range``, so filtering the trail by one record finds it), and
its digest pins the rows' audited values as written.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlmodel import Session, SQLModel, select

from core.audit.models import AuditEntry, AuditObjectRange
from core.security.fields import Encrypted
from core.security.masking import mask
from core.units.models import utcnow

ACTOR = "pingan.audit.actor"
SENSITIVE = "pingan.audit.sensitive"  # {(table, field): mask kind}
_PENDING = "pingan.audit.pending"
_COVERS = "covers"  # not content: the ranges a bulk entry's ``after`` lists, for the index
_CHAIN_LOCK = 74_201  # PostgreSQL advisory lock key serialising the chain
GENESIS = "0" * 64
# What an entry's hash covers, in the order exports show it.
CONTENT_FIELDS = (
    "at",
    "user_id",
    "username",
    "address",
    "event",
    "action",
    "object_type",
    "object_id",
    "unit_path",
    "before",
    "after",
    "reason",
    "outcome",
)
SECRET = "******"


@dataclass(frozen=True)
class AuditActor:
    """Who is acting in a session: a user (with the route's action) or the system."""

    user_id: int | None
    username: str | None
    address: str | None = None
    action: str | None = None


def record(
    session: Session,
    event_name: str,
    *,
    action: str | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    unit_path: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
    outcome: str = "ok",
    actor: AuditActor | None = None,
    covers: dict[str, list[list[int]]] | None = None,
) -> None:
    """Add an entry to ``session``'s transaction (written when it commits).

    ``covers`` names the records a bulk entry stands for (table → ``[first, last]`` id
    ranges); they are indexed in ``audit_object_range`` with the entry.
    """
    actor = actor or session.info.get(ACTOR) or AuditActor(None, None)
    session.info.setdefault(_PENDING, []).append(
        {
            _COVERS: covers,
            "at": utcnow(),
            "user_id": actor.user_id,
            "username": actor.username,
            "address": actor.address,
            "event": event_name,
            "action": action or actor.action,
            "object_type": object_type,
            "object_id": None if object_id is None else str(object_id),
            "unit_path": unit_path,
            "before": before,
            "after": after,
            "reason": reason,
            "outcome": outcome,
        }
    )


def canonical_at(value: datetime) -> str:
    """The timestamp as hashed: UTC, microseconds, no offset (SQLite drops offsets)."""
    value = value.astimezone(UTC) if value.tzinfo else value
    return value.replace(tzinfo=None).isoformat(timespec="microseconds")


def entry_hash(prev_hash: str, entry: dict[str, Any] | AuditEntry) -> str:
    """SHA-256 over the previous hash and the entry's content."""
    fields = entry if isinstance(entry, dict) else entry.model_dump()
    content = {key: fields.get(key) for key in CONTENT_FIELDS if key != "at"}
    content["at"] = canonical_at(fields["at"])
    payload = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _audited(instance: object) -> bool:
    return (
        isinstance(instance, SQLModel)
        and getattr(type(instance), "__audit__", True)
        and hasattr(type(instance), "__table__")
    )


def value_masker(session: Session, table: str, column: sa.Column) -> Callable[[Any], Any] | None:
    """How a value of ``column`` is masked or hidden in the trail; None if it is kept."""
    kind = session.info.get(SENSITIVE, {}).get((table, column.key))
    if kind:
        return lambda value: None if value is None else mask(kind, str(value))
    if isinstance(column.type, Encrypted) or column.key in _SECRET_COLUMNS:
        return lambda value: None if value is None else SECRET
    return None


_PRIMITIVE = frozenset({type(None), bool, int, float, str})


def _plain(value: Any) -> Any:
    if type(value) in _PRIMITIVE or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime):
        return canonical_at(value)
    return str(value)


def _value(session: Session, table: str, column: sa.Column, value: Any) -> Any:
    masker = value_masker(session, table, column)
    return masker(value) if masker else _plain(value)


_SECRET_COLUMNS = {"password_hash", "token_hash"}


def _snapshot(session: Session, instance: SQLModel, which: str) -> dict[str, Any]:
    state = inspect(instance)
    table = instance.__table__.name
    values = {}
    for column in instance.__table__.columns:
        attribute = state.attrs[column.key]
        if which == "now":
            values[column.key] = _value(session, table, column, attribute.value)
        else:
            history = attribute.history
            if history.has_changes():
                old = history.deleted[0] if history.deleted else None
                values[column.key] = _value(session, table, column, old)
    return values


@event.listens_for(Session, "after_flush")
def _capture_writes(session: Session, _context: Any) -> None:
    for operation, instances in (
        ("insert", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for instance in instances:
            if not _audited(instance):
                continue
            if operation == "update" and not session.is_modified(
                instance, include_collections=False
            ):
                continue
            before = _snapshot(session, instance, "old") if operation == "update" else None
            after = _snapshot(session, instance, "now")
            if operation == "update":
                after = {key: after[key] for key in before}
            record(
                session,
                operation,
                object_type=instance.__table__.name,
                object_id=inspect(instance).identity[0] if inspect(instance).identity else None,
                # A unit gets its path only after its first flush: "" is no path yet, and
                # an entry with "" would lie in nobody's reach, not even the city's.
                unit_path=getattr(instance, "unit_path", None)
                or getattr(instance, "path", None)
                or None,
                before=after if operation == "delete" else before,
                after=None if operation == "delete" else after,
            )


@event.listens_for(Session, "before_commit")
def _write_chain(session: Session) -> None:
    # SQLAlchemy calls before_commit ahead of the commit's own flush: flush first, so writes
    # still unflushed at commit (add, then commit) are captured and chained in this commit.
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    last = session.exec(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
    previous = last or GENESIS
    covering: list[tuple[AuditEntry, dict[str, list[list[int]]]]] = []
    for fields in pending:
        covers = fields.pop(_COVERS, None)
        digest = entry_hash(previous, fields)
        entry = AuditEntry(**fields, prev_hash=previous, hash=digest)
        session.add(entry)
        if covers:
            covering.append((entry, covers))
        previous = digest
    session.flush()
    ranges = [
        {"entry_id": entry.id, "object_type": table, "first_id": first, "last_id": last}
        for entry, covers in covering
        for table, runs in covers.items()
        for first, last in runs
    ]
    if ranges:
        session.execute(sa.insert(AuditObjectRange.__table__), ranges)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
