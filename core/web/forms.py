"""Validating page forms with the same schemas as the API, for re-rendering with errors."""

from typing import TypeVar

from pydantic import BaseModel, ValidationError

from core.errors import DomainError, FieldError
from core.web.errors import field_errors

M = TypeVar("M", bound=BaseModel)


def parse_form(
    model: type[M], form: dict[str, str], *, blank_is_none: bool = True
) -> tuple[M | None, list[FieldError]]:
    """Validate ``form`` against ``model``; return the instance or the field errors.

    Form fields arrive as text, so validation here is lax (``"3"`` is read as ``3``); empty
    fields count as absent. ``_csrf_token`` is dropped.
    """
    values = {
        key: (None if blank_is_none and value == "" else value)
        for key, value in form.items()
        if key != "_csrf_token"
    }
    try:
        return model.model_validate(values, strict=False), []
    except ValidationError as error:
        return None, field_errors(error.errors(include_url=False, include_input=False))


def errors_of(error: DomainError) -> list[FieldError]:
    """A refused request's field errors, or one general error carrying its message."""
    return error.errors or [FieldError("", error.code, error.message)]
