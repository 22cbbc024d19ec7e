"""Request bodies validated by pydantic with every error reported, not only the first."""

from collections.abc import Callable
from typing import Any

from litestar.plugins.pydantic import PydanticInitPlugin
from pydantic import BaseModel, ValidationError

from core.web.errors import InputError


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _decode(model: type[BaseModel], value: Any) -> BaseModel:
    # litestar's own decoder raises a msgspec ValidationError, which keeps only the first
    # message and loses pydantic's error type; an exception that is not a ValueError passes
    # through msgspec untouched and reaches the error handler with every field and rule.
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise InputError(error.errors(include_url=False, include_input=False)) from None


class InputPlugin(PydanticInitPlugin):
    """litestar's pydantic plugin, with a decoder that keeps every error and its rule."""

    @classmethod
    def decoders(
        cls, validate_strict: bool = False
    ) -> list[tuple[Callable[[Any], bool], Callable[[Any, Any], Any]]]:
        """Put the reporting decoder before litestar's."""
        return [(_is_model, _decode), *super().decoders(validate_strict)]
