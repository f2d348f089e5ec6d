"""The KV cache: a causal encoder read one step at a time with its cache gives the logits of the whole
sequence read at once (every positional kind that lives inside attention), left padding with per-row
positions changes nothing for a row, and reordering rows keeps each row's keys."""

from __future__ import annotations

import pytest
import torch

from scratchlm.modules.attention_bias import ALiBiBias, T5RelativePositionBias
from scratchlm.modules.kv_cache import KVCache, cached_attention_mask, positions_from_mask
from scratchlm.modules.rotary import RotaryEmbedding
from scratchlm.modules.transformer import transformer_encoder

D, H, S = 16, 4, 9


def _encoder(kind: str) -> torch.nn.Module:
    torch.manual_seed(0)
    parts = {
        "none": {},
        "rope": {"rope": RotaryEmbedding(D // H, 4, rotary_dim=2)},  # cache rebuilt past 4 positions
        "alibi": {"attention_bias": ALiBiBias(H)},
        "t5_bias": {"attention_bias": T5RelativePositionBias(H, num_buckets=8, max_distance=6)},
    }[kind]
    enc = transformer_encoder(D, 2, H, 32, causal=True, **parts).eval()
    if kind == "t5_bias":
        torch.nn.init.normal_(enc.attention_bias.weight, std=1.0)  # a bias large enough to matter
    return enc


@pytest.mark.parametrize("kind", ["none", "rope", "alibi", "t5_bias"])
def test_steps_with_cache_equal_the_full_recompute(kind):
    enc = _encoder(kind)
    x = torch.randn(2, S, D, generator=torch.Generator().manual_seed(1))
    full = enc(x)  # (b, s, d)
    cache = enc.new_cache(2, S)
    outs = [enc(x[:, :4], cache=cache)]  # a 4-position prompt, then one position a step
    for t in range(4, S):
        outs.append(enc(x[:, t : t + 1], cache=cache))
    assert cache.length == S
    torch.testing.assert_close(torch.cat(outs, 1), full, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("kind", ["none", "rope", "alibi", "t5_bias"])
def test_left_padding_with_row_positions_changes_nothing(kind):
    enc = _encoder(kind)
    x = torch.randn(1, 5, D, generator=torch.Generator().manual_seed(2))
    alone = enc(x)
    padded = torch.cat((torch.randn(1, 3, D), x), 1)  # three padding slots in front
    mask = torch.tensor([[False] * 3 + [True] * 5])
    positions = positions_from_mask(mask)
    assert positions.tolist() == [[0, 0, 0, 0, 1, 2, 3, 4]]
    cache = enc.new_cache(1, 8)
    prompt = enc(padded[:, :6], mask[:, :6], positions=positions[:, :6], cache=cache)
    steps = [enc(padded[:, t : t + 1], positions=positions[:, t : t + 1], cache=cache) for t in (6, 7)]
    got = torch.cat((prompt[:, 3:], *steps), 1)
    torch.testing.assert_close(got, alone, atol=1e-5, rtol=1e-5)
    # and the same without a cache: the whole padded sequence at once
    torch.testing.assert_close(enc(padded, mask, positions=positions)[:, 3:], alone, atol=1e-5, rtol=1e-5)


def test_mask_is_none_for_one_unpadded_step_and_reorder_moves_rows():
    cache = KVCache(1, 2, H, 2, 5)
    cache.start(None, 3)
    assert cached_attention_mask(cache, 3).shape == (2, 1, 3, 3)
    k = torch.arange(2 * H * 3 * 2, dtype=torch.float32).view(2, H, 3, 2)
    cache.append(0, k, -k)
    cache.advance(3)
    assert cached_attention_mask(cache, 1) is None
    cache.reorder(torch.tensor([1, 1]))
    torch.testing.assert_close(cache.keys[0, 0, :, :3], k[1])
    torch.testing.assert_close(cache.keys[0, 1, :, :3], k[1])
    with pytest.raises(ValueError, match="holds 5 positions"):
        cache.start(None, 3)


def test_a_bidirectional_encoder_refuses_a_cache():
    enc = transformer_encoder(D, 1, H, 32)
    with pytest.raises(ValueError, match="causal"):
        enc(torch.randn(1, 2, D), cache=KVCache(1, 1, H, D // H, 4))


def test_layers_shared_across_depth_keep_one_cache_slot_per_depth():
    torch.manual_seed(0)
    enc = transformer_encoder(D, 4, H, 32, causal=True, unique_layers=2).eval()  # ALBERT-style sharing
    x = torch.randn(1, 6, D, generator=torch.Generator().manual_seed(3))
    cache = enc.new_cache(1, 6)
    assert cache.keys.shape[0] == 4
    steps = torch.cat(
        [enc(x[:, :3], cache=cache), *(enc(x[:, t : t + 1], cache=cache) for t in range(3, 6))], 1
    )
    torch.testing.assert_close(steps, enc(x), atol=1e-5, rtol=1e-5)
