"""Weights between Hugging Face BERT-family checkpoints and scratchlm's, through explicit name maps.

A BERT layer is scratchlm's post-LN Transformer layer (``model.encoder.norm_position: post``) with learned
positions, token types, an embedding LayerNorm, GELU and biases everywhere. The map, per layer ``i``:

| scratchlm                                   | Hugging Face ``BertModel``                                   |
|---------------------------------------------|--------------------------------------------------------------|
| ``input.token_embedding.embedding.weight``  | ``embeddings.word_embeddings.weight``                        |
| ``input.positional.weight``                 | ``embeddings.position_embeddings.weight``                    |
| ``input.token_type_embedding.embedding.weight`` | ``embeddings.token_type_embeddings.weight``              |
| ``input.norm.{weight,bias}``                | ``embeddings.LayerNorm.{weight,bias}``                       |
| ``encoder.layers.i.attention.qkv.*``        | ``encoder.layer.i.attention.self.{query,key,value}.*`` (rows stacked q, k, v) |
| ``encoder.layers.i.attention.out.*``        | ``encoder.layer.i.attention.output.dense.*``                 |
| ``encoder.layers.i.attn_norm.*``            | ``encoder.layer.i.attention.output.LayerNorm.*``             |
| ``encoder.layers.i.feed_forward.up.*``      | ``encoder.layer.i.intermediate.dense.*``                     |
| ``encoder.layers.i.feed_forward.down.*``    | ``encoder.layer.i.output.dense.*``                           |
| ``encoder.layers.i.ffn_norm.*``             | ``encoder.layer.i.output.LayerNorm.*``                       |

Reading is strict (litgpt's ``convert_hf_checkpoint`` and nanoGPT's ``from_pretrained`` are the
models): every mapped key must be there with the expected shape, every checkpoint key must be mapped
or belong to a head scratchlm does not use (``pooler.``, ``cls.``, ``classifier.``, ``qa_outputs.``:
listed in the result, never silently); a ``bert.`` prefix (``BertFor*`` checkpoints) is removed.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from scratchlm.errors import DataError

# scratchlm InputLayer parameter -> BertEmbeddings parameter
BERT_EMBEDDINGS_MAP: dict[str, str] = {
    "token_embedding.embedding.weight": "word_embeddings.weight",
    "positional.weight": "position_embeddings.weight",
    "token_type_embedding.embedding.weight": "token_type_embeddings.weight",
    "norm.weight": "LayerNorm.weight",
    "norm.bias": "LayerNorm.bias",
}

# scratchlm layer parameter -> BertLayer parameter (one to one; q, k, v are stacked separately)
BERT_LAYER_MAP: dict[str, str] = {
    "attention.out.weight": "attention.output.dense.weight",
    "attention.out.bias": "attention.output.dense.bias",
    "attn_norm.weight": "attention.output.LayerNorm.weight",
    "attn_norm.bias": "attention.output.LayerNorm.bias",
    "feed_forward.up.weight": "intermediate.dense.weight",
    "feed_forward.up.bias": "intermediate.dense.bias",
    "feed_forward.down.weight": "output.dense.weight",
    "feed_forward.down.bias": "output.dense.bias",
    "ffn_norm.weight": "output.LayerNorm.weight",
    "ffn_norm.bias": "output.LayerNorm.bias",
}
QKV = ("query", "key", "value")
UNUSED_HEADS = ("pooler.", "cls.", "classifier.", "qa_outputs.")
"""Checkpoint parts outside the encoder: read, reported as unused, not copied."""


def bert_weight_map(num_layers: int) -> dict[str, str | tuple[str, ...]]:
    """scratchlm key -> Hugging Face key (a tuple: the q, k, v tensors stacked along dim 0)."""
    out: dict[str, str | tuple[str, ...]] = {
        f"input.{k}": f"embeddings.{v}" for k, v in BERT_EMBEDDINGS_MAP.items()
    }
    for i in range(num_layers):
        ours, theirs = f"encoder.layers.{i}.", f"encoder.layer.{i}."
        for kind in ("weight", "bias"):
            out[f"{ours}attention.qkv.{kind}"] = tuple(f"{theirs}attention.self.{n}.{kind}" for n in QKV)
        out.update({ours + k: theirs + v for k, v in BERT_LAYER_MAP.items()})
    return out


def _listing(title: str, items: list[str]) -> str:
    more = f" (+{len(items) - 10} more)" if len(items) > 10 else ""
    return f"{title}: {', '.join(items[:10])}{more}"


def bert_to_scratchlm(
    state: dict[str, torch.Tensor], num_layers: int, *, where: str = "the checkpoint"
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """A ``BertModel`` state dict -> scratchlm's ``input.*``/``encoder.*`` tensors, and the keys left
    unused (heads). Raises :class:`DataError` listing every missing and unexpected key."""
    state = {k.removeprefix("bert."): v for k, v in state.items()}
    state = {k: v for k, v in state.items() if not k.endswith("position_ids")}  # a buffer, not a weight
    wmap = bert_weight_map(num_layers)
    needed = {n for v in wmap.values() for n in ((v,) if isinstance(v, str) else v)}
    missing = sorted(needed - set(state))
    unused = sorted(k for k in state if k not in needed and k.startswith(UNUSED_HEADS))
    extra = sorted(k for k in state if k not in needed and not k.startswith(UNUSED_HEADS))
    if missing or extra:
        parts = [_listing(t, i) for t, i in (("missing", missing), ("unexpected", extra)) if i]
        raise DataError(
            f"{where} is not a {num_layers}-layer BERT encoder: {' | '.join(parts)} "
            "(nothing was copied; the weight map is scratchlm.models.hf_bert.bert_weight_map)"
        )
    out = {}
    for ours, theirs in wmap.items():
        out[ours] = state[theirs] if isinstance(theirs, str) else torch.cat([state[n] for n in theirs], 0)
    return out, unused


def scratchlm_to_bert(state: dict[str, torch.Tensor], num_layers: int) -> dict[str, torch.Tensor]:
    """scratchlm ``input.*``/``encoder.*`` tensors (other keys ignored) -> ``BertModel`` names."""
    wmap = bert_weight_map(num_layers)
    missing = sorted(set(wmap) - set(state))
    extra = sorted(
        k for k in state if k.startswith(("input.", "encoder.")) and k not in wmap and "frozen_rows" not in k
    )
    if missing or extra:
        parts = [_listing(t, i) for t, i in (("missing", missing), ("with no BERT counterpart", extra)) if i]
        raise DataError(f"the model is not BERT-shaped: {' | '.join(parts)}")
    out = {}
    for ours, theirs in wmap.items():
        if isinstance(theirs, str):
            out[theirs] = state[ours]
        else:
            for name, part in zip(theirs, state[ours].chunk(3, dim=0), strict=True):
                out[name] = part
    return out


# ------------------------------------------------------------------------------------------ configs
def bert_model_fields(hf: dict, *, where: str = "config.json") -> dict:
    """``ModelConfig`` fields of the architecture a BERT ``config.json`` describes (nested sections as
    mappings: ``ModelConfig(**fields)`` reads them); anything scratchlm cannot reproduce exactly is an error
    listing it."""
    problems = []
    if hf.get("model_type", "bert") not in ("bert",):
        problems.append(f"model_type {hf.get('model_type')!r} (BERT only)")
    if hf.get("hidden_act", "gelu") != "gelu":
        problems.append(f"hidden_act {hf.get('hidden_act')!r} (gelu only)")
    if hf.get("position_embedding_type", "absolute") != "absolute":
        problems.append(f"position_embedding_type {hf.get('position_embedding_type')!r} (absolute only)")
    if hf.get("is_decoder") or hf.get("add_cross_attention"):
        problems.append("a decoder / cross-attention (encoders only)")
    keys = ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")
    problems += [f"no {k}" for k in keys if k not in hf]
    if problems:
        raise DataError(f"{where}: not a BERT-like encoder scratchlm can run: {'; '.join(problems)}")
    hidden_dropout = float(hf.get("hidden_dropout_prob", 0.1))
    return {
        "embed_dim": int(hf["hidden_size"]),
        "encoder": {
            "num_layers": int(hf["num_hidden_layers"]),
            "num_heads": int(hf["num_attention_heads"]),
            "ffn_dim": int(hf["intermediate_size"]),
            "norm_position": "post",
            "attention_dropout": float(hf.get("attention_probs_dropout_prob", 0.1)),
        },
        "positional": {"kind": "learned"},
        "num_token_types": int(hf.get("type_vocab_size", 2)),
        "embedding_norm": "layernorm",
        "norm_eps": float(hf.get("layer_norm_eps", 1e-12)),
        "init_std": float(hf.get("initializer_range", 0.02)),
        "dropout": hidden_dropout,
        "embedding_dropout": hidden_dropout,
    }


BERT_LIKE = {
    "encoder.kind": "transformer",
    "positional.kind": "learned",
    "encoder.norm_position": "post",
    "embedding_norm": "layernorm",
    "positional.combine": "add",
    "embed_scale": False,
    "embedding_rank": None,
    "bigram_buckets": 0,
}


def _get(cfg, dotted: str):
    """``cfg.a.b`` for ``"a.b"``."""
    for part in dotted.split("."):
        cfg = getattr(cfg, part)
    return cfg


def bert_config(cfg, *, vocab_size: int, max_positions: int, pad_id: int = 0) -> dict:
    """The ``config.json`` of a ``BertModel`` equal to a scratchlm ``ModelConfig`` (``cfg``)."""
    wrong = [f"model.{k}={_get(cfg, k)!r} (BERT: {v!r})" for k, v in BERT_LIKE.items() if _get(cfg, k) != v]
    if wrong:
        raise DataError("the run is not BERT-like, so BertModel cannot reproduce it: " + "; ".join(wrong))
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": vocab_size,
        "hidden_size": cfg.embed_dim,
        "num_hidden_layers": cfg.encoder.num_layers,
        "num_attention_heads": cfg.encoder.num_heads,
        "intermediate_size": cfg.encoder.ffn_dim,
        "hidden_act": "gelu",
        "hidden_dropout_prob": cfg.dropout,
        "attention_probs_dropout_prob": cfg.encoder.attention_dropout,
        "max_position_embeddings": max_positions,
        "type_vocab_size": max(1, cfg.num_token_types),
        "initializer_range": cfg.init_std,
        "layer_norm_eps": cfg.norm_eps,
        "pad_token_id": pad_id,
        "position_embedding_type": "absolute",
    }


def read_bert_config(directory: Path) -> dict:
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise DataError(
            f"{directory}: no config.json (a BERT-family directory has config.json, model.safetensors)"
        )
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: unreadable ({exc})") from None


@torch.no_grad()
def copy_bert_embeddings(input_layer: nn.Module, bert_embeddings: nn.Module) -> None:
    """Copy ``bert_embeddings``' tables and LayerNorm into ``input_layer`` (BERT-shaped: ``positional:
    learned``, ``num_token_types`` > 0, ``embedding_norm: layernorm``). Raises ``ValueError`` naming every
    missing tensor or shape mismatch."""
    ours = dict(input_layer.named_parameters())
    theirs = dict(bert_embeddings.named_parameters())
    problems = []
    for mine, hf in BERT_EMBEDDINGS_MAP.items():
        if mine not in ours:
            problems.append(f"the input layer has no {mine} (needed for {hf})")
        elif hf not in theirs:
            problems.append(f"the BERT embeddings have no {hf}")
        elif ours[mine].shape != theirs[hf].shape:
            problems.append(f"{mine} {tuple(ours[mine].shape)} != {hf} {tuple(theirs[hf].shape)}")
    if problems:
        raise ValueError("cannot copy BERT embeddings: " + "; ".join(problems))
    for mine, hf in BERT_EMBEDDINGS_MAP.items():
        ours[mine].copy_(theirs[hf])
