"""The input layer: the module harness for the layer and its combiners; token types default to type 0;
concat with identity blocks equals add; the embedding norm; and every positional kind and both ways of
combining train a small zh-reviews slice through the real CLI with falling loss."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from cli_helpers import TINY, run_cli
from harness import run_module_test
from scratchlm.config import POSITIONAL_KINDS, ModelConfig
from scratchlm.models import components
from scratchlm.modules import (
    AddPositions,
    ConcatProjectPositions,
    HashedBigramEmbedding,
    InputLayer,
    LearnedPositionalEmbedding,
    NoPositionalEncoding,
    ScaledSinusoidalPositionalEncoding,
    SinusoidalPositionalEncoding,
    TokenEmbedding,
    TokenTypeEmbedding,
)

IDS = torch.tensor([[2, 7, 9, 4, 0, 0], [2, 3, 5, 6, 8, 1]])  # (b, s), padding id 0
TYPES = torch.tensor([[0, 0, 1, 1, 0, 0], [0, 1, 1, 1, 1, 1]])


# -- the module harness ----------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["none", "gelu", "tanh", "relu"])
def test_combiner_module_harness(activation):
    x, positions = torch.randn(2, 6, 8), torch.randn(6, 8)
    run_module_test(AddPositions, (x, positions), expected_shape=(2, 6, 8), num_trainable=0)
    run_module_test(
        lambda: ConcatProjectPositions(8, activation),
        (x, positions),
        expected_shape=(2, 6, 8),
        num_trainable=2 * 8 * 8 + 8,
    )


LAYERS = {
    "token_only": lambda: InputLayer(TokenEmbedding(12, 8), None, dropout=0.1),
    "sinusoidal_add": lambda: InputLayer(TokenEmbedding(12, 8), SinusoidalPositionalEncoding(8, 4)),
    "none_positional": lambda: InputLayer(TokenEmbedding(12, 8), NoPositionalEncoding()),
    "bert_like": lambda: InputLayer(
        TokenEmbedding(12, 8),
        LearnedPositionalEmbedding(8, 6),
        0.1,
        token_type_embedding=TokenTypeEmbedding(2, 8),
        norm=nn.LayerNorm(8),
    ),
    "projected": lambda: InputLayer(  # ALBERT/ELECTRA: 4-d vectors lifted to the encoder's 8
        TokenEmbedding(12, 4),
        LearnedPositionalEmbedding(4, 6),
        norm=nn.LayerNorm(4),
        projection=nn.Linear(4, 8),
    ),
    "concat_bigrams_rmsnorm": lambda: InputLayer(
        TokenEmbedding(12, 8),
        ScaledSinusoidalPositionalEncoding(8, 6),
        bigram_embedding=HashedBigramEmbedding(20, 8, vocab_size=12),
        combine=ConcatProjectPositions(8, "tanh"),
        norm=nn.RMSNorm(8),
    ),
}


@pytest.mark.parametrize("layer", LAYERS)
def test_input_layer_module_harness(layer):
    kwargs = {"token_type_ids": TYPES} if layer == "bert_like" else {}
    run_module_test(LAYERS[layer], (IDS,), kwargs, expected_shape=(2, 6, 8))


# -- parts -----------------------------------------------------------------------------------------


def test_input_dim_narrows_the_input_layer_and_projects():
    cfg = ModelConfig(embed_dim=8, input_dim=4, encoder={"num_heads": 2}, positional={"kind": "learned"},
                      num_token_types=2, embedding_norm="layernorm", embedding_dropout=0.0)  # fmt: skip
    layer = components.input_layer(cfg, components.position_parts(cfg, 6), vocab_size=12, pad_id=0).eval()
    assert layer.token_embedding.embed_dim == 4 and layer.positional.weight.shape == (6, 4)
    assert layer.token_type_embedding.embedding.weight.shape == (2, 4) and layer.norm.normalized_shape == (4,)
    with torch.no_grad():
        unprojected = layer.norm(
            layer.token_embedding(IDS)
            + layer.token_type_embedding(torch.zeros_like(IDS))
            + layer.positional.weight
        )
        torch.testing.assert_close(layer(IDS), layer.projection(unprojected))
    with pytest.raises(Exception, match="input_dim and model.embedding_rank"):
        ModelConfig(embed_dim=8, input_dim=4, embedding_rank=2, encoder={"num_heads": 2})


def test_no_positional_module_leaves_nothing_to_combine():
    layer = LAYERS["none_positional"]()
    assert layer.positional is None and layer.combine is None
    torch.testing.assert_close(layer(IDS), layer.token_embedding(IDS))


def test_token_types_default_to_type_zero():
    layer = InputLayer(TokenEmbedding(20, 8), None, token_type_embedding=TokenTypeEmbedding(3, 8))
    ids = torch.tensor([[1, 2, 3]])
    torch.testing.assert_close(layer(ids), layer(ids, torch.zeros_like(ids)))
    assert not torch.equal(layer(ids), layer(ids, torch.ones_like(ids)))


def test_concat_with_identity_blocks_equals_add():
    d = 8
    combine = ConcatProjectPositions(d)
    with torch.no_grad():
        combine.proj.weight.copy_(torch.cat([torch.eye(d), torch.eye(d)], dim=1))  # W = [I, I]
        combine.proj.bias.zero_()
    pe = SinusoidalPositionalEncoding(d, 16)
    concat = InputLayer(TokenEmbedding(30, d), pe, combine=combine)
    added = InputLayer(concat.token_embedding, pe)
    ids = torch.randint(1, 30, (2, 9))
    torch.testing.assert_close(concat(ids), added(ids))
    assert sum(p.numel() for p in combine.parameters()) == 2 * d * d + d


def test_concat_then_relu_is_the_article_000_formula():
    """Article 000, 3.2.2: concatenate token and position vectors, project, then ReLU."""
    torch.manual_seed(0)
    combine = ConcatProjectPositions(8, "relu")
    x, positions = torch.randn(2, 6, 8), torch.randn(6, 8)
    joined = torch.cat((x, positions.expand(2, 6, 8)), -1)  # (b, s, 2d)
    expected = torch.clamp_min(joined @ combine.proj.weight.T + combine.proj.bias, 0.0)
    out = combine(x, positions)
    torch.testing.assert_close(out, expected)
    assert (out == 0).any() and (out > 0).any()


def test_unknown_combine_activation_is_refused():
    with pytest.raises(ValueError, match="unknown activation 'swish'; valid: none, gelu, tanh, relu"):
        ConcatProjectPositions(8, "swish")


@pytest.mark.parametrize(
    ("norm", "cls"), [("layernorm", nn.LayerNorm), ("rmsnorm", nn.RMSNorm), ("none", None)]
)
def test_embedding_norm(norm, cls):
    cfg = ModelConfig(embed_dim=16, encoder={"num_heads": 2}, embedding_norm=norm, embedding_dropout=0.0)
    layer = components.input_layer(cfg, components.position_parts(cfg, 8), vocab_size=30, pad_id=0).eval()
    assert (layer.norm is None) if cls is None else isinstance(layer.norm, cls)
    out = layer(torch.randint(1, 30, (2, 5)))
    if norm == "rmsnorm":
        torch.testing.assert_close(out.pow(2).mean(-1), torch.ones(2, 5), atol=1e-4, rtol=1e-4)
    if norm == "layernorm":
        torch.testing.assert_close(out.mean(-1), torch.zeros(2, 5), atol=1e-5, rtol=0)


# -- every positional kind and both combiners train through the real CLI ----------------------------
# Ten 30-step runs of a small zh-reviews slice (about 5 s each on one core), two at a time, with falling
# loss; pretrained rows stay frozen with ``freeze_embedding_rows: pretrained``. Settings shared by all:
# no character pairs (the encoder has to learn, not the bigram table), token vectors scaled by sqrt(d)
# so the sinusoidal table does not drown them, a constant learning rate.

COMMON = {
    "train.max_steps": 30,
    "train.num_threads": 1,
    "train.schedule": "constant",
    "train.warmup_ratio": 0,
    "train.lr": 0.006,
    "data.max_train_examples": 960,
    "data.max_eval_examples": 64,
    "data.max_seq_len": 64,
    "model.bigram_buckets": 0,
    "model.embed_scale": "true",
}
RUNS = {f"{kind}-add": {"model.positional.kind": kind} for kind in POSITIONAL_KINDS} | {
    f"{kind}-concat": {"model.positional.kind": kind, "model.positional.combine": "concat"}
    for kind in ("sinusoidal", "scaled_sinusoidal", "learned")
}
FROZEN = {"的": 0.01, "不": -0.02, "好": 0.03}  # token -> the constant its pretrained vector holds
DIM = 48  # configs/tiny_test.yaml's embed_dim


def _train(name: str, settings: dict, root: Path):
    out = root / name
    args = [f"{k}={v}" for k, v in (COMMON | settings).items()]
    proc = run_cli(
        "train", str(TINY), *(x for a in args for x in ("--set", a)), "--out", str(out), timeout=300
    )
    return out, proc


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("input-layer-runs")
    vectors = root / "vectors.txt"
    lines = [f"{len(FROZEN)} {DIM}"] + [f"{tok} " + " ".join([str(v)] * DIM) for tok, v in FROZEN.items()]
    vectors.write_text("\n".join(lines) + "\n", encoding="utf-8")
    jobs = dict(RUNS)
    # the bag-of-tokens run also starts from pretrained vectors and keeps their rows frozen
    jobs["none-add"] = jobs["none-add"] | {
        "model.init": str(vectors),
        "model.freeze_embedding_rows": "pretrained",
    }
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {name: pool.submit(_train, name, settings, root) for name, settings in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


def _events(run: Path, event: str) -> list[dict]:
    records = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines() if line]
    return [r for r in records if r.get("event") == event]


@pytest.mark.parametrize("name", RUNS)
def test_loss_falls(runs, name):
    out, proc = runs[name]
    assert proc.returncode == 0, proc.stderr[-3000:]
    losses = [r["loss"] for r in _events(out, "train")]
    assert len(losses) >= 2 and losses[-1] < losses[0] - 0.01, losses


def test_pretrained_rows_stay_frozen(runs):
    from safetensors.numpy import load_file

    out, proc = runs["none-add"]
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert _events(out, "init")[0]["frozen_rows"] == len(FROZEN)
    vocab = (out / "tokenizer" / "vocab.txt").read_text(encoding="utf-8").split("\n")
    weights = load_file(str(out / "model.safetensors"))
    table = weights["input.token_embedding.embedding.weight"]
    for tok, value in FROZEN.items():
        assert np.array_equal(table[vocab.index(tok)], np.full(DIM, value, dtype=np.float32)), tok
    frozen = weights["input.token_embedding.frozen_rows"]
    assert frozen.sum() == len(FROZEN) and not frozen[0]
    assert not table[0].any()  # padding
