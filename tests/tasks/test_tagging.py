"""data.task: tagging end to end through the real CLI on the built-in data at small scale: train a tiny
tagger on a slice of pd1998-cws (and pd1998-ner) as a user would (a subprocess), then evaluate it after
reloading, predict, summarise (in-process, which saves a torch import per command); errors are one line."""

from __future__ import annotations

import json

import pytest

from cli_helpers import ROOT, cli, run_cli

CWS = ROOT / "configs" / "pd1998_cws.yaml"
NER = ROOT / "configs" / "pd1998_ner.yaml"
TINY = [
    "data.max_train_examples=300",
    "data.max_eval_examples=60",
    "data.max_seq_len=64",
    "model.embed_dim=32",
    "model.encoder.rnn_hidden_dim=32",
    "model.bigram_buckets=4000",
    "train.epochs=2",
    "train.batch_size=16",
    "train.lr=0.01",
    "train.save_every=20",
]


def _train(config, out, *extra: str):
    sets = [arg for s in [*TINY, *extra] for arg in ("--set", s)]
    proc = run_cli("train", str(config), *sets, "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def cws_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "cws"
    proc = _train(CWS, out)
    assert "test F1" in proc.stdout
    return out


def test_tiny_segmenter_learns_and_eval_after_reload_agrees(cws_run, capsys):
    metrics = json.loads((cws_run / "metrics.json").read_text())
    assert metrics["task"] == "tagging"
    assert metrics["test"]["f1"] > 0.6  # a 300-sentence slice; the full recipe reaches ~0.95
    meta = json.loads((cws_run / "run.json").read_text())
    assert (meta["task"], meta["scheme"], meta["labels"], meta["units"]) == (
        "tagging",
        "bmes",
        ["B", "M", "E", "S"],
        "chars",
    )
    status, out, err = cli(capsys, "eval", str(cws_run), "--json")
    assert status == 0, err
    reloaded = json.loads(out)
    for key in ("f1", "precision", "recall", "per_type", "num_sentences", "token_accuracy"):
        assert reloaded[key] == metrics["test"][key], key
    assert set(reloaded["per_type"]) == {"word"} and reloaded["num_sentences"] == 60
    assert reloaded["sentences_cut"] > 0  # max_seq_len=64 cut some sentences into windows
    status, out, _ = cli(capsys, "eval", str(cws_run), "--split", "dev")
    assert status == 0 and "precision" in out and "word" in out
    assert (cws_run / "plots" / "training_curves.png").is_file()


def test_predict_prints_words_separated_by_spaces(cws_run, capsys):
    proc = run_cli("predict", str(cws_run), "中国人民银行发表讲话", "  新年 快乐 ")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].replace(" ", "") == "中国人民银行发表讲话" and lines[1].replace(" ", "") == "新年快乐"
    _, out, _ = cli(capsys, "predict", str(cws_run), "--json", "我爱北京")
    (result,) = json.loads(out)
    assert result["tokens"] == list("我爱北京") and len(result["tags"]) == 4
    assert "".join(s["text"] for s in result["spans"]) == "我爱北京"
    long = "这是一个很长的句子，" * 20  # 200 characters, model windows of 64
    _, out, _ = cli(capsys, "predict", str(cws_run), "--json", long)
    (result,) = json.loads(out)
    assert result["windows"] > 1 and "".join(s["text"] for s in result["spans"]) == long
    status, _, err = cli(capsys, "predict", str(cws_run), "好", " ")
    assert status == 2 and "text 2 is empty" in err


def test_eval_on_a_user_tagged_file(cws_run, tmp_path, capsys):
    good = tmp_path / "mine.txt"
    good.write_text("迈/B 向/E 新/S 世/B 纪/E\n我/S 爱/S 北/B 京/E\n", encoding="utf-8")
    status, out, err = cli(capsys, "eval", str(cws_run), "--data", str(good), "--json")
    assert status == 0, err
    assert json.loads(out)["num_sentences"] == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("迈/B 向/E\n我/S 爱/Q\n", encoding="utf-8")
    status, _, err = cli(capsys, "eval", str(cws_run), "--data", str(bad))
    assert status == 2 and f"{bad}:2" in err and "'Q'" in err
    assert len(err.strip().splitlines()) == 1


def test_summary_of_a_tagger_run_and_config(cws_run, capsys):
    from scratchlm.training.run_dir import load_run

    n = sum(p.numel() for p in load_run(cws_run).model.parameters())
    status, out, err = cli(capsys, "summary", str(cws_run))
    assert status == 0, err
    assert f"Total params: {n:,}" in out and "LSTMEncoder" in out and "ConditionalRandomField" in out
    status, out, _ = cli(capsys, "summary", str(NER))
    assert status == 0 and "7 tags (O, B-PER" in out
    # taggers export to ONNX (tests/export/test_onnx.py); int8 is refused with the reason
    argv = ["export", "onnx", str(cws_run), "--out", str(cws_run / "never.onnx"), "--quantize", "int8"]
    status, _, err = cli(capsys, *argv)
    assert status == 2 and "--quantize int8 is for classifiers" in err


def test_tiny_ner_tagger_prints_entities(tmp_path, capsys):
    run = tmp_path / "ner"
    _train(NER, run, "train.epochs=1", "model.encoder.kind=gru", "model.head=softmax")
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["test"]["per_type"]) == {"LOC", "ORG", "PER"}
    status, out, err = cli(capsys, "predict", str(run), "新华社北京电")
    assert status == 0, err
    line = out.strip()
    assert line == "(no entities)" or all("/" in item for item in line.split("  "))
    status, out, _ = cli(capsys, "eval", str(run), "--json")
    assert {"f1", "precision", "recall", "per_type"} <= set(json.loads(out))


@pytest.mark.parametrize(
    ("lines", "needle"),
    [
        (['{"tokens": ["a", "b"], "tags": ["O"]}'], ":1: 2 tokens but 1 tags"),
        (
            ['{"tokens": ["a"], "tags": ["O"]}', '{"tokens": ["b"], "tags": ["I-PER"]}'],
            ":2: tag 'I-PER' cannot begin",
        ),
    ],
)
def test_bad_tagged_file_is_one_line_error(tmp_path, lines, needle):
    f = tmp_path / "bad.jsonl"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    proc = run_cli(
        "train",
        str(NER),
        "--set",
        f"data.dataset={f}",
        "--set",
        "data.tag_scheme=auto",
        "--out",
        str(tmp_path / "r"),
    )
    assert proc.returncode == 2 and f"{f}{needle}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "r").exists()


def test_config_errors_for_taggers(capsys, tmp_path):
    never = str(tmp_path / "never")
    status, _, err = cli(capsys, "train", str(CWS), "--set", "model.positional.kind=alibi", "--out", never)
    assert status == 2 and "acts inside attention" in err
    tiny = str(ROOT / "configs" / "tiny_test.yaml")
    status, _, err = cli(capsys, "train", tiny, "--set", "model.head=crf", "--out", never)
    assert status == 2 and "tagger head" in err
    status, _, err = cli(capsys, "train", str(CWS), "--set", "data.tokenizer=jieba", "--out", never)
    assert status == 2 and "needs data.tokenizer=char" in err
