"""``POST /v1/classify`` for an image run (``data.task: image_classification``): images instead of texts.

Two ways to send them:

- JSON: ``{"images": ["<base64>", ...]}`` (or ``{"image": "<base64>"}``); a ``data:image/png;base64,``
  prefix is accepted;
- ``multipart/form-data``: one file field per image (any field name), as ``curl -F image=@digit.png``.

Each image is decoded with Pillow, converted to the run's mode, resized to its size and standardised
as in training (the run's image processor); the answer is ``{"model", "results": [{"label", "score",
"probabilities"}]}`` in the order sent. The checks, each a JSON error: body size (413), an undecodable
image (400, naming which), more images than ``max_texts`` (413), none (422), an image over
``MAX_PIXELS`` (413). Images share the server's model thread and micro-batching with the other
endpoints.
"""

from __future__ import annotations

import base64
import binascii
import functools
import io
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import JSONResponse

from scratchlm.serve.requests import APIError, parse_json, read_body

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun

MAX_PIXELS = 4096 * 4096
"""Largest image accepted (width x height), before resizing: a guard against decompression bombs."""


def _decode(data: bytes, where: str):
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.size[0] * image.size[1] > MAX_PIXELS:
                raise APIError(
                    413,
                    "limit_exceeded",
                    f"{where}: {image.size[0]}x{image.size[1]} pixels is over {MAX_PIXELS}",
                )
            image.load()
            return image.copy()
    except UnidentifiedImageError:
        raise APIError(
            400, "invalid_image", f"{where}: not an image Pillow can read (PNG, JPEG, ...)"
        ) from None
    except (OSError, ValueError, SyntaxError) as exc:
        raise APIError(400, "invalid_image", f"{where}: cannot decode the image ({exc})") from None


def _from_json(body: bytes) -> list[tuple[str, bytes]]:
    data = parse_json(body)
    if not isinstance(data, dict) or set(data) - {"images", "image"} or len(data) != 1:
        raise APIError(
            422,
            "invalid_request",
            'an image model takes {"images": ["<base64>", ...]} or {"image": "<base64>"}',
        )
    items = [data["image"]] if "image" in data else data["images"]
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise APIError(422, "invalid_request", "images: a list of base64 strings")
    out = []
    for i, text in enumerate(items):
        payload = text.split(",", 1)[1] if text.startswith("data:") and "," in text else text
        try:
            out.append((f"images.{i}", base64.b64decode(payload, validate=True)))
        except (binascii.Error, ValueError):
            raise APIError(400, "invalid_image", f"images.{i}: not valid base64") from None
    return out


async def _from_multipart(request: Request, body: bytes, max_files: int) -> list[tuple[str, bytes]]:
    from starlette.formparsers import MultiPartException, MultiPartParser

    async def stream():
        yield body

    parser = MultiPartParser(
        request.headers, stream(), max_files=max_files, max_fields=max_files, max_part_size=len(body) + 1
    )
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise APIError(
            400, "invalid_multipart", f"the multipart body cannot be read: {exc.message}"
        ) from None
    files = [
        (f"file {value.filename or key!r}", await value.read())
        for key, value in form.multi_items()
        if hasattr(value, "read")
    ]
    await form.close()
    return files


async def read_images(request: Request) -> list:
    """The request's images as Pillow images (checked as above)."""
    settings = request.app.state.settings
    body = await read_body(request, settings.max_body_bytes)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        raw = await _from_multipart(request, body, settings.max_texts + 1)
    else:
        raw = _from_json(body)
    if not raw:
        raise APIError(422, "invalid_request", "no image in the request; send at least one")
    if len(raw) > settings.max_texts:
        raise APIError(
            413,
            "limit_exceeded",
            f"the request has {len(raw)} images; the limit max_texts is {settings.max_texts}",
        )
    return [(where, _decode(data, where)) for where, data in raw]


def classify_images_batch(run: LoadedRun, images: list[tuple[str, Any]]) -> list[dict]:
    """One forward pass over a gathered batch of ``(where, Pillow image)``."""
    from scratchlm.predict.images import image_logits, labelled

    processor = run.tokenizer
    pixels = [processor.normalize(processor.read_image(image, where)) for where, image in images]
    results = labelled(image_logits(run.model, pixels, len(pixels)), run.labels)
    for r in results:
        del r["logits"]
    return results


def _batcher(state):
    """The image micro-batcher, made on first use; it shares the model thread of the text endpoints."""
    from scratchlm.serve.engine import MicroBatcher

    if "classify_image" not in state.batchers:
        settings, shared = state.settings, state.batchers["classify"]
        state.batchers["classify_image"] = MicroBatcher(
            functools.partial(classify_images_batch, state.run),
            max_batch=settings.max_batch,
            max_wait_ms=settings.max_wait_ms,
            max_queue=settings.max_queue,
            executor=shared.executor,
        )
    return state.batchers["classify_image"]


async def classify_images(request: Request) -> JSONResponse:
    """The image form of ``/v1/classify``."""
    from scratchlm.errors import DataError
    from scratchlm.serve.engine import QueueFullError

    images = await read_images(request)
    try:
        results = await _batcher(request.app.state).submit_many(images)
    except QueueFullError as exc:
        raise APIError(
            503, "busy", f"the server is busy: {exc}; retry shortly", headers={"Retry-After": "1"}
        ) from None
    except DataError as exc:  # e.g. a non-square image the run cannot read
        raise APIError(400, "invalid_image", str(exc)) from None
    return JSONResponse({"model": request.app.state.run.path.name, "results": results})
