"""Strict conversion between a Hugging Face BERT-family state dict and scratchlm's ``input.*`` and
``encoder.*`` tensors, both ways, through the maps of :mod:`scratchlm.models.hf_families`.

Reading (:func:`hf_to_scratchlm`): the family's prefix (``bert.``, ``roberta.``...) is removed, buffers
(``position_ids``) dropped; every mapped tensor must be there with the shape the ``config.json`` gives
(a scratchlm model is built from it on the meta device: no memory, exact shapes), every other key must
belong to a head the family lists (reported as unused). Anything else is a one-line error and nothing
is converted. Writing (:func:`scratchlm_to_hf`): the reverse map and the family's ``config.json``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from scratchlm.errors import DataError
from scratchlm.models.hf_families import (
    EXPORT_ACTIVATIONS,
    FAMILIES,
    Family,
    family_of,
    max_positions,
    model_fields,
)

POSITION_KEY = "input.positional.weight"
BUFFERS = ("position_ids", "token_type_ids")


@dataclass
class Converted:
    family: Family
    fields: dict
    """``ModelConfig`` fields of the architecture."""
    state: dict[str, torch.Tensor]
    """scratchlm's ``input.*`` and ``encoder.*`` tensors."""
    unused: list[str]
    vocab_size: int
    max_positions: int
    pad_id: int


def _listing(title: str, items: list[str]) -> str:
    more = f" (+{len(items) - 6} more)" if len(items) > 6 else ""
    return f"{title}: {', '.join(items[:6])}{more}"


def expected_shapes(fields: dict, *, vocab_size: int, max_positions: int) -> dict[str, tuple[int, ...]]:
    """The shapes of a scratchlm model with these ``ModelConfig`` fields (built on the meta device)."""
    from scratchlm.config import ModelConfig
    from scratchlm.models.classifier import TextClassifier

    cfg = ModelConfig(**{k: (dict(v) if isinstance(v, dict) else v) for k, v in fields.items()})
    with torch.device("meta"):
        model = TextClassifier(cfg, vocab_size=vocab_size, num_classes=2, max_seq_len=max_positions)
    return {k: tuple(v.shape) for k, v in model.state_dict().items() if k.startswith(("input.", "encoder."))}


def map_keys(
    state: dict[str, torch.Tensor], family: Family, fields: dict, *, where: str = "the checkpoint"
) -> tuple[dict[str, torch.Tensor], list[str]]:
    """Their state dict -> scratchlm names (prefix removed, buffers dropped, q/k/v stacked), and the
    head keys left unused; a missing or unexpected key is a one-line :class:`DataError`."""
    state = {k.removeprefix(family.prefix): v for k, v in state.items()}
    state = {k: v for k, v in state.items() if not k.endswith(BUFFERS)}
    wmap = family.weight_map(fields)
    needed = {n for v in wmap.values() for n in ((v,) if isinstance(v, str) else v)}
    missing = sorted(needed - set(state))
    unused = sorted(k for k in state if k not in needed and k.startswith(family.heads))
    extra = sorted(k for k in state if k not in needed and not k.startswith(family.heads))
    if missing or extra:
        parts = [_listing(t, i) for t, i in (("missing", missing), ("unexpected", extra)) if i]
        raise DataError(
            f"{where} is not the {family.name} encoder its config.json describes: {' | '.join(parts)}"
        )
    out = {}
    for ours, theirs in wmap.items():
        out[ours] = state[theirs] if isinstance(theirs, str) else torch.cat([state[n] for n in theirs], 0)
    return out, unused


def hf_to_scratchlm(state: dict[str, torch.Tensor], hf: dict, *, where: str = "the checkpoint") -> Converted:
    """A Hugging Face state dict and its ``config.json`` -> scratchlm tensors (strict; see above)."""
    family = family_of(hf, where=f"{where}'s config.json")
    fields = model_fields(family, hf, where=f"{where}'s config.json")
    out, unused = map_keys(state, family, fields, where=where)
    offset = family.position_offset(hf)
    if offset and POSITION_KEY in out:
        out[POSITION_KEY] = out[POSITION_KEY][offset:]
    vocab_size = int(hf.get("vocab_size", out["input.token_embedding.embedding.weight"].shape[0]))
    positions = max_positions(family, hf)
    want = expected_shapes(fields, vocab_size=vocab_size, max_positions=positions)
    wmap = family.weight_map(fields)
    wrong = [
        f"{wmap[k] if isinstance(wmap[k], str) else '+'.join(wmap[k])} is {tuple(v.shape)}, config.json makes "
        f"{want[k]}"
        for k, v in out.items()
        if k in want and tuple(v.shape) != want[k]
    ]
    if wrong:
        raise DataError(f"{where} does not match its config.json: {_listing('shapes', wrong)}")
    pad = int(hf.get("pad_token_id") or 0)
    return Converted(
        family, fields, {k: v.contiguous() for k, v in out.items()}, unused, vocab_size, positions, pad
    )


# ------------------------------------------------------------------------------------------ writing
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
"""``model.*`` values every family needs (the run's value is compared with these)."""


def _get(cfg, dotted: str):
    for part in dotted.split("."):
        cfg = getattr(cfg, part)
    return cfg


def export_family(cfg, name: str = "auto") -> Family:
    """The family to write a model as: ``name``, or ``auto``: ALBERT with shared layers (or a projection
    between equal widths, which only ALBERT has), ELECTRA with an input projection, else BERT."""
    if name == "auto":
        projected = cfg.input_dim is not None
        name = (
            "albert"
            if cfg.encoder.unique_layers or cfg.input_dim == cfg.embed_dim
            else "electra"
            if projected
            else "bert"
        )
    if name not in FAMILIES:
        raise DataError(f"unknown family {name!r}; choose auto, {', '.join(FAMILIES)}")
    return FAMILIES[name]


def _family_problems(family: Family, cfg) -> list[str]:
    wrong = [f"model.{k}={_get(cfg, k)!r} (needs {v!r})" for k, v in BERT_LIKE.items() if _get(cfg, k) != v]
    if cfg.encoder.unique_layers is not None and family.name != "albert":
        wrong.append(f"model.encoder.unique_layers={cfg.encoder.unique_layers} (shared layers: albert only)")
    if cfg.input_dim is None and family.name == "albert":
        wrong.append("model.input_dim=None (ALBERT always projects its embeddings: set input_dim)")
    if family.name == "electra" and cfg.input_dim == cfg.embed_dim:
        wrong.append(
            f"model.input_dim={cfg.input_dim} = embed_dim (ELECTRA projects only between different widths)"
        )
    if cfg.input_dim is not None and family.projection is None:
        wrong.append(f"model.input_dim={cfg.input_dim} (an input projection: albert or electra)")
    if family.name == "distilbert":
        if cfg.num_token_types:
            wrong.append(f"model.num_token_types={cfg.num_token_types} (DistilBERT has none)")
        if cfg.norm_eps != 1e-12:
            wrong.append(f"model.norm_eps={cfg.norm_eps} (DistilBERT: 1e-12)")
    return wrong


def hf_config(family: Family, cfg, *, vocab_size: int, max_positions: int, pad_id: int = 0) -> dict:
    """The ``config.json`` of ``family``'s base model equal to a scratchlm ``ModelConfig``."""
    wrong = _family_problems(family, cfg)
    if wrong:
        raise DataError(
            f"the model is not a {family.name} encoder, so {family.architecture} cannot reproduce it: {'; '.join(wrong)}"
        )
    enc, act = cfg.encoder, EXPORT_ACTIVATIONS[cfg.encoder.activation]
    common = {
        "architectures": [family.architecture],
        "model_type": family.model_types[0],
        "vocab_size": vocab_size,
    }
    common.update(pad_token_id=pad_id, initializer_range=cfg.init_std)
    if family.name == "distilbert":
        sizes = dict(
            dim=cfg.embed_dim, n_layers=enc.num_layers, n_heads=enc.num_heads, hidden_dim=enc.ffn_dim
        )
        return {
            **common,
            **sizes,
            "activation": act,
            "dropout": cfg.dropout,
            "attention_dropout": enc.attention_dropout,
            "max_position_embeddings": max_positions,
            "sinusoidal_pos_embds": False,
        }
    out = {
        **common,
        "hidden_size": cfg.embed_dim,
        "num_hidden_layers": enc.num_layers,
        "num_attention_heads": enc.num_heads,
        "intermediate_size": enc.ffn_dim,
        "hidden_act": act,
        "hidden_dropout_prob": cfg.dropout,
        "attention_probs_dropout_prob": enc.attention_dropout,
        "max_position_embeddings": max_positions + (pad_id + 1 if family.name == "roberta" else 0),
        "type_vocab_size": max(1, cfg.num_token_types),
        "layer_norm_eps": cfg.norm_eps,
        "position_embedding_type": "absolute",
    }
    if family.projection is not None:
        out["embedding_size"] = cfg.input_width
    if family.name == "albert":
        out.update(num_hidden_groups=enc.unique_layers or enc.num_layers, inner_group_num=1)
    return out


def scratchlm_to_hf(state: dict[str, torch.Tensor], family: Family, hf: dict) -> dict[str, torch.Tensor]:
    """scratchlm ``input.*``/``encoder.*`` tensors (others ignored) -> ``family``'s base-model names;
    ``hf``: the ``config.json`` (:func:`hf_config`)."""
    state = dict(state)
    offset = family.position_offset(hf)
    if offset:  # the rows before position 0: never read for right-padded text; zero, as the padding row is
        table = state[POSITION_KEY]
        state[POSITION_KEY] = torch.cat([table.new_zeros(offset, table.shape[1]), table])
    return unmap_keys(state, family, model_fields(family, hf, where="the exported config.json"))


def unmap_keys(state: dict[str, torch.Tensor], family: Family, fields: dict) -> dict[str, torch.Tensor]:
    """scratchlm names -> ``family``'s (q/k/v split); a missing or extra encoder tensor is an error."""
    wmap = family.weight_map(fields)
    missing = sorted(set(wmap) - set(state))
    extra = sorted(
        k for k in state if k.startswith(("input.", "encoder.")) and k not in wmap and "frozen_rows" not in k
    )
    if missing or extra:
        parts = [
            _listing(t, i)
            for t, i in (("missing", missing), (f"with no {family.name} counterpart", extra))
            if i
        ]
        raise DataError(f"the model is not {family.name}-shaped: {' | '.join(parts)}")
    out = {}
    for ours, theirs in wmap.items():
        if isinstance(theirs, str):
            out[theirs] = state[ours].contiguous()
        else:
            for name, part in zip(theirs, state[ours].chunk(3, dim=0), strict=True):
                out[name] = part.contiguous()
    return out


def build_model(conv: Converted):
    """A scratchlm classifier (its head untrained) holding the converted encoder, in eval mode: what
    ``scratchlm encode`` runs, and the parity tests compare."""
    from scratchlm.config import ModelConfig
    from scratchlm.models.classifier import TextClassifier

    model = TextClassifier(
        ModelConfig(**conv.fields),
        vocab_size=conv.vocab_size,
        num_classes=2,
        max_seq_len=conv.max_positions,
        pad_id=conv.pad_id,
    )
    missing, unexpected = model.load_state_dict(conv.state, strict=False)
    if unexpected or any(not k.startswith("head.") for k in missing):
        raise DataError(
            f"the converted encoder does not build the model: missing {missing}, extra {unexpected}"
        )
    return model.eval()
