"""The training loop's resume: a run killed with SIGKILL mid-epoch and resumed ends bitwise identical to an
uninterrupted run (both with the word2vec stage first); what cannot be resumed (no checkpoint, incomplete
ones, an edited config) is named."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from cli_helpers import ROOT, TINY, cli_env, run_cli

# 3000 examples / batch 32 = 94 steps per epoch: checkpoints at 20, 40, ... land mid-epoch
ARGS = [
    "--set",
    "train.num_threads=1",
    "--set",
    "train.save_every=20",
    "--set",
    "train.max_steps=120",
    "--set",
    "train.ema_decay=0.95",
    "--set",
    "model.dropout=0.2",
    # the demo recipe's first stage: word2vec vectors for the token embedding (one pass, training texts)
    "--set",
    "model.init=word2vec",
    "--set",
    "vectors.corpus=train",
    "--set",
    "vectors.epochs=1",
]


def _tensors_equal(a: Path, b: Path) -> None:
    ta, tb = load_file(str(a)), load_file(str(b))
    assert ta.keys() == tb.keys()
    for key in ta:
        assert torch.equal(ta[key], tb[key]), f"{a.name}: {key} differs"


def test_sigkill_then_resume_is_bitwise_identical(tmp_path):
    full = tmp_path / "full"
    proc = run_cli("train", str(TINY), *ARGS, "--out", str(full))
    assert proc.returncode == 0, proc.stderr[-2000:]

    killed = tmp_path / "killed"
    child = subprocess.Popen(
        [sys.executable, "-m", "scratchlm", "train", str(TINY), *ARGS, "--out", str(killed)],
        cwd=ROOT,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 300
    target = killed / "checkpoints" / "step-000060"
    while not (target / "trainer.json").exists() and child.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (killed / "checkpoints" / "step-000120").exists()

    proc = run_cli("train", "--resume", str(killed))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "resumed from step-" in proc.stderr
    _tensors_equal(
        full / "checkpoints" / "step-000120" / "model.safetensors",
        killed / "checkpoints" / "step-000120" / "model.safetensors",
    )
    _tensors_equal(
        full / "checkpoints" / "step-000120" / "ema.safetensors",
        killed / "checkpoints" / "step-000120" / "ema.safetensors",
    )
    _tensors_equal(full / "vectors" / "vectors.safetensors", killed / "vectors" / "vectors.safetensors")
    _tensors_equal(full / "model.safetensors", killed / "model.safetensors")
    assert (full / "metrics.json").read_text() == (killed / "metrics.json").read_text()


def test_resume_without_checkpoint_says_so(tmp_path):
    proc = run_cli("train", "--resume", str(tmp_path))
    assert proc.returncode == 2 and "cannot resume" in proc.stderr


def test_resume_names_incomplete_checkpoints_and_config_differences(tmp_path):
    from scratchlm.config import load_config
    from scratchlm.errors import RunDirError
    from scratchlm.training.loop import train

    out = tmp_path / "run"
    sets = ["train.max_steps=2", "data.max_train_examples=64", "data.max_eval_examples=16"]
    train(load_config(TINY, [*sets, "train.num_threads=1", "train.progress=false"]), out)
    ckpts = out / "checkpoints"
    (step,) = ckpts.iterdir()
    # an edited config.yaml disagrees with the config the checkpoint was written under: all listed
    cfg = (out / "config.yaml").read_text()
    edited = cfg.replace("lr: 0.003", "lr: 0.004").replace("num_layers: 1", "num_layers: 2")
    (out / "config.yaml").write_text(edited)
    with pytest.raises(RunDirError, match="disagrees with the config this checkpoint was written under") as e:
        train(None, out, resume=True)
    assert "train.lr: 0.003 in the checkpoint, 0.004 in config.yaml" in str(e.value)
    assert "model.encoder.num_layers: 1 in the checkpoint, 2 in config.yaml" in str(e.value)
    # a checkpoint without its config (older runs): the tensors themselves are checked
    trainer = json.loads((step / "trainer.json").read_text())
    trainer.pop("config")
    (step / "trainer.json").write_text(json.dumps(trainer))
    with pytest.raises(RunDirError, match="does not fit the model") as e:
        train(None, out, resume=True)
    assert "missing from the checkpoint: encoder.layers.1." in str(e.value)
    (out / "config.yaml").write_text(cfg)
    # no complete checkpoint: the incomplete ones are named
    (step / "trainer.json").unlink()
    (ckpts / ".step-000004.abc.tmp").mkdir()
    with pytest.raises(RunDirError, match="no complete checkpoint") as e:
        train(None, out, resume=True)
    assert f"{step.name} (no trainer.json)" in str(e.value)
    assert ".step-000004.abc.tmp (a checkpoint interrupted while being written)" in str(e.value)


def test_logger_tolerates_a_last_line_cut_short_by_a_kill(tmp_path):
    from scratchlm.training.loop import Logger

    log = tmp_path / "train_log.jsonl"
    log.write_text('{"step": 20, "event": "train"}\n{"step": 40, "event": "train"}\n{"step": 60, "ev')
    Logger(log, keep_until_step=40).write(step=41, event="train")
    assert [json.loads(line)["step"] for line in log.read_text().split("\n") if line] == [20, 40, 41]


SMALL = ["train.max_steps=6", "train.save_every=2", "train.keep_checkpoints=3", "data.max_train_examples=64",
         "data.max_eval_examples=16", "train.num_threads=1", "train.progress=false", "train.eval_every=2",
         "train.batch_size=16"]  # fmt: skip


def test_resume_falls_back_past_a_damaged_newest_checkpoint(tmp_path, caplog):
    from scratchlm.config import load_config
    from scratchlm.training.loop import train

    out = tmp_path / "run"
    train(load_config(TINY, SMALL), out)
    finished = (out / "metrics.json").read_text()
    best = {k: v.clone() for k, v in load_file(str(out / "model.safetensors")).items()}
    ckpts = out / "checkpoints"
    assert sorted(p.name for p in ckpts.iterdir()) == ["step-000002", "step-000004", "step-000006"]
    newest = ckpts / "step-000006" / "model.safetensors"
    newest.write_bytes(newest.read_bytes()[:100])  # cut short, as a full disk or a crash leaves it
    (out / "model.safetensors").write_bytes(b"garbage from a history the resumed run will not repeat")
    with caplog.at_level("INFO", logger="scratchlm"):
        train(None, out, resume=True)
    assert "checkpoint step-000006 cannot be resumed from (model.safetensors is damaged" in caplog.text
    assert "resumed from step-000004" in caplog.text
    assert "step-000006.damaged" in sorted(p.name for p in ckpts.iterdir())
    # the replayed steps give the same run: the same checkpoints, best weights and metrics
    assert (out / "metrics.json").read_text() == finished
    assert all(torch.equal(v, load_file(str(out / "model.safetensors"))[k]) for k, v in best.items())


def test_resume_from_a_named_checkpoint(tmp_path, caplog):
    from scratchlm.config import load_config
    from scratchlm.errors import RunDirError
    from scratchlm.training.loop import train

    out = tmp_path / "run"
    train(load_config(TINY, SMALL), out)
    with pytest.raises(RunDirError, match=r"--from step-9: no such checkpoint \(checkpoints: step-000002, "):
        train(None, out, resume_from="step-9")
    with caplog.at_level("INFO", logger="scratchlm"):
        train(None, out, resume_from="step-2")
    assert "resumed from step-000002 (step 2" in caplog.text
    names = sorted(p.name for p in (out / "checkpoints").iterdir())
    assert "step-000004.superseded" in names and "step-000006" in names
    proc = run_cli("train", str(TINY), "--from", "step-2", "--out", str(tmp_path / "x"))
    assert proc.returncode == 2 and "--from STEP picks the checkpoint of --resume RUN" in proc.stderr


def test_a_bad_device_writes_nothing(tmp_path):
    from scratchlm.config import load_config
    from scratchlm.errors import ConfigError
    from scratchlm.training.loop import train

    with pytest.raises(ConfigError, match="--device 'bogus': not a device"):
        train(load_config(TINY, SMALL), tmp_path / "run", device="bogus")
    assert not (tmp_path / "run").exists()


def test_resume_of_a_damaged_run_names_the_file(tmp_path, capsys):
    from scratchlm.cli import main
    from scratchlm.config import load_config
    from scratchlm.training.loop import train

    out = tmp_path / "run"
    train(load_config(TINY, [*SMALL, "train.max_steps=2"]), out)
    for name in ("run.json", "tokenizer/vocab.txt", "tokenizer/tokenizer.json", "config.yaml"):
        original = (out / name).read_bytes()
        (out / name).write_bytes(original[: len(original) // 2])
        assert main(["train", "--resume", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err and str(out / name) in err, err
        (out / name).write_bytes(original)
