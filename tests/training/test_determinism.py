"""Reproducible runs: a recipe and its seed give the same files bit for bit, word2vec stage included
(two processes with different ``PYTHONHASHSEED``, side by side); ``train.deterministic`` switches torch's
deterministic kernels on for the run and restores the process's settings after it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cli_helpers import ROOT, cli_env

SMALL = {
    # the demo recipe: word2vec (on the training texts, one pass) -> Transformer with hashed pairs
    "zh_sentiment": [
        "data.max_train_examples=300",
        "data.max_eval_examples=100",
        "data.max_seq_len=64",
        "model.embed_dim=32",
        "model.encoder.ffn_dim=64",
        "model.bigram_buckets=1000",
        "vectors.corpus=train",
        "vectors.epochs=1",
        "train.max_steps=10",
        "train.save_every=5",
    ],
    # a tagger: BiLSTM + CRF with dropout
    "pd1998_cws": [
        "data.max_train_examples=200",
        "data.max_eval_examples=50",
        "data.max_seq_len=64",
        "model.embed_dim=32",
        "model.encoder.rnn_hidden_dim=32",
        "model.bigram_buckets=1000",
        "train.max_steps=8",
        "train.save_every=4",
    ],
    # an encoder-decoder: BiLSTM encoder, attention decoder, beam search in the evaluation
    "cmudict_g2p": [
        "data.max_train_examples=400",
        "data.max_eval_examples=50",
        "model.embed_dim=32",
        "model.encoder.rnn_hidden_dim=32",
        "train.batch_size=32",
        "train.max_steps=8",
        "train.save_every=4",
    ],
}


def _train(recipe: str, out: Path, hash_seed: str) -> subprocess.Popen:
    args = [
        sys.executable,
        "-m",
        "scratchlm",
        "train",
        str(ROOT / "configs" / f"{recipe}.yaml"),
        "--out",
        str(out),
    ]
    for setting in [*SMALL[recipe], "train.num_threads=1", "train.progress=false"]:
        args += ["--set", setting]
    env = dict(cli_env(), PYTHONHASHSEED=hash_seed)
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )


def _run_files(run: Path) -> dict[str, bytes]:
    """Every file a run writes whose content should repeat: weights, optimizer and RNG states, vectors,
    tokenizer, metrics (the train log holds timings; trainer.json's history holds only scores)."""
    names = [p for p in run.rglob("*") if p.is_file() and p.suffix in {".safetensors", ".json", ".txt"}]
    return {str(p.relative_to(run)): p.read_bytes() for p in names if p.name != "train_log.jsonl"}


@pytest.mark.parametrize("recipe", list(SMALL))
def test_a_recipe_run_twice_gives_the_same_files_bit_for_bit(recipe, tmp_path):
    runs = [tmp_path / "a", tmp_path / "b"]
    procs = [_train(recipe, run, seed) for run, seed in zip(runs, ("1", "2"), strict=True)]
    for proc in procs:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-2000:]
    a, b = (_run_files(run) for run in runs)
    assert "model.safetensors" in a and any(k.startswith("checkpoints/") for k in a)
    if recipe == "zh_sentiment":
        assert "vectors/vectors.safetensors" in a  # the word2vec stage ran
    assert sorted(a) == sorted(b)
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"{recipe}: these files differ between two runs of the same seed: {differ}"


def test_deterministic_kernels_are_on_within_the_block_and_restored_after():
    from scratchlm.training.determinism import deterministic_kernels

    before = torch.are_deterministic_algorithms_enabled()
    with deterministic_kernels(True):
        assert torch.are_deterministic_algorithms_enabled()
        assert torch.is_deterministic_algorithms_warn_only_enabled()
        assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
        assert not torch.utils.deterministic.fill_uninitialized_memory  # its cost, not needed here
        with deterministic_kernels(False):
            assert not torch.are_deterministic_algorithms_enabled()
        assert torch.are_deterministic_algorithms_enabled()
    assert torch.are_deterministic_algorithms_enabled() == before
    assert torch.utils.deterministic.fill_uninitialized_memory  # torch's default, back


def test_restored_after_an_error_too():
    from scratchlm.training.determinism import deterministic_kernels

    before = torch.are_deterministic_algorithms_enabled()
    with pytest.raises(RuntimeError), deterministic_kernels(not before):
        raise RuntimeError("a failing run")
    assert torch.are_deterministic_algorithms_enabled() == before


def test_cuda_runs_get_a_fixed_cublas_workspace_and_a_user_setting_is_kept(monkeypatch):
    from scratchlm.training.determinism import CUBLAS_WORKSPACE, deterministic_kernels

    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    with deterministic_kernels(True, "cpu"):
        assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ
    with deterministic_kernels(True, "cuda:0"):
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == CUBLAS_WORKSPACE
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8")
    with deterministic_kernels(True, "cuda"):
        assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
