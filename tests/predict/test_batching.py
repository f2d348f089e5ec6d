"""The one batched prediction path: grouping, padding, input order, eval mode, autocast; and the
logits, metrics and tag decoding built on it."""

from __future__ import annotations

import pytest
import torch

from scratchlm.errors import ConfigError
from scratchlm.predict.batching import (
    decode_tags,
    forward_groups,
    inference,
    map_batches,
    predict_logits,
    run_model,
)

SEQS = [[2, 5, 6, 7], [2, 8], [2, 9, 10, 11, 12, 13, 14, 15, 16, 17], [2, 5], [2, 6, 7, 8, 9], [2, 5, 5, 5]]


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
    # sorted by length, ties in input order: the order every caller's batches had before
    assert [i for g in forward_groups([3, 1, 3, 1], 3) for i in g] == [1, 3, 0, 2]


def test_map_batches_pads_each_group_and_keeps_the_input_order():
    seen: list[tuple[list[int], list[int]]] = []

    def step(ids, mask):
        assert ids.shape == mask.shape and mask.dtype == torch.bool
        seen.append((ids.shape[0], ids.shape[1]))
        assert (ids[~mask] == 0).all()  # right-padded with pad_id
        return [row[m].tolist() for row, m in zip(ids, mask, strict=True)]

    out = map_batches(SEQS, 0, step, batch_size=4)
    assert out == SEQS
    assert seen == [(4, 4), (2, 10)]  # lengths 2, 2, 4, 4 | 5, 10
    assert map_batches(SEQS, 0, step, batch_size=4, max_padding=0.0) == SEQS
    assert map_batches([], 0, step) == []


def test_map_batches_skips_empty_sequences():
    calls: list[int] = []

    def step(ids, mask):
        calls.append(ids.shape[0])
        return mask.sum(-1).tolist()

    assert map_batches([[], [1, 2], [], [3]], 0, step, skip_empty=True) == [None, 2, None, 1]
    assert calls == [2]
    assert map_batches([[], []], 0, step, skip_empty=True) == [None, None] and calls == [2]


def test_run_model_restores_train_mode_also_after_an_error(run):
    model = run.model
    model.train()

    def step(ids, mask):
        assert not model.training and not torch.is_grad_enabled()
        return [0] * len(ids)

    run_model(model, SEQS, 0, step)
    assert model.training

    def fails(ids, mask):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        run_model(model, SEQS, 0, fails)
    assert model.training
    model.eval()
    with inference(model):
        assert not model.training
    assert not model.training  # an eval-mode model stays in eval mode


def test_a_model_left_in_train_mode_predicts_as_in_eval_mode_and_is_restored(run, tagger):
    pad = run.tokenizer.vocab.pad_id
    run.model.eval()
    want = predict_logits(run.model, SEQS, pad)
    run.model.train()
    try:
        assert torch.equal(predict_logits(run.model, SEQS, pad), want)  # no dropout
        assert run.model.training
    finally:
        run.model.eval()
    seqs = [[5, 6, 7], [8] * 12, [9, 10]]
    tags = decode_tags(tagger.model, seqs, tagger.tokenizer.vocab.pad_id)
    tagger.model.train()
    try:
        assert decode_tags(tagger.model, seqs, tagger.tokenizer.vocab.pad_id) == tags
        assert tagger.model.training
    finally:
        tagger.model.eval()


@pytest.mark.parametrize("max_padding", [0.0, 0.25, 1.0])
def test_logits_are_identical_with_and_without_length_grouping(run, max_padding):
    pad = run.tokenizer.vocab.pad_id
    seqs = SEQS * 3 + [[2] + [5] * 20]
    plain = predict_logits(run.model, seqs, pad, batch_size=len(seqs))
    grouped = predict_logits(run.model, seqs, pad, batch_size=len(seqs), max_padding=max_padding)
    torch.testing.assert_close(grouped, plain, atol=1e-5, rtol=0)
    assert plain.shape == (len(seqs), len(run.labels)) and plain.dtype == torch.float32
    # one at a time: padding changes nothing
    for seq, row in zip(seqs, plain, strict=True):
        torch.testing.assert_close(predict_logits(run.model, [seq], pad)[0], row, atol=1e-5, rtol=0)


@pytest.mark.parametrize("max_padding", [0.0, 0.5])
def test_tags_are_identical_with_and_without_length_grouping(tagger, max_padding):
    pad = tagger.tokenizer.vocab.pad_id
    seqs = [[5, 6, 7], [], [8] * 20, [9, 10], [11] * 7, [12]]
    plain = decode_tags(tagger.model, seqs, pad, batch_size=2)
    assert plain == decode_tags(tagger.model, seqs, pad, batch_size=len(seqs), max_padding=max_padding)
    assert [len(t) for t in plain] == [len(s) for s in seqs]  # an empty sequence gets no tags
    assert plain == [decode_tags(tagger.model, [s], pad)[0] for s in seqs]


def test_empty_inputs(run, tagger):
    pad = run.tokenizer.vocab.pad_id
    assert predict_logits(run.model, [], pad).shape == (0, 0)
    assert decode_tags(tagger.model, [], pad) == []
    assert decode_tags(tagger.model, [[], []], pad) == [[], []]


def test_autocast_only_where_asked(run):
    pad = run.tokenizer.vocab.pad_id
    dtypes: list[torch.dtype] = []
    weight = torch.ones(3, 3)

    def step(ids, mask):
        dtypes.append(
            torch.nn.functional.linear(torch.ones(len(ids), 3), weight).dtype
        )  # what a matmul gives
        return [0] * len(ids)

    run_model(run.model, SEQS, pad, step)
    run_model(run.model, SEQS, pad, step, precision="bf16")
    assert dtypes[0] == torch.float32 and dtypes[-1] == torch.bfloat16
    assert not torch.is_autocast_enabled("cpu")  # switched off again
    bf16 = predict_logits(run.model, SEQS, pad, precision="bf16")
    assert bf16.dtype == torch.float32  # logits come back as float32
    torch.testing.assert_close(bf16, predict_logits(run.model, SEQS, pad), atol=0.1, rtol=0.05)
    with pytest.raises(ConfigError, match="fp16 needs a CUDA device"):
        predict_logits(run.model, SEQS, pad, precision="fp16")
    with pytest.raises(ConfigError, match="precision 'int4'"):
        predict_logits(run.model, SEQS, pad, precision="int4")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_cuda_matches_cpu(run, tagger, precision):
    pad = run.tokenizer.vocab.pad_id
    want = predict_logits(run.model, SEQS, pad)
    try:
        run.model.to("cuda")
        got = predict_logits(run.model, SEQS, pad, device="cuda", precision=precision, max_padding=0.25)
    finally:
        run.model.to("cpu")
    assert got.device.type == "cpu"
    tolerance = 1e-4 if precision == "fp32" else 5e-2
    torch.testing.assert_close(got, want, atol=tolerance, rtol=tolerance)
    if precision == "fp32":
        seqs = [[5, 6, 7], [], [8] * 20]
        cpu_tags = decode_tags(tagger.model, seqs, pad)
        try:
            tagger.model.to("cuda")
            assert decode_tags(tagger.model, seqs, pad, device="cuda") == cpu_tags
        finally:
            tagger.model.to("cpu")
