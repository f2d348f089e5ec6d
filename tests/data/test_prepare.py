"""``data prepare``: texts streamed from jsonl, Parquet and datasets folders; an interrupted run continued
to the same shards; worker processes writing byte-identical shards."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scratchlm.data.prepare import iter_texts, prepare
from scratchlm.data.shards import TokenStream
from scratchlm.errors import DataError
from scratchlm.tokenizers.factory import train_tokenizer

KW = {"shard_tokens": 2000, "chunk_texts": 16, "show_progress": False}
TEXTS = [f"第{i}条新闻：今天 weather 很好，价格{i * 7}元。" + "很" * (i % 13) for i in range(600)]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    root = tmp_path_factory.mktemp("prepare")
    (root / "corpus.txt").write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    train_tokenizer("char", TEXTS[:50]).save(root / "tok")
    return root, prepare([str(root / "corpus.txt")], str(root / "tok"), root / "out", **KW)


def test_prepare_reads_jsonl_parquet_and_datasets_folders(tmp_path):
    import datasets
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "a.jsonl").write_text("".join(json.dumps({"body": t}, ensure_ascii=False) + "\n" for t in TEXTS[:3]),
                                      encoding="utf-8")  # fmt: skip
    pq.write_table(pa.table({"body": TEXTS[3:6]}), tmp_path / "b.parquet")
    datasets.Dataset.from_dict({"body": TEXTS[6:9]}).save_to_disk(str(tmp_path / "c"))
    got = [t for name in ("a.jsonl", "b.parquet", "c") for t in iter_texts(str(tmp_path / name), "body")]
    assert got == TEXTS[:9]
    with pytest.raises(DataError, match="no string field 'text'"):
        list(iter_texts(str(tmp_path / "a.jsonl")))


def test_resume_after_interruption_gives_the_same_shards(prepared, tmp_path, monkeypatch):
    root, manifest = prepared
    import scratchlm.data.prepare as prep

    kw = KW
    whole = prepare([str(root / "corpus.txt")], str(root / "tok"), tmp_path / "whole", **kw)
    calls = {"n": 0}
    real = prep.encode_chunk

    def dies_after_some(texts, tokenizer=None):
        calls["n"] += 1
        if calls["n"] > 12:
            raise KeyboardInterrupt
        return real(texts, tokenizer)

    monkeypatch.setattr(prep, "encode_chunk", dies_after_some)
    with pytest.raises(KeyboardInterrupt):
        prepare([str(root / "corpus.txt")], str(root / "tok"), tmp_path / "cut", **kw)
    assert (tmp_path / "cut" / "progress.json").is_file() and not (
        tmp_path / "cut" / "manifest.json"
    ).exists()
    monkeypatch.setattr(prep, "encode_chunk", real)
    again = prepare([str(root / "corpus.txt")], str(root / "tok"), tmp_path / "cut", **kw)
    assert again["checksums"] == whole["checksums"] and again["shards"] == whole["shards"]
    with pytest.raises(DataError, match="already holds finished shards"):
        prepare([str(root / "corpus.txt")], str(root / "tok"), tmp_path / "cut", **kw)


def test_worker_processes_write_the_same_shards(prepared, tmp_path):
    root, manifest = prepared
    two = prepare([str(root / "corpus.txt")], str(root / "tok"), tmp_path / "two", workers=2, **KW)
    assert two["checksums"] == manifest["checksums"]
    assert np.array_equal(
        TokenStream(tmp_path / "two").tokens(0, 500), TokenStream(root / "out").tokens(0, 500)
    )
