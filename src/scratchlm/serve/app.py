"""The HTTP API of a run: FastAPI app with micro-batched classification and embedding.

``create_app(run, ServeSettings(...))`` builds the app; ``scratchlm serve RUN`` runs it under uvicorn.
Every error is JSON, ``{"error": {"code": ..., "message": ...}}``, with a 4xx status for anything the
client can fix (see docs/serving.md for the table; bodies are checked in ``requests.py``); the server
stays up whatever a request holds.
"""

from __future__ import annotations

import hmac
import platform
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from scratchlm.serve import engine
from scratchlm.serve.page import render_page
from scratchlm.serve.requests import APIError, error_response, invalid, read_request
from scratchlm.serve.schemas import (
    ClassifyRequest,
    ClassifyResponse,
    EmbedRequest,
    EmbedResponse,
    ErrorResponse,
    GenerateRequest,
    ModelInfo,
    TagRequest,
)

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
    (see :func:`scratchlm.serve.engine.forward_groups`); ``None``: one pass per batch."""
    api_key: str | None = None
    """When set, /v1/* requests need ``Authorization: Bearer KEY`` or ``X-API-Key: KEY``."""

    def limits(self) -> dict[str, int]:
        return {
            "max_texts": self.max_texts,
            "max_chars": self.max_chars,
            "max_body_bytes": self.max_body_bytes,
        }


ERRORS = {status: {"model": ErrorResponse} for status in (400, 401, 413, 422, 503)}


# ---------------------------------------------------------------------------------------------- auth
_bearer = HTTPBearer(auto_error=False, description="the server's --api-key")
_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the server's --api-key")


def _auth_dependency(api_key: str):
    async def check(
        bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
        header: str | None = Depends(_key_header),
    ) -> None:  # noqa: B008
        given = header if header is not None else (bearer.credentials if bearer is not None else None)
        if given is None or not hmac.compare_digest(given.encode(), api_key.encode()):
            raise APIError(
                401,
                "unauthorized",
                "this server needs an API key: send 'Authorization: Bearer KEY' "
                "or 'X-API-Key: KEY'" + (" (the key given is wrong)" if given is not None else ""),
                headers={"WWW-Authenticate": "Bearer"},
            )

    return check


# ----------------------------------------------------------------------------------------------- app
def model_info(run: LoadedRun, settings: ServeSettings) -> dict[str, Any]:
    import fastapi
    import torch

    import scratchlm

    return {
        "name": run.path.name,
        "task": engine.run_task(run),
        "endpoints": [f"/v1/{e}" for e in engine.supported_endpoints(run)],
        "labels": run.labels,
        "max_seq_len": run.max_seq_len,
        "vocab_size": len(run.tokenizer.vocab),
        "parameters": sum(p.numel() for p in run.model.parameters()),
        "config": run.config.to_dict(),
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
    }


def create_app(run: LoadedRun, settings: ServeSettings | None = None) -> FastAPI:
    settings = settings or ServeSettings()
    name = run.path.name
    supported = engine.supported_endpoints(run)
    info = model_info(run, settings)

    def classify_batch(texts: list[str]) -> list[dict]:
        results = engine.classify_texts(run, texts, batch_size=len(texts), max_padding=settings.max_padding)
        for r in results:
            del r["logits"]
        return results

    def tag_batch(texts: list[str]) -> list[dict]:
        from scratchlm.tasks.tagging_units import tag_texts

        return tag_texts(run, texts, batch_size=len(texts))

    def embed_batch(items: list[tuple[str, engine.EmbedOptions]]) -> list[dict]:
        groups: dict[engine.EmbedOptions, list[int]] = {}
        for i, (_, options) in enumerate(items):
            groups.setdefault(options, []).append(i)
        out: list[dict] = [{}] * len(items)
        for options, index in groups.items():
            texts = [items[i][0] for i in index]
            for i, r in zip(
                index, engine.embed_texts(run, texts, options, len(index), settings.max_padding), strict=True
            ):
                out[i] = r
        return out

    # One model thread for every endpoint: forward passes never compete for the cores.
    import concurrent.futures

    executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="scratchlm-model")
    batching = {
        "max_batch": settings.max_batch,
        "max_wait_ms": settings.max_wait_ms,
        "max_queue": settings.max_queue,
        "executor": executor,
    }
    classifier = engine.MicroBatcher(classify_batch, **batching)
    embedder = engine.MicroBatcher(embed_batch, **batching)
    tagger = engine.MicroBatcher(tag_batch, **batching)
    batchers = (classifier, embedder, tagger)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        for batcher in batchers:
            await batcher.close()

    app = FastAPI(
        title=f"scratchlm: {name}",
        version=info["versions"]["serving"]["scratchlm"],
        lifespan=lifespan,
        description=f"A {info['task']} model with labels {', '.join(run.labels)}. "
        'Errors are JSON: {"error": {"code", "message"}}.',
    )
    app.state.run, app.state.settings = run, settings
    app.state.batchers = {"classify": classifier, "embed": embedder, "tag": tagger}

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404:
            message = f"no such endpoint: {request.method} {request.url.path} (see /docs)"
        elif exc.status_code == 405:
            message = f"{request.url.path} does not accept {request.method} (see /docs)"
        return error_response(exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid(list(exc.errors())).response()

    @app.exception_handler(Exception)
    async def _server_error(request: Request, exc: Exception) -> JSONResponse:
        return error_response(
            500, "internal_error", f"the server failed on this request ({type(exc).__name__}: {exc})"
        )

    async def run_batched(batcher: engine.MicroBatcher, payloads: list) -> list:
        try:
            return await batcher.submit_many(payloads)
        except engine.QueueFullError as exc:
            raise APIError(
                503, "busy", f"the server is busy: {exc}; retry shortly", headers={"Retry-After": "1"}
            ) from None

    def unsupported(endpoint: str) -> APIError:
        fits = ", ".join(f"POST /v1/{e}" for e in supported) or "none"
        return APIError(
            404,
            "unsupported_endpoint",
            f"this model is a {info['task']} model and does not do /v1/{endpoint} (that needs a "
            f"{engine.ENDPOINT_TASKS[endpoint]} model); the endpoints that fit it: {fits}",
            supported=[f"/v1/{e}" for e in supported],
        )

    def body_doc(model: type[BaseModel]) -> dict:
        return {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": model.model_json_schema()}},
            }
        }

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(
            render_page(name, run.labels, needs_key=settings.api_key is not None, task=info["task"])
        )

    @app.get("/healthz", tags=["service"], summary="Liveness: 200 while the server runs (no API key needed)")
    async def healthz() -> dict:
        return {
            "status": "ok",
            "model": name,
            "waiting": sum(b.waiting for b in batchers),
            "batches": sum(b.batches for b in batchers),
            "texts": sum(b.items for b in batchers),
        }

    # without a key, no auth dependency at all: it would cost every request a little for nothing
    auth = [Depends(_auth_dependency(settings.api_key))] if settings.api_key else []
    v1 = APIRouter(prefix="/v1", dependencies=auth, responses=ERRORS)

    @v1.get(
        "/model",
        response_model=ModelInfo,
        tags=["model"],
        summary="The model: task, labels, config, versions",
    )
    async def get_model() -> dict:
        return info

    @v1.post(
        "/classify",
        tags=["model"],
        summary="Label texts",
        openapi_extra=body_doc(ClassifyRequest),
        responses={200: {"model": ClassifyResponse}},
    )
    async def classify(request: Request) -> JSONResponse:
        if "classify" not in supported:
            raise unsupported("classify")
        body = await read_request(request, ClassifyRequest, settings)
        results = await run_batched(classifier, body.texts)
        return JSONResponse({"model": name, "results": results})

    @v1.post(
        "/embed",
        tags=["model"],
        summary="Sentence vectors (and token vectors with tokens=true)",
        openapi_extra=body_doc(EmbedRequest),
        responses={200: {"model": EmbedResponse}},
    )
    async def embed(request: Request) -> JSONResponse:
        if "embed" not in supported:
            raise unsupported("embed")
        body = await read_request(request, EmbedRequest, settings)
        options = engine.EmbedOptions(pooling=body.pooling, tokens=body.tokens, normalize=body.normalize)
        results = await run_batched(embedder, [(t, options) for t in body.texts])
        pooling = body.pooling or run.config.model.pooling
        return JSONResponse(
            {"model": name, "pooling": pooling, "dim": len(results[0]["vector"]), "results": results}
        )

    @v1.post(
        "/tag",
        tags=["model"],
        summary="Tag every token (token classification models)",
        openapi_extra=body_doc(TagRequest),
    )
    async def tag(request: Request) -> JSONResponse:
        if "tag" not in supported:
            raise unsupported("tag")
        body = await read_request(request, TagRequest, settings)
        results = await run_batched(tagger, body.texts)
        return JSONResponse({"model": name, "scheme": run.meta.get("scheme"), "results": results})

    @v1.post(
        "/generate",
        tags=["model"],
        summary="Generate text (seq2seq and causal LM models)",
        openapi_extra=body_doc(GenerateRequest),
    )
    async def generate(request: Request) -> JSONResponse:
        if "generate" not in supported:
            raise unsupported("generate")
        raise APIError(501, "not_implemented", "generation is not implemented yet")  # pragma: no cover

    app.include_router(v1)
    return app


__all__ = ["APIError", "ServeSettings", "create_app", "model_info"]
