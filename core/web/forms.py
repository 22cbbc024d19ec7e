"""Validating page forms with the same schemas as the API, for re-rendering with errors.

A page's write handler follows one pattern: read the form into the API's schema, run the
service, commit and redirect; when the form is invalid or the service refuses, roll back and
show the page again with the fields and rules that were broken. :func:`submit_form` and
:func:`run_form` hold that pattern, so a handler states only what it does and where it goes.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlmodel import Session

from core.errors import DomainError, FieldError
from core.web.errors import field_errors

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


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


@dataclass(frozen=True)
class FormErrors:
    """Why a form was not accepted: the broken fields, and the status and code to answer."""

    errors: list[FieldError]
    status: int = 400
    code: str = "validation_failed"

    @classmethod
    def of(cls, error: DomainError) -> "FormErrors":
        """The refusal a service's :class:`DomainError` stands for."""
        return cls(errors_of(error), error.status, error.code)


def run_form(session: Session, act: Callable[[], R]) -> R | FormErrors:
    """Run ``act`` and commit; if it raises :class:`DomainError`, roll back and say why.

    Other exceptions (not found, not allowed) pass through to the error pages.
    """
    try:
        result = act()
        session.commit()
    except DomainError as error:
        session.rollback()
        return FormErrors.of(error)
    return result


def submit_form(
    session: Session,
    model: type[M],
    form: dict[str, str],
    act: Callable[[M], R],
    *,
    also: Iterable[FieldError] = (),
    blank_is_none: bool = True,
) -> R | FormErrors:
    """Validate ``form`` against ``model``, then :func:`run_form` ``act`` with the result.

    ``also`` adds errors the page found itself (a missing record id, say): with any of them,
    or with an invalid form, nothing runs and every error is reported together.
    ``blank_is_none`` is passed to :func:`parse_form`.
    """
    wanted, errors = parse_form(model, form, blank_is_none=blank_is_none)
    errors = [*errors, *also]
    if wanted is None or errors:
        return FormErrors(errors)
    return run_form(session, lambda: act(wanted))
