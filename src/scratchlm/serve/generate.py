"""``POST /v1/generate``: text from causal-LM and seq2seq runs, whole or streamed as server-sent events.

The options are checked against the run before any text is queued (a bad option: 422
``invalid_request``; a prompt that leaves no room for ``max_new_tokens`` in the model's positions: 413
``limit_exceeded``). The texts then go through the endpoint's micro-batcher like classification's:
texts of concurrent requests with the same options run as one batch (:func:`generate_batch`).

With ``"stream": true`` the answer is ``text/event-stream``, one event per piece of text as the model
produces it, in the shape of OpenAI's streamed completions, which TGI and most clients read::

    data: {"model": "run", "choices": [{"index": 0, "text": "今天", "finish_reason": null}]}
    ...
    data: {"model": "run", "choices": [{"index": 0, "text": "", "finish_reason": "eos"}]}
    data: [DONE]

``index`` is the text's position in ``texts``; each text ends with one event whose ``finish_reason``
is ``eos`` (the model's end token), ``stop`` (a stop string or id) or ``length``. The pieces run in
the model's thread and reach the event loop through ``call_soon_threadsafe``. FastAPI is imported
inside the HTTP functions: the micro-batcher's :func:`generate_batch` works without the serve extra.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from scratchlm.errors import LimitError, ScratchLMError
from scratchlm.predict.sampling import GenerationOptions

if TYPE_CHECKING:
    from fastapi import Request
    from fastapi.responses import JSONResponse, StreamingResponse

    from scratchlm.serve.schemas import GenerateRequest
    from scratchlm.training.run_dir import LoadedRun

Sink = Callable[[str, "str | None"], None]
"""Where one text's pieces go: ``(piece, finish_reason or None)``."""


def generate_batch(run: LoadedRun, items: list[tuple[str, GenerationOptions, Sink | None]]) -> list[dict]:
    """The batch function of the ``generate`` micro-batcher: texts that share their options run together,
    each text's pieces sent to its sink (streamed requests) as they come."""
    groups: dict[GenerationOptions, list[int]] = {}
    for i, (_, options, _) in enumerate(items):
        groups.setdefault(options, []).append(i)
    out: list[dict] = [{}] * len(items)
    task = run.handler()
    for options, index in groups.items():
        sinks = [items[i][2] for i in index]

        def on_event(j: int, piece: str, reason: str | None, sinks=sinks) -> None:
            if sinks[j] is not None:
                sinks[j](piece, reason)

        results = task.generate(run, [items[i][0] for i in index], options, on_event=on_event)
        for i, r in zip(index, results, strict=True):
            out[i] = r
    return out


def request_options(run: LoadedRun, body: GenerateRequest) -> GenerationOptions:
    """The body's options checked against the run: 422 for a bad option, 413 for a length past its
    limits."""
    from scratchlm.serve.requests import APIError

    options = GenerationOptions(
        max_new_tokens=body.max_new_tokens,
        temperature=body.temperature,
        top_k=body.top_k,
        top_p=body.top_p,
        repetition_penalty=body.repetition_penalty,
        stop=tuple(body.stop),
        stop_ids=tuple(body.stop_ids),
        seed=body.seed,
        beam_size=body.beam_size,
    )
    try:
        return run.handler().generation_options(run, body.texts, options)
    except LimitError as exc:
        raise APIError(413, "limit_exceeded", str(exc), limit=exc.limit, max=exc.max) from None
    except ScratchLMError as exc:
        raise APIError(422, "invalid_request", str(exc)) from None


async def respond(request: Request, body: GenerateRequest, submit) -> JSONResponse | StreamingResponse:
    """The answer to a checked body; ``submit(payloads)`` awaits the micro-batcher (503 when full)."""
    from fastapi.responses import JSONResponse, StreamingResponse

    from scratchlm.serve.requests import APIError

    state = request.app.state
    options = request_options(state.run, body)
    name = state.run.path.name
    if not body.stream:
        results = await submit([(t, options, None) for t in body.texts])
        return JSONResponse({"model": name, "results": results})
    batcher = state.batchers["generate"]
    if batcher.waiting + len(body.texts) > batcher.max_queue:
        raise APIError(503, "busy", "the server is busy; retry shortly", headers={"Retry-After": "1"})
    return StreamingResponse(
        _events(name, body.texts, options, submit),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(name: str, texts: list[str], options: GenerationOptions, submit) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()

    def sink(index: int) -> Sink:
        return lambda piece, reason: loop.call_soon_threadsafe(queue.put_nowait, (index, piece, reason))

    job = asyncio.ensure_future(submit([(t, options, sink(i)) for i, t in enumerate(texts)]))
    open_texts = len(texts)

    def event(item: tuple[int, str, str | None]) -> str:
        nonlocal open_texts
        index, piece, reason = item
        open_texts -= reason is not None
        return _sse({"model": name, "choices": [{"index": index, "text": piece, "finish_reason": reason}]})

    try:
        while open_texts:
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({getter, job}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield event(getter.result())
                continue
            getter.cancel()
            if job.exception() is not None:  # the batch failed: say so and end the stream
                yield _sse({"error": {"code": "internal_error", "message": str(job.exception())}})
                return
            while open_texts and not queue.empty():  # the batch is done: every piece is queued
                yield event(queue.get_nowait())
            break
        await job
        yield "data: [DONE]\n\n"
    finally:
        if not job.done():
            job.cancel()


def _sse(obj: dict) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"
