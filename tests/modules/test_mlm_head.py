"""The tied masked-LM head: the module harness; logits are ``LN(GELU(W h + c)) E^T + b`` with ``E`` the
embedding passed in (no output matrix of its own), and the gradient reaches ``E``."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from harness import run_module_test
from scratchlm.modules.mlm_head import TiedMaskedLMHead


def test_module_harness():
    h, embedding = torch.randn(5, 8), torch.randn(30, 8)  # 5 predicted positions, vocabulary of 30
    run_module_test(
        lambda: TiedMaskedLMHead(8, 30),
        (h, embedding),
        expected_shape=(5, 30),
        num_trainable=8 * 8 + 8 + 2 * 8 + 30,  # transform, LayerNorm, per-token bias: no (V, d) matrix
    )


def test_logits_use_the_embedding_as_the_output_matrix():
    torch.manual_seed(0)
    head = TiedMaskedLMHead(8, 30)
    with torch.no_grad():
        head.bias.normal_()
    h = torch.randn(5, 8)
    embedding = torch.randn(30, 8, requires_grad=True)
    logits = head(h, embedding)
    x = F.layer_norm(F.gelu(head.transform(h)), (8,), head.norm.weight, head.norm.bias, head.norm.eps)
    torch.testing.assert_close(logits, x @ embedding.T + head.bias)
    logits[:, 7].sum().backward()
    assert embedding.grad[7].abs().sum() > 0 and not embedding.grad[8].any()  # only token 7's row
