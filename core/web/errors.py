"""One error shape for every 4xx: JSON on the API, a page elsewhere.

``{"status": 400, "code": "validation_failed", "message": "…", "errors": [{"field": "name",
"rule": "string_too_short", "message": "…"}]}``: ``code`` and ``rule`` are stable identifiers
for programs; messages are in the caller's language.
"""

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from sqlalchemy.exc import DataError

from core.errors import DomainError, FieldError
from core.i18n import current_locale
from core.web.locale import scope_locale

log = logging.getLogger(__name__)

API_PREFIXES = ("/api/", "/health", "/schema")


class InputError(Exception):
    """Raised by the request decoder with every pydantic error of a body, not just the first."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


RULE_MESSAGES = {
    "missing": ("必填", "is required"),
    "string_too_short": ("至少 {min_length} 个字符", "must have at least {min_length} characters"),
    "string_too_long": ("最多 {max_length} 个字符", "must have at most {max_length} characters"),
    "string_pattern_mismatch": ("格式不正确", "does not match the required format"),
    "string_type": ("应为文本", "must be text"),
    "int_type": ("应为整数", "must be an integer"),
    "int_parsing": ("应为整数", "must be an integer"),
    "bool_type": ("应为 true 或 false", "must be true or false"),
    "float_type": ("应为数字", "must be a number"),
    "greater_than": ("应大于 {gt}", "must be greater than {gt}"),
    "greater_than_equal": ("应不小于 {ge}", "must be at least {ge}"),
    "less_than": ("应小于 {lt}", "must be less than {lt}"),
    "less_than_equal": ("应不大于 {le}", "must be at most {le}"),
    "enum": ("应为以下之一：{expected}", "must be one of {expected}"),
    "literal_error": ("应为以下之一：{expected}", "must be one of {expected}"),
    "extra_forbidden": ("不允许此字段", "is not allowed"),
    "model_type": ("应为 JSON 对象", "must be a JSON object"),
    "datetime_type": ("应为日期时间", "must be a date-time"),
    "datetime_parsing": ("日期时间格式不正确", "must be an ISO 8601 date-time"),
    "date_parsing": ("日期格式不正确", "must be an ISO 8601 date"),
}


def field_errors(
    pydantic_errors: list[dict[str, Any]], locale: str | None = None
) -> list[FieldError]:
    """Turn pydantic's error dicts into field errors in ``locale`` (default: the current one)."""
    locale = locale or current_locale.get()
    result = []
    for error in pydantic_errors:
        rule = error["type"]
        field_name = ".".join(str(part) for part in error.get("loc", ())) or "body"
        templates = RULE_MESSAGES.get(rule)
        if templates:
            template = templates[1] if locale == "en" else templates[0]
            try:
                message = template.format(**(error.get("ctx") or {}))
            except (KeyError, IndexError):
                message = error["msg"]
        elif rule == "value_error":
            message = str(error.get("ctx", {}).get("error", error["msg"]))
        else:
            message = error["msg"]
        result.append(FieldError(field=field_name, rule=rule, message=message))
    return result


def request_locale(request: Request) -> str:
    """The request's language, also for requests no route matched (no middleware ran)."""
    return scope_locale(request.scope, request.app.state.platform.settings.default_locale)[0]


def _text(request: Request, zh: str, en: str) -> str:
    return en if request_locale(request) == "en" else zh


STATUS_TEXT = {
    400: ("请求无效", "Bad request", "bad_request"),
    401: ("需要登录", "Authentication required", "unauthenticated"),
    403: ("没有权限", "Not allowed", "not_allowed"),
    404: ("未找到", "Not found", "not_found"),
    405: ("不支持此方法", "Method not allowed", "method_not_allowed"),
    409: ("与现有数据冲突", "Conflict with existing data", "conflict"),
    413: ("请求过大", "Request too large", "too_large"),
    415: ("不支持的内容类型", "Unsupported media type", "unsupported_media_type"),
    429: ("请求过于频繁", "Too many requests", "rate_limited"),
}


def _body(status: int, code: str, message: str, errors: list[FieldError]) -> dict[str, Any]:
    return {
        "status": status,
        "code": code,
        "message": message,
        "errors": [e.__dict__ for e in errors],
    }


def _respond(request: Request, status: int, code: str, message: str, errors: list[FieldError]):
    if request.url.path.startswith(API_PREFIXES) or "text/html" not in request.headers.get(
        "accept", ""
    ):
        return Response(
            _body(status, code, message, errors), status_code=status, media_type=MediaType.JSON
        )
    return Template(
        "core:error.html",
        context={"status": status, "code": code, "message": message, "errors": errors},
        status_code=status,
    )


def handle_domain_error(request: Request, error: DomainError):
    """Render a refused request."""
    return _respond(request, error.status, error.code, error.message, error.errors)


def handle_input_error(request: Request, error: InputError):
    """Render every invalid field of a request body."""
    message = _text(request, "提交的数据有误", "The submitted data is invalid")
    errors = field_errors(error.errors, request_locale(request))
    return _respond(request, 400, "validation_failed", message, errors)


def handle_http_exception(request: Request, error: HTTPException):
    """Render litestar's own 4xx (unknown route, bad path parameter, malformed JSON …)."""
    status = error.status_code
    if status >= 500:
        return handle_unexpected(request, error)
    zh, en, code = STATUS_TEXT.get(status, ("请求无效", "Bad request", "bad_request"))
    errors = []
    if isinstance(error, ValidationException):
        code = "validation_failed"
        zh, en = "提交的数据有误", "The submitted data is invalid"
        for item in error.extra or []:
            if isinstance(item, dict):
                errors.append(
                    FieldError(
                        field=str(item.get("key") or item.get("source") or "body"),
                        rule="invalid",
                        message=str(item.get("message", "")),
                    )
                )
        if not errors and error.detail:
            errors.append(FieldError(field="body", rule="invalid", message=str(error.detail)))
    elif status == 400 and "malformed" in str(error.detail):
        code = "malformed_body"
        errors.append(FieldError(field="body", rule="malformed", message=str(error.detail)))
    elif isinstance(error, NotFoundException):
        code = "not_found"
    return _respond(request, status, code, _text(request, zh, en), errors)


def handle_unexpected(request: Request, error: Exception):
    """Log the failure and answer 500 in the common shape, without internals."""
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
    message = _text(request, "服务器内部错误，已记录", "Internal error; it has been logged")
    return _respond(request, HTTP_500_INTERNAL_SERVER_ERROR, "internal_error", message, [])


def handle_data_error(request: Request, error: Exception):
    """Answer 400 for a number the database cannot hold, such as an id or offset too large.

    It is the client's mistake, not the server's: SQLite raises OverflowError, PostgreSQL
    SQLSTATE 22003. Any other data error stays an internal error.
    """
    if isinstance(error, OverflowError) or getattr(error.orig, "sqlstate", None) == "22003":
        message = _text(request, "数值超出范围", "A number is out of range")
        return _respond(request, 400, "out_of_range", message, [])
    return handle_unexpected(request, error)


EXCEPTION_HANDLERS = {
    DomainError: handle_domain_error,
    InputError: handle_input_error,
    HTTPException: handle_http_exception,
    OverflowError: handle_data_error,
    DataError: handle_data_error,
    Exception: handle_unexpected,
}
