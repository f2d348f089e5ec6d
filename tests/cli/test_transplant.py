"""The real CLI: transplant a tiny BERT into a character vocabulary, fine-tune it through model.init,
export it back to Hugging Face and load it with BertModel (same vectors); bad inputs are one-line errors."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from cli_helpers import ROOT, run_cli
from scratchlm.cli import main

TINY_FINETUNE = [
    "--set",
    "data.max_seq_len=16",
    "--set",
    "model.embed_dim=16",
    "--set",
    "model.encoder.num_layers=2",
    "--set",
    "model.encoder.num_heads=2",
    "--set",
    "model.encoder.ffn_dim=32",
    "--set",
    "train.max_steps=2",
    "--set",
    "train.batch_size=8",
    "--set",
    "data.max_train_examples=32",
    "--set",
    "data.max_eval_examples=16",
    "--set",
    "train.num_threads=1",
    "--set",
    "train.progress=false",
    "--set",
    "train.epochs=1",
    "--set",
    "model.bigram_buckets=0",  # BERT has no character-pair table: export hf refuses a run with one
]


@pytest.fixture(scope="module")
def transplanted(bert_dir, char_tokenizer_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("tp") / "out"
    report = out.parent / "report.json"
    proc = run_cli(
        "transplant",
        "--source",
        str(bert_dir),
        "--target-tokenizer",
        str(char_tokenizer_dir),
        "--strategy",
        "exact,normalized,compose,sampled",
        "--max-seq-len",
        "16",
        "--out",
        str(out),
        "--report",
        str(report),
    )
    assert proc.returncode == 0, proc.stderr
    return out, json.loads(report.read_text(encoding="utf-8"))


def test_transplant_writes_model_dir_and_report(transplanted, bert_dir):
    out, report = transplanted
    assert {p.name for p in out.iterdir()} >= {
        "embedding.safetensors",
        "model.safetensors",
        "tokenizer",
        "run.json",
    }
    assert sum(report["tiers"].values()) == report["vocab_size"] == len(report["token_tiers"])
    assert report["token_tiers"]["好"] == "exact" and report["token_tiers"]["A"] == "normalized"
    assert set(report["heldout_cosine"]) == {"normalized", "compose", "sampled"}
    emb = load_file(str(out / "embedding.safetensors"))["embedding"]
    state = load_file(str(out / "model.safetensors"))
    assert torch.equal(state["input.token_embedding.embedding.weight"], emb)
    source = load_file(str(bert_dir / "model.safetensors"))
    torch.testing.assert_close(
        state["input.positional.weight"], source["embeddings.position_embeddings.weight"]
    )
    torch.testing.assert_close(
        state["input.token_type_embedding.embedding.weight"],
        source["embeddings.token_type_embeddings.weight"],
    )
    tokens = (out / "tokenizer" / "vocab.txt").read_text(encoding="utf-8").split("\n")
    src_tokens = (bert_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")
    i = tokens.index("好")
    torch.testing.assert_close(emb[i], source["embeddings.word_embeddings.weight"][src_tokens.index("好")])


@pytest.mark.slow
def test_finetune_from_transplant_then_export_hf(transplanted, tmp_path):
    transformers = pytest.importorskip("transformers")
    out, _ = transplanted
    run = tmp_path / "run"
    proc = run_cli(
        "train",
        "configs/zh_sentiment_minilm.yaml",
        "--set",
        f"model.init={out}",
        *TINY_FINETUNE,
        "--out",
        str(run),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text(encoding="utf-8").splitlines()]
    assert log[0]["event"] == "init" and log[0]["init"] == f"pretrained run {out}"
    hf_dir = tmp_path / "hf"
    proc = run_cli("export", "hf", str(run), "--out", str(hf_dir), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["max_abs_diff_vs_run"] < 1e-4
    assert report["tokenizer"]["transformers_check"][
        "ids_equal"
    ]  # the run's char tokenizer, for AutoTokenizer
    hf_tok = transformers.AutoTokenizer.from_pretrained(str(hf_dir))
    assert hf_tok.model_max_length == 16  # data.max_seq_len
    model, info = transformers.BertModel.from_pretrained(str(hf_dir), output_loading_info=True)
    assert not info["unexpected_keys"] and all(k.startswith("pooler.") for k in info["missing_keys"])
    # our own run as a source: its rows and encoder go on into another model directory
    again = tmp_path / "again"
    rc = main(["transplant", "--source", str(run), "--target-tokenizer", str(run), "--out", str(again)])
    assert rc == 0
    first, second = load_file(str(run / "model.safetensors")), load_file(str(again / "model.safetensors"))
    assert all(torch.equal(first[k], v) for k, v in second.items())  # same vocabulary: all exact


def test_wrong_max_seq_len_names_the_fix(transplanted, tmp_path, capsys):
    out, _ = transplanted
    args = [a.replace("data.max_seq_len=16", "data.max_seq_len=12") for a in TINY_FINETUNE]
    config = str(ROOT / "configs" / "zh_sentiment_minilm.yaml")
    rc = main(["train", config, "--set", f"model.init={out}", *args, "--out", str(tmp_path / "r")])
    assert rc == 2 and "data.max_seq_len=16" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--strategy", "exact,magic"], "unknown strategy 'magic'"),
        (["--strategy", "exact,knn"], "needs --aux"),
        (["--source", "no/such/dir"], "no/such/dir"),
        (["--target-tokenizer", "no/such/tok"], "no such tokenizer"),
    ],
)
def test_bad_inputs(bert_dir, char_tokenizer_dir, tmp_path, capsys, args, message):
    base = {"--source": str(bert_dir), "--target-tokenizer": str(char_tokenizer_dir), "--strategy": "exact"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    rc = main(["transplant", *[x for kv in base.items() for x in kv], "--out", str(tmp_path / "o")])
    assert rc == 2 and message in capsys.readouterr().err  # in-process: one line, no traceback


def test_missing_weights_and_dimension_mismatch(bert_dir, char_tokenizer_dir, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((bert_dir / "config.json").read_text())
    tok = ["--target-tokenizer", str(char_tokenizer_dir), "--out", str(tmp_path / "o")]
    assert main(["transplant", "--source", str(broken), *tok]) == 2
    assert "not a checkpoint folder: none of model.safetensors" in capsys.readouterr().err
    vec = tmp_path / "v.txt"
    vec.write_text("2 3\n好 1 0 0\n人 0 1 0\n", encoding="utf-8")
    common = ["transplant", "--source", str(vec), *tok, "--strategy", "exact,random"]
    assert main([*common, "--dim", "2"]) == 2
    assert "--project pca" in capsys.readouterr().err
    assert main([*common, "--dim", "2", "--project", "pad-truncate"]) == 0
    assert load_file(str(tmp_path / "o" / "embedding.safetensors"))["embedding"].shape[1] == 2
    assert not (tmp_path / "o" / "model.safetensors").exists()  # vectors have no encoder


@pytest.mark.parametrize(
    "family, layout",
    [("bert", "legacy"), ("albert", "bin"), ("distilbert", "sharded"), ("electra", "sentence-transformers")],
)
def test_a_checkpoint_folder_through_tokenizer_import_transplant_and_model_init(
    tmp_path_factory, tmp_path, family, layout
):
    """The seed's path: a downloaded folder -> its own tokenizer -> the embedding matrix by exact transplant
    -> model.init; the fine-tuning model starts with transformers' hidden states (fp32, 1e-4)."""
    from hf_helpers import checkpoint_dir, hf_hidden_states, reference_model
    from scratchlm.models import TextClassifier
    from scratchlm.tokenizers import load_tokenizer
    from scratchlm.training.finetune import load_pretrained_body
    from scratchlm.training.run_dir import read_run_config

    folder = checkpoint_dir(tmp_path_factory, family, layout)
    tok_dir, out = tmp_path / "tok", tmp_path / "tp"
    assert main(["tokenizer", "import", str(folder), "--out", str(tok_dir)]) == 0
    args = [
        "--source",
        str(folder),
        "--target-tokenizer",
        str(tok_dir),
        "--strategy",
        "exact",
        "--no-heldout",
    ]
    assert main(["transplant", *args, "--out", str(out), "--json"]) == 0
    cfg = read_run_config(out)
    tokenizer = load_tokenizer(out / "tokenizer")
    model = TextClassifier(
        cfg.model, vocab_size=len(tokenizer.vocab), num_classes=2, max_seq_len=cfg.data.max_seq_len
    )
    load_pretrained_body(model, out)
    ids = torch.tensor(
        [tokenizer.encode(t).ids + [0] * (8 - len(tokenizer.encode(t).ids)) for t in ("你好，世界！", "银行")]
    )
    mask = ids != 0
    with torch.no_grad():
        got = model.eval().encode(ids, mask)
    want = hf_hidden_states(reference_model(family, layout), ids, mask)
    torch.testing.assert_close(got[mask], want[mask], atol=1e-4, rtol=1e-4)


@pytest.mark.slow
def test_an_albert_transplant_fine_tunes_and_exports_as_albert(
    tmp_path_factory, char_tokenizer_dir, tmp_path
):
    """Shared layers and the input projection survive transplant, model.init, training and export hf
    (auto: ALBERT), which AutoModel loads with the run's vectors."""
    from hf_helpers import checkpoint_dir

    folder = checkpoint_dir(tmp_path_factory, "albert", "legacy")
    out, run, hf_dir = tmp_path / "tp", tmp_path / "run", tmp_path / "hf"
    args = ["--source", str(folder), "--target-tokenizer", str(char_tokenizer_dir), "--max-seq-len", "16"]
    assert main(["transplant", *args, "--no-heldout", "--out", str(out)]) == 0
    sizes = [
        "model.embed_dim=32",
        "model.input_dim=16",
        "model.encoder.num_layers=3",
        "model.encoder.num_heads=4",
    ]
    sizes += [
        "model.encoder.ffn_dim=64",
        "model.encoder.unique_layers=1",
        "model.encoder.activation=gelu_tanh",
    ]
    overrides = [a for s in sizes for a in ("--set", s)]
    pairs = zip(TINY_FINETUNE[::2], TINY_FINETUNE[1::2], strict=True)
    tiny = [a for pair in pairs if not pair[1].startswith(("model.embed_dim", "model.encoder")) for a in pair]
    proc = run_cli("train", "configs/zh_sentiment_minilm.yaml", "--set", f"model.init={out}", *tiny, *overrides,
                   "--set", "model.num_token_types=2", "--out", str(run))  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    proc = run_cli("export", "hf", str(run), "--out", str(hf_dir), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["config"]["architectures"] == ["AlbertModel"] and report["max_abs_diff_vs_run"] < 1e-4
