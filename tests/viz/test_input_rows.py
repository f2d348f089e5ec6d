from __future__ import annotations

import pytest
import torch

from scratchlm.viz.input_rows import input_parts, position_note


@pytest.mark.parametrize("name", ["sinusoidal", "rope", "concat", "tagger", "causal-lm"])
def test_the_last_part_is_what_the_encoder_reads(loaded, name):
    run = loaded[name]
    ids, _, _ = run.handler().model_inputs(run, "这本书写得太好了")
    parts = input_parts(run, ids)
    with torch.no_grad():
        expected = run.model.input(torch.tensor([ids]))[0]
    torch.testing.assert_close(parts[-1].rows, expected)
    for part in parts:
        assert part.rows.shape == (len(ids), run.config.model.embed_dim)


def test_parts_and_names_follow_the_config(loaded):
    names = [p.name for p in input_parts(loaded["sinusoidal"], [2, 5, 6])]
    assert names == [
        "token rows",
        "character-pair rows (hashed; row i: the pair of tokens i and i+1)",
        "token vector x (the rows above added)",
        "position rows P (sinusoidal)",
        "sum: x + P",
    ]
    names = [p.name for p in input_parts(loaded["concat"], [2, 5, 6])]
    assert names[-1] == "concat + projection, gelu: act(W [x; P] + c)"
    names = [p.name for p in input_parts(loaded["rope"], [2, 5, 6])]
    assert not any(n.startswith("position rows") for n in names)
    assert names[-1] == "after LayerNorm: what the encoder reads"
    assert "RoPE" in position_note(loaded["rope"])
    assert position_note(loaded["sinusoidal"]) is None


def test_part_dict_has_rows_and_norms(loaded):
    part = input_parts(loaded["sinusoidal"], [2, 5, 6])[3]  # the position rows
    d = part.to_dict()
    assert len(d["rows"]) == 3 and len(d["rows"][0]) == 16
    # a sinusoidal row is sin/cos pairs: its norm is sqrt(d / 2) at every position
    assert d["norms"] == pytest.approx([8**0.5] * 3, abs=1e-3)


def test_lexicon_rows_are_a_part_and_the_sum_still_holds(loaded):
    from scratchlm.modules.lexicon import LexiconEmbedding

    run = loaded["tagger"]
    ids, _, _ = run.handler().model_inputs(run, "这本书写得太好了")
    layer = run.model.input
    lexicon = LexiconEmbedding(run.config.model.embed_dim, max_len=3)
    lexicon.set_words([(ids[1:3], 1), (ids[3:6], 1)])
    torch.nn.init.normal_(lexicon.weight)
    layer.lexicon_embedding = lexicon
    try:
        parts = input_parts(run, ids)
        with torch.no_grad():
            expected = layer(torch.tensor([ids]))[0]
    finally:
        layer.lexicon_embedding = None
    assert "lexicon rows (the dictionary words covering each token)" in [p.name for p in parts]
    torch.testing.assert_close(parts[-1].rows, expected)
