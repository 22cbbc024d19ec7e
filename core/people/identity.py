"""Resident identity numbers (GB 11643-1999) and mainland mobile numbers."""

import operator
import re
from dataclasses import dataclass
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
ID_PATTERN = re.compile(r"^\d{17}[\dX]$")
MOBILE_PATTERN = re.compile(r"^1[3-9]\d{9}$")
SEPARATORS = re.compile(r"[\s\-]")


@dataclass(frozen=True)
class IdNumber:
    """A valid 18-character resident ID and what it says."""

    value: str
    region: str
    birth_date: date
    male: bool

    def age_on(self, day: date) -> int:
        """Completed years of age on ``day``."""
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


class IdNumberError(ValueError):
    """Why a string is not a valid resident ID; ``rule`` names the broken rule."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    if len(first17) != len(WEIGHTS):
        raise ValueError(f"{first17!r} is not 17 digits")
    return CHECK_CHARACTERS[sum(map(operator.mul, map(int, first17), WEIGHTS)) % 11]


def parse_id_number(raw: str, *, today: date | None = None) -> IdNumber:
    """Validate and decode a resident ID (spaces removed, ``x`` read as ``X``).

    Raises:
        IdNumberError: wrong length or characters, impossible birth date, or bad check digit.
    """
    value = raw.strip().replace(" ", "").upper()
    if len(value) != 18:
        raise IdNumberError("length", "must be 18 characters")
    if not ID_PATTERN.match(value):
        raise IdNumberError("format", "must be 17 digits and a digit or X")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError as error:
        raise IdNumberError("birth_date", "contains an impossible birth date") from error
    if born > (today or date.today()) or born.year < 1900:
        raise IdNumberError("birth_date", "contains a birth date out of range")
    if check_digit(value[:17]) != value[17]:
        raise IdNumberError("check_digit", "check digit does not match")
    return IdNumber(value=value, region=value[:6], birth_date=born, male=int(value[16]) % 2 == 1)


def normalise_mobile(raw: str) -> str:
    """A mainland mobile number as 11 digits (``+86``/``86`` prefixes and separators removed).

    Raises:
        ValueError: not an 11-digit number starting 13–19.
    """
    digits = SEPARATORS.sub("", raw.strip())
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not MOBILE_PATTERN.match(digits):
        raise ValueError("must be an 11-digit mainland mobile number starting 13–19")
    return digits
