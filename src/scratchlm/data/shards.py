"""Token shards: a pretraining corpus tokenized once into files read by memory map, so training holds
only the blocks of the current batch however large the corpus (the way nanoGPT's ``train.bin`` and
litgpt's streaming datasets feed their trainers).

A shards directory (written by ``scratchlm data prepare``, :mod:`scratchlm.data.prepare`)::

    manifest.json            format, dtype, block layout, the tokenizer, every file's sha256
    tokenizer/               the tokenizer that made the ids (a run trained on the shards uses it)
    train/shard-00000.bin    token ids, little-endian uint16 (vocabulary <= 65,535) or uint32, back to back
    train/shard-00000.docs.npy  uint64 start offset of each text in the shard (the document boundaries)
    dev.jsonl, test.jsonl    up to ``max_eval_docs`` texts each of the dev and test splits (sha1 rule)

Each text is stored as ``[CLS] ids [SEP]``, as :func:`scratchlm.data.packing.pack_sequences` joins them,
and the shards in order are one token stream. Block ``i`` of a run is tokens ``[i*L, (i+1)*L)`` of that
stream (``L`` = ``data.max_seq_len``; the last block may be shorter), with the segment (text number
within the block) of each token from the boundaries: the blocks and segments packing gives today, read
without holding the corpus. The document index is memory-mapped; the blocks' ids are read with
``os.pread`` (see :meth:`TokenStream.tokens`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratchlm.errors import DataError

FORMAT = "scratchlm-token-shards/1"
MANIFEST = "manifest.json"
SPLIT_DIR = "train"
EVAL_FILES = {"dev": "dev.jsonl", "test": "test.jsonl"}


def dtype_for(vocab_size: int) -> str:
    """The smallest unsigned dtype that holds every id."""
    return "uint16" if vocab_size <= 2**16 - 1 else "uint32"


def sha256_of(path: Path, chunk: int = 1 << 22) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def read_manifest(directory: str | Path) -> dict:
    directory = Path(directory)
    path = directory / MANIFEST
    if not path.is_file():
        raise DataError(
            f"{directory}: no {MANIFEST} (not a shards directory; make one with scratchlm data prepare)"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: unreadable manifest ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise DataError(f"{path}: format {manifest.get('format')!r}, expected {FORMAT!r}")
    if not manifest.get("complete"):
        raise DataError(
            f"{directory}: data prepare did not finish; run the same command again to complete it"
        )
    return manifest


def fingerprint(directory: str | Path) -> str:
    """sha256 over the manifest's file checksums: the same for the same shards wherever they lie."""
    checksums = read_manifest(directory)["checksums"]
    return hashlib.sha256(json.dumps(checksums, sort_keys=True).encode("utf-8")).hexdigest()


def verify(directory: str | Path) -> int:
    """Check every file's sha256 against the manifest; returns the number of files checked."""
    directory = Path(directory)
    manifest = read_manifest(directory)
    files = manifest["checksums"]
    for name, digest in files.items():
        path = directory / name
        if not path.is_file():
            raise DataError(f"{path}: listed in {MANIFEST} but missing")
        if sha256_of(path) != digest:
            raise DataError(f"{path}: sha256 differs from {MANIFEST} (the file changed or is corrupt)")
    return len(files)


@dataclass
class Shard:
    tokens: np.memmap  # (n,) the ids
    starts: np.ndarray  # (docs,) uint64: where each text begins in ``tokens``
    fd: int  # the open file, for positional reads of blocks


class TokenStream:
    """The train shards as one memory-mapped token stream with its document starts."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.manifest = read_manifest(self.directory)
        dtype = self.dtype = np.dtype(self.manifest["dtype"]).newbyteorder("<")
        self.shards: list[Shard] = []
        for entry in self.manifest["shards"]:
            path = self.directory / entry["file"]
            if not path.is_file():
                raise DataError(f"{path}: listed in {MANIFEST} but missing")
            size = path.stat().st_size // dtype.itemsize
            if size != entry["tokens"]:
                raise DataError(f"{path}: {size} tokens, the manifest says {entry['tokens']} (truncated?)")
            tokens = np.memmap(path, dtype=dtype, mode="r", shape=(size,)) if size else np.zeros(0, dtype)
            starts = np.load(self.directory / entry["docs"], mmap_mode="r")
            self.shards.append(Shard(tokens, starts, os.open(path, os.O_RDONLY)))
        sizes = [len(s.tokens) for s in self.shards]
        self.offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])  # shard i: [off[i], off[i+1])
        self.num_tokens = int(self.offsets[-1])
        self.num_docs = int(sum(len(s.starts) for s in self.shards))

    def tokens(self, start: int, end: int) -> np.ndarray:
        """Ids ``[start, end)`` of the whole stream (across shard edges), as int64.

        Read with ``os.pread`` (through the page cache), not from the memory map: a page fault on a
        mapping maps the pages around it too (the kernel's fault-around, 64 KB), so reading blocks of a
        few hundred bytes at random from the map grew the resident set by ~40 KB a block (200 MB after
        4,800 blocks, measured); a positional read copies just the block."""
        parts = []
        width = self.dtype.itemsize
        i = int(np.searchsorted(self.offsets, start, side="right")) - 1
        while start < end and i < len(self.shards):
            lo = start - int(self.offsets[i])
            take = min(end, int(self.offsets[i + 1])) - start
            raw = os.pread(self.shards[i].fd, take * width, lo * width)
            parts.append(np.frombuffer(raw, dtype=self.dtype).astype(np.int64))
            start += take
            i += 1
        return np.concatenate(parts) if parts else np.zeros(0, np.int64)

    def doc_starts(self, start: int, end: int) -> np.ndarray:
        """Stream offsets of the texts that begin in ``[start, end)``."""
        out = []
        for i, shard in enumerate(self.shards):
            lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
            if hi <= start or lo >= end:
                continue
            s = shard.starts
            a, b = np.searchsorted(s, max(0, start - lo)), np.searchsorted(s, end - lo)
            out.append(np.asarray(s[a:b], dtype=np.int64) + lo)
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def document(self, number: int) -> np.ndarray:
        """The ids of text ``number`` (``[CLS] ... [SEP]``), for checks and tests."""
        for shard in self.shards:
            if number < len(shard.starts):
                lo = int(shard.starts[number])
                hi = int(shard.starts[number + 1]) if number + 1 < len(shard.starts) else len(shard.tokens)
                return np.asarray(shard.tokens[lo:hi], dtype=np.int64)
            number -= len(shard.starts)
        raise IndexError(number)


class _Blocks(Sequence):
    """``blocks[i]``: the ids (or segments) of block ``i``, read when asked."""

    def __init__(self, stream: TokenStream, block_size: int, segments: bool):
        self.stream, self.size, self.segments = stream, block_size, segments

    def __len__(self) -> int:
        return -(-self.stream.num_tokens // self.size)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not 0 <= i < len(self):
            raise IndexError(i)
        start, end = i * self.size, min((i + 1) * self.size, self.stream.num_tokens)
        if not self.segments:
            return self.stream.tokens(start, end).tolist()
        # the text number within the block: how many texts began in it up to each token, less one when
        # the block opens inside a text (that text is number 0)
        starts = self.stream.doc_starts(start, end) - start
        counts = np.zeros(end - start, np.int64)
        np.add.at(counts, starts, 1)
        seg = np.cumsum(counts)
        if len(starts) == 0 or starts[0] != 0:
            seg += 1
        return (seg - 1).tolist()


class ShardBlocks:
    """The train split of a sharded corpus, shaped as the pretraining tasks' encoded split
    (``seqs``, ``segments``, ``word_ids``, ``truncated``, ``texts``), each block read on demand."""

    word_ids = None
    truncated = 0

    def __init__(self, directory: str | Path, block_size: int):
        self.directory = Path(directory)
        self.stream = TokenStream(directory)
        self.seqs = _Blocks(self.stream, block_size, segments=False)
        self.segments = _Blocks(self.stream, block_size, segments=True)
        self.texts = self.stream.num_docs
        self.fingerprint = fingerprint(self.directory)
        """What a checkpoint records of the shards: a resume on other shards would read other tokens."""

    def batch_order(self, batch_size: int, *, seed: int, epoch: int) -> BatchOrder:
        return BatchOrder(len(self.seqs), batch_size, seed=seed, epoch=epoch)


class BatchOrder(Sequence):
    """The shuffled batches of one epoch over ``n`` blocks: a seeded permutation (numpy, 8 bytes a block)
    cut into batches when asked, so a corpus of millions of blocks needs no list of lists. The same
    ``(seed, epoch)`` gives the same order: a resumed run continues at its checkpoint's batch."""

    def __init__(self, n: int, batch_size: int, *, seed: int, epoch: int):
        self.order = np.random.default_rng([seed, epoch]).permutation(n)
        self.batch_size = batch_size

    def __len__(self) -> int:
        return -(-len(self.order) // self.batch_size)

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if not 0 <= i < len(self):
            raise IndexError(i)
        return self.order[i * self.batch_size : (i + 1) * self.batch_size].tolist()
