"""The shared module harness: one call checks what every module in ``scratchlm.modules`` must do.

The idea is keras-hub's ``TestCase.run_layer_test`` (keras_hub/src/tests/test_case.py): given a way to
build the module and example inputs, check the things every layer owes its callers, so each module's
test file states only what is special about it. :func:`run_module_test` checks

1. **shapes** — the output (every tensor in it, in order) has the expected shape;
2. **dtype** — with fp32 parameters and inputs every floating output is fp32 and finite; and, where the
   module supports it (``bf16=True``), a bf16 copy of the module on bf16 inputs returns bf16 outputs
   close to the fp32 ones (integer inputs such as ids stay integers);
3. **backward** — in training mode a loss on the outputs reaches every trainable parameter with a
   finite, non-zero gradient (``zero_grad_ok`` names parameters the example leaves at zero on purpose);
   frozen parameters get none;
4. **determinism** — in eval mode two calls on the same inputs give identical outputs;
5. **state-dict round trip** — the module's state (moved off its initial values) saved with
   ``safetensors.torch.save_file`` and loaded with ``load_file`` into a fresh instance (strict) gives
   identical outputs; the fresh instance gave different ones before loading, so the check can fail.

Tests call it as ``run_module_test(lambda: Module(...), (x, mask), expected_shape=(b, s, d))``;
``forward`` replaces ``module(*args, **kwargs)`` for modules driven through another method (e.g. a
decoder that needs ``start()`` first).
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

Shape = tuple[int, ...]


def _map(obj: Any, fn: Callable[[torch.Tensor], Any]) -> Any:
    """``fn`` applied to every tensor inside tuples, lists and dicts."""
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_map(x, fn) for x in obj)
    if isinstance(obj, dict):
        return {k: _map(v, fn) for k, v in obj.items()}
    return obj


def tensors_in(obj: Any) -> list[torch.Tensor]:
    """Every tensor inside ``obj`` (tuples, lists and dicts walked in order)."""
    found: list[torch.Tensor] = []
    _map(obj, found.append)
    return found


def _floating(obj: Any) -> list[torch.Tensor]:
    return [t for t in tensors_in(obj) if t.is_floating_point()]


def _to_bf16(obj: Any) -> Any:
    return _map(obj, lambda t: t.to(torch.bfloat16) if t.is_floating_point() else t)


def _call(module: nn.Module, forward: Callable | None, args: tuple, kwargs: dict) -> Any:
    return forward(module, *args, **kwargs) if forward is not None else module(*args, **kwargs)


def _fresh(factory: Callable[[], nn.Module], seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return factory()


def _check_shapes(out: Any, expected_shape: Shape | Sequence[Shape]) -> None:
    got = [tuple(t.shape) for t in tensors_in(out)]
    if expected_shape and all(isinstance(n, int) for n in expected_shape):
        expected = [tuple(expected_shape)]
    else:
        expected = [tuple(s) for s in expected_shape]
    assert got == expected, f"output shapes {got}, expected {expected}"


def _check_fp32(out: Any) -> None:
    for t in _floating(out):
        assert t.dtype == torch.float32, f"fp32 module and inputs gave a {t.dtype} output"
        assert torch.isfinite(t).all(), "non-finite values in the fp32 output"


def _check_bf16(module: nn.Module, forward, args, kwargs, reference: Any, tolerance: float) -> None:
    half = copy.deepcopy(module).to(torch.bfloat16).eval()
    with torch.no_grad():
        out = _call(half, forward, _to_bf16(args), _to_bf16(kwargs))
    pairs = list(zip(_floating(out), _floating(reference), strict=True))
    assert pairs, "no floating output to compare in bf16"
    for got, want in pairs:
        assert got.dtype == torch.bfloat16, f"bf16 module and inputs gave a {got.dtype} output"
        assert torch.isfinite(got).all(), "non-finite values in the bf16 output"
        error = (got.float() - want).abs().max().item()
        scale = max(1.0, want.abs().max().item())
        assert error <= tolerance * scale, f"bf16 output off by {error:.4g} (scale {scale:.4g})"


def _check_backward(module: nn.Module, forward, args, kwargs, zero_grad_ok: Collection[str]) -> None:
    module.train()
    module.zero_grad(set_to_none=True)
    out = _call(module, forward, args, kwargs)
    generator = torch.Generator().manual_seed(0)
    # a fixed random projection of every output: sum() alone has zero gradient through a LayerNorm
    loss = sum((t.float() * torch.randn(t.shape, generator=generator)).sum() for t in _floating(out))
    loss.backward()
    for name, p in module.named_parameters():
        if not p.requires_grad:
            assert p.grad is None, f"frozen parameter {name} got a gradient"
            continue
        assert p.grad is not None, f"backward does not reach parameter {name}"
        assert torch.isfinite(p.grad).all(), f"non-finite gradient in {name}"
        if name not in zero_grad_ok:
            assert p.grad.any(), f"parameter {name} got an all-zero gradient"
    unknown = set(zero_grad_ok) - {name for name, _ in module.named_parameters()}
    assert not unknown, f"zero_grad_ok names no parameter: {sorted(unknown)}"


def _check_deterministic(module: nn.Module, forward, args, kwargs) -> Any:
    module.eval()
    with torch.no_grad():
        first = _call(module, forward, args, kwargs)
        second = _call(module, forward, args, kwargs)
    for a, b in zip(tensors_in(first), tensors_in(second), strict=True):
        assert torch.equal(a, b), "two eval-mode calls on the same inputs differ"
    return first


def _check_round_trip(factory, forward, args, kwargs) -> None:
    original = _fresh(factory, 1).eval()
    state = original.state_dict()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():  # move every float tensor off its initial value (a fresh copy has that)
        for tensor in state.values():
            if tensor.is_floating_point():
                tensor.add_(0.1 * torch.randn(tensor.shape, generator=generator).to(tensor.dtype))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "module.safetensors"
        save_file({k: v.detach().contiguous() for k, v in state.items()}, str(path))
        loaded = load_file(str(path))
    fresh = _fresh(factory, 2).eval()
    with torch.no_grad():
        want = tensors_in(_call(original, forward, args, kwargs))
        if any(t.is_floating_point() for t in state.values()):
            before = tensors_in(_call(fresh, forward, args, kwargs))
            assert any(not torch.equal(a, b) for a, b in zip(before, want, strict=True)), (
                "a fresh instance already gives the saved module's outputs: the round trip checks nothing"
            )
        fresh.load_state_dict(loaded, strict=True)
        got = tensors_in(_call(fresh, forward, args, kwargs))
    for a, b in zip(got, want, strict=True):
        assert torch.equal(a, b), "outputs differ after the safetensors state-dict round trip"


def run_module_test(
    factory: Callable[[], nn.Module],
    args: tuple = (),
    kwargs: dict | None = None,
    *,
    expected_shape: Shape | Sequence[Shape],
    forward: Callable[..., Any] | None = None,
    bf16: bool = True,
    bf16_tolerance: float = 0.05,
    zero_grad_ok: Collection[str] = (),
    num_trainable: int | None = None,
) -> Any:
    """Run the checks above on ``factory()`` with ``args``/``kwargs``; returns the fp32 eval output.

    ``expected_shape``: one shape, or one per tensor of the output (tuples, lists and dicts in order).
    ``forward(module, *args, **kwargs)``: how to call the module, when not ``module(*args, **kwargs)``.
    ``bf16_tolerance``: largest bf16-vs-fp32 difference, relative to the output's scale (at least 1).
    ``num_trainable``: if given, the number of trainable parameter elements.
    """
    kwargs = kwargs or {}
    module = _fresh(factory, 0)
    if num_trainable is not None:
        count = sum(p.numel() for p in module.parameters() if p.requires_grad)
        assert count == num_trainable, f"{count} trainable parameter elements, expected {num_trainable}"
    out = _check_deterministic(module, forward, args, kwargs)
    _check_shapes(out, expected_shape)
    _check_fp32(out)
    if bf16:
        _check_bf16(module, forward, args, kwargs, out, bf16_tolerance)
    if any(p.requires_grad for p in module.parameters()):
        _check_backward(module, forward, args, kwargs, zero_grad_ok)
    _check_round_trip(factory, forward, args, kwargs)
    return out
