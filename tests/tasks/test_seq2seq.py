"""data.task: seq2seq. Encoding: every reference a training pair, too-long sources truncated and too-long
targets left out (both counted), batches with targets ending in [SEP]; decoding keeps the input order.

End to end through the real CLI: a tiny G2P model trained on a slice of cmudict-g2p as a user would (a
subprocess), then eval (WER/PER after reloading), predict (phones), summary; a tiny Transformer
encoder-decoder on a user's jsonl file; errors are one line."""

from __future__ import annotations

import json

import pytest
import torch

from cli_helpers import ROOT, cli, run_cli
from scratchlm.config import DataConfig, ModelConfig, RunConfig
from scratchlm.data.seq2seq import PairExample
from scratchlm.models.seq2seq import Seq2SeqModel
from scratchlm.tasks.seq2seq import Seq2SeqTask, decode_sources
from scratchlm.tokenizers import build_tokenizer
from scratchlm.tokenizers.vocab import SPECIALS

EXAMPLES = [
    PairExample("read", (("R", "EH", "D"), ("R", "IY", "D"))),
    PairExample("abcdefgh", (("EY",) * 8,)),  # 8 characters, 8 phones
]
LABELS = [*SPECIALS, "R", "EH", "IY", "D", "EY"]


def task(max_seq_len: int) -> tuple[Seq2SeqTask, object]:
    cfg = RunConfig(data=DataConfig(dataset="x.jsonl", task="seq2seq", max_seq_len=max_seq_len))
    t = Seq2SeqTask(cfg)
    return t, build_tokenizer(cfg.data, t.texts(EXAMPLES))


def test_every_reference_is_a_pair_and_long_sequences_are_counted():
    t, tok = task(max_seq_len=6)
    enc = t.encode(tok, EXAMPLES, LABELS)
    assert len(enc.sources) == 2 and enc.refs[0] == EXAMPLES[0].targets
    assert len(enc.sources[1]) == 6 and enc.truncated == 1  # 8 characters cut to 6
    assert enc.skipped == 1 and len(enc.seqs) == 2  # 8 phones > 6 - 1: left out of training
    sep = SPECIALS.index("[SEP]")
    assert enc.targets == [[5, 6, 8, sep], [5, 7, 8, sep]]
    assert "1 of 2 sources truncated" in t.encoding_note(enc) and "1 pairs left out" in t.encoding_note(enc)
    batch = t.batch(enc, [0, 1], 0)
    assert batch.labels.tolist() == enc.targets and t.loss_weight(batch) == 8


def test_decoding_keeps_the_input_order_and_skips_empty_sources():
    cfg = ModelConfig(
        embed_dim=8,
        encoder={"kind": "gru", "rnn_hidden_dim": 4},
        positional={"kind": "none"},
        decoder={"attention": "luong_dot"},
    )
    torch.manual_seed(0)
    model = Seq2SeqModel(cfg, vocab_size=12, target_vocab_size=len(LABELS), max_seq_len=8)
    sources = [[5, 6, 7], [], [8]]
    together = decode_sources(model, sources, LABELS, 0, 2, "cpu", beam_size=2)
    alone = [decode_sources(model, [s], LABELS, 0, 1, "cpu", beam_size=2)[0] for s in sources]
    assert together == alone and together[1] == []
    assert all(set(out) <= set(LABELS[5:]) for out in together)


# -- end to end -------------------------------------------------------------------------------------

G2P = ROOT / "configs" / "cmudict_g2p.yaml"
TINY_G2P = [
    "data.max_train_examples=500",
    "data.max_eval_examples=40",
    "model.embed_dim=24",
    "model.encoder.rnn_hidden_dim=24",
    "model.generation.beam_size=2",
    "train.epochs=2",
    "train.batch_size=16",
    "train.lr=0.01",
    "train.progress=false",
]


@pytest.fixture(scope="module")
def g2p_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "g2p"
    sets = [arg for s in TINY_G2P for arg in ("--set", s)]
    proc = run_cli("train", str(G2P), *sets, "--out", str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "test WER" in proc.stdout
    return out


def test_tiny_g2p_run_evaluates_after_reload(g2p_run, capsys):
    metrics = json.loads((g2p_run / "metrics.json").read_text())
    meta = json.loads((g2p_run / "run.json").read_text())
    assert metrics["task"] == meta["task"] == "seq2seq"
    assert meta["labels"][:5] == ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] and len(meta["labels"]) == 44
    log = [json.loads(line) for line in (g2p_run / "train_log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in log if r.get("event") == "train"]
    assert losses[-1] < losses[0] - 0.2  # 500 words, 2 epochs: far from the recipe, but learning
    status, out, err = cli(capsys, "eval", str(g2p_run), "--json")
    assert status == 0, err
    reloaded = json.loads(out)
    for key in ("wer", "per", "num_examples", "token_errors"):
        assert reloaded[key] == metrics["test"][key], key
    assert 0.0 <= reloaded["wer"] <= 1.0 and reloaded["beam_size"] == 2
    status, out, _ = cli(capsys, "eval", str(g2p_run), "--split", "dev", "--beam-size", "1")
    assert status == 0 and "WER" in out and "(beam 1)" in out


def test_predict_prints_phones(g2p_run, capsys):
    status, out, err = cli(capsys, "predict", str(g2p_run), "hello", "World")
    assert status == 0, err
    lines = out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["hello", "World"]
    from scratchlm.data.seq2seq import CMU_PHONES

    for line in lines:
        assert set(line.split("\t")[1].split()) <= set(CMU_PHONES)
    status, out, err = cli(capsys, "predict", str(g2p_run), "--json", "--beam-size", "1", "a" * 40)
    (result,) = json.loads(out)
    assert result["truncated"] and "truncated to 32 tokens" in err
    status, _, err = cli(capsys, "predict", str(g2p_run), "cat", " ")
    assert status == 2 and "text 2 is empty" in err
    status, _, err = cli(capsys, "predict", str(g2p_run), "cat", "--beam-size", "0")
    assert status == 2 and "--beam-size 0" in err


def test_summary_of_a_g2p_run_and_config(g2p_run, capsys):
    from scratchlm.training.run_dir import load_run

    n = sum(p.numel() for p in load_run(g2p_run).model.parameters())
    status, out, err = cli(capsys, "summary", str(g2p_run))
    assert status == 0, err
    assert f"Total params: {n:,}" in out and "RecurrentAttentionDecoder" in out
    status, out, err = cli(capsys, "summary", str(G2P), "--vocab-size", "40")
    assert status == 0, err
    assert "44 output tokens" in out


def test_transformer_seq2seq_on_a_user_file(tmp_path, capsys):
    words = ["cat", "cab", "bat", "tab", "act", "bac", "tac", "abc", "cba", "bca"] * 3
    sounds = {"a": "AE", "b": "B", "c": "K", "t": "T"}
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        "".join(json.dumps({"word": w, "phones": " ".join(sounds[c] for c in w)}) + "\n" for w in words),
        encoding="utf-8",
    )
    run = tmp_path / "tf"
    sets = [
        "data.dataset=" + str(path),
        "data.task=auto",
        "data.source_field=word",
        "data.target_field=phones",
        "data.dev_file=" + str(path),
        "data.max_train_examples=null",
        "data.max_eval_examples=null",
        "data.lowercase=false",
        "model.encoder.kind=transformer",
        "model.encoder.rnn_hidden_dim=null",
        "model.encoder.bidirectional=true",
        "model.positional.kind=sinusoidal",
        "model.embed_dim=16",
        "model.encoder.num_heads=2",
        "model.encoder.ffn_dim=32",
        "train.epochs=2",
        "train.batch_size=8",
        "train.num_threads=1",
        "train.progress=false",
    ]
    status, out, err = cli(
        capsys, "train", str(G2P), *[a for s in sets for a in ("--set", s)], "--out", str(run)
    )
    assert status == 0, err
    assert "dev WER" in out
    assert json.loads((run / "run.json").read_text())["task"] == "seq2seq"
    status, out, err = cli(capsys, "eval", str(run), "--data", str(path), "--json")
    assert status == 0 and json.loads(out)["num_examples"] == 10
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"word": "cat", "phones": "K AE T"}\n{"word": "dog"}\n', encoding="utf-8")
    status, _, err = cli(capsys, "eval", str(run), "--data", str(bad))
    assert status == 2 and f"{bad}:2: no field 'phones'" in err and len(err.strip().splitlines()) == 1


def test_generate_matches_predict_and_streams_phones(g2p_run, capsys):
    for beam in ("1", "2"):
        _, out, _ = cli(capsys, "predict", str(g2p_run), "--json", "--beam-size", beam, "hello", "cat")
        predicted = [" ".join(r["output"]) for r in json.loads(out)]
        status, out, err = cli(
            capsys, "generate", str(g2p_run), "--json", "--beam-size", beam, "hello", "cat"
        )
        assert status == 0, err
        assert [r["text"] for r in json.loads(out)] == predicted  # greedy through the KV cache too
    status, out, _ = cli(capsys, "generate", str(g2p_run), "hello", "--temperature", "0.8", "--seed", "1")
    source, phones = out.rstrip("\n").split("\t")
    assert status == 0 and source == "hello"
    from scratchlm.data.seq2seq import CMU_PHONES

    assert set(phones.split()) <= set(CMU_PHONES)
    status, _, err = cli(capsys, "generate", str(g2p_run), "cat", "--max-new-tokens", "99")
    assert status == 2 and "at most 31 tokens" in err
