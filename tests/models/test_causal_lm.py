"""The causal LM: next-token targets that stay inside each packed text, and the tied or untied output
matrix its scores come through."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from cli_helpers import ROOT
from generation_helpers import KINDS, small_model
from scratchlm.config import load_config
from scratchlm.models.causal_lm import CausalLanguageModel, next_token_targets
from scratchlm.models.masked_lm import IGNORE


def test_next_token_targets_stay_inside_each_text():
    ids = torch.tensor([[2, 10, 11, 3, 2, 12, 3, 0]])
    real = ids != 0
    segments = torch.tensor([[0, 0, 0, 0, 1, 1, 1, -1]])
    t = next_token_targets(ids, real, segments)
    assert t.tolist() == [[10, 11, 3, IGNORE, 12, 3, IGNORE, IGNORE]]
    assert next_token_targets(ids[:, :4], real[:, :4]).tolist() == [[10, 11, 3, IGNORE]]


def test_tied_and_untied_output_matrix():
    cfg = load_config(
        ROOT / "configs" / "pd1998_clm.yaml", ["model.embed_dim=16", "model.encoder.num_heads=2"]
    ).model
    tied = CausalLanguageModel(cfg, vocab_size=30, max_seq_len=16)
    assert tied.lm_head is None and tied.output_matrix() is tied.token_embedding.weight
    untied = CausalLanguageModel(
        dataclasses.replace(cfg, tie_embeddings=False), vocab_size=30, max_seq_len=16
    )
    assert untied.output_matrix().shape == (30, 16)
    n_tied = sum(p.numel() for p in tied.parameters())
    assert sum(p.numel() for p in untied.parameters()) == n_tied + 30 * 16
    # the model's scores are the hidden states times the output matrix at the predicted positions
    ids = torch.tensor([[2, 7, 8, 9, 3]])
    real = torch.ones_like(ids, dtype=torch.bool)
    targets = next_token_targets(ids, real)
    tied.eval()
    logits = tied(ids, real, targets)
    h = tied.encode(ids, real)[0, :4]
    torch.testing.assert_close(logits, h @ tied.token_embedding.weight.t())


@pytest.mark.parametrize("kind", KINDS)
def test_next_token_logits_with_the_cache_equal_the_full_recompute(kind):
    m = small_model(kind)
    ids = torch.randint(5, 30, (2, 12), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        full = m.scores(m.encode(ids))  # (b, s, V): every position at once
        cache = m.new_cache(2, 12)
        steps = [m.next_token_logits(ids[:, :5], cache=cache)]  # a 5-token prompt
        steps += [m.next_token_logits(ids[:, t : t + 1], cache=cache) for t in range(5, 12)]
    torch.testing.assert_close(torch.stack(steps, 1), full[:, 4:], atol=1e-5, rtol=1e-5)
