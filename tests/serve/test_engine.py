"""The server's side of prediction: the micro-batcher and the batch function of each endpoint."""

from __future__ import annotations

import asyncio
import time

import pytest

from scratchlm.predict.classify import classify_texts
from scratchlm.predict.embed import EmbedOptions, embed_texts
from scratchlm.serve.engine import (
    ItemError,
    MicroBatcher,
    QueueFullError,
    classify_batch,
    embed_batch,
    make_batchers,
    supported_endpoints,
)

TEXTS = ["这本书写得太好了，强烈推荐！", "差", "物流很快，包装也不错，就是价格有点贵。"]


def test_classifier_supports_classify_and_embed(run):
    assert supported_endpoints(run) == ("classify", "embed")


def test_classify_batch_answers_without_logits(run):
    results = classify_batch(run, 0.25, TEXTS)
    expected = classify_texts(run, TEXTS)
    for got, want in zip(results, expected, strict=True):
        assert set(got) == {"label", "score", "probabilities", "truncated"}
        assert got["probabilities"] == pytest.approx(want["probabilities"], abs=1e-5)


def test_embed_batch_runs_each_options_group_and_keeps_the_order(run):
    plain, tokens = EmbedOptions(), EmbedOptions(tokens=True, pooling="max")
    items = [(TEXTS[0], plain), (TEXTS[1], tokens), (TEXTS[2], plain), (TEXTS[0], tokens)]
    results = embed_batch(run, None, items)
    for (text, options), got in zip(items, results, strict=True):
        (want,) = embed_texts(run, [text], options)
        assert got["vector"] == pytest.approx(want["vector"], abs=1e-5)
        assert ("tokens" in got) == options.tokens


def test_make_batchers_one_per_endpoint_sharing_one_model_thread(run):
    pytest.importorskip("fastapi", reason="ServeSettings lives with the app (pip install 'scratchlm[serve]')")
    from scratchlm.serve.app import ServeSettings

    batchers = make_batchers(run, ServeSettings(max_batch=4, max_wait_ms=1, max_queue=9))
    assert set(batchers) == {"classify", "embed", "tag"}
    assert len({id(b.executor) for b in batchers.values()}) == 1
    assert all(b.max_batch == 4 and b.max_queue == 9 for b in batchers.values())

    async def main():
        try:
            return await batchers["classify"].submit_many(TEXTS)
        finally:
            await batchers["classify"].close()

    assert [r["label"] for r in asyncio.run(main())] == [r["label"] for r in classify_texts(run, TEXTS)]


# ----------------------------------------------------------------------------------------- batcher
def _double(calls: list[int]):
    def fn(items: list[int]) -> list[int]:
        calls.append(len(items))
        time.sleep(0.002)
        return [2 * x for x in items]

    return fn


def test_batcher_gathers_concurrent_items_and_keeps_their_order():
    calls: list[int] = []

    async def main():
        b = MicroBatcher(_double(calls), max_batch=8, max_wait_ms=20)
        results = await asyncio.gather(*(b.submit(i) for i in range(50)))
        many = await b.submit_many(list(range(20)))
        await b.close()
        return results, many

    results, many = asyncio.run(main())
    assert results == [2 * i for i in range(50)]
    assert many == [2 * i for i in range(20)]
    assert max(calls) <= 8 and sum(calls) == 70
    assert len(calls) <= 70 // 8 + 3  # batched, not one call per item


def test_batcher_with_max_batch_1_runs_one_item_per_call():
    calls: list[int] = []

    async def main():
        b = MicroBatcher(_double(calls), max_batch=1, max_wait_ms=5)
        return await asyncio.gather(*(b.submit(i) for i in range(10)))

    assert asyncio.run(main()) == [2 * i for i in range(10)]
    assert calls == [1] * 10


def test_batcher_wait_is_bounded():
    async def main():
        b = MicroBatcher(lambda xs: xs, max_batch=64, max_wait_ms=30)
        t = time.perf_counter()
        await b.submit(1)  # alone: waits max_wait_ms for company, then runs
        return time.perf_counter() - t

    assert 0.02 <= asyncio.run(main()) < 1.0


def test_batcher_error_reaches_every_caller_and_the_worker_survives():
    state = {"fail": True}

    def fn(items):
        if state["fail"]:
            raise RuntimeError("boom")
        return items

    async def main():
        b = MicroBatcher(fn, max_batch=4, max_wait_ms=10)
        first = await asyncio.gather(*(b.submit(i) for i in range(3)), return_exceptions=True)
        state["fail"] = False
        second = await b.submit(7)
        return first, second

    first, second = asyncio.run(main())
    assert all(isinstance(e, RuntimeError) for e in first)
    assert second == 7


def test_one_bad_item_fails_only_its_own_caller():
    """A batch that fails is run again item by item: its batch-mates get their results."""
    calls = []

    def fn(items):
        calls.append(list(items))
        if "bad" in items:
            raise ValueError("cannot encode")
        return [x.upper() for x in items]

    async def main():
        b = MicroBatcher(fn, max_batch=8, max_wait_ms=20)
        return await asyncio.gather(*(b.submit(x) for x in ["a", "bad", "c"]), return_exceptions=True)

    a, bad, c = asyncio.run(main())
    assert (a, c) == ("A", "C") and isinstance(bad, ItemError) and isinstance(bad.cause, ValueError)
    assert calls == [["a", "bad", "c"], ["a"], ["bad"], ["c"]]


def test_cancelled_items_leave_the_queue_and_never_run():
    ran = []

    def fn(items):
        ran.extend(items)
        return items

    async def main():
        b = MicroBatcher(fn, max_batch=8, max_wait_ms=50, max_queue=4)
        items = b.enqueue([1, 2, 3, 4])
        assert b.full()
        b.cancel(items[:3])
        assert b.waiting == 1 and not b.full()
        return await b.results(items[3:])

    assert asyncio.run(main()) == [4] and ran == [4]


def test_batcher_refuses_beyond_its_queue():
    async def main():
        b = MicroBatcher(lambda xs: xs, max_batch=2, max_wait_ms=1, max_queue=3)
        waiting = b.enqueue([0])
        with pytest.raises(QueueFullError, match="1 texts are waiting \\(max_queue=3\\)"):
            await b.submit_many([1, 2, 3])
        await b.results(waiting)
        # a request larger than the whole queue is taken when nothing waits: never refused forever
        return await b.submit_many([1, 2, 3, 4, 5])

    assert asyncio.run(main()) == [1, 2, 3, 4, 5]


def test_batcher_rejects_bad_settings():
    with pytest.raises(ValueError):
        MicroBatcher(lambda xs: xs, max_batch=0)
    with pytest.raises(ValueError):
        MicroBatcher(lambda xs: xs, max_wait_ms=-1)
