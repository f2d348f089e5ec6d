"""data.task: causal_lm (next-token pretraining) and sequence packing end to end, the settings a causal LM
refuses, and no fine-tuning from a causal run."""

from __future__ import annotations

import json

import pytest

from cli_helpers import ROOT, run_cli
from scratchlm.config import load_config
from scratchlm.errors import ConfigError
from scratchlm.tasks.registry import make_task
from scratchlm.training.loop import train

SMALL = [
    "model.embed_dim=32",
    "model.encoder.num_layers=1",
    "model.encoder.ffn_dim=64",
    "data.max_seq_len=32",
]
SMALL += ["train.batch_size=8", "train.num_threads=1", "train.progress=false"]


def _corpus(tmp_path, n=120):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(f"这本书写得很好第{i}次" for i in range(n)) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def clm_run(tmp_path_factory):
    """The recipe (packed, document mask, tied) through the CLI, a few steps on a small file."""
    root = tmp_path_factory.mktemp("clm")
    sets = [f"data.corpus={_corpus(root)}", *SMALL, "train.max_steps=4", "train.eval_every=2"]
    r = run_cli(
        "train",
        str(ROOT / "configs" / "pd1998_clm.yaml"),
        "--out",
        str(root / "run"),
        *[a for s in sets for a in ("--set", s)],
    )
    assert r.returncode == 0, r.stderr
    assert "dev next-token accuracy" in r.stdout and "perplexity" in r.stdout
    assert "packed into" in r.stderr and "attention inside each text" in r.stderr
    return root / "run"


def test_clm_cli_run_packed(clm_run):
    metrics = json.loads((clm_run / "metrics.json").read_text())
    assert metrics["task"] == "causal_lm"
    m = metrics["test"]
    assert 0.0 <= m["accuracy"] <= 1.0 and m["perplexity"] > 1.0 and m["predicted_tokens"] > 0
    assert json.loads((clm_run / "run.json").read_text())["task"] == "causal_lm"
    evals = [json.loads(x) for x in (clm_run / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in evals if r["event"] == "eval"] == [2, 4]


def test_clm_run_unpacked(tmp_path):
    cfg = load_config(
        ROOT / "configs" / "pd1998_clm.yaml",
        [f"data.corpus={_corpus(tmp_path, 40)}", *SMALL, "data.packing=false", "train.max_steps=2"],
    )
    metrics = train(cfg, tmp_path / "run")
    # unpacked: one text a row, [CLS] text [SEP]; every real token after [CLS] is predicted once
    assert metrics["dev"]["predicted_tokens"] == sum(len(t) + 1 for t in (x.text for x in _dev_texts(cfg)))


def _dev_texts(cfg):
    from scratchlm.tasks.masked_lm import load_text_corpus

    return load_text_corpus(cfg).splits["dev"]


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (["model.bigram_buckets=1000"], "would show the model the token it must predict"),
        (["model.lexicon.source=jieba"], "would show the model the token it must predict"),
        (["model.encoder.kind=lstm", "data.document_mask=false"], "needs model.encoder.kind: transformer"),
        (["data.whole_word_mask=true"], "masked-LM option"),
    ],
)
def test_causal_lm_refuses(sets, message):
    with pytest.raises(ConfigError, match=message):
        make_task(load_config(ROOT / "configs" / "pd1998_clm.yaml", sets))


def test_finetuning_from_a_causal_run_is_refused(clm_run, tmp_path):
    with pytest.raises(ConfigError, match="causal-LM run"):
        train(load_config(ROOT / "configs" / "tiny_test.yaml", [f"model.init={clm_run}"]), tmp_path / "ft")
