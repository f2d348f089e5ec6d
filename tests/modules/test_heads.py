"""Pooling (sequence -> one vector) by hand, padding never counting; the classification heads: the
module harness, a linear map in eval mode, and the sigmoid head against torch's sigmoid and BCE."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from harness import run_module_test
from scratchlm.modules.heads import (
    POOLED_WIDTH,
    ClassificationHead,
    SigmoidHead,
    cls_pool,
    last_pool,
    max_pool,
    mean_max_pool,
    mean_pool,
    pooling,
)

H = torch.tensor(
    [
        [[1.0, 2.0], [3.0, 4.0], [100.0, -100.0]],
        [[-5.0, -1.0], [-3.0, -7.0], [0.0, 0.0]],
        [[7.0, -2.0], [0.0, 0.0], [0.0, 0.0]],
    ]
)
MASK = torch.tensor([[True, True, False], [True, True, False], [True, False, False]])


def test_module_harness():
    run_module_test(
        lambda: ClassificationHead(8, 3, dropout=0.1),
        (torch.randn(4, 8),),
        expected_shape=(4, 3),
        num_trainable=8 * 3 + 3,
    )


def test_mean_pool_ignores_padding():
    expected = torch.tensor([[2.0, 3.0], [-4.0, -4.0], [7.0, -2.0]])
    torch.testing.assert_close(mean_pool(H, MASK), expected)
    torch.testing.assert_close(mean_pool(H), H.mean(1))


def test_max_pool_ignores_padding():
    # row 2: padding zeros would win over -1 and -7 if they counted
    expected = torch.tensor([[3.0, 4.0], [-3.0, -1.0], [7.0, -2.0]])
    torch.testing.assert_close(max_pool(H, MASK), expected)
    torch.testing.assert_close(max_pool(H), H.amax(1))


def test_mean_max_and_cls_pool():
    out = mean_max_pool(H, MASK)
    assert out.shape == (3, 4)
    torch.testing.assert_close(out, torch.cat([mean_pool(H, MASK), max_pool(H, MASK)], -1))
    torch.testing.assert_close(cls_pool(H, MASK), H[:, 0])


@pytest.mark.parametrize("pool", [mean_pool, max_pool])
def test_pooling_in_bf16_ignores_padding(pool):
    # max_pool fills padding with the dtype's own minimum: bf16 must not overflow or let padding win
    out = pool(H.to(torch.bfloat16), MASK)
    assert out.dtype == torch.bfloat16
    torch.testing.assert_close(out.float(), pool(H, MASK))


def test_mean_pool_all_padding_row_is_zero_not_nan():
    h = torch.ones(1, 3, 2)
    out = mean_pool(h, torch.zeros(1, 3, dtype=torch.bool))
    assert torch.equal(out, torch.zeros(1, 2))


def test_classification_head_is_linear_in_eval():
    torch.manual_seed(0)
    head = ClassificationHead(4, 3, dropout=0.5).eval()
    x = torch.randn(5, 4)
    torch.testing.assert_close(head(x), x @ head.proj.weight.T + head.proj.bias)


def test_last_pool_reads_the_last_real_token():
    assert last_pool(H, MASK).tolist() == [[3.0, 4.0], [-3.0, -7.0], [7.0, -2.0]]
    assert last_pool(H).tolist() == H[:, -1].tolist()  # no mask: the last position
    # a bidirectional RNN's halves: left to right at the last real token, right to left at the first
    both = pooling("last", bidirectional_rnn=True)(H, MASK)
    assert both.tolist() == [[3.0, 2.0], [-3.0, -1.0], [7.0, -2.0]]
    assert pooling("last") is last_pool and POOLED_WIDTH["last"] == 1


def test_sigmoid_head():
    run_module_test(lambda: SigmoidHead(4, dropout=0.1), (torch.randn(3, 4),), expected_shape=(3, 2))
    torch.manual_seed(0)
    head = SigmoidHead(4).eval()
    assert sum(p.numel() for p in head.parameters()) == 4 + 1  # Dense(1): d weights and a bias
    pooled = torch.randn(6, 4)
    logits = head(pooled)
    z = pooled @ head.proj.weight[0] + head.proj.bias[0]
    torch.testing.assert_close(logits[:, 1], z)
    assert not logits[:, 0].any()
    # softmax over [0, z] is (1 - sigmoid(z), sigmoid(z)); cross-entropy on it is BCE on z
    torch.testing.assert_close(logits.softmax(-1)[:, 1], torch.sigmoid(z))
    y = torch.tensor([0, 1, 1, 0, 1, 0])
    torch.testing.assert_close(
        F.cross_entropy(logits, y), torch.nn.BCEWithLogitsLoss()(z, y.float()), atol=1e-6, rtol=0
    )
