"""``data.shards`` for the pretraining tasks: the train split is the shards themselves, read block by
block by memory map (:class:`scratchlm.data.shards.ShardBlocks`); the dev and test splits are the texts
``data prepare`` kept (``dev.jsonl``, ``test.jsonl``), encoded and packed as today. The run uses the
shards' tokenizer (a ``model.init`` run's must be the same vocabulary).

What a sharded run cannot do is refused up front: texts the shards no longer hold (``whole_word_mask``
needs jieba on the text; ``model.init: word2vec`` trains on it), unpacked blocks, ``max_train_examples``
(use ``train.max_steps``), ``corpus`` beside ``shards``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from scratchlm.config import RunConfig
from scratchlm.data import Example
from scratchlm.data.shards import EVAL_FILES, ShardBlocks, read_manifest
from scratchlm.errors import ConfigError, DataError


class ShardSource(Sequence):
    """The train split's examples in a sharded run: its texts are in the shards, not in memory."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.manifest = read_manifest(self.directory)

    def __len__(self) -> int:
        return int(self.manifest["texts"])

    def __getitem__(self, i):
        raise DataError(f"{self.directory}: the train texts of data.shards are token ids, not texts")

    def tokenizer(self):
        from scratchlm.tokenizers import load_tokenizer

        return load_tokenizer(self.directory / self.manifest["tokenizer"]["dir"])

    def blocks(self, tokenizer, block_size: int) -> ShardBlocks:
        mine = self.tokenizer()
        if tokenizer.vocab.tokens != mine.vocab.tokens:
            raise DataError(
                f"data.shards={self.directory}: made with another vocabulary ({len(mine.vocab)} tokens) than "
                f"this run's ({len(tokenizer.vocab)}); prepare the shards with the run's tokenizer"
            )
        return ShardBlocks(self.directory, block_size)


def check_shards_config(cfg: RunConfig, task_name: str, pretrains: bool) -> None:
    d = cfg.data
    if d.shards is None:
        return
    if not pretrains:
        raise ConfigError(f"data.shards is for data.task masked_lm or causal_lm, not {task_name}")
    clashes = [("data.corpus", bool(d.corpus)), ("data.whole_word_mask", d.whole_word_mask),
               ("data.max_train_examples", d.max_train_examples is not None),
               ("model.init: word2vec", cfg.model.init == "word2vec")]  # fmt: skip
    for name, clash in clashes:
        if clash:
            raise ConfigError(f"{name} with data.shards: the shards hold token ids, not the texts it needs "
                              "(train.max_steps limits a run's length)")  # fmt: skip
    if not d.packing:
        raise ConfigError("data.shards is one packed token stream: set data.packing: true")


def load_shard_splits(cfg: RunConfig) -> dict[str, list]:
    """``{"train": ShardSource, "dev": [...], "test": [...]}``."""
    from scratchlm.data.files import read_examples

    source = ShardSource(cfg.data.shards)
    splits: dict[str, list] = {"train": source}
    for split, name in EVAL_FILES.items():
        path = source.directory / name
        rows = read_examples(path, need_label=False) if path.stat().st_size else []
        splits[split] = [Example(ex.text, "", str(path)) for ex in rows]
    return splits
