"""Causal-LM pretraining as a task of the training loop (``data.task: causal_lm``): next-token prediction on
the raw texts of ``data.corpus`` (the masked LM's corpus, split and packed the same way:
:class:`~scratchlm.tasks.masked_lm.PretrainingTask`).

Each text is ``[CLS] text [SEP]``: ``[CLS]`` starts it (it is never predicted), ``[SEP]`` is predicted
after the last token (the end of the text). The target at ``t`` is the token at ``t + 1`` in the same
text (:func:`~scratchlm.models.causal_lm.next_token_targets`), so nothing is predicted across texts of a
packed block, and evaluation reports next-token accuracy and perplexity ``exp(mean cross-entropy)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

from scratchlm.config import RunConfig
from scratchlm.data.collate import Batch, pad_batch
from scratchlm.errors import ConfigError, LimitError
from scratchlm.models.causal_lm import next_token_targets
from scratchlm.tasks.masked_lm import MaskedSplit, PretrainingTask

if TYPE_CHECKING:
    from scratchlm.predict.sampling import GenerationOptions


DEFAULT_NEW_TOKENS = 64
"""Tokens generated per prompt when the request does not say (fewer if the model's positions end first)."""


class CausalLMTask(PretrainingTask):
    name = "causal_lm"
    what = "next-token"
    add_sep = True
    bidirectional = False
    endpoints = ("generate",)

    @classmethod
    def check_config(cls, cfg: RunConfig) -> None:
        super().check_config(cfg)
        m = cfg.model
        if m.encoder.kind != "transformer":
            raise ConfigError(
                f"data.task=causal_lm needs model.encoder.kind: transformer (a causal attention mask), not "
                f"{m.encoder.kind}"
            )
        if m.bigram_buckets:
            raise ConfigError(
                f"data.task=causal_lm with model.bigram_buckets={m.bigram_buckets}: the pair vector at position i "
                "is that of tokens (i, i+1) and would show the model the token it must predict; set "
                "model.bigram_buckets: 0"
            )
        if m.lexicon.enabled:
            raise ConfigError(
                "data.task=causal_lm with model.lexicon: the dictionary words that cover position i also "
                "cover the tokens after it, and would show the model the token it must predict; remove "
                "model.lexicon"
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

    # ------------------------------------------------------------------------------------ generation
    def generation_options(self, run, texts: Sequence[str], options: GenerationOptions) -> GenerationOptions:
        """The options checked against the run: a :class:`LimitError` when a prompt and
        ``max_new_tokens`` more do not fit the model's ``data.max_seq_len`` positions (the positions it
        was trained on). Unset ``max_new_tokens``: each prompt gets what fits, at most 64."""
        options = options.check()
        if options.beam_size not in (None, 1):
            raise ConfigError("beam_size applies to seq2seq runs; a causal LM samples or decodes greedily")
        limit = run.max_seq_len
        for i, text in enumerate(texts, 1):
            n = len(run.tokenizer.encode(text).ids)
            room = limit - n
            if room < (options.max_new_tokens or 1):
                raise LimitError(
                    f"prompt {i} has {n} tokens ([CLS] included), leaving {max(room, 0)} of the model's {limit} "
                    f"positions (data.max_seq_len) for new tokens"
                    + (
                        f", fewer than max_new_tokens={options.max_new_tokens}"
                        if options.max_new_tokens
                        else ""
                    )
                    + "; shorten the prompt"
                    + (" or ask for fewer tokens" if options.max_new_tokens else ""),
                    limit="max_seq_len",
                    max=limit,
                )
        return options

    def generate(self, run, texts: Sequence[str], options: GenerationOptions, *, on_event=None) -> list[dict]:
        """Greedy or sampled continuations of each prompt, ``[CLS] tokens`` (batched, left-padded, with a
        KV cache); a text ends at ``[SEP]`` (the end of a training text), a stop id or string, or its
        token limit."""
        from scratchlm.predict.generate import causal_lm_streams

        options = self.generation_options(run, texts, options)
        prompts = [run.tokenizer.encode(t).ids for t in texts]
        limits = [
            min(options.max_new_tokens or DEFAULT_NEW_TOKENS, run.max_seq_len - len(p)) for p in prompts
        ]
        vocab = run.tokenizer.vocab
        streams = causal_lm_streams(
            run.model,
            prompts,
            options.replace(max_new_tokens=max(limits)),
            eos_id=vocab.sep_id,
            pad_id=vocab.pad_id,
            decode=run.tokenizer.decode,
            suppress=(vocab.pad_id, vocab.cls_id, vocab.mask_id),
            on_event=on_event,
            max_tokens=limits,
        )
        return [
            {
                "prompt": t,
                "text": s.text,
                "tokens": len(s.ids),
                "prompt_tokens": len(p),
                "finish_reason": s.finish_reason,
            }
            for t, p, s in zip(texts, prompts, streams, strict=True)
        ]
