"""Filtering the audit trail for auditors, within their reach."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from core.access import scope_predicate
from core.accounts.principal import Principal
from core.audit.models import AuditEntry, AuditObjectRange


@dataclass
class AuditFilter:
    """What an auditor asks for; every part optional."""

    event: str | None = None
    action: str | None = None
    username: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def as_dict(self) -> dict[str, str]:
        """The filter as given, for the export's own audit entry."""
        return {key: str(value) for key, value in self.__dict__.items() if value is not None}


def audit_query(
    principal: Principal, action: str, wanted: AuditFilter
) -> SelectOfScalar[AuditEntry]:
    """Entries the principal may see, newest first.

    Entries about a unit are scoped by its path; entries about no unit (sign-ins, tokens)
    only to holders of ``action`` at the top of the tree.
    """
    paths = principal.reach(action)
    at_root = any(path.count(".") == 1 for path in paths)
    visible = scope_predicate(AuditEntry.unit_path, principal, action)
    if at_root:
        visible = sa.or_(visible, col(AuditEntry.unit_path).is_(None))
    query = select(AuditEntry).where(visible)
    for column, value in (
        (AuditEntry.event, wanted.event),
        (AuditEntry.action, wanted.action),
        (AuditEntry.username, wanted.username),
    ):
        if value:
            query = query.where(column == value)
    if wanted.object_type or wanted.object_id:
        query = query.where(about(wanted.object_type, wanted.object_id))
    if wanted.since:
        query = query.where(AuditEntry.at >= wanted.since)
    if wanted.until:
        query = query.where(AuditEntry.at < wanted.until)
    return query.order_by(col(AuditEntry.id).desc())


def about(object_type: str | None, object_id: str | None) -> sa.ColumnElement[bool]:
    """Entries about a kind of record, or one record: its own, and bulk entries listing it.

    A bulk entry (``core.audit.bulk``) is about the operation (an import batch) but lists
    every id it wrote; those are found through their index, ``audit_object_range``.
    """
    own = []
    if object_type:
        own.append(AuditEntry.object_type == object_type)
    if object_id:
        own.append(AuditEntry.object_id == object_id)
    listed = select(AuditObjectRange.entry_id)
    if object_type:
        listed = listed.where(AuditObjectRange.object_type == object_type)
    if object_id:
        if not object_id.isdigit() or int(object_id) >= 2**62:
            return sa.and_(*own)
        listed = listed.where(
            AuditObjectRange.first_id <= int(object_id),
            AuditObjectRange.last_id >= int(object_id),
        )
    return sa.or_(sa.and_(*own), col(AuditEntry.id).in_(listed))
