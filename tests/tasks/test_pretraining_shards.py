"""``data.shards``: masked and causal LM runs train on memory-mapped shards, each DDP rank builds its own
part of every batch, a run stopped after a checkpoint and resumed ends bitwise identical to one that was
not, and what a sharded run cannot do is refused by name."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from cli_helpers import ROOT, cli_env, run_cli
from scratchlm.config import load_config
from scratchlm.data.prepare import prepare
from scratchlm.data.shards import ShardBlocks
from scratchlm.errors import ConfigError, RunDirError
from scratchlm.tasks.registry import make_task
from scratchlm.tokenizers.factory import train_tokenizer
from scratchlm.training.loop import train
from scratchlm.training.step import micro_batches

TEXTS = [f"第{i}条：今天北京天气很好，我们去上海工作{i % 17}天" for i in range(900)]


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    (root / "c.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    train_tokenizer("char", TEXTS).save(root / "tok")
    prepare([str(root / "c.txt")], str(root / "tok"), root / "s", shard_tokens=3000, chunk_texts=64,
            show_progress=False)  # fmt: skip
    return root / "s"


def _sets(shards, task="masked_lm", *more) -> list[str]:
    return [
        f"data.task={task}", f"data.shards={shards}", "data.corpus=", "data.packing=true",
        "data.max_seq_len=32", "data.max_eval_examples=40", "model.embed_dim=32", "model.bigram_buckets=0",
        "model.encoder.num_layers=1", "model.encoder.ffn_dim=64", "train.batch_size=8", "train.epochs=1",
        "train.max_steps=16", "train.save_every=8", "train.eval_every=8", "train.num_threads=1",
        "train.progress=false", "model.init=normal", "data.whole_word_mask=false", *more]  # fmt: skip


def _cfg(shards, task="masked_lm", *more):
    return load_config(ROOT / "configs" / "pd1998_mlm.yaml", _sets(shards, task, *more))


@pytest.mark.parametrize("task", ["masked_lm", "causal_lm"])
def test_trains_on_shards(shards, tmp_path, task):
    metrics = train(_cfg(shards, task), tmp_path / "run")
    assert metrics["task"] == task and metrics["dev"]["predicted_tokens"] > 0
    assert (tmp_path / "run" / "tokenizer" / "vocab.txt").read_text() == (
        shards / "tokenizer" / "vocab.txt"
    ).read_text()


def test_stopped_after_a_checkpoint_then_resumed_is_bitwise_identical(shards, tmp_path):
    full = tmp_path / "full"
    train(_cfg(shards), full)
    cut = tmp_path / "cut"  # the same run as if killed after its step-8 checkpoint
    shutil.copytree(full, cut)
    shutil.rmtree(cut / "checkpoints" / "step-000016")
    for name in ("model.safetensors", "metrics.json"):
        (cut / name).unlink()
    train(None, cut, resume=True)
    for name in ("model.safetensors", "optimizer.safetensors"):
        a = load_file(str(full / "checkpoints" / "step-000016" / name))
        b = load_file(str(cut / "checkpoints" / "step-000016" / name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name


@pytest.mark.slow
@pytest.mark.parametrize("distributed", ["ddp", "fsdp"])
def test_two_processes_on_shards_match_one(shards, tmp_path, distributed):
    """torchrun, 2 CPU processes (gloo), each reading its own half of every batch from the shards: the
    logged losses equal one process's (a causal LM: no masks, which are drawn per micro-batch)."""
    sets = _sets(shards, "causal_lm", "train.max_steps=6", "train.save_every=3", "train.eval_every=3",
                 "model.dropout=0", "model.encoder.attention_dropout=0", "model.embedding_dropout=0",
                 f"train.distributed={distributed}")  # fmt: skip
    args = [x for s in sets for x in ("--set", s)]
    config = str(ROOT / "configs" / "pd1998_clm.yaml")
    proc = run_cli("train", config, *args, "--out", str(tmp_path / "one"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    proc = subprocess.run([*torchrun, "-m", "scratchlm", "train", config, *args, "--out", str(tmp_path / "two")],
                          cwd=ROOT, env=cli_env(), capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]

    def losses(run):
        rows = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
        return [r["loss"] for r in rows if r["event"] == "train"]

    assert losses(tmp_path / "two") == pytest.approx(losses(tmp_path / "one"), rel=1e-4)
    assert len(losses(tmp_path / "one")) > 0


def test_a_resume_on_changed_shards_is_refused(shards, tmp_path):
    """The checkpoint records the shards' checksums: shards prepared again from other texts at the same
    path would continue the run in other data, so the resume stops with the reason."""
    mine = tmp_path / "s"
    shutil.copytree(shards, mine)
    run = tmp_path / "run"
    train(_cfg(mine, "masked_lm", "train.max_steps=8"), run)
    shutil.rmtree(mine)
    other = [t.replace("北京", "广州") for t in TEXTS]
    (tmp_path / "c.txt").write_text("\n".join(other) + "\n", encoding="utf-8")
    prepare([str(tmp_path / "c.txt")], str(shards / "tokenizer"), mine, shard_tokens=3000, chunk_texts=64,
            show_progress=False)  # fmt: skip
    with pytest.raises(RunDirError, match="holds other tokens than the shards this run was trained on"):
        train(None, run, resume=True)


def test_each_rank_builds_its_own_part_of_each_batch(shards):
    cfg = _cfg(shards)
    task = make_task(cfg)
    task.load()
    blocks = ShardBlocks(shards, cfg.data.max_seq_len)
    task.vocab_size = 100
    order = blocks.batch_order(8, seed=13, epoch=0)
    for batch in (order[0], order[len(order) - 1]):
        parts = [micro_batches(batch, 2)[rank] for rank in (0, 1)]  # world size 2, no accumulation
        assert sorted(parts[0] + parts[1]) == sorted(batch) and not set(parts[0]) & set(parts[1])
        for part in parts:
            b = task.batch(blocks, part, 0)
            assert b.index == part and b.ids.shape[0] == len(part)
            assert b.segments.tolist()[0][: len(blocks.segments[part[0]])] == blocks.segments[part[0]]


@pytest.mark.parametrize(
    ("more", "message"),
    [
        (["data.packing=false"], "data.packing: true"),
        (["data.whole_word_mask=true"], "data.whole_word_mask with data.shards"),
        (["data.max_train_examples=10"], "data.max_train_examples with data.shards"),
        (["data.corpus=zh-reviews"], "data.corpus with data.shards"),
    ],
)
def test_what_shards_cannot_do_is_named(shards, more, message):
    with pytest.raises(ConfigError, match=message):
        make_task(_cfg(shards, "masked_lm", *more))
    with pytest.raises(ConfigError, match="data.shards is for data.task masked_lm or causal_lm"):
        make_task(load_config(ROOT / "configs" / "tiny_test.yaml", [f"data.shards={shards}"]))


@pytest.mark.slow
def test_two_ddp_processes_on_shards_match_one(shards, tmp_path):
    """torchrun, 2 CPU processes (gloo), causal LM (no random masks): each process reads its half of each
    batch from the shards; the logged losses and the weights equal one process's up to float32 rounding."""
    import json
    import subprocess
    import sys

    from cli_helpers import cli_env, run_cli

    sets = [f"data.shards={shards}", "data.task=causal_lm", "data.corpus=", "data.packing=true",
            "data.whole_word_mask=false", "model.init=normal", "data.max_seq_len=32", "data.max_eval_examples=40",
            "model.embed_dim=32", "model.bigram_buckets=0", "model.encoder.num_layers=1", "model.encoder.ffn_dim=64",
            "model.dropout=0", "model.encoder.attention_dropout=0", "model.embedding_dropout=0",
            "train.batch_size=8", "train.max_steps=6", "train.save_every=3", "train.num_threads=1"]  # fmt: skip
    args = [x for s in sets for x in ("--set", s)]
    recipe = str(ROOT / "configs" / "pd1998_clm.yaml")
    single, two = tmp_path / "single", tmp_path / "two"
    proc = run_cli("train", recipe, *args, "--out", str(single))
    assert proc.returncode == 0, proc.stderr[-2000:]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    proc = subprocess.run([*torchrun, "-m", "scratchlm", "train", recipe, *args, "--out", str(two)], cwd=ROOT,
                          env=cli_env(), capture_output=True, text=True, timeout=600)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]

    def losses(run):
        lines = (run / "train_log.jsonl").read_text().splitlines()
        return [r["loss"] for r in map(json.loads, lines) if r["event"] == "train"]

    assert losses(two) == pytest.approx(losses(single), rel=1e-4)
    a = load_file(str(single / "checkpoints" / "step-000006" / "model.safetensors"))
    b = load_file(str(two / "checkpoints" / "step-000006" / "model.safetensors"))
    for k in a:
        torch.testing.assert_close(a[k], b[k], atol=1e-4, rtol=1e-3, msg=k)
