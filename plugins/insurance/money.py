"""Amounts of money: integer fen (分) everywhere, yuan (元) only at the edges.

Floating point never touches an amount: text is parsed with ``Decimal`` and refused if it has
more than two decimals, and display formats integers.
"""

from decimal import Decimal, InvalidOperation

from core.errors import DomainError, FieldError
from core.i18n import text

#: The largest amount the platform accepts anywhere: 10 billion yuan, in fen.
MAX_FEN = 10**12


def parse_yuan(value: str, field: str = "amount") -> int:
    """``"123.45"`` → 12345 fen.

    Raises:
        DomainError: not a number, negative, more than two decimals, or absurdly large.
    """
    cleaned = (value or "").strip().replace(",", "").replace("，", "")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite():
        raise _refused(field, "not_money", text("应为金额（元）", "must be an amount in yuan"))
    if amount < 0:
        raise _refused(field, "negative", text("金额不能为负", "must not be negative"))
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise _refused(field, "precision", text("最多两位小数", "at most two decimals"))
    if fen > MAX_FEN:
        raise _refused(field, "too_large", text("金额过大", "is too large"))
    return int(fen)


def yuan(fen: int | None) -> str:
    """12345 → ``"123.45"``; None → ``"—"``."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def percent_of(part: int, whole: int) -> Decimal | None:
    """``part`` as a percentage of ``whole``, to two places (None when ``whole`` is 0)."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"))


def _refused(field: str, rule: str, message: str) -> DomainError:
    return DomainError(
        text("金额无效", "Invalid amount"),
        "validation_failed",
        400,
        [FieldError(field, rule, message)],
    )
