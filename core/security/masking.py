"""Masking personal data for display (GB/T 35273 §7.2): enough to recognise, not to use."""

from collections.abc import Callable


def mask_id_number(value: str) -> str:
    """``500***********1234``: hides the birth date and sequence digits."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_phone(value: str) -> str:
    """``138****1234``."""
    if len(value) < 8:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str) -> str:
    """``张*明`` / ``张*``: the family name and, for longer names, the last character."""
    if len(value) <= 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


def mask_address(value: str) -> str:
    """The first six characters (district and street level), the rest hidden."""
    return value[:6] + "****" if len(value) > 6 else "****"


def mask_account(value: str) -> str:
    """A bank or card number: only the last four digits."""
    return "**** " + value[-4:] if len(value) > 4 else "****"


def mask_text(value: str) -> str:
    """Free text about a person: hidden entirely."""
    return "******"


MASKS: dict[str, Callable[[str], str]] = {
    "id_number": mask_id_number,
    "phone": mask_phone,
    "name": mask_name,
    "address": mask_address,
    "account": mask_account,
    "text": mask_text,
}


def mask(kind: str, value: str | None) -> str | None:
    """Mask ``value`` as data of ``kind`` (a key of ``MASKS``)."""
    return None if value is None else MASKS[kind](value)
