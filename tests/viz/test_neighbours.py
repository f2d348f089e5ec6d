from __future__ import annotations

import torch
import torch.nn.functional as F

from scratchlm.viz.neighbours import contextual_neighbours, contextual_vectors, static_neighbours


def test_static_neighbours_are_the_closest_rows(loaded):
    run = loaded["sinusoidal"]
    vocab = run.tokenizer.vocab
    token = vocab.id("好")
    found = static_neighbours(run, token, k=5)
    matrix = run.model.input.token_embedding.matrix().detach()
    sims = F.cosine_similarity(matrix, matrix[token][None], dim=-1)
    sims[list(vocab.special_ids | {token})] = -2
    assert [f["id"] for f in found] == sims.topk(5).indices.tolist()
    assert [f["token"] for f in found] == [vocab.token(f["id"]) for f in found]
    assert all(a["cosine"] >= b["cosine"] for a, b in zip(found, found[1:], strict=False))


def test_contextual_neighbours_search_every_text_and_skip_the_query(loaded):
    run = loaded["sinusoidal"]
    text, other = "很好很好", "质量很差"
    found = contextual_neighbours(run, text, 1, [other], k=100)
    positions = {(f["text"], f["position"]) for f in found}
    assert (0, 1) not in positions and (0, 0) not in positions and (1, 0) not in positions  # query, [CLS]s
    assert len(found) == 3 + 4  # the other 3 tokens of the text, the 4 of the other text
    ids, tokens, h = contextual_vectors(run, text)
    _, _, h2 = contextual_vectors(run, other)
    best = found[0]
    target = (h if best["text"] == 0 else h2)[best["position"]]
    assert best["cosine"] == round(F.cosine_similarity(target, h[1], dim=0).item(), 4)
    assert found[-1]["cosine"] <= best["cosine"]
    assert [f for f in found if f["text"] == 0 and f["position"] == 3][0]["context"] == "很好[很]好"
    assert torch.isfinite(h).all() and h.shape == (5, 16)


def test_contextual_vectors_of_a_tagger_have_no_cls(loaded):
    ids, tokens, h = contextual_vectors(loaded["tagger"], "很好")
    assert tokens == ["很", "好"] and h.shape[0] == 2
