"""data.task: masked_lm end to end on a small text file: the run, its metrics, whole-word masking, bad corpora."""

from __future__ import annotations

import json

import pytest

from cli_helpers import ROOT
from scratchlm.config import load_config
from scratchlm.errors import DataError
from scratchlm.training.loop import train

SENTENCES = ["我们喜欢北京的天气", "这本书写得很好", "人民日报发表社论", "今天的新闻很多", "他们在上海工作"]


def _corpus(tmp_path, n=400):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(f"{SENTENCES[i % 5]}{i}" for i in range(n)) + "\n\n", encoding="utf-8")
    return path


def _cfg(corpus, *more):
    return load_config(
        ROOT / "configs" / "pd1998_mlm.yaml",
        [
            f"data.corpus={corpus}",
            "model.embed_dim=32",
            "model.encoder.num_layers=1",
            "model.encoder.ffn_dim=64",
            "train.batch_size=16",
            "train.max_steps=12",
            "train.eval_every=6",
            "train.num_threads=1",
            "train.progress=false",
            *more,
        ],
    )


def test_mlm_run_reports_masked_accuracy_and_perplexity(tmp_path):
    metrics = train(_cfg(_corpus(tmp_path)), tmp_path / "run")
    assert metrics["task"] == "masked_lm"
    for split in ("dev", "test"):
        m = metrics[split]
        assert 0.0 <= m["accuracy"] <= 1.0 and m["perplexity"] > 1.0 and m["predicted_tokens"] > 0
    meta = json.loads((tmp_path / "run" / "run.json").read_text())
    assert meta["task"] == "masked_lm" and meta["labels"] == []
    evals = [json.loads(x) for x in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in evals if r["event"] == "eval"] == [6, 12]


def test_empty_corpus_is_an_error(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(DataError, match="no usable"):
        train(_cfg(empty), tmp_path / "run")
    assert not (tmp_path / "run").exists()
