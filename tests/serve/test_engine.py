"""Pure prediction functions and the micro-batcher."""

from __future__ import annotations

import asyncio
import math
import time

import pytest
import torch

from scratchlm.serve.engine import (
    EmbedOptions,
    MicroBatcher,
    QueueFullError,
    classify_texts,
    embed_texts,
    encode_texts,
    forward_groups,
    supported_endpoints,
)

TEXTS = [
    "这本书写得太好了，强烈推荐！",
    "差",
    "物流很快，包装也不错，就是价格有点贵。",
    "Quality is OK 质量一般",
]


def test_classify_gives_a_distribution_per_text_in_order(run):
    results = classify_texts(run, TEXTS)
    assert len(results) == len(TEXTS)
    for r in results:
        assert set(r["probabilities"]) == set(run.labels)
        assert math.isclose(sum(r["probabilities"].values()), 1.0, abs_tol=1e-5)
        assert r["label"] == max(r["probabilities"], key=r["probabilities"].get)
        assert r["score"] == r["probabilities"][r["label"]]
    # one text at a time gives the same answers: padding in a batch changes nothing
    for text, r in zip(TEXTS, results, strict=True):
        alone = classify_texts(run, [text])[0]
        assert alone["logits"] == pytest.approx(r["logits"], abs=1e-5)


def test_classify_counts_truncated_tokens(run):
    long = "好" * (run.max_seq_len + 10)
    (r,) = classify_texts(run, [long])
    assert r["truncated"] == 11  # max_seq_len - 1 characters fit beside [CLS]
    assert classify_texts(run, []) == []


def test_embed_pooled_and_token_vectors(run):
    d = run.config.model.embed_dim
    plain = embed_texts(run, TEXTS)
    assert [len(r["vector"]) for r in plain] == [d] * len(TEXTS)
    assert "token_vectors" not in plain[0]

    (r,) = embed_texts(run, [TEXTS[0]], EmbedOptions(tokens=True, pooling="mean"))
    enc = encode_texts(run, [TEXTS[0]])[0]
    assert r["tokens"] == enc.tokens and r["tokens"][0] == "[CLS]"
    assert len(r["token_vectors"]) == len(enc.ids) and r["offsets"][1] == [0, 1]
    mean = torch.tensor(r["token_vectors"]).mean(0)
    assert torch.allclose(mean, torch.tensor(r["vector"]), atol=1e-5)  # mean pooling over real tokens only

    (wide,) = embed_texts(run, [TEXTS[1]], EmbedOptions(pooling="mean_max"))
    assert len(wide["vector"]) == 2 * d
    unit = embed_texts(run, TEXTS, EmbedOptions(normalize=True))
    assert all(math.isclose(sum(x * x for x in u["vector"]), 1.0, abs_tol=1e-4) for u in unit)
    # batched = alone
    assert embed_texts(run, [TEXTS[2]])[0]["vector"] == pytest.approx(plain[2]["vector"], abs=1e-5)


def test_classifier_supports_classify_and_embed(run):
    assert supported_endpoints(run) == ("classify", "embed")


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
            state["fail"] = False
            raise RuntimeError("boom")
        return items

    async def main():
        b = MicroBatcher(fn, max_batch=4, max_wait_ms=10)
        first = await asyncio.gather(*(b.submit(i) for i in range(3)), return_exceptions=True)
        second = await b.submit(7)
        return first, second

    first, second = asyncio.run(main())
    assert all(isinstance(e, RuntimeError) for e in first)
    assert second == 7


def test_batcher_refuses_beyond_its_queue():
    async def main():
        b = MicroBatcher(lambda xs: xs, max_batch=2, max_wait_ms=1, max_queue=3)
        with pytest.raises(QueueFullError, match="max_queue=3"):
            await b.submit_many([1, 2, 3, 4])
        return await b.submit_many([1, 2, 3])

    assert asyncio.run(main()) == [1, 2, 3]


def test_batcher_rejects_bad_settings():
    with pytest.raises(ValueError):
        MicroBatcher(lambda xs: xs, max_batch=0)
    with pytest.raises(ValueError):
        MicroBatcher(lambda xs: xs, max_wait_ms=-1)


def test_forward_groups_bound_padding_and_size():
    lengths = [5, 160, 7, 158, 6, 40, 41, 159, 5, 5, 5, 5, 5, 5, 5, 5, 5]
    plain = forward_groups(lengths, 4)
    assert [len(g) for g in plain] == [4, 4, 4, 4, 1]
    assert sorted(i for g in plain for i in g) == list(range(len(lengths)))
    groups = forward_groups(lengths, 8, max_padding=0.25)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    for g in groups:
        longest, real = max(lengths[i] for i in g), sum(lengths[i] for i in g)
        assert len(g) <= 8 and (len(g) == 1 or longest * len(g) <= 1.25 * real)
    assert forward_groups([], 8, 0.25) == []


def test_grouped_passes_give_the_same_answers(run):
    texts = TEXTS * 3 + ["好" * 30]
    plain = classify_texts(run, texts, batch_size=len(texts))
    grouped = classify_texts(run, texts, batch_size=len(texts), max_padding=0.1)
    for a, b in zip(plain, grouped, strict=True):
        assert a["logits"] == pytest.approx(b["logits"], abs=1e-5)
    pooled = embed_texts(run, texts, EmbedOptions(tokens=True), max_padding=0.1)
    for a, b in zip(embed_texts(run, texts, EmbedOptions(tokens=True)), pooled, strict=True):
        assert a["vector"] == pytest.approx(b["vector"], abs=1e-5)
