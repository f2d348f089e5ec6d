"""Decoders of an encoder-decoder model: each reads the target so far and the encoder's outputs (the
source "memory") and returns one vector per target position.

Shapes: ``x (b, t, d)`` target vectors (the input layer's output for ``[BOS] y1 ... y(t-1)``), ``memory
(b, s, dm)``, ``memory_mask (b, s)`` True at real source tokens.

- :class:`TransformerDecoder` — pre-LN layers of causal self-attention, cross-attention to the memory and a
  feed-forward block (Vaswani et al. 2017, https://arxiv.org/abs/1706.03762), built from the encoder's own
  :class:`~scratchlm.modules.attention.MultiHeadSelfAttention` (given a causal mask) and
  :class:`~scratchlm.modules.feed_forward.FeedForward`. Position ``i`` never sees ``j > i``, so the target's
  right padding cannot reach a real position and a prefix gives the same outputs as the whole target.
- :class:`RecurrentAttentionDecoder` — an RNN/LSTM/GRU stack with attention over the memory
  (:mod:`scratchlm.modules.seq2seq_attention`), its first state projected from the mean of the memory. It
  runs a whole target (teacher forcing) or one step, carrying its state between calls.
- :class:`RecurrentDecoder` — the same stack without attention: the encoder's final state, projected into
  the decoder's first state, is all it knows of the source (Sutskever et al. 2014, Cho et al. 2014).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from scratchlm.modules.attention import MultiHeadSelfAttention
from scratchlm.modules.feed_forward import FeedForward
from scratchlm.modules.kv_cache import KVCache, LayerCache, cached_attention_mask
from scratchlm.modules.seq2seq_attention import source_attention


def causal_mask(t: int, device: torch.device | None = None) -> torch.Tensor:
    """``(1, 1, t, t)`` bool, True where query ``i`` may attend key ``j`` (``j <= i``)."""
    return torch.ones(t, t, dtype=torch.bool, device=device).tril()[None, None]


class MultiHeadCrossAttention(nn.Module):
    """Queries from the decoder, keys and values from the memory; padded source positions get no weight."""

    def __init__(
        self, embed_dim: int, num_heads: int, memory_dim: int | None = None, *, dropout: float = 0.0
    ):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim {embed_dim} is not divisible by num_heads {num_heads}")
        self.num_heads, self.head_dim = num_heads, embed_dim // num_heads
        self.q = nn.Linear(embed_dim, embed_dim)
        self.kv = nn.Linear(memory_dim or embed_dim, 2 * embed_dim)
        self.out = nn.Linear(embed_dim, embed_dim)
        self.dropout = dropout

    def memory_kv(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The keys and values of the memory, ``(b, h, s, hd)`` each (the same at every decoding step)."""
        b, s, _ = memory.shape
        k, v = self.kv(memory).view(b, s, 2, self.num_heads, self.head_dim).unbind(2)  # 2 x (b, s, h, hd)
        return k.transpose(1, 2), v.transpose(1, 2)  # (b, h, s, hd)

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor | None,
        kv: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """``kv``: :meth:`memory_kv` computed once before (incremental decoding)."""
        b, t, d = x.shape
        q = self.q(x).view(b, t, self.num_heads, self.head_dim).transpose(1, 2)  # (b, h, t, hd)
        k, v = kv if kv is not None else self.memory_kv(memory)  # (b, h, s, hd)
        mask = None if memory_mask is None else memory_mask[:, None, None, :]  # (b, 1, 1, s)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0
        )
        return self.out(y.transpose(1, 2).reshape(b, t, d))  # (b, t, d)


class TransformerDecoderLayer(nn.Module):
    def __init__(
        self,
        self_attention: nn.Module,
        cross_attention: nn.Module,
        feed_forward: nn.Module,
        embed_dim: int,
        *,
        dropout: float = 0.0,
        norm_eps: float = 1e-5,
    ):
        super().__init__()
        self.attn_norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.attention = self_attention
        self.cross_norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.cross_attention = cross_attention
        self.ffn_norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.feed_forward = feed_forward
        self.dropout = nn.Dropout(dropout)

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor | None,
        mask: torch.Tensor | None,
        *,
        positions: torch.Tensor | None = None,
        cache: LayerCache | None = None,
        memory_kv: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """``cache``: this layer's view of a :class:`~scratchlm.modules.kv_cache.KVCache` (incremental
        decoding: self-attention keys and values kept); ``memory_kv``: the cross-attention's keys and
        values of the memory, computed once."""
        step = {} if cache is None else {"positions": positions, "cache": cache}
        x = x + self.dropout(self.attention(self.attn_norm(x), mask, **step))
        x = x + self.dropout(self.cross_attention(self.cross_norm(x), memory, memory_mask, memory_kv))
        return x + self.dropout(self.feed_forward(self.ffn_norm(x)))


class TransformerDecoder(nn.Module):
    def __init__(self, layers: list[nn.Module], embed_dim: int, norm_eps: float = 1e-5):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.norm = nn.LayerNorm(embed_dim, eps=norm_eps)

    def forward(
        self,
        x: torch.Tensor,
        memory: torch.Tensor,
        memory_mask: torch.Tensor | None,
        *,
        positions: torch.Tensor | None = None,
        cache: KVCache | None = None,
    ) -> torch.Tensor:
        """``cache``: incremental decoding, ``x (b, t, d)`` the ``t`` positions after the ``cache.length``
        kept ones (``positions``, default ``length .. length+t-1``)."""
        if cache is None:
            mask = causal_mask(x.shape[1], x.device)
            for layer in self.layers:
                x = layer(x, memory, memory_mask, mask)
            return self.norm(x)  # (b, t, d)
        t = x.shape[1]
        if positions is None:
            positions = torch.arange(cache.length, cache.length + t, device=x.device)
        if cache.cross is None:  # the memory's keys and values, once per source
            cache.cross = [layer.cross_attention.memory_kv(memory) for layer in self.layers]
        cache.start(None, t)
        mask = cached_attention_mask(cache, t)
        for i, layer in enumerate(self.layers):
            x = layer(
                x,
                memory,
                memory_mask,
                mask,
                positions=positions,
                cache=cache.layer(i),
                memory_kv=cache.cross[i],
            )
        cache.advance(t)
        return self.norm(x)  # (b, t, d)

    def new_cache(
        self, batch_size: int, max_len: int, *, dtype: torch.dtype = torch.float32, device=None
    ) -> KVCache:
        """An empty cache for ``batch_size`` targets of at most ``max_len`` positions."""
        return KVCache.for_layers(
            len(self.layers), self.layers[0].attention, batch_size, max_len, dtype=dtype, device=device
        )


def transformer_decoder(
    embed_dim: int,
    num_layers: int,
    num_heads: int,
    ffn_dim: int,
    *,
    dropout: float = 0.1,
    attention_dropout: float = 0.1,
    norm_eps: float = 1e-5,
    rope: nn.Module | None = None,
) -> TransformerDecoder:
    """Pre-LN decoder of identical layers; ``rope`` (if any) rotates the self-attention's queries and keys."""
    layers = [
        TransformerDecoderLayer(
            MultiHeadSelfAttention(embed_dim, num_heads, dropout=attention_dropout, pos_embeddings=rope),
            MultiHeadCrossAttention(embed_dim, num_heads, dropout=attention_dropout),
            FeedForward(embed_dim, ffn_dim, dropout=dropout),
            embed_dim,
            dropout=dropout,
            norm_eps=norm_eps,
        )
        for _ in range(num_layers)
    ]
    return TransformerDecoder(layers, embed_dim, norm_eps)


RNN_CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _run_rnn(rnn: nn.Module, x: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
    """``rnn`` over ``x (b, t, d)`` from ``state["h"] (b, L, H)`` (and ``state["c"]`` for an LSTM); the
    states are kept batch first so that beam search can reorder them along dim 0."""
    h0 = state["h"].transpose(0, 1).contiguous()  # (L, b, H)
    if isinstance(rnn, nn.LSTM):
        out, (h, c) = rnn(x, (h0, state["c"].transpose(0, 1).contiguous()))
        return out, {**state, "h": h.transpose(0, 1), "c": c.transpose(0, 1)}
    out, h = rnn(x, h0)
    return out, {**state, "h": h.transpose(0, 1)}


class RecurrentDecoder(nn.Module):
    """``cell`` (``rnn``/``lstm``/``gru``) layers of ``hidden_dim`` units, no attention: the encoder's final
    state ``(b, bridge_dim)`` is the only bridge between source and target. Every layer starts from
    ``tanh(W final + b)`` (Cho et al. 2014, https://arxiv.org/abs/1406.1078, eq. for ``h'_0``), an LSTM's
    cell state from zeros; the outputs are the top layer's states ``(b, t, hidden_dim)``. Everything the
    decoder learns of a source has to pass through that one vector (Sutskever et al. 2014,
    https://arxiv.org/abs/1409.3215), which is what attention was invented to relieve."""

    def __init__(
        self,
        cell: str,
        input_dim: int,
        hidden_dim: int,
        bridge_dim: int,
        num_layers: int = 1,
        *,
        dropout: float = 0.0,
    ):
        super().__init__()
        self.rnn = RNN_CELLS[cell](
            input_dim, hidden_dim, num_layers, batch_first=True, dropout=dropout if num_layers > 1 else 0.0
        )
        self.is_lstm = cell == "lstm"
        self.num_layers, self.hidden_dim = num_layers, hidden_dim
        self.init_state = nn.Linear(bridge_dim, num_layers * hidden_dim)

    def start(self, final: torch.Tensor) -> dict[str, torch.Tensor]:
        """The state before the first target token, from the encoder's final state ``(b, bridge_dim)``."""
        h = torch.tanh(self.init_state(final)).view(-1, self.num_layers, self.hidden_dim)  # (b, L, H)
        return {"h": h, "c": torch.zeros_like(h)} if self.is_lstm else {"h": h}

    def forward(self, x: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict, None]:
        """``x (b, t, d)`` -> ``(outputs (b, t, H), state after the last position, None)`` (no weights)."""
        hs, state = _run_rnn(self.rnn, x, state)
        return hs, state, None


class RecurrentAttentionDecoder(nn.Module):
    """``cell`` (``rnn``/``lstm``/``gru``) layers of ``hidden_dim`` units attending over the memory.

    ``bahdanau``: at step i the previous top state queries the memory, and the context joins the input:
    ``c_i = attn(h_(i-1)); h_i = RNN([x_i; c_i], h_(i-1))`` (a loop over the target). ``luong_*``: the RNN
    runs first, over the whole target at once, and each state queries the memory: ``h_i = RNN(x_i, h_(i-1));
    c_i = attn(h_i)``. Either way the output is ``tanh(W [h_i; c_i]) (b, t, hidden_dim)``.
    """

    def __init__(
        self,
        cell: str,
        input_dim: int,
        hidden_dim: int,
        memory_dim: int,
        num_layers: int = 1,
        *,
        attention: str = "bahdanau",
        dropout: float = 0.0,
    ):
        super().__init__()
        self.feed_context = attention == "bahdanau"
        self.rnn = RNN_CELLS[cell](
            input_dim + (memory_dim if self.feed_context else 0),
            hidden_dim,
            num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.is_lstm = cell == "lstm"
        self.num_layers, self.hidden_dim = num_layers, hidden_dim
        self.attention = source_attention(attention, hidden_dim, memory_dim)
        self.init_state = nn.Linear(memory_dim, num_layers * hidden_dim)
        self.combine = nn.Linear(hidden_dim + memory_dim, hidden_dim)

    def start(self, memory: torch.Tensor, memory_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """The state before the first target token: tensors with the batch first (so beam search can
        reorder them all along dim 0)."""
        m = memory_mask.unsqueeze(-1).to(memory.dtype)  # (b, s, 1)
        mean = (memory * m).sum(1) / m.sum(1).clamp_min(1.0)  # (b, dm)
        h = torch.tanh(self.init_state(mean)).view(-1, self.num_layers, self.hidden_dim)  # (b, L, H)
        state = {"memory": memory, "keys": self.attention.keys(memory), "mask": memory_mask, "h": h}
        if self.is_lstm:
            state["c"] = torch.zeros_like(h)
        return state

    def _rnn(self, x: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
        return _run_rnn(self.rnn, x, state)

    def forward(self, x: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict, torch.Tensor]:
        """``x (b, t, d)`` -> ``(outputs (b, t, H), state after the last position, weights (b, t, s))``."""
        memory, keys, mask = state["memory"], state["keys"], state["mask"]
        if not self.feed_context:
            hs, state = self._rnn(x, state)  # (b, t, H)
            context, weights = self.attention(hs, memory, keys, mask)  # (b, t, dm)
        else:
            steps, contexts, all_weights = [], [], []
            for i in range(x.shape[1]):
                query = state["h"][:, -1:, :]  # (b, 1, H): the previous top-layer state
                context, weights = self.attention(query, memory, keys, mask)  # (b, 1, dm)
                h, state = self._rnn(torch.cat((x[:, i : i + 1], context), -1), state)  # (b, 1, H)
                steps.append(h)
                contexts.append(context)
                all_weights.append(weights)
            hs, context, weights = torch.cat(steps, 1), torch.cat(contexts, 1), torch.cat(all_weights, 1)
        return torch.tanh(self.combine(torch.cat((hs, context), -1))), state, weights
