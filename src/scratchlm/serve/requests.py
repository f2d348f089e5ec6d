"""Request bodies and errors of the HTTP API.

Bodies are read and parsed here rather than by FastAPI's parameter binding, so the checks happen in
a fixed order with one clear message each: size (413), UTF-8 (400), JSON (400; nesting too deep and
numbers too long to convert included), schema (422), limits on texts (413), empty texts and texts that
are not valid Unicode (422: a lone surrogate such as ``"\\ud800"`` is valid JSON but no text).
Every error is an :class:`APIError`, answered as
``{"error": {"code": ..., "message": ...}}``.
"""

from __future__ import annotations

import difflib
import json
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from scratchlm.serve.app import ServeSettings


class APIError(Exception):
    """An error answered as ``{"error": {...}}`` with ``status``."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
    ):
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.extra = status, code, message, headers, extra

    def response(self) -> JSONResponse:
        return error_response(self.status, self.code, self.message, self.headers, **self.extra)


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, **extra}}, status_code=status, headers=headers
    )


# ------------------------------------------------------------------------------------- request bodies
async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a chunked body without content-length: stop reading as soon as it is too big
            raise _too_large(size, limit, at_least=True)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int, at_least: bool = False) -> APIError:
    return APIError(
        413,
        "limit_exceeded",
        f"the request body has {'more than ' if at_least else ''}"
        f"{limit if at_least else size} bytes; the limit max_body_bytes is {limit} "
        "(send fewer or shorter texts per request)",
        limit="max_body_bytes",
        max=limit,
    )


def parse_json(body: bytes) -> Any:
    if not body.strip():
        raise APIError(400, "invalid_json", 'the request body is empty; send JSON such as {"texts": ["..."]}')
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise APIError(
            400,
            "invalid_encoding",
            f"the request body is not UTF-8 (byte 0x{body[exc.start]:02x} at "
            f"position {exc.start}); send JSON encoded as UTF-8",
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise APIError(
            400,
            "invalid_json",
            f"the request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
        ) from None
    except RecursionError:
        raise APIError(400, "invalid_json", "the request body nests arrays or objects too deeply") from None
    except ValueError as exc:  # an integer of thousands of digits (Python's int_max_str_digits)
        raise APIError(
            400, "invalid_json", f"the request body holds a number too long to read ({exc})"
        ) from None


def validate(model: type[BaseModel], data: Any) -> Any:
    if not isinstance(data, dict):
        raise APIError(
            422,
            "invalid_request",
            f'the body must be a JSON object such as {{"texts": ["..."]}}, not {_json_type(data)}',
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid(
            exc.errors(include_url=False, include_context=False), list(model.model_fields)
        ) from None


def _json_type(value: Any) -> str:
    return {
        list: "an array",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def invalid(errors: list[dict], fields: list[str] | None = None) -> APIError:
    def where(err: dict) -> str:
        loc = [str(p) for p in err.get("loc", ()) if p != "body"]
        return ".".join(loc) or "body"

    def message(err: dict) -> str:
        kind = err.get("type")
        if kind == "extra_forbidden":
            close = difflib.get_close_matches(where(err), fields or [], n=1)
            return "unknown field" + (
                f"; did you mean {close[0]!r}?" if close else f" (fields: {', '.join(fields or [])})"
            )
        if kind == "too_short" and where(err) == "texts":
            return "the list is empty; send at least one text"
        return err.get("msg", "invalid value")

    # an unknown key usually explains the missing one next to it: report it first
    errors = sorted(errors, key=lambda e: e.get("type") != "extra_forbidden")
    first = errors[0] if errors else {"msg": "invalid request"}
    more = f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
    details = [{"loc": where(e), "msg": message(e), "type": e.get("type", "")} for e in errors[:20]]
    return APIError(422, "invalid_request", f"{where(first)}: {message(first)}{more}", details=details)


def check_texts(texts: list[str], settings: ServeSettings) -> None:
    if len(texts) > settings.max_texts:
        raise APIError(
            413,
            "limit_exceeded",
            f"the request has {len(texts)} texts; the limit max_texts is "
            f"{settings.max_texts} per request (split it into several requests)",
            limit="max_texts",
            max=settings.max_texts,
        )
    for i, text in enumerate(texts):
        if len(text) > settings.max_chars:
            raise APIError(
                413,
                "limit_exceeded",
                f"texts.{i} has {len(text)} characters; the limit max_chars is {settings.max_chars} per text",
                limit="max_chars",
                max=settings.max_chars,
            )
        if not text.strip():
            raise APIError(422, "invalid_request", f"texts.{i}: the text is empty or only whitespace")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise APIError(
                422,
                "invalid_text",
                f"texts.{i}: not valid Unicode: a lone surrogate U+{ord(text[exc.start]):04X} at character "
                f"{exc.start} (a JSON \\uD800-\\uDFFF escape must be one half of a pair)",
                field=f"texts.{i}",
            ) from None


def parse_request(raw: bytes, model: type[BaseModel], settings: ServeSettings) -> Any:
    """A body's bytes -> the checked request ``model``."""
    body = validate(model, parse_json(raw))
    check_texts(body.texts, settings)
    return body


async def read_request(request: Request, model: type[BaseModel], settings: ServeSettings) -> Any:
    return parse_request(await read_body(request, settings.max_body_bytes), model, settings)
