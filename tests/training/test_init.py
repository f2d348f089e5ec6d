"""``model.init`` from vectors (training/init.py): any source the readers take, the matching tiers,
rescaling and frozen rows; ``model.vectors_vocab``: words of pretrained vectors join the vocabulary, so
words the training split never shows keep their pretrained vector."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.numpy import load_file

from cli_helpers import run_cli
from scratchlm.config import RunConfig
from scratchlm.errors import DataError
from scratchlm.modules.embeddings import TokenEmbedding
from scratchlm.tokenizers import CharTokenizer, Vocab
from scratchlm.training.init import init_embeddings
from scratchlm.vectors.base import Vectors
from vectors_helpers import write_format

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["good", "bad", "great", "awful", "Nice", "x", "horrible", "two words"]


class Model(torch.nn.Module):
    """What init_embeddings touches: the token embedding."""

    def __init__(self, cfg: RunConfig, vocab_size: int, row_freezing: bool = False):
        super().__init__()
        self.token_embedding = TokenEmbedding(
            vocab_size, cfg.model.embed_dim, init_std=cfg.model.init_std, row_freezing=row_freezing
        )


def test_model_init_accepts_any_reader_source(tmp_path):
    """init_embeddings reads files, caches and built-in names through the readers."""
    tokenizer = CharTokenizer(Vocab(SPECIALS + ["中", "国", "A", "x"]))
    matrix = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    path = write_format(tmp_path, Vectors(["中", "国", "a"], matrix), "word2vec")
    cfg = RunConfig()
    cfg.model.embed_dim, cfg.model.init = 4, str(path)
    cfg.model.vectors_std = cfg.model.init_std  # rescaled rows (the default keeps the vectors' own scale)
    model = Model(cfg, 9)
    report = init_embeddings(model, cfg, tokenizer, [], tmp_path)
    assert report["found"] == 3 and report["tiers"] == {"exact": 2, "normalized": 1, "chars": 0, "compose": 0}
    weight = model.token_embedding.weight.detach()
    assert not weight[0].any()
    assert weight[5:8].std().item() == pytest.approx(cfg.model.init_std, rel=1e-3)
    cfg.model.embed_dim = 8
    with pytest.raises(DataError, match=r"dimension 4 but model.embed_dim is 8.*--project pca"):
        init_embeddings(Model(cfg, 9), cfg, tokenizer, [], tmp_path)


def test_pretrained_rows_frozen_the_others_train(tmp_path):
    """``model.freeze_embedding_rows: pretrained``: the rows found keep their values, the new rows (tokens
    the vectors lack, [UNK]) train, [PAD] stays zero."""
    rng = np.random.default_rng(3)
    vectors = Vectors(["the", "paris", "中", "国", "of"], rng.standard_normal((5, 6)).astype(np.float32))
    tokenizer = CharTokenizer(Vocab(SPECIALS + ["the", "Paris", "Ｔｈｅ", "中国", "zzzz"]))
    cfg = RunConfig()
    cfg.model.embed_dim, cfg.model.init, cfg.model.freeze_embedding_rows = 6, "vectors", "pretrained"
    model = Model(cfg, len(tokenizer.vocab), row_freezing=True)
    report = init_embeddings(model, cfg, tokenizer, [], tmp_path, vectors)
    assert report["frozen_rows"] == 4 and report["tiers"]["normalized"] == 2
    emb = model.token_embedding
    assert emb.frozen_rows.tolist() == [False] * 5 + [True, True, True, True, False]
    np.testing.assert_array_equal(emb.weight[6].detach().numpy(), vectors.vector("paris"))
    before = emb.weight.detach().clone()
    opt = torch.optim.SGD(emb.parameters(), lr=0.5)
    for _ in range(3):
        opt.zero_grad()
        (emb(torch.tensor([[5, 6, 7, 8, 9, 1, 0]])) * torch.linspace(-1, 1, 6)).sum().backward()
        opt.step()
    after = emb.weight.detach()
    assert torch.equal(after[5:9], before[5:9])  # found in the vectors: kept
    assert not torch.equal(after[9], before[9]) and not torch.equal(after[1], before[1])  # new rows train
    assert not after[0].any()


# -- model.vectors_vocab ---------------------------------------------------------------------------
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


def _lexicon_model(max_len=3, groups=("nr",)):
    from scratchlm.modules.lexicon import LexiconEmbedding

    model = torch.nn.Module()
    model.input = torch.nn.Module()
    model.input.lexicon_embedding = LexiconEmbedding(8, max_len=max_len, group_names=groups)
    return model


def test_init_lexicon_stores_the_dictionary_as_ids(tmp_path):
    from scratchlm.config import config_from_dict
    from scratchlm.modules.lexicon import hash_ids
    from scratchlm.training.init import init_lexicon

    f = tmp_path / "dict.txt"
    f.write_text("中国 10 ns\n国人 3\n中国人民 5 nt\n美国 7 ns\n", encoding="utf-8")
    tok = CharTokenizer(Vocab(SPECIALS + list("中国人民")))
    cfg = config_from_dict({"model": {"lexicon": {"source": str(f), "max_len": 3, "groups": ["ns"]}}})
    model = _lexicon_model(groups=("ns",))
    report = init_lexicon(model, cfg, tok)
    # 中国人民 is longer than max_len, 美国 has an unknown character
    assert report["words"] == 2 and report["groups"] == {"any": 2, "ns": 1}
    ids = tok.vocab.ids(list("中国"))
    assert hash_ids(ids) in model.input.lexicon_embedding.keys.tolist()


def test_init_lexicon_with_no_usable_word_is_an_error(tmp_path):
    from scratchlm.config import config_from_dict
    from scratchlm.training.init import init_lexicon

    f = tmp_path / "dict.txt"
    f.write_text("美国 7 ns\n英国 5 ns\n", encoding="utf-8")
    cfg = config_from_dict({"model": {"lexicon": {"source": str(f)}}})
    with pytest.raises(DataError, match="none of its 2 words is 2 to 4 tokens"):
        init_lexicon(_lexicon_model(max_len=4, groups=()), cfg, CharTokenizer(Vocab(SPECIALS + list("中国"))))
