"""Encoder-decoder: source input layer -> encoder (Transformer, RNN, LSTM or GRU) -> memory; target input
layer -> decoder (Transformer with cross-attention, an RNN/LSTM/GRU with Bahdanau/Luong attention, or one
without attention that starts from the encoder's final state) -> dropout -> linear -> next-token logits.

``ids (b, s), padding_mask (b, s), targets (b, t) -> logits (b, t, V)``: teacher forcing, the decoder reads
``[BOS] y1 ... y(t-1)`` and predicts ``y1 ... yt`` (``targets`` end with ``[EOS]``, right-padded with
``pad_id``). :meth:`Seq2SeqModel.loss` is the mean cross-entropy per real target token;
:meth:`Seq2SeqModel.generate` decodes greedily or with beam search (:mod:`scratchlm.modules.decoding`).
The start and end tokens are the vocabulary's ``[CLS]`` and ``[SEP]``: every scratchlm vocabulary has
them at the same ids.

The encoder's width is the memory's; a recurrent decoder has as many units (``encoder_output_dim``, twice
``rnn_hidden_dim`` for a bidirectional encoder), a Transformer decoder ``embed_dim``, and both read target
vectors of ``embed_dim`` from their own input layer (same settings as the source's).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from scratchlm.config import ModelConfig
from scratchlm.models import components
from scratchlm.models.classifier import init_linear_
from scratchlm.modules import TokenEmbedding
from scratchlm.modules.decoder import RecurrentAttentionDecoder, RecurrentDecoder, transformer_decoder
from scratchlm.modules.decoding import beam_search, greedy_search
from scratchlm.modules.kv_cache import KVCache
from scratchlm.modules.rnn import final_states
from scratchlm.tokenizers.vocab import SPECIALS

BOS_ID, EOS_ID = SPECIALS.index("[CLS]"), SPECIALS.index("[SEP]")


class Seq2SeqModel(nn.Module):
    def __init__(
        self, cfg: ModelConfig, *, vocab_size: int, target_vocab_size: int, max_seq_len: int, pad_id: int = 0
    ):
        super().__init__()
        self.cfg, self.pad_id = cfg, pad_id
        self.bos_id, self.eos_id = BOS_ID, EOS_ID
        self.max_seq_len = max_seq_len
        source_positions = components.position_parts(cfg, max_seq_len)
        self.input = components.input_layer(cfg, source_positions, vocab_size=vocab_size, pad_id=pad_id)
        self.encoder = components.encoder(cfg, source_positions)
        target_positions = components.position_parts(cfg, max_seq_len)
        self.target_input = components.input_layer(
            cfg, target_positions, vocab_size=target_vocab_size, pad_id=pad_id, lookahead=False
        )  # no pair or lexicon vectors on the target side: they would show the decoder the next token
        memory_dim = components.encoder_output_dim(cfg)
        enc = cfg.encoder
        self.recurrent = enc.kind in components.RECURRENT
        self.bridge_only = self.recurrent and cfg.decoder.attention == "none"
        if self.bridge_only:
            self.decoder = RecurrentDecoder(
                enc.kind, cfg.embed_dim, memory_dim, memory_dim, enc.num_layers, dropout=cfg.dropout
            )
            out_dim = memory_dim
        elif self.recurrent:
            self.decoder = RecurrentAttentionDecoder(
                enc.kind,
                cfg.embed_dim,
                memory_dim,
                memory_dim,
                enc.num_layers,
                attention=cfg.decoder.attention,
                dropout=cfg.dropout,
            )
            out_dim = memory_dim
        else:
            self.decoder = transformer_decoder(
                cfg.embed_dim,
                enc.num_layers,
                enc.num_heads,
                enc.ffn_dim,
                dropout=cfg.dropout,
                attention_dropout=enc.attention_dropout,
                norm_eps=cfg.norm_eps,
                rope=target_positions.rope,
            )
            out_dim = cfg.embed_dim
        self.dropout = nn.Dropout(cfg.dropout)
        self.proj = nn.Linear(out_dim, target_vocab_size)
        init_linear_(self.encoder, cfg.init_std)
        if not self.recurrent:
            init_linear_(self.decoder, cfg.init_std)
        init_linear_(self.proj, cfg.init_std)

    @property
    def token_embedding(self) -> TokenEmbedding:
        return self.input.token_embedding

    # -- the pieces --------------------------------------------------------------------------------
    def encode(self, ids: torch.Tensor, padding_mask: torch.Tensor, *, cache_len: int = 0) -> dict:
        """The decoder's starting state (batch first in every tensor). ``cache_len``: a Transformer
        decoder gets a KV cache for that many target positions (incremental decoding, :meth:`step`)."""
        memory = self.encoder(self.input(ids), padding_mask)  # (b, s, dm)
        if self.bridge_only:  # the final state is all the decoder gets
            return self.decoder.start(
                final_states(memory, padding_mask, bidirectional=self.cfg.encoder.bidirectional)
            )
        if self.recurrent:
            return self.decoder.start(memory, padding_mask)
        state = {"memory": memory, "mask": padding_mask}
        if cache_len:
            state["cache"] = self.decoder.new_cache(
                ids.shape[0], cache_len, dtype=memory.dtype, device=memory.device
            )
        return state

    def _decode(self, state: dict, inputs: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """``inputs (b, t)`` target ids (starting with BOS) -> logits ``(b, t, V)`` and the state after them."""
        x = self.target_input(inputs)  # (b, t, d)
        if self.recurrent:
            h, state, _ = self.decoder(x, state)
        else:
            h = self.decoder(x, state["memory"], state["mask"])
        return self.proj(self.dropout(h)), state  # (b, t, V)

    def decoder_inputs(self, targets: torch.Tensor) -> torch.Tensor:
        """``[BOS] y1 ... y(t-1)`` from ``targets (b, t)``."""
        bos = targets.new_full((targets.shape[0], 1), self.bos_id)
        return torch.cat((bos, targets[:, :-1]), 1)

    def forward(
        self, ids: torch.Tensor, padding_mask: torch.Tensor | None = None, targets: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Teacher-forced logits ``(b, t, V)``. Without ``targets`` (``summary``), a target of ``s`` end
        tokens stands in, to show the shapes."""
        if padding_mask is None:
            padding_mask = ids != self.pad_id
        if targets is None:
            targets = torch.full_like(ids, self.eos_id)
        logits, _ = self._decode(self.encode(ids, padding_mask), self.decoder_inputs(targets))
        return logits

    def loss(
        self,
        ids: torch.Tensor,
        padding_mask: torch.Tensor,
        targets: torch.Tensor,
        label_smoothing: float = 0.0,
    ) -> torch.Tensor:
        """Mean cross-entropy over the real target tokens (the end token included)."""
        logits = self(ids, padding_mask, targets)
        real = targets != self.pad_id
        return F.cross_entropy(logits[real].float(), targets[real], label_smoothing=label_smoothing)

    # -- decoding --------------------------------------------------------------------------------
    def step(self, state: dict, prefix: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """Next-token log-probabilities ``(n, V)`` after ``prefix (n, t)``. The recurrent decoder reads the
        last token and carries its state; the Transformer decoder reads the last token against its KV
        cache (``state["cache"]``, holding the ``t - 1`` positions before), or recomputes the whole prefix
        without one."""
        cache = state.get("cache")
        if self.recurrent:
            logits, state = self._decode(state, prefix[:, -1:])
        elif cache is not None:
            t = prefix.shape[1]
            if cache.length != t - 1:
                raise ValueError(f"the cache holds {cache.length} positions, the prefix has {t}")
            positions = torch.arange(t - 1, t, device=prefix.device)
            h = self.decoder(
                self.target_input(prefix[:, -1:], positions=positions),
                state["memory"],
                state["mask"],
                positions=positions,
                cache=cache,
            )
            logits = self.proj(self.dropout(h))  # (n, 1, V)
        else:
            logits, state = self._decode(state, prefix)
        return logits[:, -1].float().log_softmax(-1), state

    @staticmethod
    def reorder(state: dict, index: torch.Tensor) -> dict:
        """Rows ``index`` of every tensor of the state (and of the KV cache)."""
        return {
            key: value.reorder(index) if isinstance(value, KVCache) else value.index_select(0, index)
            for key, value in state.items()
        }

    @torch.no_grad()
    def generate(
        self,
        ids: torch.Tensor,
        padding_mask: torch.Tensor | None = None,
        *,
        beam_size: int = 1,
        max_len: int | None = None,
        length_penalty: float = 1.0,
        use_cache: bool = True,
    ) -> list[list[int]]:
        """Output token ids per source (no start or end token): greedy for ``beam_size=1``, else beam search.
        ``max_len``: most output tokens, the end token included (default ``max_seq_len - 1``);
        ``use_cache``: a Transformer decoder keeps its keys and values (else recomputes each prefix)."""
        if padding_mask is None:
            padding_mask = ids != self.pad_id
        max_len = min(max_len or self.max_seq_len - 1, self.max_seq_len - 1)
        state = self.encode(ids, padding_mask, cache_len=max_len + 1 if use_cache else 0)
        common = dict(bos_id=self.bos_id, eos_id=self.eos_id, max_len=max_len, device=ids.device)
        if beam_size == 1:
            return greedy_search(self.step, state, ids.shape[0], **common)
        return beam_search(
            self.step,
            self.reorder,
            state,
            ids.shape[0],
            beam_size=beam_size,
            length_penalty=length_penalty,
            **common,
        )
