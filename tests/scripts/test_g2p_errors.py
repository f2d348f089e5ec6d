"""scripts/g2p_errors.py: the alignment is a minimal one, and each breakdown adds up to the totals."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from scratchlm.tasks.seq2seq_metrics import edit_distance

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "g2p_errors.py"
spec = importlib.util.spec_from_file_location("g2p_errors", SCRIPT)
g2p = importlib.util.module_from_spec(spec)
spec.loader.exec_module(g2p)


@pytest.mark.parametrize(
    ("ref", "hyp"),
    [("HH AH L OW", "HH EH L OW"), ("K AE T", "K AE T S"), ("T UW", "T"), ("", "AH"), ("A B C D", "B A D")],
)
def test_alignment_costs_the_edit_distance_and_keeps_both_sequences(ref, hyp):
    ref, hyp = ref.split(), hyp.split()
    pairs = g2p.alignment(ref, hyp)
    assert sum(a != b for a, b in pairs) == edit_distance(ref, hyp)
    assert [a for a, _ in pairs if a] == ref and [b for _, b in pairs if b] == hyp


def test_breakdowns_add_up():
    words = ["cat", "hello", "qzx", "banana"]
    refs = [[("K", "AE", "T")], [("HH", "AH", "L", "OW"), ("HH", "EH", "L", "OW")], [("K", "Z")],
            [("B", "AH", "N", "AE", "N", "AH")]]  # fmt: skip
    preds = [["K", "AE", "T"], ["HH", "IH", "L", "OW"], ["K", "Z", "S"], ["B", "AH", "N", "AA", "N", "AH"]]
    result = g2p.analyse(words, preds, refs, train_words=["cat", "hello", "banana"])
    m, groups = result["metrics"], result["groups"]
    assert m["wer"] == 0.75 and groups["all"]["words"] == 4
    assert groups["unseen trigram"]["words"] == 1  # qzx
    assert sum(g["words"] for k, g in groups.items() if k.startswith("length")) == 4
    assert sum(result["operations"].values()) == m["token_errors"] == 3
    assert result["operations"] == {"insertion consonant": 1, "substitution vowel": 2}
    assert "| all | 4 | 0.7500 |" in g2p.markdown(result)
