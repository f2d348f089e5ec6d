"""The HTTP routes of :func:`scratchlm.serve.app.create_app`: module-level handlers, one job each.

The run, its settings, the model description and the micro-batchers live on ``app.state``
(``create_app`` puts them there), so one handler serves any app. ``service`` holds the page and the
liveness check; ``v1`` the model's API, which ``create_app`` mounts behind :func:`require_api_key`
when the server has a key. Bodies are read and checked in ``requests.py``.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.params import Depends as DependsParam
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from scratchlm.serve import engine, guard
from scratchlm.serve.page import page_endpoint, render_page
from scratchlm.serve.requests import APIError, parse_request
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

ERRORS = {status: {"model": ErrorResponse} for status in (400, 401, 408, 413, 422, 500, 503, 504)}

service = APIRouter()
v1 = APIRouter(prefix="/v1", responses=ERRORS)


# ---------------------------------------------------------------------------------------------- auth
_bearer = HTTPBearer(auto_error=False, description="the server's --api-key")
_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the server's --api-key")


async def require_api_key(
    request: Request,
    bearer: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
    header: str | None = Depends(_key_header),  # noqa: B008
) -> None:
    """401 unless the request carries the server's key (``X-API-Key`` or ``Authorization: Bearer``)."""
    api_key: str = request.app.state.settings.api_key
    given = header if header is not None else (bearer.credentials if bearer is not None else None)
    if given is None or not hmac.compare_digest(given.encode(), api_key.encode()):
        raise APIError(
            401,
            "unauthorized",
            "this server needs an API key: send 'Authorization: Bearer KEY' "
            "or 'X-API-Key: KEY'" + (" (the key given is wrong)" if given is not None else ""),
            headers={"WWW-Authenticate": "Bearer"},
        )


def v1_dependencies(api_key: str | None) -> list[DependsParam]:
    """Without a key, no auth dependency at all: it would cost every request a little for nothing."""
    return [Depends(require_api_key)] if api_key else []


# ------------------------------------------------------------------------------------------- helpers
def body_doc(model: type[BaseModel]) -> dict:
    """The request body's schema for the OpenAPI page (bodies are read by hand, not bound by FastAPI)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def unsupported(request: Request, endpoint: str) -> APIError:
    state = request.app.state
    fits = ", ".join(f"POST /v1/{e}" for e in state.endpoints) or "none"
    return APIError(
        404,
        "unsupported_endpoint",
        f"this model is a {state.info['task']} model and does not do /v1/{endpoint} (that needs a "
        f"{engine.endpoint_needs(endpoint)} model); the endpoints that fit it: {fits}",
        supported=[f"/v1/{e}" for e in state.endpoints],
    )


def check_supported(request: Request, endpoint: str) -> None:
    """404 if this model does not serve ``endpoint``, before the body is read."""
    if endpoint not in request.app.state.endpoints:
        raise unsupported(request, endpoint)


def _busy(exc: Exception) -> APIError:
    return APIError(503, "busy", f"the server is busy: {exc}; retry shortly", headers={"Retry-After": "1"})


async def read_for(request: Request, endpoint: str, model: type[BaseModel]) -> Any:
    """The checked body of a request to ``endpoint``. Refused before the body is read: a model that
    does not serve it (404), a full queue (503), a declared size over the limit (413); a body still
    arriving at the deadline gets 408 (:mod:`guard`)."""
    check_supported(request, endpoint)
    state = request.app.state
    batcher = state.batchers.get(endpoint)
    if batcher is not None and batcher.full():
        raise _busy(
            engine.QueueFullError(f"{batcher.waiting} texts are waiting (max_queue={batcher.max_queue})")
        )
    settings = state.settings
    raw = await guard.read_within(request, settings.max_body_bytes, settings.timeout)
    return parse_request(raw, model, settings)


async def run_batched(request: Request, endpoint: str, payloads: list) -> list:
    """The payloads through the endpoint's micro-batcher, by the request's deadline; 503 when its queue
    is full; the texts leave the queue if the client hangs up."""
    batcher = request.app.state.batchers[endpoint]
    try:
        items = batcher.enqueue(payloads)
    except engine.QueueFullError as exc:
        raise _busy(exc) from None
    return await guard.wait_for_results(request, batcher, items, request.app.state.settings.timeout)


def model_name(request: Request) -> str:
    return request.app.state.run.path.name


# ------------------------------------------------------------------------------------------- service
@service.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page(request: Request) -> HTMLResponse:
    state = request.app.state
    return HTMLResponse(
        render_page(
            model_name(request),
            state.run.labels,
            needs_key=state.settings.api_key is not None,
            endpoint=page_endpoint(state.endpoints),
        )
    )


@service.get("/healthz", tags=["service"], summary="Liveness: 200 while the server runs (no API key needed)")
async def healthz(request: Request) -> dict:
    batchers = request.app.state.batchers.values()
    return {
        "status": "ok",
        "model": model_name(request),
        "waiting": sum(b.waiting for b in batchers),
        "batches": sum(b.batches for b in batchers),
        "texts": sum(b.items for b in batchers),
    }


# ------------------------------------------------------------------------------------------------ v1
@v1.get(
    "/model", response_model=ModelInfo, tags=["model"], summary="The model: task, labels, config, versions"
)
async def get_model(request: Request) -> dict:
    return request.app.state.info


@v1.post(
    "/classify",
    tags=["model"],
    summary="Label texts",
    openapi_extra=body_doc(ClassifyRequest),
    responses={200: {"model": ClassifyResponse}},
)
async def classify(request: Request) -> JSONResponse:
    body = await read_for(request, "classify", ClassifyRequest)
    results = await run_batched(request, "classify", body.texts)
    return JSONResponse({"model": model_name(request), "results": results})


@v1.post(
    "/embed",
    tags=["model"],
    summary="Sentence vectors (and token vectors with tokens=true)",
    openapi_extra=body_doc(EmbedRequest),
    responses={200: {"model": EmbedResponse}},
)
async def embed(request: Request) -> JSONResponse:
    body = await read_for(request, "embed", EmbedRequest)
    options = engine.EmbedOptions(pooling=body.pooling, tokens=body.tokens, normalize=body.normalize)
    results = await run_batched(request, "embed", [(t, options) for t in body.texts])
    pooling = body.pooling or request.app.state.run.config.model.pooling
    return JSONResponse(
        {
            "model": model_name(request),
            "pooling": pooling,
            "dim": len(results[0]["vector"]),
            "results": results,
        }
    )


@v1.post(
    "/tag",
    tags=["model"],
    summary="Tag every token (token classification models)",
    openapi_extra=body_doc(TagRequest),
)
async def tag(request: Request) -> JSONResponse:
    body = await read_for(request, "tag", TagRequest)
    results = await run_batched(request, "tag", body.texts)
    scheme = request.app.state.run.meta.get("scheme")
    return JSONResponse({"model": model_name(request), "scheme": scheme, "results": results})


@v1.post(
    "/generate",
    tags=["model"],
    summary="Generate text (seq2seq and causal LM models)",
    openapi_extra=body_doc(GenerateRequest),
)
async def generate(request: Request) -> JSONResponse:
    check_supported(request, "generate")
    raise APIError(501, "not_implemented", "generation is not implemented yet")  # pragma: no cover
