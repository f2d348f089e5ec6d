"""The real CLI on the built-in tagging data at small scale: train a tiny tagger on a slice of
pd1998-cws (and pd1998-ner), evaluate it after reloading, predict, summarise; errors are one line."""

from __future__ import annotations

import json

import pytest

from cli_helpers import ROOT, run_cli

CWS = ROOT / "configs" / "pd1998_cws.yaml"
NER = ROOT / "configs" / "pd1998_ner.yaml"
TINY = [
    "data.max_train_examples=300",
    "data.max_eval_examples=60",
    "data.max_seq_len=64",
    "model.embed_dim=32",
    "model.rnn_hidden_dim=32",
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


def test_tiny_segmenter_learns_and_eval_after_reload_agrees(cws_run):
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
    proc = run_cli("eval", str(cws_run), "--json")
    assert proc.returncode == 0, proc.stderr
    reloaded = json.loads(proc.stdout)
    for key in ("f1", "precision", "recall", "per_type", "num_sentences", "token_accuracy"):
        assert reloaded[key] == metrics["test"][key], key
    assert set(reloaded["per_type"]) == {"word"} and reloaded["num_sentences"] == 60
    assert reloaded["sentences_cut"] > 0  # max_seq_len=64 cut some sentences into windows
    text = run_cli("eval", str(cws_run), "--split", "dev")
    assert text.returncode == 0 and "precision" in text.stdout and "word" in text.stdout
    assert (cws_run / "plots" / "training_curves.png").is_file()


def test_predict_prints_words_separated_by_spaces(cws_run):
    proc = run_cli("predict", str(cws_run), "中国人民银行发表讲话", "  新年 快乐 ")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].replace(" ", "") == "中国人民银行发表讲话" and lines[1].replace(" ", "") == "新年快乐"
    proc = run_cli("predict", str(cws_run), "--json", "我爱北京")
    (result,) = json.loads(proc.stdout)
    assert result["tokens"] == list("我爱北京") and len(result["tags"]) == 4
    assert "".join(s["text"] for s in result["spans"]) == "我爱北京"
    long = "这是一个很长的句子，" * 20  # 200 characters, model windows of 64
    proc = run_cli("predict", str(cws_run), "--json", long)
    (result,) = json.loads(proc.stdout)
    assert result["windows"] > 1 and "".join(s["text"] for s in result["spans"]) == long
    assert run_cli("predict", str(cws_run), "好", " ").returncode == 2


def test_eval_on_a_user_tagged_file(cws_run, tmp_path):
    good = tmp_path / "mine.txt"
    good.write_text("迈/B 向/E 新/S 世/B 纪/E\n我/S 爱/S 北/B 京/E\n", encoding="utf-8")
    proc = run_cli("eval", str(cws_run), "--data", str(good), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["num_sentences"] == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("迈/B 向/E\n我/S 爱/Q\n", encoding="utf-8")
    proc = run_cli("eval", str(cws_run), "--data", str(bad))
    assert proc.returncode == 2 and f"{bad}:2" in proc.stderr and "'Q'" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_summary_of_a_tagger_run_and_config(cws_run):
    from scratchlm.run import load_run

    n = sum(p.numel() for p in load_run(cws_run).model.parameters())
    proc = run_cli("summary", str(cws_run))
    assert proc.returncode == 0, proc.stderr
    assert (
        f"Total params: {n:,}" in proc.stdout
        and "LSTMEncoder" in proc.stdout
        and "ConditionalRandomField" in proc.stdout
    )
    proc = run_cli("summary", str(NER))
    assert proc.returncode == 0 and "7 tags (O, B-PER" in proc.stdout


def test_tiny_ner_tagger_prints_entities(tmp_path):
    out = tmp_path / "ner"
    _train(NER, out, "train.epochs=1", "model.encoder=gru", "model.head=softmax")
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["test"]["per_type"]) == {"LOC", "ORG", "PER"}
    proc = run_cli("predict", str(out), "新华社北京电")
    assert proc.returncode == 0, proc.stderr
    line = proc.stdout.strip()
    assert line == "(no entities)" or all("/" in item for item in line.split("  "))
    proc = run_cli("eval", str(out), "--json")
    assert {"f1", "precision", "recall", "per_type"} <= set(json.loads(proc.stdout))


def test_data_commands_know_the_tagging_sets(tmp_path):
    proc = run_cli("data", "show", "pd1998-ner", "--json")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert {k: v["sentences"] for k, v in stats["splits"].items()} == {
        "train": 15678,
        "dev": 1845,
        "test": 1961,
    }
    assert stats["splits"]["dev"]["spans"] == {"LOC": 2552, "ORG": 317, "PER": 1701}
    listing = run_cli("data", "list").stdout
    assert "pd1998-cws" in listing and "pd1998-ner" in listing
    out = tmp_path / "dev.jsonl"
    assert run_cli("data", "export", "pd1998-cws", "--split", "dev", "--out", str(out)).returncode == 0
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])
    assert set(first) == {"tokens", "tags"} and len(first["tokens"]) == len(first["tags"])


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


def test_config_errors_for_taggers():
    proc = run_cli(
        "train",
        str(CWS),
        "--set",
        "model.encoder=lstm",
        "--set",
        "model.positional=alibi",
        "--out",
        "/tmp/never",
    )
    assert proc.returncode == 2 and "acts inside attention" in proc.stderr
    proc = run_cli(
        "train", str(ROOT / "configs" / "tiny_test.yaml"), "--set", "model.head=crf", "--out", "/tmp/never"
    )
    assert proc.returncode == 2 and "tagger head" in proc.stderr
