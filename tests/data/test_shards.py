"""Token shards read back: every text's ids exactly as the tokenizer gives them, blocks and segments
equal to in-memory packing across shard edges, the batch order seeded and lazy, and checksums. The
shards are written by data prepare here (its own behaviour: tests/data/test_prepare.py)."""

from __future__ import annotations

import json

import pytest

from scratchlm.data.packing import pack_sequences
from scratchlm.data.prepare import prepare
from scratchlm.data.shards import BatchOrder, ShardBlocks, TokenStream, dtype_for, read_manifest, verify
from scratchlm.data.splits import split_of
from scratchlm.errors import DataError
from scratchlm.tokenizers import load_tokenizer
from scratchlm.tokenizers.factory import train_tokenizer

KW = {"shard_tokens": 2000, "chunk_texts": 16, "show_progress": False}
TEXTS = [f"第{i}条新闻：今天 weather 很好，价格{i * 7}元。" + "很" * (i % 13) for i in range(600)]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("shards")
    (root / "corpus.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    train_tokenizer("char", TEXTS[:50]).save(root / "tok")  # later texts hold characters it lacks: [UNK]
    manifest = prepare([str(root / "corpus.txt")], str(root / "tok"), root / "out", **KW)
    return root, manifest


def test_exact_token_round_trip(prepared):
    root, manifest = prepared
    tok = load_tokenizer(root / "tok")
    train = [t for t in TEXTS if split_of(t) == "train"]
    stream = TokenStream(root / "out")
    assert stream.num_docs == len(train) == manifest["texts"] and len(manifest["shards"]) > 3
    for i, text in enumerate(train):
        assert stream.document(i).tolist() == tok.encode(text).ids + [tok.vocab.sep_id]
    dev = [
        json.loads(x)["text"] for x in (root / "out" / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert dev == [t for t in TEXTS if split_of(t) == "dev"]
    assert manifest["dtype"] == "uint16" and dtype_for(70000) == "uint32"


def test_blocks_and_segments_equal_in_memory_packing(prepared):
    root, _ = prepared
    tok = load_tokenizer(root / "tok")
    docs = [tok.encode(t).ids + [tok.vocab.sep_id] for t in TEXTS if split_of(t) == "train"]
    for size in (7, 64, 100):
        packed = pack_sequences(docs, size)
        blocks = ShardBlocks(root / "out", size)
        assert len(blocks.seqs) == len(packed.seqs)
        assert list(blocks.seqs) == packed.seqs and list(blocks.segments) == packed.segments


def test_batch_order_is_seeded_complete_and_lazy():
    a, b = BatchOrder(103, 10, seed=1, epoch=0), BatchOrder(103, 10, seed=1, epoch=0)
    assert list(a) == list(b) and len(a) == 11
    assert sorted(i for batch in a for i in batch) == list(range(103))
    assert list(BatchOrder(103, 10, seed=1, epoch=1)) != list(a)


def test_checksums_and_errors(prepared, tmp_path):
    root, manifest = prepared
    assert verify(root / "out") == len(manifest["checksums"])
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(root / "out", copy)
    shard = copy / manifest["shards"][0]["file"]
    data = bytearray(shard.read_bytes())
    data[0] ^= 1
    shard.write_bytes(bytes(data))
    with pytest.raises(DataError, match="sha256 differs"):
        verify(copy)
    shard.write_bytes(bytes(data[:-2]))
    with pytest.raises(DataError, match="truncated"):
        TokenStream(copy)
    with pytest.raises(DataError, match="not a shards directory"):
        read_manifest(tmp_path)
