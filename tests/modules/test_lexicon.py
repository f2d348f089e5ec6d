"""LexiconEmbedding: window hashes agree with the Python key, features mark begin/inside/end of each
match once per group, padding never matches, the layer starts at zero, and a saved dictionary of any
size loads into a fresh layer."""

from __future__ import annotations

import itertools

import pytest
import torch

from harness import run_module_test
from scratchlm.modules.lexicon import ROLES, LexiconEmbedding, hash_ids


def _layer(words, max_len=4, groups=("nr",)):
    layer = LexiconEmbedding(8, max_len=max_len, group_names=groups, pad_id=0)
    layer.set_words(words)
    return layer


def _active(layer, ids):
    """{position: {(group, length, role)}} from the multi-hot features, read back by brute force."""
    f = layer.features(torch.tensor([ids]))[0]
    names = list(itertools.product(layer.group_names, range(2, layer.max_len + 1), ROLES))
    return {i: {names[j] for j in torch.nonzero(f[i]).flatten().tolist()} for i in range(len(ids))}


def test_window_keys_equal_the_python_hash():
    layer = LexiconEmbedding(4, max_len=5)
    ids = torch.tensor([[5, 9, 1000, 77, 3, 42, 8]])
    for length, keys in zip(range(2, 6), layer.window_keys(ids), strict=True):
        expected = [hash_ids(ids[0, i : i + length].tolist()) for i in range(ids.shape[1] - length + 1)]
        assert keys[0].tolist() == expected


def test_features_mark_begin_inside_end_per_group():
    # words: (5, 6) any; (7, 8, 9) a person name (bit 1 = group nr)
    layer = _layer([([5, 6], 1), ([7, 8, 9], 0b11)])
    active = _active(layer, [5, 6, 7, 8, 9, 4])
    assert active[0] == {("any", 2, "begin")}
    assert active[1] == {("any", 2, "end")}
    assert active[2] == {("any", 3, "begin"), ("nr", 3, "begin")}
    assert active[3] == {("any", 3, "inside"), ("nr", 3, "inside")}
    assert active[4] == {("any", 3, "end"), ("nr", 3, "end")}
    assert active[5] == set()


def test_overlapping_and_nested_matches_all_count():
    layer = _layer([([1, 2], 1), ([2, 3], 1), ([1, 2, 3, 4], 1)], groups=())
    active = _active(layer, [1, 2, 3, 4])
    assert active[1] == {("any", 2, "end"), ("any", 2, "begin"), ("any", 4, "inside")}
    assert active[2] == {("any", 2, "end"), ("any", 4, "inside")}
    assert ("any", 4, "end") in active[3]


def test_padding_never_matches_and_short_inputs_work():
    layer = _layer([([5, 0], 1), ([5, 6], 1)], groups=())
    assert _active(layer, [5, 0, 0]) == {0: set(), 1: set(), 2: set()}  # (5, pad) is not a word
    assert layer(torch.tensor([[5]])).shape == (1, 1, 8)  # shorter than any word
    assert layer(torch.zeros(2, 0, dtype=torch.long)).shape == (2, 0, 8)


def test_words_outside_the_lengths_are_skipped_and_groups_merge():
    layer = LexiconEmbedding(4, max_len=3, group_names=("nr", "ns"))
    kept = layer.set_words([([1], 1), ([1, 2, 3, 4], 1), ([1, 2], 0b10), ([1, 2], 0b100)])
    assert kept == 1 and layer.groups.tolist() == [0b111]  # bit 0 always set; the two tags merged


def test_starts_at_zero_and_learns():
    layer = _layer([([5, 6], 1)])
    ids = torch.tensor([[5, 6, 7]])
    assert torch.equal(layer(ids), torch.zeros(1, 3, 8))
    layer(ids).sum().backward()
    assert layer.weight.grad.abs().sum() > 0


def test_no_dictionary_gives_zero_features():
    layer = LexiconEmbedding(8)
    assert torch.equal(layer.features(torch.tensor([[1, 2, 3]])), torch.zeros(1, 3, layer.num_features))


def test_state_dict_of_another_size_loads():
    saved = _layer([([5, 6], 1), ([7, 8, 9], 3)])
    torch.nn.init.normal_(saved.weight)
    fresh = LexiconEmbedding(8, max_len=4, group_names=("nr",))
    fresh.load_state_dict(saved.state_dict())
    ids = torch.tensor([[5, 6, 7, 8, 9]])
    assert fresh.num_words == 2
    assert torch.equal(fresh(ids), saved(ids))


@pytest.mark.parametrize("max_len", [1, 0])
def test_max_len_below_two_is_refused(max_len):
    with pytest.raises(ValueError, match="max_len"):
        LexiconEmbedding(4, max_len=max_len)


def test_the_export_search_equals_searchsorted(monkeypatch):
    """The binary search used inside an ONNX export finds what torch.searchsorted finds."""
    gen = torch.Generator().manual_seed(0)
    for n in (1, 2, 3, 7, 8, 1000):
        layer = LexiconEmbedding(4)
        layer.keys = torch.sort(torch.randperm(10 * n, generator=gen)[:n] * 3).values
        queries = torch.randint(-5, 30 * n + 5, (4, 50), generator=gen)
        expected = torch.searchsorted(layer.keys, queries)
        monkeypatch.setattr(torch.onnx, "is_in_onnx_export", lambda: True)
        assert torch.equal(layer._search(queries), expected), n
        monkeypatch.undo()


def test_exports_to_onnx_with_dynamic_shapes(tmp_path):
    """Through torch.onnx (dynamo, opset 18): onnxruntime gives the features PyTorch gives, for a batch
    and length other than the example's (the binary search replaces searchsorted, division replaces >>)."""
    ort = pytest.importorskip("onnxruntime")
    layer = _layer([([5, 6], 1), ([7, 8, 9], 3), ([6, 7, 8, 9], 1)])
    torch.nn.init.normal_(layer.weight)
    path = tmp_path / "lexicon.onnx"
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("seq")
    torch.onnx.export(
        layer,
        (torch.tensor([[5, 6, 7, 8, 9, 0]]),),
        str(path),
        dynamo=True,
        opset_version=18,
        input_names=["ids"],
        dynamic_shapes={"ids": {0: batch, 1: seq}},
    )
    ids = torch.tensor([[1, 5, 6, 7, 8, 9, 6, 7, 8, 9, 0], [7, 8, 9, 5, 6, 0, 0, 0, 0, 0, 0]])
    session = ort.InferenceSession(str(path))
    (got,) = session.run(None, {"ids": ids.numpy()})
    torch.testing.assert_close(torch.from_numpy(got), layer(ids).detach())


def test_module_harness():
    """Shapes, determinism, fp32/bf16, and gradients only for the weight (the dictionary is buffers)."""

    def factory():
        layer = _layer([([5, 6], 1), ([7, 8, 9], 0b11), ([6, 7, 8, 9], 1)], max_len=4)
        torch.nn.init.normal_(layer.weight)
        return layer

    ids = torch.tensor([[1, 5, 6, 7, 8, 9, 6, 7, 8, 9, 0], [7, 8, 9, 5, 6, 0, 0, 0, 0, 0, 0]])
    out = run_module_test(factory, (ids,), expected_shape=(2, 11, 8), num_trainable=2 * 3 * 3 * 8)
    assert out[0, 1:10].abs().sum(-1).gt(0).all() and not out[:, 10].any()  # matched; padding never is
