"""``model.vectors_vocab``: words of pretrained vectors join the vocabulary, so words the training split
never shows keep their pretrained vector; the built-in English dataset it was made for."""

from __future__ import annotations

import json

import numpy as np
import pytest
from safetensors.numpy import load_file

from cli_helpers import run_cli
from scratchlm.config import load_config
from scratchlm.errors import ConfigError

WORDS = ["good", "bad", "great", "awful", "Nice", "x", "horrible", "two words"]


def _vectors(tmp_path):
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(len(WORDS), 4)).astype(np.float32)
    path = tmp_path / "vecs.txt"  # GloVe text: no header; a word with a space takes the last 4 fields
    path.write_text(
        "".join(f"{w} {' '.join(f'{v:.6f}' for v in row)}\n" for w, row in zip(WORDS, matrix, strict=True)),
        encoding="utf-8",
    )
    return path, matrix


def _split(tmp_path, name, rows):
    path = tmp_path / f"{name}.jsonl"
    path.write_text("".join(json.dumps({"text": t, "label": y}) + "\n" for t, y in rows), encoding="utf-8")
    return str(path)


def test_unseen_words_keep_their_pretrained_vector(tmp_path):
    vecs, matrix = _vectors(tmp_path)
    train = _split(tmp_path, "train", [("good", "pos"), ("bad", "neg")] * 4)
    dev = _split(tmp_path, "dev", [("great", "pos"), ("awful", "neg")])
    out = tmp_path / "run"
    proc = run_cli(
        "train", "configs/tiny_test.yaml", "--out", str(out),
        "--set", f"data.train_file={train}", "--set", f"data.dev_file={dev}", "--set", f"data.test_file={dev}",
        "--set", "data.tokenizer=jieba", "--set", "data.lowercase=true", "--set", "model.bigram_buckets=0",
        "--set", f"model.init={vecs}", "--set", "model.embed_dim=4", "--set", "model.encoder.num_heads=1",
        "--set", "model.vectors_vocab=6", "--set", "model.freeze_embeddings=true",
        "--set", "train.epochs=1", "--set", "train.batch_size=4",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    vocab = (out / "tokenizer" / "vocab.txt").read_text(encoding="utf-8").split("\n")
    vocab = [t for t in vocab if t]
    # training tokens first, then the first 6 vector words not already there, normalised (Nice -> nice)
    assert vocab[5:7] == ["bad", "good"]
    assert vocab[7:] == ["great", "awful", "nice", "x"]
    assert (
        "vocabulary: 7 tokens (specials included) from the training split + 4 of the first 6 words"
        in proc.stderr
    )
    weight = load_file(str(out / "model.safetensors"))
    emb = next(v for k, v in weight.items() if k.endswith("token_embedding.embedding.weight"))
    for word, row in (("great", 2), ("awful", 3), ("nice", 4), ("x", 5)):
        np.testing.assert_allclose(emb[vocab.index(word)], matrix[row], atol=1e-5)
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    init = next(r for r in log if r.get("event") == "init")
    assert init["vectors_vocab"] == {"from_training": 7, "from_vectors": 4, "vocab_size": 11}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (["model.vectors_vocab=100"], "model.init=normal has none"),
        (["model.vectors_vocab=-1"], "model.vectors_vocab=-1 must be >= 0"),
        (
            ["model.init=glove-6b-50d", "model.vectors_vocab=100", "data.tokenizer=bpe"],
            "model.vectors_vocab applies to data.tokenizer char or jieba",
        ),
    ],
)
def test_bad_settings_are_named(changes, message):
    with pytest.raises(ConfigError, match=message):
        load_config("configs/tiny_test.yaml", overrides=changes)


def test_en_word_polarity_builtin():
    from scratchlm.data.builtin import load_en_word_polarity

    data = load_en_word_polarity()
    assert {k: len(v) for k, v in data.splits.items()} == {"train": 5989, "dev": 782, "test": 735}
    assert data.notes == {"zero_rating": 0, "duplicates": 14}
    train = {ex.text for ex in data.splits["train"]}
    test = data.splits["test"]
    assert not train & {ex.text for ex in test}  # the split is on the token: no word in two splits
    by_text = {ex.text: ex.label for split in data.splits.values() for ex in split}
    assert by_text["good"] == "positive" and by_text["horrible"] == "negative"
