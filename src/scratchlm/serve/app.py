"""The HTTP API of a run: FastAPI app with micro-batched classification, embedding and tagging.

``create_app(run, ServeSettings(...))`` builds the app (the routes are in ``routes.py``, the batching in
``engine.py``); ``scratchlm serve RUN`` runs it under uvicorn.
Every error is JSON, ``{"error": {"code": ..., "message": ...}}``, with a 4xx status for anything the
client can fix (see docs/serving.md for the table; bodies are checked in ``requests.py``); the server
stays up whatever a request holds.
"""

from __future__ import annotations

import logging
import platform
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from scratchlm.serve import engine, lab, routes
from scratchlm.serve.guard import Admission
from scratchlm.serve.requests import APIError, error_response, invalid

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun


@dataclass
class ServeSettings:
    max_batch: int = 32
    """Most texts in one forward pass (1: no micro-batching)."""
    max_wait_ms: float = 5.0
    """How long the first text of a batch waits for others."""
    max_texts: int = 64
    """Texts per request."""
    max_chars: int = 10_000
    """Characters per text (before truncation to the model's max_seq_len tokens)."""
    max_body_bytes: int = 1_048_576
    """Bytes per request body."""
    max_queue: int = 4096
    """Texts waiting for the model; beyond this requests get 503 and should retry."""
    max_padding: float | None = 0.25
    """A gathered batch runs as passes of similar-length texts, each padded by at most this fraction
    (see :func:`scratchlm.predict.batching.forward_groups`); ``None``: one pass per batch."""
    api_key: str | None = None
    """When set, /v1/* requests need ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``."""
    timeout: float | None = None
    """Seconds from a request's arrival to its answer: later, 408 (body still arriving), 503 (texts still
    queued) or 504 (texts being run), each with ``Retry-After``. ``None``: no deadline."""
    max_concurrency: int | None = None
    """Most /v1/* requests in progress at once; the next gets 503 before its body is read."""
    allowed_hosts: list[str] | None = None
    """``Host`` header values answered (others: 400; DNS rebinding); ``None``: any."""

    def limits(self) -> dict[str, int]:
        return {
            "max_texts": self.max_texts,
            "max_chars": self.max_chars,
            "max_body_bytes": self.max_body_bytes,
        }


# ------------------------------------------------------------------------------------------- errors
async def _api_error(request: Request, exc: APIError) -> JSONResponse:
    return exc.response()


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 404:
        message = f"no such endpoint: {request.method} {request.url.path} (see /docs)"
    elif exc.status_code == 405:
        message = f"{request.url.path} does not accept {request.method} (see /docs)"
    return error_response(exc.status_code, code, message, getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return invalid(list(exc.errors())).response()


log = logging.getLogger("scratchlm.serve")


async def _server_error(request: Request, exc: Exception) -> JSONResponse:
    # the exception's text may hold paths, data or internals: it goes to the server's log only
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return error_response(
        500, "internal_error", "the server failed on this request (the server's log has the details)"
    )


EXCEPTION_HANDLERS = {
    APIError: _api_error,
    StarletteHTTPException: _http_error,
    RequestValidationError: _validation_error,
    Exception: _server_error,
}
"""Every error, the client's or the server's, answered as ``{"error": {"code", "message"}}``."""


# ----------------------------------------------------------------------------------------------- app
def _without_paths(value: Any) -> Any:
    """The config with every path cut to its last part (``/home/me/data/train.jsonl`` -> ``train.jsonl``):
    what a client may know of how the model was made, not the layout of the server's disks."""
    if isinstance(value, dict):
        return {k: _without_paths(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_paths(v) for v in value]
    if isinstance(value, str) and ("/" in value or "\\" in value):
        return value.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return value


def model_info(run: LoadedRun, settings: ServeSettings) -> dict[str, Any]:
    import fastapi
    import torch

    import scratchlm

    return {
        "name": run.path.name,
        "task": run.task,
        "endpoints": [f"/v1/{e}" for e in engine.supported_endpoints(run)],
        "labels": run.labels,
        "max_seq_len": run.max_seq_len,
        "vocab_size": len(run.tokenizer.vocab),
        "parameters": sum(p.numel() for p in run.model.parameters()),
        "config": _without_paths(run.config.to_dict()),
        "versions": {
            "trained_with": run.meta.get("versions", {}),
            "serving": {
                "scratchlm": scratchlm.__version__,
                "torch": torch.__version__,
                "fastapi": fastapi.__version__,
                "python": platform.python_version(),
            },
        },
        "limits": settings.limits(),
        "batching": {"max_batch": settings.max_batch, "max_wait_ms": settings.max_wait_ms},
        "timeout_s": settings.timeout,
    }


@asynccontextmanager
async def lifespan(app: FastAPI):
    yield
    for batcher in app.state.batchers.values():
        await batcher.close()


def create_app(run: LoadedRun, settings: ServeSettings | None = None) -> FastAPI:
    """The app of ``run``: its state (run, settings, model description, endpoints, micro-batchers) on
    ``app.state``, the error handlers, and the routes of ``routes.py``."""
    settings = settings or ServeSettings()
    info = model_info(run, settings)
    app = FastAPI(
        title=f"scratchlm: {run.path.name}",
        version=info["versions"]["serving"]["scratchlm"],
        lifespan=lifespan,
        description=f"A {info['task']} model with labels {', '.join(run.labels)}. "
        'Errors are JSON: {"error": {"code", "message"}}.',
    )
    app.state.run, app.state.settings, app.state.info = run, settings, info
    app.state.endpoints = engine.supported_endpoints(run)
    app.state.batchers = engine.make_batchers(run, settings)
    for kind, handler in EXCEPTION_HANDLERS.items():
        app.add_exception_handler(kind, handler)
    app.add_middleware(
        Admission, allowed_hosts=settings.allowed_hosts, max_concurrency=settings.max_concurrency
    )
    app.include_router(routes.service)
    app.include_router(routes.v1, dependencies=routes.v1_dependencies(settings.api_key))
    lab.mount(app)  # /lab: the input-layer lab of this run
    return app


__all__ = ["APIError", "ServeSettings", "create_app", "model_info"]
