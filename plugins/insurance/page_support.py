"""What the plugin's pages share: rendering with the unit's navigation, forms, money in yuan."""

from typing import Any

from litestar import Request
from litestar.response import Redirect, Template
from sqlmodel import Session

from core.errors import DomainError, FieldError
from core.platform import Platform
from core.units.models import Unit
from core.web.forms import errors_of
from core.web.navigation import unit_page
from plugins.insurance import vocab
from plugins.insurance.money import parse_yuan, yuan


def render(
    request: Request,
    session: Session,
    platform: Platform,
    unit: Unit,
    template: str,
    *,
    errors: list[FieldError] | None = None,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """A plugin page about ``unit`` with its menu, the money filter and the vocabularies."""
    principal = request.scope["user"]
    return Template(
        f"insurance/{template}",
        context={
            "page": unit_page(platform, session, unit, principal),
            "base": f"/units/{unit.id}/insurance",
            "yuan": yuan,
            "v": vocab,
            "can": lambda action, path=None: principal.can(action, path or unit.path),
            "errors": errors or [],
            **context,
        },
        status_code=status_code,
    )


def refusal(error: DomainError) -> dict[str, Any]:
    """Keyword arguments re-rendering a page with a refusal's errors and status."""
    return {"errors": errors_of(error), "status_code": error.status}


def back(url: str) -> Redirect:
    """After a successful form: see the result (POST → 303 → GET)."""
    return Redirect(url, status_code=303)


def text_field(form: dict[str, str], name: str) -> str | None:
    """A form field's trimmed text, or None when blank."""
    value = (form.get(name) or "").strip()
    return value or None


def fen_field(form: dict[str, str], name: str, *, required: bool = True) -> int | None:
    """An amount entered in yuan, as fen.

    Raises:
        DomainError: missing when required, or not an amount.
    """
    value = text_field(form, name)
    if value is None:
        if required:
            from core.i18n import text

            raise DomainError(
                text("请填写金额", "Enter the amount"),
                "validation_failed",
                400,
                [FieldError(name, "missing", text("必填", "is required"))],
            )
        return None
    return parse_yuan(value, name)


def int_field(form: dict[str, str], name: str) -> int:
    """A whole number from a form (an id).

    Raises:
        DomainError: missing or not a number.
    """
    value = text_field(form, name)
    if value is None or not value.isdigit() or len(value) > 18:
        from core.i18n import text

        raise DomainError(
            text("提交的数据有误", "The submitted data is invalid"),
            "validation_failed",
            400,
            [
                FieldError(
                    name,
                    "missing" if value is None else "int_parsing",
                    text("应为编号", "must be a number"),
                )
            ],
        )
    return int(value)
