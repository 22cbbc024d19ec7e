"""Presenting records with their sensitive fields masked, and revealing them on purpose."""

from typing import Any

from sqlmodel import Session, SQLModel

from core.accounts.principal import Principal
from core.audit.recorder import record
from core.contributions import SensitiveField
from core.errors import DomainError, FieldError
from core.i18n import text
from core.security.masking import mask


def masked_values(
    record_: SQLModel, registry: dict[tuple[str, str], SensitiveField]
) -> dict[str, Any]:
    """The record's fields with every registered sensitive field masked."""
    table = record_.__table__.name
    values = record_.model_dump()
    for (owner_table, field), sensitive in registry.items():
        if owner_table == table and field in values:
            values[field] = mask(sensitive.kind, values[field])
    return values


def reveal(
    session: Session,
    record_: SQLModel,
    fields: list[str],
    reason: str,
    principal: Principal,
    registry: dict[tuple[str, str], SensitiveField],
    path: str,
) -> dict[str, Any]:
    """Return ``fields`` of ``record_`` in clear if the principal may, and log the read.

    Raises:
        DomainError: a field is not sensitive, or the principal lacks its reveal action here.
    """
    table = record_.__table__.name
    values = {}
    for field in fields:
        sensitive = registry.get((table, field))
        if sensitive is None:
            raise DomainError(
                text("该字段不是敏感字段", "Not a sensitive field"),
                "invalid",
                400,
                [FieldError("fields", "not_sensitive", field)],
            )
        if not principal.can(sensitive.reveal_action, path):
            raise DomainError(
                text("无权查看完整信息", "Not allowed to see this in clear"), "not_allowed", 403
            )
        values[field] = getattr(record_, field)
    record(
        session,
        "reveal",
        action=registry[(table, fields[0])].reveal_action,
        object_type=table,
        object_id=record_.id,
        unit_path=path,
        reason=reason,
        after={"fields": sorted(fields)},
    )
    return values
