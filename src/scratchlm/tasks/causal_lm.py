"""Causal-LM pretraining as a task of the training loop (``data.task: clm``): next-token prediction on
the raw texts of ``data.corpus`` (the masked LM's corpus, split and packed the same way:
:class:`~scratchlm.tasks.masked_lm.PretrainingTask`).

Each text is ``[CLS] text [SEP]``: ``[CLS]`` starts it (it is never predicted), ``[SEP]`` is predicted
after the last token (the end of the text). The target at ``t`` is the token at ``t + 1`` in the same
text (:func:`~scratchlm.models.causal_lm.next_token_targets`), so nothing is predicted across texts of a
packed block, and evaluation reports next-token accuracy and perplexity ``exp(mean cross-entropy)``.
"""

from __future__ import annotations

from scratchlm.data.collate import Batch, pad_batch
from scratchlm.models.causal_lm import next_token_targets
from scratchlm.tasks.masked_lm import MaskedSplit, PretrainingTask


class CausalLMTask(PretrainingTask):
    name = "causal_lm"
    task = "clm"
    what = "next-token"
    add_sep = True

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
