"""The shared module harness (tests/harness.py) passes a well-behaved module and catches each fault it
is there to catch: wrong shape, dtype drift, a parameter backward never reaches, a non-finite gradient,
randomness in eval mode, state kept outside the state dict."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from harness import run_module_test

X = torch.randn(3, 4)


class Wrong(nn.Module):
    """A linear layer with one fault switched on."""

    def __init__(self, fault: str = ""):
        super().__init__()
        self.fault = fault
        self.proj = nn.Linear(4, 5)
        self.unused = nn.Parameter(torch.ones(2)) if fault == "unused" else None
        # state outside the state dict: a fresh instance draws another one, the saved file lacks it
        self.register_buffer("offset", torch.randn(5), persistent=fault != "unsaved")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.proj(x) + self.offset
        if self.fault == "shape":
            return y[:, :4]
        if self.fault == "float64":
            return y.double()
        if self.fault == "float32":  # computes in fp32 whatever the module's dtype
            return self.proj.float()(x.float())
        if self.fault == "random":
            return F.dropout(y, 0.5, training=True)
        if self.fault == "inf_grad":
            return (y - y.detach()).abs().sqrt()  # zero value, infinite slope
        return y


def test_a_well_behaved_module_passes():
    out = run_module_test(Wrong, (X,), expected_shape=(3, 5), num_trainable=4 * 5 + 5)
    assert out.shape == (3, 5)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("shape", r"output shapes \[\(3, 4\)\], expected \[\(3, 5\)\]"),
        ("float64", "fp32 module and inputs gave a torch.float64 output"),
        ("float32", "bf16 module and inputs gave a torch.float32 output"),
        ("unused", "backward does not reach parameter unused"),
        ("inf_grad", "non-finite gradient in proj.weight"),
        ("random", "two eval-mode calls on the same inputs differ"),
        ("unsaved", "outputs differ after the safetensors state-dict round trip"),
    ],
)
def test_each_fault_is_caught(fault, message):
    with pytest.raises(AssertionError, match=message):
        run_module_test(lambda: Wrong(fault), (X,), expected_shape=(3, 5))


def test_parameter_counts_and_zero_gradients_are_checked():
    with pytest.raises(AssertionError, match="25 trainable parameter elements, expected 24"):
        run_module_test(Wrong, (X,), expected_shape=(3, 5), num_trainable=24)
    frozen_input = torch.zeros(3, 4)  # proj.weight's gradient is x^T g = 0
    with pytest.raises(AssertionError, match="parameter proj.weight got an all-zero gradient"):
        run_module_test(Wrong, (frozen_input,), expected_shape=(3, 5))
    run_module_test(Wrong, (frozen_input,), expected_shape=(3, 5), zero_grad_ok={"proj.weight"})
