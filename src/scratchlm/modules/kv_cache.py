"""Keys and values of the positions already read, kept for incremental decoding (a KV cache).

Shapes: ``L`` layers, ``b`` batch, ``h`` heads, ``T`` the most positions kept, ``s`` new positions,
``hd`` head dim.

Without a cache, each new token of a generation runs the whole prefix through the model again: step
``t`` costs ``t`` positions, the whole generation ``O(n^2)`` positions. A causal model's key and value of
a position never change once computed (a position sees nothing after it), so they can be kept: each step
then runs the new token alone, its query attending to the kept keys (Pope et al. 2022, "Efficiently
Scaling Transformer Inference", §2; what every inference library does).

:class:`KVCache` holds one preallocated ``(L, b, h, T, hd)`` buffer for keys and one for values (written
in place, no ``torch.cat`` per step), which keys are real tokens (``real (b, T)``: left-padded prompts of
different lengths leave padding in front of the short ones), and, for an encoder-decoder, each layer's
cross-attention keys and values of the memory (computed once per source). :func:`cached_attention_mask`
is the mask of ``s`` new queries against every kept key; position information that lives in attention
stays correct because rotary embeddings are applied to keys before they are kept (at each row's own
positions) and relative biases depend only on the offset between slots, which left padding does not
change.
"""

from __future__ import annotations

import torch
from torch import nn


class KVCache:
    def __init__(
        self,
        num_layers: int,
        batch_size: int,
        num_heads: int,
        head_dim: int,
        max_len: int,
        *,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ):
        shape = (num_layers, batch_size, num_heads, max_len, head_dim)
        self.keys = torch.zeros(shape, dtype=dtype, device=device)
        self.values = torch.zeros(shape, dtype=dtype, device=device)
        self.real = torch.zeros(batch_size, max_len, dtype=torch.bool, device=device)  # (b, T)
        self.length = 0  # positions kept so far
        self.padded = False  # whether any kept key is padding
        self.cross: list[tuple[torch.Tensor, torch.Tensor]] | None = None  # per layer: memory (k, v)

    @classmethod
    def for_layers(cls, num_layers: int, attention, batch_size: int, max_len: int, **kw) -> KVCache:
        """A cache for ``num_layers`` slots shaped like ``attention``'s heads (``dtype``, ``device``)."""
        return cls(num_layers, batch_size, attention.num_heads, attention.head_dim, max_len, **kw)

    @property
    def max_len(self) -> int:
        return self.keys.shape[3]

    def start(self, padding_mask: torch.Tensor | None, s: int) -> None:
        """Record which of the ``s`` positions about to be read are real (``padding_mask (b, s)``, None:
        all of them)."""
        if self.length + s > self.max_len:
            raise ValueError(f"the cache holds {self.max_len} positions; {self.length} + {s} do not fit")
        if padding_mask is None:
            self.real[:, self.length : self.length + s] = True
        else:
            self.real[:, self.length : self.length + s] = padding_mask
            self.padded = self.padded or not bool(padding_mask.all())

    def append(self, layer: int, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keep ``k, v (b, h, s, hd)`` of ``layer`` after the kept positions; every key and value so far,
        ``(b, h, length + s, hd)`` each."""
        end = self.length + k.shape[2]
        self.keys[layer, :, :, self.length : end] = k
        self.values[layer, :, :, self.length : end] = v
        return self.keys[layer, :, :, :end], self.values[layer, :, :, :end]

    def advance(self, s: int) -> None:
        """After every layer has appended its ``s`` positions."""
        self.length += s

    def layer(self, index: int) -> LayerCache:
        return LayerCache(self, index)

    def reorder(self, index: torch.Tensor) -> KVCache:
        """Rows ``index (n',)`` of the batch (beam search copies and reorders hypotheses), in place."""
        self.keys = self.keys.index_select(1, index)
        self.values = self.values.index_select(1, index)
        self.real = self.real.index_select(0, index)
        if self.cross is not None:
            self.cross = [(k.index_select(0, index), v.index_select(0, index)) for k, v in self.cross]
        return self


class LayerCache:
    """One layer's view of a :class:`KVCache`, what an attention module is given."""

    def __init__(self, cache: KVCache, index: int):
        self.cache, self.index = cache, index

    def update(self, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.cache.append(self.index, k, v)


def cached_attention_mask(
    cache: KVCache, s: int, bias: nn.Module | None = None, dtype: torch.dtype = torch.float32
) -> torch.Tensor | None:
    """The mask of ``s`` new causal queries (slots ``length .. length+s-1``) against every key kept and
    new: boolean ``(b, 1, s, T')`` (True where allowed) or, with a relative bias module, float ``(b, h, s,
    T')``; ``None`` when nothing needs masking (one new query, no padding, no bias). Like
    :func:`~scratchlm.modules.transformer.attention_allowed`, a query always sees itself."""
    past = cache.length
    total = past + s
    if s == 1 and not cache.padded and bias is None:
        return None
    device = cache.real.device
    q = torch.arange(past, total, device=device)  # (s,)
    k = torch.arange(total, device=device)  # (T',)
    allowed = cache.real[:, None, None, :total] & (k[None, :] <= q[:, None])  # (b, 1, s, T')
    allowed = allowed | (k[None, :] == q[:, None])
    if bias is None:
        return allowed
    return bias.between(q, k).to(dtype).unsqueeze(0).masked_fill(~allowed, float("-inf"))  # (b, h, s, T')


def positions_from_mask(padding_mask: torch.Tensor) -> torch.Tensor:
    """Each real token's position in its own row, ``(b, s)`` (left padding does not count; padding slots
    get 0): ``[[0, 0, 1, 2], [0, 1, 2, 3]]`` for a row padded once."""
    return (padding_mask.long().cumsum(1) - 1).clamp_min(0)
