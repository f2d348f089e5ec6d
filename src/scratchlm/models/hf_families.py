"""The BERT family's members as explicit maps between Hugging Face names and scratchlm's.

Every member is a post-LN Transformer encoder (``model.encoder.norm_position: post``) with learned
positions and an embedding LayerNorm; they differ in names and in a few parts, each a scratchlm module
option rather than a special case:

| family | ``model_type`` | what differs from BERT | scratchlm part |
|---|---|---|---|
| BERT | ``bert`` | (the reference: :mod:`scratchlm.models.hf_bert` draws its map) | |
| RoBERTa, XLM-R | ``roberta``, ``xlm-roberta`` | position ids start after the padding index, one token type | the table read from row ``pad_token_id + 1`` |
| ALBERT | ``albert`` | embeddings of ``embedding_size`` projected to ``hidden_size``; one layer (group) shared across depth; ``gelu_new`` | ``model.input_dim``, ``model.encoder.unique_layers``, ``model.encoder.activation: gelu_tanh`` |
| DistilBERT | ``distilbert`` | other names (``q_lin``, ``sa_layer_norm``), no token types | ``model.num_token_types: 0`` |
| ELECTRA | ``electra`` | embeddings of ``embedding_size`` projected (``embeddings_project``) when it differs from ``hidden_size`` | ``model.input_dim`` |

A family gives: the ``ModelConfig`` fields of a ``config.json`` (anything scratchlm cannot reproduce
exactly is an error listing it), the weight map (scratchlm name -> theirs; a tuple: q, k, v stacked), the
prefix its task models put before the encoder (``bert.``, ``roberta.``...), the heads that are read and
reported but not used, and the ``config.json`` of a scratchlm model (``export hf``). The strict
conversion itself is :mod:`scratchlm.models.hf_convert`.
"""

from __future__ import annotations

from dataclasses import dataclass

from scratchlm.errors import DataError

# scratchlm InputLayer parameter -> BertEmbeddings parameter (ALBERT, ELECTRA, RoBERTa: the same names)
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

HF_ACTIVATIONS = {"gelu": "gelu", "gelu_new": "gelu_tanh", "gelu_pytorch_tanh": "gelu_tanh"}
"""Hugging Face ``hidden_act`` -> ``model.encoder.activation``."""
EXPORT_ACTIVATIONS = {"gelu": "gelu", "gelu_tanh": "gelu_new"}

ALBERT_LAYER_MAP = {
    "attention.out": "attention.dense",
    "attn_norm": "attention.LayerNorm",
    "feed_forward.up": "ffn",
    "feed_forward.down": "ffn_output",
    "ffn_norm": "full_layer_layer_norm",
}
DISTILBERT_LAYER_MAP = {
    "attention.out": "attention.out_lin",
    "attn_norm": "sa_layer_norm",
    "feed_forward.up": "ffn.lin1",
    "feed_forward.down": "ffn.lin2",
    "ffn_norm": "output_layer_norm",
}
WB = ("weight", "bias")


def _with_kinds(layer_map: dict[str, str]) -> dict[str, str]:
    return {f"{ours}.{k}": f"{theirs}.{k}" for ours, theirs in layer_map.items() for k in WB}


@dataclass(frozen=True)
class Family:
    name: str
    model_types: tuple[str, ...]
    architecture: str
    """The base model class (``architectures`` of an exported ``config.json``)."""
    prefix: str
    heads: tuple[str, ...]
    """Key prefixes (after ``prefix`` is removed) of task heads: read, reported as unused, not copied."""
    layer_prefix: str = "encoder.layer.{i}."
    layer_map: tuple[tuple[str, str], ...] = tuple(BERT_LAYER_MAP.items())
    qkv: tuple[str, ...] = tuple(f"attention.self.{n}" for n in QKV)
    embeddings: tuple[tuple[str, str], ...] = tuple(BERT_EMBEDDINGS_MAP.items())
    projection: str | None = None
    """Their name of ``input.projection`` (``model.input_dim``)."""

    def position_offset(self, hf: dict) -> int:
        """Rows of their position table before position 0 (RoBERTa: ``pad_token_id + 1``)."""
        return int(hf.get("pad_token_id", 1)) + 1 if self.name == "roberta" else 0

    def weight_map(self, fields: dict) -> dict[str, str | tuple[str, ...]]:
        """scratchlm key -> their key (a tuple: the q, k, v tensors stacked along dim 0)."""
        enc = fields["encoder"]
        out: dict[str, str | tuple[str, ...]] = {
            f"input.{k}": f"embeddings.{v}"
            for k, v in self.embeddings
            if fields.get("num_token_types", 0) or not k.startswith("token_type")
        }
        if fields.get("input_dim") is not None:
            out["input.projection.weight"] = f"{self.projection}.weight"
            out["input.projection.bias"] = f"{self.projection}.bias"
        for i in range(enc.get("unique_layers") or enc["num_layers"]):
            ours, theirs = f"encoder.layers.{i}.", self.layer_prefix.format(i=i)
            for kind in WB:
                out[f"{ours}attention.qkv.{kind}"] = tuple(f"{theirs}{n}.{kind}" for n in self.qkv)
            out.update({ours + k: theirs + v for k, v in self.layer_map})
        return out


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("bert", ("bert",), "BertModel", "bert.", ("pooler.", "cls.", "classifier.", "qa_outputs.")),
        Family(
            "roberta",
            ("roberta", "xlm-roberta", "camembert"),
            "RobertaModel",
            "roberta.",
            ("pooler.", "lm_head.", "classifier.", "qa_outputs."),
        ),
        Family(
            "albert",
            ("albert",),
            "AlbertModel",
            "albert.",
            ("pooler.", "predictions.", "sop_classifier.", "classifier.", "qa_outputs."),
            layer_prefix="encoder.albert_layer_groups.{i}.albert_layers.0.",
            layer_map=tuple(_with_kinds(ALBERT_LAYER_MAP).items()),
            qkv=tuple(f"attention.{n}" for n in QKV),
            projection="encoder.embedding_hidden_mapping_in",
        ),
        Family(
            "distilbert",
            ("distilbert",),
            "DistilBertModel",
            "distilbert.",
            (
                "vocab_transform.",
                "vocab_layer_norm.",
                "vocab_projector.",
                "pre_classifier.",
                "classifier.",
                "qa_outputs.",
            ),
            layer_prefix="transformer.layer.{i}.",
            layer_map=tuple(_with_kinds(DISTILBERT_LAYER_MAP).items()),
            qkv=tuple(f"attention.{n}_lin" for n in "qkv"),
        ),
        Family(
            "electra",
            ("electra",),
            "ElectraModel",
            "electra.",
            (
                "discriminator_predictions.",
                "generator_predictions.",
                "generator_lm_head.",
                "classifier.",
                "qa_outputs.",
            ),
            projection="embeddings_project",
        ),
    )
}
FAMILY_OF_TYPE = {t: f for f in FAMILIES.values() for t in f.model_types}


def family_of(hf: dict, *, where: str = "config.json") -> Family:
    """The family a ``config.json`` names (``model_type``, else its ``architectures``' class names)."""
    model_type = hf.get("model_type")
    if model_type in FAMILY_OF_TYPE:
        return FAMILY_OF_TYPE[model_type]
    archs = [a for a in hf.get("architectures") or [] if isinstance(a, str)]
    for arch in archs:
        for fam in FAMILIES.values():
            if arch.lower().startswith(fam.architecture.removesuffix("Model").lower()):
                return fam
    named = f"model_type {model_type!r}" + (f", architectures {archs}" if archs else "")
    raise DataError(
        f"{where}: unknown architecture ({named}); scratchlm reads {', '.join(sorted(FAMILY_OF_TYPE))}"
    )


# ------------------------------------------------------------------------------------- config.json in
def _common(
    hf: dict, problems: list[str], *, hidden: str, layers: str, heads: str, ffn: str, act: str
) -> dict:
    missing = [k for k in (hidden, layers, heads, ffn) if k not in hf]
    problems += [f"no {k}" for k in missing]
    activation = HF_ACTIVATIONS.get(hf.get(act, "gelu"))
    if activation is None:
        problems.append(f"{act} {hf.get(act)!r} (scratchlm: {', '.join(HF_ACTIVATIONS)})")
    if hf.get("position_embedding_type", "absolute") != "absolute":
        problems.append(f"position_embedding_type {hf.get('position_embedding_type')!r} (absolute only)")
    if hf.get("is_decoder") or hf.get("add_cross_attention"):
        problems.append("a decoder / cross-attention (encoders only)")
    if missing:
        return {}
    return {
        "embed_dim": int(hf[hidden]),
        "encoder": {
            "num_layers": int(hf[layers]),
            "num_heads": int(hf[heads]),
            "ffn_dim": int(hf[ffn]),
            "norm_position": "post",
            "activation": activation or "gelu",
        },
        "positional": {"kind": "learned"},
        "embedding_norm": "layernorm",
        "init_std": float(hf.get("initializer_range", 0.02)),
    }


def model_fields(family: Family, hf: dict, *, where: str = "config.json") -> dict:
    """``ModelConfig`` fields of the encoder a ``config.json`` describes; raises :class:`DataError` listing
    everything scratchlm cannot reproduce exactly."""
    problems: list[str] = []
    if family.name == "distilbert":
        fields = _common(
            hf, problems, hidden="dim", layers="n_layers", heads="n_heads", ffn="hidden_dim", act="activation"
        )
        dropout, attn_dropout, eps, types = hf.get("dropout", 0.1), hf.get("attention_dropout", 0.1), 1e-12, 0
    else:
        fields = _common(
            hf,
            problems,
            hidden="hidden_size",
            layers="num_hidden_layers",
            heads="num_attention_heads",
            ffn="intermediate_size",
            act="hidden_act",
        )
        dropout, attn_dropout = (
            hf.get("hidden_dropout_prob", 0.1),
            hf.get("attention_probs_dropout_prob", 0.1),
        )
        eps, types = hf.get("layer_norm_eps", 1e-12), int(hf.get("type_vocab_size", 2))
    if fields and family.projection is not None:
        size = int(hf.get("embedding_size", fields["embed_dim"]))
        if family.name == "albert" or size != fields["embed_dim"]:  # ALBERT always projects
            fields["input_dim"] = size
    if fields and family.name == "albert":
        groups, inner = int(hf.get("num_hidden_groups", 1)), int(hf.get("inner_group_num", 1))
        if inner != 1:
            problems.append(f"inner_group_num {inner} (1 only: one layer per group)")
        if groups != fields["encoder"]["num_layers"]:
            fields["encoder"]["unique_layers"] = groups
    if problems:
        raise DataError(f"{where}: not a {family.name} encoder scratchlm can run: {'; '.join(problems)}")
    hidden_dropout = float(dropout)
    fields["encoder"]["attention_dropout"] = float(attn_dropout)
    fields.update(
        num_token_types=types, norm_eps=float(eps), dropout=hidden_dropout, embedding_dropout=hidden_dropout
    )
    return fields


def max_positions(family: Family, hf: dict) -> int:
    """Positions the scratchlm model has: their table's rows less the offset."""
    return int(hf.get("max_position_embeddings", 512)) - family.position_offset(hf)
