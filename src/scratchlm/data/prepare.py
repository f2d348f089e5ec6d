"""``scratchlm data prepare CORPUS... --tokenizer DIR --out SHARDS/``: tokenize a corpus of any size into
token shards (:mod:`scratchlm.data.shards`).

Texts are streamed from each CORPUS in turn, never held whole: a ``.txt`` file (one text a line), a
``.jsonl`` file (``--text-field``), a ``.parquet`` file or a folder saved by HF ``datasets`` (the column
``--text-field``, read in record batches). Each text goes to train, dev or test by the sha1 rule every
scratchlm dataset uses; the train texts are tokenized by ``--workers`` processes (each with its own copy
of the tokenizer; chunks of ``CHUNK_TEXTS`` texts, their results written in input order, so the shards
do not depend on the number of workers) and appended to shards of about ``--shard-tokens`` tokens; the
first ``--max-eval-docs`` dev and test texts are written as ``dev.jsonl``/``test.jsonl`` (the rest are
left out: never trained on, and not evaluated either).

Resumable: after each shard is closed, ``progress.json`` records how many chunks the shards hold; run
the same command again after an interruption and it skips those chunks (reading, not tokenizing them)
and continues. The manifest, with every file's sha256, is written last.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing as mp
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from scratchlm.data.shards import EVAL_FILES, FORMAT, MANIFEST, SPLIT_DIR, dtype_for, sha256_of
from scratchlm.data.splits import split_of
from scratchlm.errors import DataError

CHUNK_TEXTS = 512
PROGRESS = "progress.json"
_worker_tokenizer = None


def iter_texts(source: str, text_field: str = "text") -> Iterator[str]:
    """The non-empty texts of one corpus file or folder, streamed."""
    from scratchlm.data.table_rows import is_table, table_records

    path = Path(source)
    if is_table(path):
        for where, rec in table_records(path, {text_field: "text_field (--text-field)"}):
            text = rec[text_field]
            if not isinstance(text, str):
                raise DataError(f"{where}: field {text_field!r} must be a string, got {type(text).__name__}")
            if text.strip():
                yield text.strip()
        return
    if not path.is_file():
        raise DataError(f"{path}: file not found" if not path.exists() else f"{path}: expected a file")
    jsonl = path.suffix.lower() == ".jsonl"
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise DataError(f"{path}:{lineno}: not UTF-8 ({exc.reason})") from None
            if not line.strip():
                continue
            if jsonl:
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DataError(f"{path}:{lineno}: invalid JSON ({exc.msg})") from None
                line = obj.get(text_field) if isinstance(obj, dict) else None
                if not isinstance(line, str):
                    raise DataError(f"{path}:{lineno}: no string field {text_field!r}; give --text-field")
            if line.strip():
                yield line.strip()


def _chunks(sources: list[str], text_field: str, evals: dict, size: int) -> Iterator[list[str]]:
    """Chunks of train texts; dev/test texts are collected into ``evals`` on the way (up to their cap)."""
    chunk: list[str] = []
    for source in sources:
        for text in iter_texts(source, text_field):
            split = split_of(text)
            if split != "train":
                if len(evals[split]) < evals["cap"]:
                    evals[split].append(text)
                continue
            chunk.append(text)
            if len(chunk) == size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _init_worker(tokenizer_dir: str) -> None:
    global _worker_tokenizer
    from scratchlm.tokenizers import load_tokenizer

    _worker_tokenizer = load_tokenizer(tokenizer_dir)


def encode_chunk(texts: list[str], tokenizer=None) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, lengths)`` of ``[CLS] text [SEP]`` for each text, as packing joins them."""
    tok = tokenizer or _worker_tokenizer
    sep = tok.vocab.sep_id
    docs = [tok.encode(t).ids + [sep] for t in texts]
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
    return np.fromiter((i for d in docs for i in d), dtype=np.int64, count=int(lengths.sum())), lengths


class ShardWriter:
    """Appends encoded chunks to ``train/shard-NNNNN.bin`` (+ ``.docs.npy``), closing a shard once it
    holds ``shard_tokens`` tokens; ``progress.json`` after each close makes the work resumable."""

    def __init__(self, out: Path, dtype: str, shard_tokens: int, done: dict | None):
        self.out, self.dtype, self.shard_tokens = out, np.dtype(dtype).newbyteorder("<"), shard_tokens
        self.shards: list[dict] = list(done["shards"]) if done else []
        self.chunks_done = done["chunks"] if done else 0
        (out / SPLIT_DIR).mkdir(parents=True, exist_ok=True)
        self._open()

    def _open(self) -> None:
        self.name = f"{SPLIT_DIR}/shard-{len(self.shards):05d}"
        self.fh = (self.out / f"{self.name}.bin").open("wb")  # a partial shard of a crash is rewritten
        self.tokens, self.starts, self.pending = 0, [], 0

    def add(self, ids: np.ndarray, lengths: np.ndarray) -> None:
        starts = self.tokens + np.concatenate([[0], np.cumsum(lengths)[:-1]])
        self.starts.append(starts.astype(np.uint64))
        self.fh.write(ids.astype(self.dtype).tobytes())
        self.tokens += int(lengths.sum())
        self.pending += 1
        if self.tokens >= self.shard_tokens:
            self.close_shard()
            self._open()

    def close_shard(self) -> None:
        self.fh.close()
        if not self.pending:
            (self.out / f"{self.name}.bin").unlink()
            return
        docs = np.concatenate(self.starts) if self.starts else np.zeros(0, np.uint64)
        np.save(self.out / f"{self.name}.docs.npy", docs)
        self.shards.append({"file": f"{self.name}.bin", "docs": f"{self.name}.docs.npy",
                            "tokens": self.tokens, "texts": len(docs)})  # fmt: skip
        self.chunks_done += self.pending
        _write_json(self.out / PROGRESS, {"chunks": self.chunks_done, "shards": self.shards})


def _write_json(path: Path, obj: dict) -> None:
    from scratchlm.io import atomic_write_json

    atomic_write_json(path, obj)


def _start(out: Path, tokenizer_dir: str, settings: dict) -> dict | None:
    """The progress of an earlier, interrupted run with the same settings (``None``: a fresh start)."""
    from scratchlm.tokenizers import load_tokenizer

    if (out / MANIFEST).is_file():
        raise DataError(f"{out}: already holds finished shards ({MANIFEST}); choose another --out")
    saved = out / "settings.json"
    if saved.is_file():
        before = json.loads(saved.read_text(encoding="utf-8"))
        if before != settings:
            changed = [k for k in settings if before.get(k) != settings[k]]
            raise DataError(f"{out}: an interrupted prepare with other settings ({', '.join(changed)}); "
                            "run it as before, or choose another --out")  # fmt: skip
        return (
            json.loads((out / PROGRESS).read_text(encoding="utf-8")) if (out / PROGRESS).is_file() else None
        )
    if out.exists() and any(out.iterdir()):
        raise DataError(f"{out}: exists and is not empty; choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    load_tokenizer(tokenizer_dir).save(out / "tokenizer")
    _write_json(saved, settings)
    return None


def prepare(sources: list[str], tokenizer_dir: str, out: str | Path, *, workers: int = 1,
            text_field: str = "text", shard_tokens: int = 1 << 26, max_eval_docs: int = 2000,
            chunk_texts: int = CHUNK_TEXTS, show_progress: bool = True) -> dict:  # fmt: skip
    """Tokenize ``sources`` into shards in ``out``; returns the manifest (with ``seconds``, ``mb_per_s``)."""
    from scratchlm.tokenizers import load_tokenizer

    out = Path(out)
    tokenizer = load_tokenizer(tokenizer_dir)
    settings = {"sources": [str(Path(s).resolve()) for s in sources], "text_field": text_field,
                "shard_tokens": shard_tokens, "max_eval_docs": max_eval_docs, "chunk_texts": chunk_texts,
                "vocab_size": len(tokenizer.vocab), "kind": tokenizer.kind}  # fmt: skip
    done = _start(out, tokenizer_dir, settings)
    dtype = dtype_for(len(tokenizer.vocab))
    writer = ShardWriter(out, dtype, shard_tokens, done)
    evals = {"dev": [], "test": [], "cap": max_eval_docs}
    nbytes = sum(_size(s) for s in sources)
    bar = _bar(nbytes, show_progress)
    t0 = time.perf_counter()
    todo = _skip(_chunks(sources, text_field, evals, chunk_texts), writer.chunks_done, bar)
    pool = (
        mp.get_context("spawn").Pool(workers, _init_worker, (str(out / "tokenizer"),))
        if workers > 1
        else None
    )
    try:
        for ids, lengths in _encoded(todo, pool, tokenizer, workers):
            writer.add(ids, lengths)
        writer.close_shard()
    finally:
        if pool:
            pool.terminate()
        bar.close()
    seconds = time.perf_counter() - t0
    return _finish(out, writer, evals, dtype, tokenizer, settings, seconds, nbytes)


def _encoded(chunks: Iterator[list[str]], pool, tokenizer, workers: int):
    """The encoded chunks in input order; with a pool, ``2 x workers`` chunks in flight at a time (a
    plain ``imap`` would read the whole corpus ahead into its queue)."""
    if pool is None:
        yield from (encode_chunk(c, tokenizer) for c in chunks)
        return
    while window := list(itertools.islice(chunks, 2 * workers)):
        yield from pool.imap(encode_chunk, window)


def _size(source: str) -> int:
    path = Path(source)
    return (
        sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        if path.is_dir()
        else path.stat().st_size
    )


def _bar(total: int, enabled: bool):
    from tqdm.auto import tqdm

    show = enabled and sys.stderr.isatty() and not os.environ.get("CI")
    return tqdm(total=total, desc="prepare", unit="B", unit_scale=True, disable=not show)


def _skip(chunks: Iterator[list[str]], n: int, bar) -> Iterator[list[str]]:
    """The chunks after the first ``n`` (done by an interrupted run), each counted on the bar."""
    for i, chunk in enumerate(chunks):
        bar.update(sum(len(t.encode("utf-8")) + 1 for t in chunk))
        if i >= n:
            yield chunk


def _finish(out, writer, evals, dtype, tokenizer, settings, seconds, nbytes) -> dict:
    for split, name in EVAL_FILES.items():
        lines = [json.dumps({"text": t}, ensure_ascii=False) for t in evals[split]]
        (out / name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    files = [*(s["file"] for s in writer.shards), *(s["docs"] for s in writer.shards), *EVAL_FILES.values()]
    files += [str(p.relative_to(out)) for p in sorted((out / "tokenizer").iterdir())]
    manifest = {
        "format": FORMAT,
        "complete": True,
        "dtype": dtype,
        "vocab_size": len(tokenizer.vocab),
        "tokenizer": {"kind": tokenizer.kind, "dir": "tokenizer"},
        "sep_id": tokenizer.vocab.sep_id,
        "sources": settings["sources"],
        "tokens": sum(s["tokens"] for s in writer.shards),
        "texts": sum(s["texts"] for s in writer.shards),
        "eval_texts": {k: len(evals[k]) for k in EVAL_FILES},
        "shards": writer.shards,
        "checksums": {name: sha256_of(out / name) for name in files},
        "input_bytes": nbytes,
    }
    _write_json(out / MANIFEST, manifest)
    for name in (PROGRESS, "settings.json"):
        (out / name).unlink(missing_ok=True)
    mb = nbytes / 1e6
    return manifest | {"seconds": round(seconds, 2), "mb_per_s": round(mb / seconds, 2) if seconds else None}
