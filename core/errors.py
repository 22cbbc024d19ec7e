"""Errors that services raise and every interface (API, pages, CLI) reports the same way."""

from dataclasses import dataclass, field


@dataclass
class FieldError:
    """One field that broke one rule."""

    field: str
    rule: str
    message: str


@dataclass
class DomainError(Exception):
    """A refused request: raise it from services and handlers.

    Attributes:
        message: What went wrong, in the caller's language when it can be known.
        code: Stable identifier (``validation_failed``, ``conflict``, ``not_allowed`` …).
        status: The HTTP status.
        errors: The fields concerned.
    """

    message: str
    code: str = "invalid"
    status: int = 400
    errors: list[FieldError] = field(default_factory=list)

    def __str__(self) -> str:
        return self.message
