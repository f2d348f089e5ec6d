"""Every positional kind, and both ways of combining, train a small zh-reviews slice through the real
CLI with falling loss; pretrained rows stay frozen with ``freeze_embedding_rows: pretrained``.

Ten 30-step runs (about 5 s each on one core), two at a time. Settings shared by all: no character
pairs (the encoder has to learn, not the bigram table), token vectors scaled by sqrt(d) so the
sinusoidal table does not drown them, a constant learning rate.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from cli_helpers import TINY, run_cli
from scratchlm.config import POSITIONAL_KINDS

COMMON = {
    "train.max_steps": 30,
    "train.num_threads": 1,
    "train.schedule": "constant",
    "train.warmup_ratio": 0,
    "train.lr": 0.006,
    "data.max_train_examples": 960,
    "data.max_eval_examples": 64,
    "data.max_seq_len": 64,
    "model.bigram_buckets": 0,
    "model.embed_scale": "true",
}
RUNS = {f"{kind}-add": {"model.positional.kind": kind} for kind in POSITIONAL_KINDS} | {
    f"{kind}-concat": {"model.positional.kind": kind, "model.positional.combine": "concat"}
    for kind in ("sinusoidal", "scaled_sinusoidal", "learned")
}
FROZEN = {"的": 0.01, "不": -0.02, "好": 0.03}  # token -> the constant its pretrained vector holds
DIM = 48  # configs/tiny_test.yaml's embed_dim


def _train(name: str, settings: dict, root: Path):
    out = root / name
    args = [f"{k}={v}" for k, v in (COMMON | settings).items()]
    proc = run_cli(
        "train", str(TINY), *(x for a in args for x in ("--set", a)), "--out", str(out), timeout=300
    )
    return out, proc


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("input-layer-runs")
    vectors = root / "vectors.txt"
    lines = [f"{len(FROZEN)} {DIM}"] + [f"{tok} " + " ".join([str(v)] * DIM) for tok, v in FROZEN.items()]
    vectors.write_text("\n".join(lines) + "\n", encoding="utf-8")
    jobs = dict(RUNS)
    # the bag-of-tokens run also starts from pretrained vectors and keeps their rows frozen
    jobs["none-add"] = jobs["none-add"] | {
        "model.init": str(vectors),
        "model.freeze_embedding_rows": "pretrained",
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_train, name, settings, root) for name, settings in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


def _events(run: Path, event: str) -> list[dict]:
    records = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines() if line]
    return [r for r in records if r.get("event") == event]


@pytest.mark.parametrize("name", RUNS)
def test_loss_falls(runs, name):
    out, proc = runs[name]
    assert proc.returncode == 0, proc.stderr[-3000:]
    losses = [r["loss"] for r in _events(out, "train")]
    assert len(losses) >= 2 and losses[-1] < losses[0] - 0.01, losses


def test_pretrained_rows_stay_frozen(runs):
    from safetensors.numpy import load_file

    out, proc = runs["none-add"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _events(out, "init")[0]["frozen_rows"] == len(FROZEN)
    vocab = (out / "tokenizer" / "vocab.txt").read_text(encoding="utf-8").split("\n")
    weights = load_file(str(out / "model.safetensors"))
    table = weights["input.token_embedding.embedding.weight"]
    for tok, value in FROZEN.items():
        assert np.array_equal(table[vocab.index(tok)], np.full(DIM, value, dtype=np.float32)), tok
    frozen = weights["input.token_embedding.frozen_rows"]
    assert frozen.sum() == len(FROZEN) and not frozen[0]
    assert not table[0].any()  # padding
