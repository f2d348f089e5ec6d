"""Tiers composed in order, positions resized, the report's counts and held-out scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchlm.errors import DataError
from scratchlm.transplant.build import build_embedding, parse_strategies, resize_positions
from scratchlm.transplant.report import heldout_scores, make_report
from scratchlm.transplant.sources import read_bert_dir


@pytest.fixture(scope="module")
def source(bert_dir):
    return read_bert_dir(bert_dir)


def test_tiers_in_order_and_counts_add_up(source):
    target = ["[PAD]", "[UNK]", "cat", "Cat", "cats", "中国", "猫", "天"]
    built = build_embedding(target, source, ["exact", "normalized", "chars", "compose"], seed=1)
    assert built.tiers == ["exact", "exact", "exact", "normalized", "compose", "chars", "random", "exact"]
    np.testing.assert_array_equal(built.matrix[2], built.matrix[3])  # Cat took cat's row
    report = make_report(target, built, source, ["exact", "normalized", "compose", "chars"])
    assert sum(report["tiers"].values()) == report["vocab_size"] == len(target)
    assert report["tiers"]["random"] == 1 and report["token_tiers"]["猫"] == "random"
    # order matters: compose first takes "Cat" (the tokenizer lowercases) before normalized could
    again = build_embedding(target, source, ["exact", "compose", "normalized"])
    assert again.tiers[3] == "compose"


def test_parse_strategies_errors():
    assert parse_strategies("exact, knn,sampled") == ["exact", "knn", "sampled"]
    with pytest.raises(DataError, match=r"unknown strategy 'fasttext'.*choose"):
        parse_strategies("exact,fasttext")
    with pytest.raises(DataError, match="twice"):
        parse_strategies("exact,exact")


def test_resize_positions():
    table = torch.arange(12.0).view(4, 3)
    assert torch.equal(resize_positions(table, 2), table[:2])
    ext = resize_positions(table, 6, "extend")
    assert torch.equal(ext[:4], table) and torch.equal(ext[4:], table[:2])
    interp = resize_positions(table, 7, "interpolate")
    assert torch.equal(interp[0], table[0]) and torch.equal(interp[-1], table[-1])
    torch.testing.assert_close(interp[1], (table[0] + table[1]) / 2)  # 7 points over 4: halfway steps
    with pytest.raises(DataError):
        resize_positions(table, 6, "cubic")


def test_heldout_scores(source):
    target = [t for t in source.tokens if not t.startswith("##")] + ["cats", "中国"]
    scores, info = heldout_scores(
        target, source, ["exact", "normalized", "compose", "sampled", "random"], fraction=0.5
    )
    assert info["heldout"] == round(0.5 * info["shared"])
    assert scores["normalized"] is None and info["rebuilt"]["normalized"] == 0  # nothing else spells them
    assert info["rebuilt"]["sampled"] == info["heldout"] and -1 <= scores["sampled"] <= 1
    assert "exact" not in scores
