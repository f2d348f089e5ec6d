"""The fused input-layer path equals the eager modules, forward and backward, and is taken only when
its parts are the plain ones. ``aot_eager`` checks the traced function and its autograd graph in a
second; the Inductor-generated kernel (what CUDA runs) is checked on the CPU in the slow set."""

from __future__ import annotations

import copy

import pytest
import torch

from scratchlm.config import ModelConfig
from scratchlm.models import components
from scratchlm.modules.fused_input import embed_add_norm


def _layer(**overrides):
    cfg = ModelConfig(
        embed_dim=32,
        encoder={"num_heads": 2},
        **{
            "positional": {"kind": "learned"},
            "num_token_types": 2,
            "embedding_norm": "layernorm",
            "embedding_dropout": 0.0,
            **overrides,
        },
    )
    torch.manual_seed(0)
    layer = components.input_layer(
        cfg, components.position_parts(cfg, max_seq_len=40), vocab_size=90, pad_id=0
    )
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.randn_like(p) * 0.3)  # LayerNorm weights away from 1/0
        layer.token_embedding.weight[0].zero_()
    return layer


def _inputs():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1, 90, (4, 19), generator=g)
    ids[2, 11:] = 0  # padding
    types = torch.randint(0, 2, (4, 19), generator=g)
    return ids, types


def _run(layer, ids, types, fused: str):
    layer = copy.deepcopy(layer)
    layer.fused = fused
    out = layer(ids, types)
    (out * torch.linspace(-1, 1, out.shape[-1])).square().sum().backward()
    return out.detach(), {n: p.grad.clone() for n, p in layer.named_parameters()}


def _check(layer, backend: str, atol: float):
    from scratchlm.modules import fused_input

    ids, types = _inputs()
    ref_out, ref_grads = _run(layer, ids, types, "off")
    original = fused_input.fused_embed_add_norm
    try:
        fused_input.fused_embed_add_norm = lambda *a, **k: original(*a, backend=backend, **k)
        out, grads = _run(layer, ids, types, "on")
    finally:
        fused_input.fused_embed_add_norm = original
    torch.testing.assert_close(out, ref_out, atol=atol, rtol=0)
    assert grads.keys() == ref_grads.keys()
    for name in grads:
        torch.testing.assert_close(grads[name], ref_grads[name], atol=atol, rtol=1e-5, msg=name)
    assert grads["token_embedding.embedding.weight"][0].abs().max() == 0  # padding row: no gradient


@pytest.mark.parametrize(
    "overrides",
    [
        {},  # BERT: token + learned position + type, LayerNorm
        {"positional": {"kind": "sinusoidal"}, "num_token_types": 0, "embed_scale": True},
        {
            "positional": {"kind": "rope"},
            "num_token_types": 0,
            "embedding_norm": "none",
        },  # no position vectors
    ],
)
def test_traced_function_equals_the_modules(overrides):
    _check(_layer(**overrides), "aot_eager", 1e-6)


@pytest.mark.slow
def test_inductor_kernel_equals_the_modules():
    _check(_layer(), "inductor", 1e-5)


def test_function_is_bert_embeddings():
    from transformers import BertConfig
    from transformers.models.bert.modeling_bert import BertEmbeddings

    torch.manual_seed(0)
    hf = BertEmbeddings(
        BertConfig(vocab_size=90, hidden_size=32, max_position_embeddings=40, hidden_dropout_prob=0.0)
    ).eval()
    ids, types = _inputs()
    out = embed_add_norm(
        ids,
        hf.word_embeddings.weight,
        hf.position_embeddings.weight[:19],
        types,
        hf.token_type_embeddings.weight,
        hf.LayerNorm.weight,
        hf.LayerNorm.bias,
        padding_idx=0,
        scale=1.0,
        eps=hf.LayerNorm.eps,
        normalize=True,
        dropout=0.0,
        training=False,
    )
    with torch.no_grad():
        torch.testing.assert_close(out, hf(ids, types), atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    ("overrides", "fusable"),
    [
        ({}, True),
        ({"embedding_norm": "rmsnorm"}, False),
        ({"positional": {"kind": "learned", "combine": "concat"}}, False),
        ({"bigram_buckets": 50}, False),
        ({"embedding_rank": 8}, False),
        ({"positional": {"kind": "alibi"}, "num_token_types": 0}, True),
    ],
)
def test_only_plain_parts_are_fused(overrides, fusable):
    assert _layer(**overrides).can_fuse() is fusable


def test_cpu_and_export_keep_the_modules(monkeypatch):
    from scratchlm.modules import fused_input

    def fail(*args, **kwargs):
        raise AssertionError("the fused path was taken")

    monkeypatch.setattr(fused_input, "fused_embed_add_norm", fail)
    layer = _layer()
    ids, types = _inputs()
    layer(ids, types)  # auto on CPU: modules
    layer.fused = "on"
    traced = torch.jit.trace(layer, (ids, types), check_trace=False)  # ONNX export traces too: modules
    assert traced(ids, types).shape == (4, 19, 32)
