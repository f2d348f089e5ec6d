"""Causal-LM pretraining as a task of the training loop (``data.task: causal_lm``): next-token prediction on
the raw texts of ``data.corpus`` (the masked LM's corpus, split and packed the same way:
:class:`~scratchlm.tasks.masked_lm.PretrainingTask`).

Each text is ``[CLS] text [SEP]``: ``[CLS]`` starts it (it is never predicted), ``[SEP]`` is predicted
after the last token (the end of the text). The target at ``t`` is the token at ``t + 1`` in the same
text (:func:`~scratchlm.models.causal_lm.next_token_targets`), so nothing is predicted across texts of a
packed block, and evaluation reports next-token accuracy and perplexity ``exp(mean cross-entropy)``.
"""

from __future__ import annotations

import torch

from scratchlm.config import RunConfig
from scratchlm.data.collate import Batch, pad_batch
from scratchlm.errors import ConfigError
from scratchlm.models.causal_lm import next_token_targets
from scratchlm.tasks.masked_lm import MaskedSplit, PretrainingTask


class CausalLMTask(PretrainingTask):
    name = "causal_lm"
    what = "next-token"
    add_sep = True
    bidirectional = False

    @classmethod
    def check_config(cls, cfg: RunConfig) -> None:
        super().check_config(cfg)
        m = cfg.model
        if m.encoder != "transformer":
            raise ConfigError(
                f"data.task=causal_lm needs model.encoder: transformer (a causal attention mask), not {m.encoder}"
            )
        if m.bigram_buckets:
            raise ConfigError(
                f"data.task=causal_lm with model.bigram_buckets={m.bigram_buckets}: the pair vector at position i "
                "is that of tokens (i, i+1) and would show the model the token it must predict; set "
                "model.bigram_buckets: 0"
            )
        if cfg.data.whole_word_mask:
            raise ConfigError("data.whole_word_mask is a masked-LM option; data.task=causal_lm masks nothing")

    def build_model(
        self, vocab_size: int, num_labels: int, pad_id: int, labels: list[str] | None = None
    ) -> torch.nn.Module:
        from scratchlm.models.causal_lm import CausalLanguageModel

        return CausalLanguageModel(
            self.cfg.model, vocab_size=vocab_size, max_seq_len=self.cfg.data.max_seq_len, pad_id=pad_id
        )

    def batch(self, enc: MaskedSplit, index: list[int], pad_id: int) -> Batch:
        ids, real = pad_batch([enc.seqs[i] for i in index], pad_id)
        segments = self.segments(enc, index)
        return Batch(
            ids=ids,
            padding_mask=real,
            labels=next_token_targets(ids, real, segments),
            index=index,
            segments=segments,
        )
