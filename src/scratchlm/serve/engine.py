"""Prediction shared by ``scratchlm predict`` and the HTTP server, and the server's micro-batcher.

The functions take a :class:`~scratchlm.training.run_dir.LoadedRun` and a list of texts and return plain Python
objects (JSON-ready); they do no I/O. :class:`MicroBatcher` gathers the texts of concurrent requests
into batches: the first text waits at most ``max_wait_ms`` for others, a batch holds at most
``max_batch`` texts, and batches run one at a time in a worker thread so the event loop keeps
accepting requests meanwhile.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from scratchlm.modules.heads import POOLING

if TYPE_CHECKING:
    from scratchlm.tokenizers.char import Encoding
    from scratchlm.training.run_dir import LoadedRun

# What each kind of run can do, and the endpoint that does it; a seq2seq run adds its task here.
TASK_ENDPOINTS: dict[str, tuple[str, ...]] = {"classification": ("classify", "embed"), "tagging": ("tag",)}
ENDPOINT_TASKS = {
    "classify": "classification",
    "embed": "an encoder (classification)",
    "tag": "tagging",
    "generate": "seq2seq or causal LM",
}


def run_task(run: LoadedRun) -> str:
    return run.meta.get("task", "classification")


def supported_endpoints(run: LoadedRun) -> tuple[str, ...]:
    return TASK_ENDPOINTS.get(run_task(run), ())


def encode_texts(run: LoadedRun, texts: Sequence[str]) -> list[Encoding]:
    """Token ids as training made them: the run's normalisation, [CLS], its length and truncation."""
    return run.tokenizer.encode_batch(texts, max_len=run.max_seq_len, truncation=run.config.data.truncation)


def forward_groups(
    lengths: Sequence[int], batch_size: int, max_padding: float | None = None
) -> list[list[int]]:
    """Indices of the texts that go through the model together, sorted by length.

    Without ``max_padding``: consecutive runs of ``batch_size``. With it, a group also closes when
    adding the next (longer) text would make the padded tokens exceed ``(1 + max_padding)`` times
    the real ones. On a CPU a batch saves little per token, and padding costs in full: one padded
    pass over 32 reviews of mixed length took 2.4x as long as passes over groups of similar length
    (docs/serving.md, "Load test").
    """
    order = sorted(range(len(lengths)), key=lengths.__getitem__)
    if max_padding is None:
        return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    groups: list[list[int]] = []
    group: list[int] = []
    real = 0
    for i in order:
        n = lengths[i]
        if group and (len(group) == batch_size or n * (len(group) + 1) > (1 + max_padding) * (real + n)):
            groups.append(group)
            group, real = [], 0
        group.append(i)
        real += n
    if group:
        groups.append(group)
    return groups


@torch.no_grad()
def _run_groups(run: LoadedRun, encodings: Sequence[Encoding], groups: list[list[int]], step) -> list:
    """``step(ids, mask)`` on each group's padded batch; the rows back in input order."""
    from scratchlm.data.collate import pad_batch

    was_training = run.model.training
    run.model.eval()
    out: list = [None] * len(encodings)
    try:
        for group in groups:
            ids, mask = pad_batch([encodings[i].ids for i in group], run.tokenizer.vocab.pad_id)
            for row, value in zip(group, step(ids, mask), strict=True):
                out[row] = value
    finally:
        run.model.train(was_training)
    return out


def classify_encoded(
    run: LoadedRun, encodings: Sequence[Encoding], batch_size: int = 128, max_padding: float | None = None
) -> list[dict[str, Any]]:
    """One result per encoding: ``label``, ``score`` (its probability), ``probabilities`` by label,
    ``logits`` and ``truncated`` (tokens dropped to fit ``max_seq_len``). Batches as
    :func:`forward_groups` forms them."""
    if not encodings:
        return []
    groups = forward_groups([len(e.ids) for e in encodings], batch_size, max_padding)
    logits = torch.stack(_run_groups(run, encodings, groups, lambda ids, mask: run.model(ids, mask).float()))
    probs = logits.softmax(-1)
    best = probs.argmax(-1).tolist()
    out = []
    for enc, lg, pr, b in zip(encodings, logits.tolist(), probs.tolist(), best, strict=True):
        out.append(
            {
                "label": run.labels[b],
                "score": round(pr[b], 6),
                "probabilities": {label: round(p, 6) for label, p in zip(run.labels, pr, strict=True)},
                "logits": [round(v, 6) for v in lg],
                "truncated": enc.truncated,
            }
        )
    return out


def classify_texts(
    run: LoadedRun, texts: Sequence[str], batch_size: int = 128, max_padding: float | None = None
) -> list[dict[str, Any]]:
    return classify_encoded(run, encode_texts(run, texts), batch_size, max_padding)


@dataclass(frozen=True)
class EmbedOptions:
    """``pooling``: the run's own (``None``) or one of ``cls``, ``mean``, ``max``, ``mean_max``;
    ``tokens``: also return one vector per token; ``normalize``: scale vectors to unit L2 length."""

    pooling: str | None = None
    tokens: bool = False
    normalize: bool = False


def embed_encoded(
    run: LoadedRun,
    encodings: Sequence[Encoding],
    options: EmbedOptions = EmbedOptions(),
    batch_size: int = 128,
    max_padding: float | None = None,
) -> list[dict[str, Any]]:
    """Encoder outputs: ``vector`` (the pooled sentence vector) and, with ``options.tokens``,
    ``tokens``, ``offsets`` (spans in the text) and ``token_vectors`` (one per token, [CLS] first)."""
    pool = POOLING[options.pooling or run.config.model.pooling]

    def step(ids: torch.Tensor, mask: torch.Tensor):
        h = run.model.encode(ids, mask).float()  # (b, s, d)
        pooled = pool(h, mask)  # (b, d) or (b, 2d)
        if options.normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            h = torch.nn.functional.normalize(h, dim=-1)
        return list(zip(pooled, h, strict=True))

    groups = forward_groups([len(e.ids) for e in encodings], batch_size, max_padding)
    out = []
    for enc, (pooled, h) in zip(encodings, _run_groups(run, encodings, groups, step), strict=True):
        item: dict[str, Any] = {"vector": _rounded(pooled), "truncated": enc.truncated}
        if options.tokens:
            n = len(enc.ids)
            item["tokens"] = list(enc.tokens)
            item["offsets"] = [list(span) for span in enc.offsets]
            item["token_vectors"] = [_rounded(v) for v in h[:n]]
        out.append(item)
    return out


def embed_texts(
    run: LoadedRun,
    texts: Sequence[str],
    options: EmbedOptions = EmbedOptions(),
    batch_size: int = 128,
    max_padding: float | None = None,
) -> list[dict[str, Any]]:
    return embed_encoded(run, encode_texts(run, texts), options, batch_size, max_padding)


def _rounded(v: torch.Tensor) -> list[float]:
    return [round(x, 6) for x in v.float().tolist()]


# ------------------------------------------------------------------------------------ micro-batching
class QueueFullError(RuntimeError):
    """More texts are waiting than the batcher accepts; the client should retry later."""


@dataclass
class _Item:
    payload: Any
    future: asyncio.Future
    arrived: float


class MicroBatcher:
    """Gathers single items from concurrent callers into calls of ``fn(list) -> list`` (same order).

    ``await submit(x)`` returns ``fn([..., x, ...])``'s result for ``x``. A batch closes when it holds
    ``max_batch`` items or ``max_wait_ms`` after its oldest item arrived, whichever comes first;
    while ``fn`` runs (in ``executor``, one call at a time) new items queue up and form the next batch,
    so under load batches fill without waiting. ``max_batch=1`` switches batching off.
    At most ``max_queue`` items wait; beyond that :meth:`submit_many` raises :class:`QueueFullError`.
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
        self._ensure_started()
        if len(self._pending) + len(payloads) > self.max_queue:
            raise QueueFullError(f"{len(self._pending)} texts are waiting (max_queue={self.max_queue})")
        loop = asyncio.get_running_loop()
        now = loop.time()
        items = [_Item(p, loop.create_future(), now) for p in payloads]
        self._pending.extend(items)
        self._nonempty.set()
        if len(self._pending) >= self.max_batch:
            self._full.set()
        return list(await asyncio.gather(*(item.future for item in items)))

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
                results = await loop.run_in_executor(self.executor, self.fn, [item.payload for item in batch])
                if len(results) != len(batch):
                    raise RuntimeError(
                        f"batch function returned {len(results)} results for {len(batch)} items"
                    )
            except Exception as exc:  # noqa: BLE001 - every caller of the batch gets the error, the worker lives on
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)
                continue
            self.batches += 1
            self.items += len(batch)
            for item, result in zip(batch, results, strict=True):
                if not item.future.done():
                    item.future.set_result(result)

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
