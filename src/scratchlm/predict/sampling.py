"""Decoding strategies: how the next token is chosen from the model's scores, one place for all of them.

``logits (b, V)`` -> ``tokens (b,)``, in the order Hugging Face's ``generate`` applies them:

1. **repetition penalty** (Keskar et al. 2019, CTRL, §4.1, https://arxiv.org/abs/1909.05858): the score
   of every token already in the row (prompt or output) is divided by ``penalty`` if positive and
   multiplied by it if negative (``1.0``: off);
2. **temperature**: scores divided by ``temperature``; ``0`` is greedy search (the argmax, no sampling);
3. **top-k**: only the ``k`` best tokens may be drawn (Fan et al. 2018, https://arxiv.org/abs/1805.04833);
4. **top-p** (nucleus, Holtzman et al. 2020, https://arxiv.org/abs/1904.09751): only the smallest set
   of best tokens whose probabilities sum to at least ``p`` (the best token is always kept);
5. a draw from the softmax of what is left, with each row's own ``torch.Generator``: a row's sample
   depends on its seed and its own scores only, never on the other rows of a batch, so batched
   prompts give what each gives alone (tests/predict/test_generate.py).

:class:`GenerationOptions` also carries when to stop (``max_new_tokens``, ``stop`` strings, ``stop_ids``)
and the ``beam_size`` of an encoder-decoder's beam search; :meth:`GenerationOptions.check` says what is
wrong with a setting in one line.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from scratchlm.errors import ConfigError


@dataclass(frozen=True)
class GenerationOptions:
    max_new_tokens: int | None = None
    """Most tokens generated per prompt (the end token not counted); ``None``: the task's default (a
    causal LM: 64, or what fits its positions; a seq2seq run: its ``model.generation.max_new_tokens``)."""
    temperature: float = 0.0
    """0: greedy search; > 0: sample from ``softmax(logits / temperature)``."""
    top_k: int | None = None
    """Sample among the ``k`` most probable tokens only."""
    top_p: float | None = None
    """Sample among the most probable tokens whose probabilities sum to ``p`` (0 < p <= 1)."""
    repetition_penalty: float = 1.0
    """> 1 discourages tokens already in the prompt or the output (1: off)."""
    stop: tuple[str, ...] = ()
    """Generation of a prompt ends when its text contains one of these; the text ends before it."""
    stop_ids: tuple[int, ...] = ()
    """Token ids that end a prompt's generation (besides the model's end token), not included."""
    seed: int | None = None
    """Seed of each prompt's sampling generator (the same seed, the same sample)."""
    beam_size: int | None = None
    """An encoder-decoder's beam search (1: greedy or sampling as set above; ``None``: the run's
    ``model.generation.beam_size`` unless sampling)."""

    @property
    def sampling(self) -> bool:
        return self.temperature > 0

    def check(self) -> GenerationOptions:
        """The options, or a :class:`ConfigError` naming the first bad one."""
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens={self.max_new_tokens} must be >= 1")
        if self.temperature < 0:
            raise ConfigError(f"temperature={self.temperature} must be >= 0 (0: greedy)")
        if self.top_k is not None and self.top_k < 1:
            raise ConfigError(f"top_k={self.top_k} must be >= 1")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p={self.top_p} must be in (0, 1]")
        if self.repetition_penalty <= 0:
            raise ConfigError(f"repetition_penalty={self.repetition_penalty} must be > 0 (1: off)")
        if any(not s for s in self.stop):
            raise ConfigError("stop strings must be non-empty")
        if self.beam_size is not None and self.beam_size < 1:
            raise ConfigError(f"beam_size={self.beam_size} must be >= 1")
        if (self.beam_size or 1) > 1 and (self.sampling or self.repetition_penalty != 1.0):
            raise ConfigError("beam_size > 1 is beam search: it takes no temperature or repetition_penalty")
        return self

    def replace(self, **changes) -> GenerationOptions:
        return dataclasses.replace(self, **changes)


def apply_repetition_penalty(logits: torch.Tensor, seen: torch.Tensor, penalty: float) -> torch.Tensor:
    """``seen (b, V)`` True at tokens already in the row."""
    if penalty == 1.0:
        return logits
    penalised = torch.where(logits > 0, logits / penalty, logits * penalty)
    return torch.where(seen, penalised, logits)


def top_k_filter(logits: torch.Tensor, k: int) -> torch.Tensor:
    """``-inf`` below the ``k``-th best score of each row (ties with it stay)."""
    k = min(k, logits.shape[-1])
    kth = logits.topk(k, dim=-1).values[:, -1:]  # (b, 1)
    return logits.masked_fill(logits < kth, float("-inf"))


def top_p_filter(logits: torch.Tensor, p: float) -> torch.Tensor:
    """``-inf`` outside the smallest set of best tokens whose probabilities reach ``p``."""
    sorted_logits, order = logits.sort(dim=-1, descending=True)  # (b, V)
    cumulative = sorted_logits.softmax(-1).cumsum(-1)
    drop = cumulative - sorted_logits.softmax(-1) >= p  # the mass before a token already reaches p
    drop[:, 0] = False  # the best token always stays
    return logits.masked_fill(drop.scatter(1, order, drop), float("-inf"))


def next_tokens(
    logits: torch.Tensor,
    seen: torch.Tensor,
    options: GenerationOptions,
    generators: list[torch.Generator] | None = None,
) -> torch.Tensor:
    """``logits (b, V)`` -> the chosen tokens ``(b,)`` (see the module's docstring for the order)."""
    logits = apply_repetition_penalty(logits.float(), seen, options.repetition_penalty)
    if not options.sampling:
        return logits.argmax(-1)
    logits = logits / options.temperature
    if options.top_k is not None:
        logits = top_k_filter(logits, options.top_k)
    if options.top_p is not None and options.top_p < 1:
        logits = top_p_filter(logits, options.top_p)
    probs = logits.softmax(-1)
    if generators is None:
        return torch.multinomial(probs, 1)[:, 0]
    return torch.cat([torch.multinomial(probs[i], 1, generator=g) for i, g in enumerate(generators)])


def row_generators(n: int, seed: int | None, device: torch.device | str = "cpu") -> list[torch.Generator]:
    """One generator per row, each seeded with ``seed`` (or a seed drawn from torch's global generator)."""
    gens = []
    for _ in range(n):
        g = torch.Generator(device=device)
        g.manual_seed(seed if seed is not None else int(torch.randint(0, 2**62, (1,)).item()))
        gens.append(g)
    return gens
