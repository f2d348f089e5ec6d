"""The server's side of prediction: the micro-batcher that gathers concurrent requests, and the batch
functions it runs (one per endpoint, built on :mod:`scratchlm.predict`).

:class:`MicroBatcher` gathers the texts of concurrent requests into batches: the first text waits at
most ``max_wait_ms`` for others, a batch holds at most ``max_batch`` texts, and batches run one at a
time in a worker thread so the event loop keeps accepting requests meanwhile. Each gathered batch is
then run by :mod:`scratchlm.predict` as passes of similar-length texts (``max_padding``).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import functools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scratchlm.predict.classify import classify_texts
from scratchlm.predict.embed import EmbedOptions, embed_texts

if TYPE_CHECKING:
    from scratchlm.serve.app import ServeSettings
    from scratchlm.training.run_dir import LoadedRun

log = logging.getLogger("scratchlm.serve")


def endpoint_needs(endpoint: str) -> str:
    """The tasks whose runs answer ``endpoint`` (for the 404 of a run that does not)."""
    from scratchlm.tasks.registry import TASKS, task_class

    fit = [name for name in TASKS if endpoint in task_class(name).endpoints]
    return " or ".join(fit) if fit else "a kind of run this version does not serve"


def supported_endpoints(run: LoadedRun) -> tuple[str, ...]:
    """The endpoints the run's task answers."""
    return run.handler().endpoints


# ------------------------------------------------------------------------------------ batch functions
def classify_batch(run: LoadedRun, max_padding: float | None, texts: list[str]) -> list[dict]:
    """``/v1/classify``: labels and probabilities (the logits stay inside)."""
    results = classify_texts(run, texts, batch_size=len(texts), max_padding=max_padding)
    for r in results:
        del r["logits"]
    return results


def embed_batch(
    run: LoadedRun, max_padding: float | None, items: list[tuple[str, EmbedOptions]]
) -> list[dict]:
    """``/v1/embed``: the texts of a batch that share their options run together."""
    groups: dict[EmbedOptions, list[int]] = {}
    for i, (_, options) in enumerate(items):
        groups.setdefault(options, []).append(i)
    out: list[dict] = [{}] * len(items)
    for options, index in groups.items():
        texts = [items[i][0] for i in index]
        for i, r in zip(index, embed_texts(run, texts, options, len(index), max_padding), strict=True):
            out[i] = r
    return out


def tag_batch(run: LoadedRun, texts: list[str]) -> list[dict]:
    """``/v1/tag``: a tagger's tags and spans, as ``scratchlm predict`` gives them."""
    from scratchlm.tasks.tagging_units import tag_texts

    return tag_texts(run, texts, batch_size=len(texts))


def make_batchers(run: LoadedRun, settings: ServeSettings) -> dict[str, MicroBatcher]:
    """One micro-batcher per endpoint, all sharing one model thread: forward passes never compete for
    the cores."""
    executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="scratchlm-model")
    batching = {
        "max_batch": settings.max_batch,
        "max_wait_ms": settings.max_wait_ms,
        "max_queue": settings.max_queue,
        "executor": executor,
    }
    return {
        "classify": MicroBatcher(functools.partial(classify_batch, run, settings.max_padding), **batching),
        "embed": MicroBatcher(functools.partial(embed_batch, run, settings.max_padding), **batching),
        "tag": MicroBatcher(functools.partial(tag_batch, run), **batching),
    }


# ------------------------------------------------------------------------------------ micro-batching
class QueueFullError(RuntimeError):
    """More texts are waiting than the batcher accepts; the client should retry later."""


class ItemError(RuntimeError):
    """An item failed on its own while the other items of its batch succeeded: the item, not the model,
    is the problem (``cause``: what ``fn`` raised)."""

    def __init__(self, cause: BaseException):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.cause = cause


@dataclass
class _Item:
    payload: Any
    future: asyncio.Future
    arrived: float
    started: bool = False
    """Taken into a batch (its forward pass may be running): what a deadline's answer says."""


class MicroBatcher:
    """Gathers single items from concurrent callers into calls of ``fn(list) -> list`` (same order).

    ``await submit(x)`` returns ``fn([..., x, ...])``'s result for ``x``. A batch closes when it holds
    ``max_batch`` items or ``max_wait_ms`` after its oldest item arrived, whichever comes first;
    while ``fn`` runs (in ``executor``, one call at a time) new items queue up and form the next batch,
    so under load batches fill without waiting. ``max_batch=1`` switches batching off.
    At most ``max_queue`` items wait; beyond that :meth:`submit_many` raises :class:`QueueFullError`
    (a request larger than the whole queue is still taken when nothing waits, so it is never refused
    forever). A failing batch of several items is run again one item at a time: only the items that fail
    on their own get the error, the others their results. Items whose future is cancelled (the caller
    gave up: a deadline, a client gone) leave the queue and never reach ``fn``.
    """

    def __init__(
        self,
        fn: Callable[[list], list],
        *,
        max_batch: int = 32,
        max_wait_ms: float = 5.0,
        max_queue: int = 4096,
        executor: concurrent.futures.Executor | None = None,
    ):
        if max_batch < 1:
            raise ValueError(f"max_batch must be >= 1, got {max_batch}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0, got {max_wait_ms}")
        self.fn = fn
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.max_queue = max_queue
        self._own_executor = executor is None
        self.executor = executor or concurrent.futures.ThreadPoolExecutor(
            1, thread_name_prefix="scratchlm-model"
        )
        self._pending: collections.deque[_Item] = collections.deque()
        self._nonempty: asyncio.Event | None = None
        self._full: asyncio.Event | None = None
        self._worker: asyncio.Task | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0
        self.items = 0

    def _ensure_started(self) -> None:
        # Started lazily in the running loop, so the same object works under uvicorn, TestClient and
        # httpx's ASGI transport (which runs no lifespan events).
        # A new event loop (a test client opened again) gets a new worker and new events.
        loop = asyncio.get_running_loop()
        if self._worker is None or self._worker.done() or self._loop is not loop:
            self._loop = loop
            self._pending.clear()
            self._nonempty, self._full = asyncio.Event(), asyncio.Event()
            self._worker = loop.create_task(self._work(), name="scratchlm-batcher")

    @property
    def waiting(self) -> int:
        return len(self._pending)

    async def submit(self, payload: Any) -> Any:
        return (await self.submit_many([payload]))[0]

    async def submit_many(self, payloads: Sequence[Any]) -> list[Any]:
        items = self.enqueue(payloads)
        try:
            return await self.results(items)
        except asyncio.CancelledError:
            self.cancel(items)
            raise

    def full(self) -> bool:
        """No room for another item now (checked before a request's body is read)."""
        return len(self._pending) >= self.max_queue

    def enqueue(self, payloads: Sequence[Any]) -> list[_Item]:
        """Queue ``payloads`` (or raise :class:`QueueFullError`); await :meth:`results` for the answers."""
        self._ensure_started()
        if self._pending and len(self._pending) + len(payloads) > self.max_queue:
            raise QueueFullError(f"{len(self._pending)} texts are waiting (max_queue={self.max_queue})")
        loop = asyncio.get_running_loop()
        now = loop.time()
        items = [_Item(p, loop.create_future(), now) for p in payloads]
        self._pending.extend(items)
        self._nonempty.set()
        if len(self._pending) >= self.max_batch:
            self._full.set()
        return items

    @staticmethod
    async def results(items: list[_Item]) -> list[Any]:
        return list(await asyncio.gather(*(item.future for item in items)))

    def cancel(self, items: list[_Item]) -> None:
        """The caller gave up on ``items``: those not yet in a batch leave the queue (a running batch
        finishes; its results for them are dropped)."""
        for item in items:
            item.future.cancel()
        gone = {id(item) for item in items if not item.started}
        if gone:
            self._pending = collections.deque(i for i in self._pending if id(i) not in gone)
            if not self._pending:
                self._nonempty.clear()

    async def _next_batch(self) -> list[_Item]:
        await self._nonempty.wait()
        loop = asyncio.get_running_loop()
        left = self._pending[0].arrived + self.max_wait - loop.time()
        if len(self._pending) < self.max_batch and left > 0:
            try:  # waiting on an Event consumes nothing, so a timeout cannot lose an item
                await asyncio.wait_for(self._full.wait(), left)
            except asyncio.TimeoutError:
                pass
        n = min(self.max_batch, len(self._pending))
        batch = [self._pending.popleft() for _ in range(n)]
        for item in batch:
            item.started = True
        if len(self._pending) < self.max_batch:
            self._full.clear()
        if not self._pending:
            self._nonempty.clear()
        return batch

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [
                item for item in await self._next_batch() if not item.future.done()
            ]  # done: caller gave up
            if not batch:
                continue
            try:
                results = await self._run(loop, batch)
            except Exception as exc:  # noqa: BLE001 - the worker lives on, whatever fn raises
                if len(batch) == 1:
                    if not batch[0].future.done():
                        batch[0].future.set_exception(exc)
                    continue
                log.warning("a batch of %d failed (%s: %s): running its items one by one", len(batch),
                            type(exc).__name__, exc)  # fmt: skip
                await self._one_by_one(loop, batch)
                continue
            self._answer(batch, results)

    async def _run(self, loop: asyncio.AbstractEventLoop, batch: list[_Item]) -> list[Any]:
        results = await loop.run_in_executor(self.executor, self.fn, [item.payload for item in batch])
        if len(results) != len(batch):
            raise RuntimeError(f"batch function returned {len(results)} results for {len(batch)} items")
        return results

    def _answer(self, batch: list[_Item], results: list[Any]) -> None:
        self.batches += 1
        self.items += len(batch)
        for item, result in zip(batch, results, strict=True):
            if not item.future.done():
                item.future.set_result(result)

    async def _one_by_one(self, loop: asyncio.AbstractEventLoop, batch: list[_Item]) -> None:
        """Each item of a failed batch alone: one bad text fails only its own request. An item that
        fails while others succeed gets :class:`ItemError`; when all fail, the model is at fault and
        each gets what ``fn`` raised."""
        failed: list[tuple[_Item, Exception]] = []
        for item in batch:
            if item.future.done():
                continue
            try:
                self._answer([item], await self._run(loop, [item]))
            except Exception as exc:  # noqa: BLE001 - this item's own error, for its caller
                failed.append((item, exc))
        alone = len(failed) < len(batch)
        for item, exc in failed:
            if not item.future.done():
                item.future.set_exception(ItemError(exc) if alone else exc)

    async def close(self) -> None:
        """Stop the worker (items still waiting are cancelled); the next submit starts a new one."""
        worker, self._worker = self._worker, None
        for item in self._pending:
            item.future.cancel()
        self._pending.clear()
        if worker is not None and self._loop is asyncio.get_running_loop():
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
