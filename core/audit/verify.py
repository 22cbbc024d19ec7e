"""Checking the audit chain."""

from dataclasses import dataclass

from sqlmodel import Session, select

from core.audit.bulk import Runs, covered_ids
from core.audit.models import AuditEntry, AuditObjectRange
from core.audit.recorder import entry_hash


@dataclass
class ChainReport:
    """The outcome of a verification: how many entries, and the first broken one."""

    checked: int
    broken_at: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when every entry matched."""
        return self.broken_at is None


def verify_chain(session: Session, batch: int = 5_000) -> ChainReport:
    """Recompute every entry's hash and link, oldest first (the oldest kept entry anchors it).

    The index of the records bulk entries stand for (``audit_object_range``) is checked
    against the ids each entry lists, so the trail filtered by a record finds exactly them.
    """
    previous: str | None = None
    checked = 0
    last_id = 0
    while True:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not entries:
            return ChainReport(checked)
        indexed = _indexed(session, entries[0].id, entries[-1].id)
        for entry in entries:
            if previous is not None and entry.prev_hash != previous:
                return ChainReport(checked, entry.id, "its link to the previous entry is broken")
            if entry_hash(entry.prev_hash, entry) != entry.hash:
                return ChainReport(checked, entry.id, "its content does not match its hash")
            if indexed.pop(entry.id, {}) != covered_ids(entry):
                return ChainReport(
                    checked, entry.id, "the index of the records it covers does not match it"
                )
            previous = entry.hash
            checked += 1
            last_id = entry.id


def _indexed(session: Session, first: int, last: int) -> dict[int, dict[str, Runs]]:
    """The indexed ranges of the entries ``first``…``last``: entry → table → sorted runs."""
    found: dict[int, dict[str, Runs]] = {}
    for row in session.exec(
        select(AuditObjectRange)
        .where(AuditObjectRange.entry_id >= first, AuditObjectRange.entry_id <= last)
        .order_by(
            AuditObjectRange.entry_id, AuditObjectRange.object_type, AuditObjectRange.first_id
        )
    ):
        runs = found.setdefault(row.entry_id, {}).setdefault(row.object_type, [])
        runs.append([row.first_id, row.last_id])
    return found
