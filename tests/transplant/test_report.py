"""The transplant report (transplant/report.py): held-out cosine per strategy."""

from __future__ import annotations

import pytest

from scratchlm.transplant.report import heldout_scores
from scratchlm.transplant.sources import read_bert_dir


@pytest.fixture(scope="module")
def source(bert_dir):
    return read_bert_dir(bert_dir)


def test_heldout_scores(source):
    target = [t for t in source.tokens if not t.startswith("##")] + ["cats", "中国"]
    scores, info = heldout_scores(
        target, source, ["exact", "normalized", "compose", "sampled", "random"], fraction=0.5
    )
    assert info["heldout"] == round(0.5 * info["shared"])
    assert scores["normalized"] is None and info["rebuilt"]["normalized"] == 0  # nothing else spells them
    assert info["rebuilt"]["sampled"] == info["heldout"] and -1 <= scores["sampled"] <= 1
    assert "exact" not in scores
