"""``scratchlm predict``: JSONL files (``offline.py``: --input/--output/--batch-size), TEXT arguments and stdin."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from scratchlm.cli import main
from scratchlm.predict.classify import classify_texts

LINES = [
    {"text": "这本书写得太好了，强烈推荐！", "label": "positive", "id": 1},
    "质量很差，用了两天就坏了。",
    None,  # a blank line, skipped
    {"text": "物流很快" * 20, "meta": {"source": "x"}},
    {"text": "一般"},
]


def write_jsonl(path: Path, lines) -> Path:
    path.write_text(
        "".join(("" if x is None else json.dumps(x, ensure_ascii=False)) + "\n" for x in lines),
        encoding="utf-8",
    )
    return path


def test_file_in_file_out(run, run_dir, tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", LINES)
    out = tmp_path / "sub" / "out.jsonl"
    assert (
        main(["predict", str(run_dir), "--input", str(src), "--output", str(out), "--batch-size", "2"]) == 0
    )
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    texts = [x if isinstance(x, str) else x["text"] for x in LINES if x is not None]
    assert [r["text"] for r in rows] == texts
    assert rows[0]["label"] == "positive" and rows[0]["id"] == 1  # input keys are kept
    assert rows[2]["meta"] == {"source": "x"}
    expected = classify_texts(run, texts)
    for r, e in zip(rows, expected, strict=True):
        assert r["prediction"]["label"] == e["label"]
        assert r["prediction"]["probabilities"] == pytest.approx(e["probabilities"], abs=1e-5)
    assert rows[2]["prediction"]["truncated"] > 0
    assert "4 predictions written" in capsys.readouterr().err
    # another batch size, the same output; no temporary files left behind
    out2 = tmp_path / "out2.jsonl"
    assert (
        main(["predict", str(run_dir), "--input", str(src), "--output", str(out2), "--batch-size", "1"]) == 0
    )
    again = [json.loads(x)["prediction"] for x in out2.read_text(encoding="utf-8").splitlines()]
    assert [p["label"] for p in again] == [r["prediction"]["label"] for r in rows]
    for p, r in zip(again, rows, strict=True):
        assert p["probabilities"] == pytest.approx(r["prediction"]["probabilities"], abs=1e-5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl", "out2.jsonl", "sub"]


def test_file_to_stdout_and_text_field(run_dir, tmp_path, capsys):
    src = write_jsonl(tmp_path / "in.jsonl", [{"review": "很好"}, {"review": "很差"}])
    assert main(["predict", str(run_dir), "--input", str(src), "--text-field", "review"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["review"] for r in rows] == ["很好", "很差"] and all("prediction" in r for r in rows)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b'{"text": "ok"}\n{"text": "broken\n', "in.jsonl:2: invalid JSON"),
        (b'{"text": "ok"}\n\n{"txt": "x"}\n', "in.jsonl:3: no 'text' key (keys: 'txt')"),
        (b'{"text": 5}\n', "in.jsonl:1: 'text' is int"),
        (b"[1, 2]\n", "in.jsonl:1: expected a JSON object"),
        (b'{"text": "  "}\n', "in.jsonl:1: the text is empty"),
        (b'{"text": "ok"}\n{"text": "\xff"}\n', "in.jsonl:2: not UTF-8"),
        (b'{"text": "ok", "prediction": "x"}\n', "in.jsonl:1: the record already has a 'prediction' key"),
        (b"\n\n", "no records"),
    ],
)
def test_bad_input_lines_name_file_and_line(run_dir, tmp_path, capsys, content, words):
    src = tmp_path / "in.jsonl"
    src.write_bytes(content)
    out = tmp_path / "out.jsonl"
    assert main(["predict", str(run_dir), "--input", str(src), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and words in err and "\n" not in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--input", "MISSING.jsonl"], "input file not found"),
        (["--input", "{src}", "很好"], "not both"),
        (["--output", "x.jsonl", "很好"], "--output needs --input"),
        (["--input", "{src}", "--batch-size", "0"], "--batch-size 0"),
        (["--input", "{src}", "--output", "{src}"], "is the input file"),
    ],
)
def test_bad_arguments(run_dir, tmp_path, capsys, argv, words):
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "好"}])
    argv = [a.replace("{src}", str(src)) for a in argv]
    options, texts = [a for a in argv if a != "很好"], [a for a in argv if a == "很好"]
    assert main(["predict", *options, str(run_dir), *texts]) == 2
    assert words in capsys.readouterr().err
    assert src.read_text(encoding="utf-8") == '{"text": "好"}\n'


def test_text_arguments_and_stdin_still_work(run_dir, capsys, monkeypatch):
    assert main(["predict", str(run_dir), "很好", "很差"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].endswith("\t很好")
    assert main(["predict", "--json", str(run_dir), "很好"]) == 0
    (r,) = json.loads(capsys.readouterr().out)
    assert set(r) == {"text", "label", "probabilities", "logits", "input_ids", "truncated"}
    monkeypatch.setattr("sys.stdin", io.StringIO("很好\n\n很差\n"))
    assert main(["predict", str(run_dir)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_parquet_and_datasets_folder_inputs(run, run_dir, tmp_path, capsys):
    """A Parquet file or a saved datasets folder: each row a record, every column kept, errors name the row."""
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = ["这本书写得太好了", "质量很差"]
    pq.write_table(pa.table({"review": texts, "id": [7, 8]}), tmp_path / "in.parquet")
    datasets.Dataset.from_dict({"review": texts, "id": [7, 8]}).save_to_disk(str(tmp_path / "ds"))
    expected = [e["label"] for e in classify_texts(run, texts)]
    for src in ("in.parquet", "ds"):
        out = tmp_path / f"{src}.out.jsonl"
        argv = ["predict", str(run_dir), "--input", str(tmp_path / src), "--output", str(out)]
        assert main([*argv, "--text-field", "review"]) == 0
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [(r["review"], r["id"], r["prediction"]["label"]) for r in rows] == list(
            zip(texts, [7, 8], expected, strict=True)
        )
        assert main(argv) == 2
        assert "no column 'text' (columns: review, id)" in capsys.readouterr().err
    pq.write_table(pa.table({"text": ["好", None]}), tmp_path / "bad.parquet")
    assert main(["predict", str(run_dir), "--input", str(tmp_path / "bad.parquet")]) == 2
    assert "bad.parquet:row 2: 'text' is NoneType" in capsys.readouterr().err
