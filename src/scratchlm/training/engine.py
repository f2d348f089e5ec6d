"""Engine options of the training loop that change how a step runs, not what it computes:
``train.compile`` (``torch.compile``), ``train.activation_checkpointing`` (recompute each Transformer
layer in backward) and the model FLOPs utilisation (MFU) of the train log.

MFU follows PaLM (Chowdhery et al. 2022, appendix B): a token costs ``6 N + 12 L d s`` FLOPs in a
training step (forward and backward), where ``N`` counts the parameters that multiply activations (every
parameter except the embedding tables, which are looked up), ``L`` the Transformer layers, ``d`` their
width and ``s`` the (padded) sequence length; MFU is the achieved FLOP/s over the devices' peak. A
vocabulary projection through a tied embedding is not counted, so the figure is a lower bound.
"""

from __future__ import annotations

import logging

import torch
from torch import nn

from scratchlm.config import TrainConfig
from scratchlm.errors import ConfigError

log = logging.getLogger("scratchlm.train")

PEAK_BF16_TFLOPS = {
    # dense bf16 tensor-core peaks from NVIDIA's data sheets (without sparsity); the first name found in
    # torch.cuda.get_device_name wins, so the longer names come first
    "H200": 989.4,
    "H100 PCIe": 756.0,
    "H100": 989.4,
    "A100": 312.0,
    "L40S": 362.05,
    "L4": 121.0,
    "A10": 125.0,
}


def apply_activation_checkpointing(model: nn.Module, enabled: bool) -> None:
    """Switch on per-layer recomputation in the model's Transformer encoder."""
    if not enabled:
        return
    encoder = getattr(model, "encoder", None)
    if encoder is None or not hasattr(encoder, "activation_checkpointing"):
        kind = type(encoder).__name__ if encoder is not None else "none"
        raise ConfigError(
            f"train.activation_checkpointing recomputes Transformer layers, and this model's encoder is {kind}"
        )
    encoder.activation_checkpointing = True


def compile_model(model: nn.Module, tc: TrainConfig) -> None:
    """``torch.compile`` the input layer and the encoder in place (their ``state_dict`` keeps its names)."""
    if not tc.compile:
        return
    for name in ("input", "encoder"):
        part = getattr(model, name, None)
        if isinstance(part, nn.Module):
            part.compile(backend=tc.compile_backend)
    log.info("torch.compile (backend %s): input layer and encoder", tc.compile_backend)


def matmul_parameters(model: nn.Module) -> int:
    """Parameters that multiply activations: all but the embedding tables."""
    tables = {id(m.weight) for m in model.modules() if isinstance(m, nn.Embedding)}
    return sum(p.numel() for p in model.parameters() if id(p) not in tables)


def flops_per_token(n_params: int, num_layers: int, width: int, seq_len: float) -> float:
    """Training FLOPs of one token (forward + backward): ``6 N + 12 L d s``."""
    return 6.0 * n_params + 12.0 * num_layers * width * seq_len


def peak_flops(tc: TrainConfig, device: str) -> float | None:
    """One device's peak FLOP/s: ``train.peak_tflops``, else a known GPU's bf16 peak, else ``None``."""
    if tc.peak_tflops is not None:
        return tc.peak_tflops * 1e12
    if not device.startswith("cuda") or not torch.cuda.is_available():
        return None
    name = torch.cuda.get_device_name(torch.device(device))
    for key, tflops in PEAK_BF16_TFLOPS.items():
        if key in name:
            return tflops * 1e12
    return None


def transformer_shape(model: nn.Module) -> tuple[int, int]:
    """``(layers, width)`` of the model's Transformer encoder (``(0, 0)`` for another encoder)."""
    layers = getattr(getattr(model, "encoder", None), "layers", None)
    if layers is None or not len(layers):
        return 0, 0
    norm = getattr(layers[0], "attn_norm", None)
    width = norm.normalized_shape[0] if norm is not None else 0
    return len(layers), width
