"""Checking the audit chain."""

from dataclasses import dataclass

from sqlmodel import Session, select

from core.audit.models import AuditEntry
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
    """Recompute every entry's hash and link, oldest first (the oldest kept entry anchors it)."""
    previous: str | None = None
    checked = 0
    last_id = 0
    while True:
        entries = session.exec(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).all()
        if not entries:
            return ChainReport(checked)
        for entry in entries:
            if previous is not None and entry.prev_hash != previous:
                return ChainReport(checked, entry.id, "its link to the previous entry is broken")
            if entry_hash(entry.prev_hash, entry) != entry.hash:
                return ChainReport(checked, entry.id, "its content does not match its hash")
            previous = entry.hash
            checked += 1
            last_id = entry.id
