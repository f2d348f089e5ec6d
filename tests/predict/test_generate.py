"""The generation loop: prompts of different lengths batched (left padding, per-row positions) give what
each gives alone, with and without the KV cache, greedy and seeded sampling; stop ids, stop strings and
max_new_tokens end a row; streamed pieces add up to the final text."""

from __future__ import annotations

import pytest
import torch

from generation_helpers import KINDS, small_model
from scratchlm.predict.generate import TextStream, causal_lm_streams
from scratchlm.predict.sampling import GenerationOptions

PROMPTS = [[2, 7, 8, 9, 10, 11, 12], [2, 13], [2, 14, 15, 16]]
EOS, PAD = 3, 0
GREEDY = GenerationOptions(max_new_tokens=8)
SAMPLED = GenerationOptions(max_new_tokens=8, temperature=1.0, top_k=10, top_p=0.9, seed=3)


def generate(model, prompts, options, **kwargs):
    streams = causal_lm_streams(model, prompts, options, eos_id=EOS, pad_id=PAD, suppress=(0, 2, 4), **kwargs)
    return [(s.ids, s.finish_reason) for s in streams]


@pytest.mark.parametrize(
    ("kind", "options"),
    [*((k, GREEDY) for k in KINDS), *((k, SAMPLED) for k in ("learned", "rope", "alibi"))],
    ids=[*(f"{k}-greedy" for k in KINDS), *(f"{k}-sampled" for k in ("learned", "rope", "alibi"))],
)
def test_batched_prompts_equal_one_at_a_time(kind, options):
    m = small_model(kind)
    batched = generate(m, PROMPTS, options)
    alone = [generate(m, [p], options)[0] for p in PROMPTS]
    assert batched == alone
    assert generate(m, PROMPTS, options, use_cache=False) == batched  # the cache changes nothing
    assert any(len(ids) > 1 for ids, _ in batched)


def test_stop_ids_stop_strings_and_max_new_tokens():
    m = small_model("rope")
    ((ids, reason),) = generate(m, PROMPTS[:1], GenerationOptions(max_new_tokens=5))
    assert len(ids) <= 5 and reason in ("length", "eos")
    if ids:
        ((cut, why),) = generate(m, PROMPTS[:1], GenerationOptions(max_new_tokens=5, stop_ids=(ids[0],)))
        assert (cut, why) == ([], "stop")

    def decode(tokens):
        return "".join(chr(ord("a") + t % 26) for t in tokens)

    full = causal_lm_streams(
        m, PROMPTS[:1], GenerationOptions(max_new_tokens=6), eos_id=EOS, pad_id=PAD, decode=decode
    )[0]
    if len(full.text) >= 3:
        stop = full.text[1:3]
        events = []
        s = causal_lm_streams(
            m,
            PROMPTS[:1],
            GenerationOptions(max_new_tokens=6, stop=(stop,)),
            eos_id=EOS,
            pad_id=PAD,
            decode=decode,
            on_event=lambda i, piece, why: events.append((piece, why)),
        )[0]
        assert s.text == full.text[: full.text.find(stop)] and s.finish_reason == "stop"
        assert "".join(p for p, _ in events) == s.text and events[-1][1] == "stop"


def test_a_stream_holds_back_a_possible_stop_string_and_a_cut_character():
    s = TextStream(lambda ids: "".join(map(chr, ids)), stop=("END",))
    assert s.push(ord("a")) == "a"
    assert s.push(ord("E")) == ""  # maybe the start of END
    assert s.push(ord("x")) == "Ex"
    assert s.push(ord("E")) + s.push(ord("N")) == ""
    assert s.push(ord("D")) == "" and s.finish_reason == "stop" and s.text == "aEx"
    cut = TextStream(lambda ids: "ab\ufffd" if len(ids) == 1 else "abc")
    assert cut.push(1) == "ab" and cut.push(2) == "c"
    assert cut.finish("length") == "" and cut.finish_reason == "length"


def test_sampling_is_reproducible_with_a_seed_and_varies_without():
    m = small_model("alibi")
    opts = GenerationOptions(max_new_tokens=8, temperature=2.0, seed=11)
    assert generate(m, PROMPTS, opts) == generate(m, PROMPTS, opts)
    torch.manual_seed(0)
    unseeded = {tuple(generate(m, PROMPTS[:1], opts.replace(seed=None))[0][0]) for _ in range(5)}
    assert len(unseeded) > 1
