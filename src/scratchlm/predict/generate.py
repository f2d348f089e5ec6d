"""Generation: the token loop shared by causal LMs and encoder-decoders, with a KV cache and streaming.

A model is driven through two functions: ``start() -> logits (b, V)`` (the prompts read, the first new
token's scores) and ``advance(tokens (b,)) -> logits (b, V)`` (the chosen tokens read). :func:`run_loop`
chooses tokens with :func:`~scratchlm.predict.sampling.next_tokens` until every row has met its end
token, a stop id, a stop string or ``max_new_tokens``; each row's output is a :class:`TextStream`, which
turns ids into text as they come and hands ``(row, piece, finish_reason)`` events to a callback
(streaming to a terminal or to server-sent events).

:func:`causal_lm_streams` runs a causal LM on prompts of different lengths at once: they are padded on
the left, and each row's positions start at 0 at its first real token
(:func:`~scratchlm.modules.kv_cache.positions_from_mask`), so padding never changes a prompt's result
(the tests compare every row with the prompt run alone). With ``use_cache`` the prompt is read once and
then one token per step against the KV cache; without it, every step rereads the whole sequence (the
baseline ``benchmarks/generate.py`` compares against).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from scratchlm.modules.kv_cache import positions_from_mask
from scratchlm.predict.sampling import GenerationOptions, next_tokens, row_generators

Event = Callable[[int, str, "str | None"], None]
"""``(row, text piece, finish_reason or None)``."""

REPLACEMENT = "\ufffd"  # a byte-level BPE output cut inside a multi-byte character


class TextStream:
    """One row's output: its ids, its text (``decode(ids)``), and the pieces not yet handed out. Text that
    could be the start of a stop string, or ends inside a character, is held back until it is certain."""

    def __init__(
        self,
        decode: Callable[[list[int]], str] | None = None,
        stop: Sequence[str] = (),
        max_tokens: int | None = None,
    ):
        """``max_tokens``: the row's own limit (at most ``max_new_tokens``), e.g. what fits its positions."""
        self.decode, self.stop, self.max_tokens = decode, tuple(stop), max_tokens
        self.ids: list[int] = []
        self.text = ""
        self.emitted = 0  # characters of text handed out
        self.finish_reason: str | None = None

    def push(self, token: int) -> str:
        """Add a token; the piece of text now certain (``""`` if none). A stop string ends the stream."""
        self.ids.append(token)
        if self.decode is None:
            return ""
        self.text = self.decode(self.ids)
        for s in self.stop:
            at = self.text.find(s)
            if at >= 0:
                self.text = self.text[:at]
                self.finish_reason = "stop"
                return self._take(len(self.text))
        safe = len(self.text) - self._held()
        return self._take(safe)

    def _held(self) -> int:
        if self.text.endswith(REPLACEMENT):
            return 1
        return max((k for s in self.stop for k in range(1, len(s)) if self.text.endswith(s[:k])), default=0)

    def _take(self, end: int) -> str:
        piece = self.text[self.emitted : end] if end > self.emitted else ""
        self.emitted = max(self.emitted, end)
        return piece

    def finish(self, reason: str) -> str:
        """End the stream (``eos``, ``stop``, ``length``); the text still held back."""
        self.finish_reason = self.finish_reason or reason
        return self._take(len(self.text))


@torch.no_grad()
def run_loop(
    start: Callable[[], torch.Tensor],
    advance: Callable[[torch.Tensor], torch.Tensor],
    streams: list[TextStream],
    options: GenerationOptions,
    *,
    eos_id: int,
    seen: torch.Tensor,
    suppress: Sequence[int] = (),
    on_event: Event | None = None,
) -> list[TextStream]:
    """Choose tokens until every stream is finished; ``seen (b, V)``: the prompts' tokens (repetition
    penalty); ``suppress``: ids never chosen (padding, the start token)."""
    generators = row_generators(len(streams), options.seed) if options.sampling else None
    stop_ids = {eos_id, *options.stop_ids}
    rows = torch.arange(len(streams), device=seen.device)
    logits = start()
    for _ in range(options.max_new_tokens):
        if suppress:
            logits[:, list(suppress)] = float("-inf")
        tokens = next_tokens(logits, seen, options, generators)  # (b,)
        if options.repetition_penalty != 1.0:
            seen[rows, tokens] = True
        for i, t in enumerate(tokens.tolist()):
            s = streams[i]
            if s.finish_reason is not None:
                continue
            if t in stop_ids:
                piece = s.finish("eos" if t == eos_id else "stop")
            else:
                piece = s.push(t)
                if s.finish_reason is None and s.max_tokens is not None and len(s.ids) >= s.max_tokens:
                    piece += s.finish("length")
            if on_event is not None and (piece or s.finish_reason):
                on_event(i, piece, s.finish_reason)
        if all(s.finish_reason is not None for s in streams):
            break
        logits = advance(tokens)
    for i, s in enumerate(streams):
        if s.finish_reason is None:
            piece = s.finish("length")
            if on_event is not None:
                on_event(i, piece, "length")
    return streams


def seen_tokens(prompts: Sequence[Sequence[int]], vocab_size: int, device=None) -> torch.Tensor:
    """``(b, V)`` True at each prompt's tokens."""
    seen = torch.zeros(len(prompts), vocab_size, dtype=torch.bool, device=device)
    for i, p in enumerate(prompts):
        seen[i, list(p)] = True
    return seen


def left_pad(prompts: Sequence[Sequence[int]], pad_id: int, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """``ids (b, L)`` with each prompt at the right end, and ``mask (b, L)`` True at its tokens."""
    longest = max(len(p) for p in prompts)
    ids = torch.full((len(prompts), longest), pad_id, dtype=torch.long)
    mask = torch.zeros(len(prompts), longest, dtype=torch.bool)
    for i, p in enumerate(prompts):
        ids[i, longest - len(p) :] = torch.tensor(list(p), dtype=torch.long)
        mask[i, longest - len(p) :] = True
    return ids.to(device), mask.to(device)


def causal_lm_streams(
    model,
    prompts: Sequence[Sequence[int]],
    options: GenerationOptions,
    *,
    eos_id: int,
    pad_id: int,
    decode: Callable[[list[int]], str] | None = None,
    suppress: Sequence[int] = (),
    use_cache: bool = True,
    on_event: Event | None = None,
    max_tokens: Sequence[int] | None = None,
) -> list[TextStream]:
    """Generate after each prompt (token ids, the start token included) with a causal LM that has
    ``next_token_logits`` and ``new_cache``; ``max_tokens``: each row's own limit (at most
    ``options.max_new_tokens``)."""
    device = next(model.parameters()).device
    ids, mask = left_pad(prompts, pad_id, device)
    positions = positions_from_mask(mask)
    b, length = ids.shape
    cache = model.new_cache(b, length + options.max_new_tokens, device=device) if use_cache else None
    state = {"ids": ids, "mask": mask, "positions": positions}

    def start() -> torch.Tensor:
        return model.next_token_logits(ids, mask, positions=positions, cache=cache)

    def advance(tokens: torch.Tensor) -> torch.Tensor:
        nxt = state["positions"][:, -1:] + 1  # (b, 1)
        if cache is not None:
            state["positions"] = nxt
            return model.next_token_logits(tokens[:, None], None, positions=nxt, cache=cache)
        state["ids"] = torch.cat((state["ids"], tokens[:, None]), 1)
        state["mask"] = torch.cat((state["mask"], torch.ones_like(nxt, dtype=torch.bool)), 1)
        state["positions"] = torch.cat((state["positions"], nxt), 1)
        return model.next_token_logits(state["ids"], state["mask"], positions=state["positions"])

    was_training = model.training
    model.eval()
    try:
        limits = max_tokens or [None] * len(prompts)
        streams = [TextStream(decode, options.stop, n) for n in limits]
        vocab = model.output_matrix().shape[0]
        seen = seen_tokens(prompts, vocab, device)
        return run_loop(
            start, advance, streams, options, eos_id=eos_id, seen=seen, suppress=suppress, on_event=on_event
        )
    finally:
        model.train(was_training)


def seq2seq_streams(
    model,
    sources: Sequence[Sequence[int]],
    options: GenerationOptions,
    *,
    pad_id: int,
    decode: Callable[[list[int]], str] | None = None,
    suppress: Sequence[int] = (),
    length_penalty: float = 1.0,
    on_event: Event | None = None,
) -> list[TextStream]:
    """Outputs of an encoder-decoder (``encode``, ``step``, ``generate``) for non-empty sources: beam
    search for ``options.beam_size > 1`` (the whole output at once), else greedy or sampled token by
    token through :func:`run_loop` (the Transformer decoder with its KV cache)."""
    from scratchlm.data.collate import pad_batch

    device = next(model.parameters()).device
    ids, mask = pad_batch([list(s) for s in sources], pad_id)
    ids, mask = ids.to(device), mask.to(device)
    streams = [TextStream(decode, options.stop) for _ in sources]
    was_training = model.training
    model.eval()
    try:
        if (options.beam_size or 1) > 1:
            return _beam_streams(model, ids, mask, streams, options, length_penalty, on_event)
        state = {"state": model.encode(ids, mask, cache_len=options.max_new_tokens + 1)}
        prefix = {"ids": torch.full((len(sources), 1), model.bos_id, dtype=torch.long, device=device)}

        def step() -> torch.Tensor:
            log_probs, state["state"] = model.step(state["state"], prefix["ids"])
            return log_probs

        def advance(tokens: torch.Tensor) -> torch.Tensor:
            prefix["ids"] = torch.cat((prefix["ids"], tokens[:, None]), 1)
            return step()

        vocab = model.proj.out_features
        seen = torch.zeros(len(sources), vocab, dtype=torch.bool, device=device)
        return run_loop(
            step,
            advance,
            streams,
            options,
            eos_id=model.eos_id,
            seen=seen,
            suppress=suppress,
            on_event=on_event,
        )
    finally:
        model.train(was_training)


def _beam_streams(model, ids, mask, streams, options, length_penalty, on_event) -> list[TextStream]:
    outputs = model.generate(
        ids, mask, beam_size=options.beam_size, max_len=options.max_new_tokens, length_penalty=length_penalty
    )
    for i, (s, out) in enumerate(zip(streams, outputs, strict=True)):
        piece = ""
        for t in out:
            if t in options.stop_ids:
                s.finish_reason = "stop"
                break
            piece += s.push(t)
            if s.finish_reason is not None:
                break
        piece += s.finish("eos" if len(out) < options.max_new_tokens else "length")
        if on_event is not None:
            on_event(i, piece, s.finish_reason)
    return streams
