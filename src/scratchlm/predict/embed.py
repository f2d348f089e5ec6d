"""Texts of an encoder run -> sentence vectors (and token vectors), through
:mod:`scratchlm.predict.batching`; the server's ``/v1/embed``. Plain Python objects out, no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch

from scratchlm.modules.heads import POOLING
from scratchlm.predict.batching import run_model
from scratchlm.predict.classify import encode_texts

if TYPE_CHECKING:
    from scratchlm.tokenizers.char import Encoding
    from scratchlm.training.run_dir import LoadedRun


@dataclass(frozen=True)
class EmbedOptions:
    """``pooling``: the run's own (``None``) or one of ``cls``, ``mean``, ``max``, ``mean_max``, ``last``;
    ``tokens``: also return one vector per token; ``normalize``: scale vectors to unit L2 length."""

    pooling: str | None = None
    tokens: bool = False
    normalize: bool = False


def embed_encoded(
    run: LoadedRun,
    encodings: Sequence[Encoding],
    options: EmbedOptions = EmbedOptions(),
    batch_size: int = 128,
    max_padding: float | None = None,
) -> list[dict[str, Any]]:
    """Encoder outputs: ``vector`` (the pooled sentence vector) and, with ``options.tokens``,
    ``tokens``, ``offsets`` (spans in the text) and ``token_vectors`` (one per token, [CLS] first)."""
    # the run's own pooling is the model's (``last`` over a bidirectional RNN reads both directions' ends)
    pool = POOLING[options.pooling] if options.pooling else getattr(run.model, "pool", None)
    pool = pool or POOLING[run.config.model.pooling]

    def step(ids: torch.Tensor, mask: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        h = run.model.encode(ids, mask).float()  # (b, s, d)
        pooled = pool(h, mask)  # (b, d) or (b, 2d)
        if options.normalize:
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            h = torch.nn.functional.normalize(h, dim=-1)
        return list(zip(pooled, h, strict=True))

    seqs = [e.ids for e in encodings]
    rows = run_model(
        run.model, seqs, run.tokenizer.vocab.pad_id, step, batch_size=batch_size, max_padding=max_padding
    )
    out = []
    for enc, (pooled, h) in zip(encodings, rows, strict=True):
        item: dict[str, Any] = {"vector": _rounded(pooled), "truncated": enc.truncated}
        if options.tokens:
            n = len(enc.ids)
            item["tokens"] = list(enc.tokens)
            item["offsets"] = [list(span) for span in enc.offsets]
            item["token_vectors"] = [_rounded(v) for v in h[:n]]
        out.append(item)
    return out


def embed_texts(
    run: LoadedRun,
    texts: Sequence[str],
    options: EmbedOptions = EmbedOptions(),
    batch_size: int = 128,
    max_padding: float | None = None,
) -> list[dict[str, Any]]:
    return embed_encoded(run, encode_texts(run, texts), options, batch_size, max_padding)


def _rounded(v: torch.Tensor) -> list[float]:
    return [round(x, 6) for x in v.float().tolist()]
