"""Everything the lab page shows for one run and one text, as one JSON-ready dict.

Step by step, as the text becomes vectors: ``normalization`` and ``tokenizations``
(:mod:`scratchlm.viz.text_steps`), the positions the model reads (``positions``: tokens, ids, [UNK]s,
the tier each token's initial row came from, :mod:`scratchlm.viz.token_tiers`), the input layer part by
part (``input``, :mod:`scratchlm.viz.input_rows`), the attention weights per layer and head
(``attention``; Transformer encoders, through the explicit path that returns the weights, as
``scratchlm plot attention`` does), the ``pooled`` vector (classifiers), and the ``prediction``: a
classifier's label probabilities, a tagger's tags (and per position the softmax of its tag scores), a
causal LM's next-token distribution after the text.

Which prediction a run gets is decided by what its task serves (``endpoints``) and whether it
pretrains a one-directional encoder, never by the task's name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch

from scratchlm.viz.input_rows import input_parts, position_note
from scratchlm.viz.text_steps import normalization, tokenizations

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun
    from scratchlm.viz.token_tiers import TokenTiers

TOP_NEXT_TOKENS = 10


def lab_reads(run: LoadedRun) -> str | None:
    """Why the lab cannot read ``run`` (a model without a token input layer, a seq2seq model), or ``None``."""
    layer = getattr(run.model, "input", None)
    if getattr(layer, "token_embedding", None) is None or getattr(run.model, "encoder", None) is None:
        return f"{run.path}: a {run.task} model has no token input layer and encoder for the lab to show"
    if getattr(run.model, "decoder", None) is not None:
        return f"{run.path}: a {run.task} model (encoder-decoder); the lab shows encoder models"
    return None


def _r(values: list[float], digits: int = 4) -> list[float]:
    return [round(v, digits) for v in values]


def describe_run(run: LoadedRun) -> dict[str, Any]:
    """The run's name and the settings of its input layer and encoder that the page names."""
    m, d = run.config.model, run.config.data
    enc = m.encoder
    return {
        "name": run.path.name,
        "path": str(run.path),
        "task": run.task,
        "labels": run.labels,
        "tokenizer": run.tokenizer.kind,
        "vocab_size": len(run.tokenizer.vocab),
        "normalize": run.tokenizer.normalize,
        "max_seq_len": d.max_seq_len,
        "embed_dim": m.embed_dim,
        "init": m.init,
        "positional": m.positional.kind,
        "combine": m.positional.combine,
        "embedding_norm": m.embedding_norm,
        "bigram_buckets": m.bigram_buckets,
        "encoder": enc.kind,
        "num_layers": enc.num_layers,
        "num_heads": enc.num_heads if enc.kind == "transformer" else None,
        "pooling": m.pooling if hasattr(run.model, "pool") else None,
    }


@torch.no_grad()
def _encode(run: LoadedRun, ids: list[int]) -> tuple[torch.Tensor, list[torch.Tensor] | None]:
    """``(h (s, o), weights)``: the encoder's output and, for a Transformer, one ``(h, s, s)`` per layer."""
    from scratchlm.modules.transformer import TransformerEncoder

    model = run.model
    t = torch.tensor([ids])  # (1, s)
    x, mask = model.input(t), torch.ones_like(t, dtype=torch.bool)
    if isinstance(model.encoder, TransformerEncoder):
        h, weights = model.encoder(x, mask, need_weights=True)
        return h[0].float(), [w[0].float() for w in weights]
    return model.encoder(x, mask)[0].float(), None


def _attention(run: LoadedRun, weights: list[torch.Tensor] | None) -> dict[str, Any]:
    if weights is None:
        kind = run.config.model.encoder.kind
        return {"note": f"a {kind} encoder reads the positions in order: it has no attention weights"}
    return {"layers": [[[_r(row, 3) for row in head.tolist()] for head in layer] for layer in weights]}


@torch.no_grad()
def _prediction(run: LoadedRun, text: str, h: torch.Tensor, ids: list[int]) -> dict[str, Any]:
    handler = run.handler()
    model = run.model
    if "classify" in handler.endpoints:
        p = handler.predict(run, [text], 1)[0]
        return {"kind": "label", "label": p["label"], "probabilities": p["probabilities"]}
    if "tag" in handler.endpoints:
        p = handler.predict(run, [text], 1)[0]
        probs = model(torch.tensor([ids])).float().softmax(-1)[0]  # (s, T)
        return {
            "kind": "tags",
            "tags": p["tags"][: len(ids)],
            "output": p["output"],
            "spans": p["spans"],
            "tag_names": run.labels,
            "tag_probabilities": [_r(row) for row in probs.tolist()],
        }
    if handler.pretrains and not handler.bidirectional and hasattr(model, "scores"):
        probs = model.scores(h[-1:]).float().softmax(-1)[0]  # (V,)
        top = probs.topk(min(TOP_NEXT_TOKENS, len(probs)))
        vocab = run.tokenizer.vocab
        return {
            "kind": "next_token",
            "after": run.tokenizer.vocab.token(ids[-1]),
            "top": [
                {"token": vocab.token(i), "id": i, "p": round(p, 4)}
                for p, i in zip(top.values.tolist(), top.indices.tolist(), strict=True)
            ],
        }
    return {
        "kind": "none",
        "note": f"a {run.task} run predicts at [MASK] positions only: nothing to show for a text",
    }


def lab_report(run: LoadedRun, text: str, tiers: TokenTiers | None = None) -> dict[str, Any]:
    """The dict described in the module docstring for ``text`` (a non-empty string)."""
    tok = run.tokenizer
    ids, tokens, truncated = run.handler().model_inputs(run, text)
    vocab = tok.vocab
    h, weights = _encode(run, ids)
    pooled = None
    if hasattr(run.model, "pool"):
        vector = run.model.pool(h[None], torch.ones(1, len(ids), dtype=torch.bool))[0]
        pooled = {
            "pooling": run.config.model.pooling,
            "vector": _r(vector.tolist()),
            "norm": round(float(vector.norm()), 4),
        }
    return {
        "run": describe_run(run),
        "normalization": normalization(text, nfkc=tok.normalize, lowercase=tok.lowercase),
        "tokenizations": tokenizations(tok, text),
        "positions": {
            "tokens": list(tokens),
            "ids": list(ids),
            "unk": [i == vocab.unk_id for i in ids],
            "tiers": tiers.of([vocab.token(i) for i in ids]) if tiers else [None] * len(ids),
            "tier_source": tiers.source if tiers else None,
            "tier_note": tiers.note if tiers else None,
            "truncated": truncated,
        },
        "input": {
            "parts": [p.to_dict() for p in input_parts(run, ids)],
            "position_note": position_note(run),
        },
        "attention": _attention(run, weights),
        "pooled": pooled,
        "prediction": _prediction(run, text, h, ids),
    }
