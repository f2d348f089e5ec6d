"""``scratchlm export onnx`` as a user runs it: what is written and said, the opset, int8, and
one-line errors (the graphs' parity with PyTorch is tested in tests/export)."""

from __future__ import annotations

import json

import pytest

from scratchlm.cli import main
from scratchlm.serve.synthetic import write_tiny_run

onnx = pytest.importorskip("onnx", reason="ONNX export needs pip install 'scratchlm[onnx]'")
pytest.importorskip("onnxruntime", reason="ONNX export needs pip install 'scratchlm[onnx]'")
pytest.importorskip("onnxscript", reason="ONNX export needs pip install 'scratchlm[onnx]'")


def test_cli(tmp_path, capsys):
    run_dir = write_tiny_run(tmp_path)
    assert main(["export", "onnx", str(run_dir), "--out", str(tmp_path / "m.onnx"), "--opset", "17"]) == 0
    out = capsys.readouterr().out
    assert "wrote" in out and "max |logit difference|" in out
    assert onnx.load(str(tmp_path / "m.onnx")).opset_import[0].version == 17
    assert (
        main(
            [
                "export",
                "onnx",
                str(run_dir),
                "--out",
                str(tmp_path / "q.onnx"),
                "--quantize",
                "int8",
                "--json",
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out)
    assert "change" in report["accuracy"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "dev.jsonl",
        "m.onnx",
        "q.onnx",
        "run",
        "train.jsonl",
    ]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--opset", "7"], "--opset 7"),
        (["--opset", "23"], "--opset 23"),
        (["--out", "{tmp}"], "is a directory"),
    ],
)
def test_cli_errors(tmp_path, capsys, argv, words):
    run_dir = write_tiny_run(tmp_path)
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    if "--out" not in argv:
        argv += ["--out", str(tmp_path / "m.onnx")]
    assert main(["export", "onnx", str(run_dir), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and words in err and "\n" not in err


def test_not_a_run(tmp_path, capsys):
    assert main(["export", "onnx", str(tmp_path), "--out", str(tmp_path / "m.onnx")]) == 2
    assert "not a scratchlm run directory" in capsys.readouterr().err
