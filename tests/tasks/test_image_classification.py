"""The image_classification task: config checks (text-only options and kinds refused, 2-D kinds refused
for text), auto detection, loading and encoding digits, batches, the loss, prediction on files."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from scratchlm.config import config_from_dict
from scratchlm.errors import ConfigError
from scratchlm.tasks.registry import make_task, resolve_task_name


def _cfg(**sections):
    base = {
        "data": {"dataset": "digits"},
        "model": {"positional": {"kind": "rope_2d"}, "patches": {"size": 4}},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    return config_from_dict(base)


def test_auto_picks_images_for_digits_folders_and_npz(tmp_path):
    assert resolve_task_name(_cfg().data) == "image_classification"
    (tmp_path / "a").mkdir()
    assert resolve_task_name(_cfg(data={"dataset": str(tmp_path)}).data) == "image_classification"
    assert resolve_task_name(_cfg(data={"dataset": "x.npz"}).data) == "image_classification"


@pytest.mark.parametrize(
    "sections, message",
    [
        ({"model": {"positional": {"kind": "sinusoidal"}}}, "is for text; images use"),
        ({"model": {"bigram_buckets": 100}}, "model.bigram_buckets=100 does not apply to images"),
        (
            {"model": {"pooling": "cls", "patches": {"size": 4, "cls_token": False}}},
            "reads the \\[CLS\\] output",
        ),
        ({"model": {"patches": {"size": 3}}}, "does not divide the images' side \\(8 pixels\\)"),
    ],
)
def test_config_checks(sections, message):
    with pytest.raises(ConfigError, match=message):
        make_task(_cfg(**sections))


def test_2d_kinds_are_refused_for_text():
    cfg = config_from_dict({"data": {"dataset": "zh-reviews"}, "model": {"positional": {"kind": "rope_2d"}}})
    with pytest.raises(ConfigError, match="2-D encoding for image patches"):
        make_task(cfg)


def test_load_encode_batch_loss():
    task = make_task(_cfg())
    cfg = task.load()
    assert (cfg.data.task, cfg.data.image_size, cfg.data.image_mode) == ("image_classification", 8, "L")
    train = task.split("train")[:40]
    processor = task.build_tokenizer(train)
    enc = task.encode(processor, train, task.labels)
    batch = task.batch(enc, [0, 3, 5], processor.vocab.pad_id)
    assert batch.pixels.shape == (3, 1, 8, 8) and batch.padding_mask.shape == (3, 5)  # [CLS] + 2x2 patches
    model = task.build_model(len(processor.vocab), len(task.labels), 0)
    loss = task.loss(model, batch, "cpu")
    assert loss.ndim == 0 and loss.item() > 0
    m = task.evaluate(model, enc, task.labels, 0, 16, "cpu")
    assert 0.0 <= m["accuracy"] <= 1.0


def test_predict_files_and_bad_files(tiny_image_run, tmp_path):
    from scratchlm.errors import DataError
    from scratchlm.training.run_dir import load_run

    run = load_run(tiny_image_run)
    task = run.handler()
    Image.fromarray(np.full((16, 16), 200, np.uint8)).save(tmp_path / "big.png")
    (tmp_path / "bad.png").write_bytes(b"nope")
    [result] = task.predict(run, [str(tmp_path / "big.png")], 8)
    assert result["image"].endswith("big.png") and result["label"] in run.labels
    assert abs(sum(result["probabilities"].values()) - 1) < 1e-4
    assert task.prediction_line(result).split("\t")[0] == result["label"]
    with pytest.raises(DataError, match="bad.png: not an image"):
        task.predict(run, [str(tmp_path / "bad.png")], 8)


# ------------------------------------------------------------------------------ through the CLI
def test_cli_eval_predict_summary_data(tiny_image_run, tmp_path, capsys):
    from cli_helpers import cli

    status, out, _ = cli(capsys, "eval", str(tiny_image_run), "--split", "dev", "--json")
    assert status == 0 and '"accuracy"' in out
    folder = tmp_path / "imgs"
    for label in ("3", "7"):
        (folder / label).mkdir(parents=True)
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(folder / label / "a.png")
    status, out, _ = cli(capsys, "eval", str(tiny_image_run), "--data", str(folder))
    assert status == 0 and "examples 2" in out
    png = folder / "3" / "a.png"
    status, out, _ = cli(capsys, "predict", str(tiny_image_run), str(png))
    assert status == 0 and out.strip().endswith(str(png))
    status, out, _ = cli(capsys, "summary", str(tiny_image_run))
    assert status == 0 and "PatchEmbedding" in out and "for input (2, 1, 8, 8)" in out
    status, out, _ = cli(capsys, "data", "show", "digits")
    assert status == 0 and "train      1445" in out and "8x8 L images" in out


def test_cli_errors_are_one_line(tiny_image_run, tmp_path, capsys):
    from cli_helpers import cli

    (tmp_path / "x.png").write_bytes(b"not an image")
    status, _, err = cli(capsys, "predict", str(tiny_image_run), str(tmp_path / "x.png"))
    assert status != 0 and "x.png: not an image Pillow can read" in err and "Traceback" not in err
    (tmp_path / "zebra").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "zebra" / "z.png")
    status, _, err = cli(capsys, "eval", str(tiny_image_run), "--data", str(tmp_path))
    assert status != 0 and "label 'zebra' is not one the model knows" in err


def test_cli_baseline_svc_on_pixels(capsys):
    from cli_helpers import ROOT, cli

    status, out, _ = cli(capsys, "baseline", str(ROOT / "configs" / "digits_vit.yaml"), "--json")
    import json

    result = json.loads(out)
    assert status == 0 and result["model"].startswith("svc-rbf-raw-pixels(gamma=0.001")
    assert result["train_examples"] == 1445 and result["test"]["accuracy"] == pytest.approx(158 / 159)
