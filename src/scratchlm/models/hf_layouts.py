"""Checkpoint folders as people download them from the Hugging Face hub, read into one flat state dict.

Layouts (the first found wins):

- ``model.safetensors`` (what ``save_pretrained`` writes today);
- ``model.safetensors.index.json`` + shards (``save_pretrained`` past ``max_shard_size``): every shard
  the index names is read, a missing one is an error;
- ``pytorch_model.bin`` (and ``pytorch_model.bin.index.json`` + shards): read with
  ``torch.load(path, weights_only=True, mmap=True)``, tensors and plain containers only; a file whose
  pickle names other code is refused, never run;
- a sentence-transformers folder (``modules.json``): the ``Transformer`` module's folder (the root or
  ``0_Transformer/``) is read as above; the ``Pooling`` module's ``config.json`` gives the pooling and a
  ``Normalize`` module says the sentence vectors are unit length.

Tensor names are returned as stored, except the TensorFlow-era LayerNorm names of the original BERT
checkpoints (``LayerNorm.gamma``/``beta`` -> ``weight``/``bias``, as ``transformers`` renames them on
load). Prefixes (``bert.``) and heads (``cls.*``) are the families' business
(:mod:`scratchlm.models.hf_families`). Errors name the folder and what is wrong, in one line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from scratchlm.errors import DataError

SAFETENSORS, SAFETENSORS_INDEX = "model.safetensors", "model.safetensors.index.json"
BIN, BIN_INDEX = "pytorch_model.bin", "pytorch_model.bin.index.json"
WEIGHT_FILES = (SAFETENSORS, SAFETENSORS_INDEX, BIN, BIN_INDEX)
OTHER_FRAMEWORKS = ("tf_model.h5", "flax_model.msgpack", "model.ckpt.index", "rust_model.ot", "model.onnx")
MODE_NAMES = {"cls_token": "cls", "mean_tokens": "mean", "max_tokens": "max"}
"""sentence-transformers ``pooling_mode_*`` keys scratchlm has; others keep their name (and are refused)."""
POOLING_MODES = {  # sentence-transformers Pooling config -> scratchlm model.pooling
    ("cls",): "cls",
    ("mean",): "mean",
    ("max",): "max",
    ("max", "mean"): "mean_max",
}


@dataclass
class Checkpoint:
    directory: Path
    """The folder with ``config.json`` and the weights (a sentence-transformers folder's Transformer part)."""
    config: dict
    state: dict[str, torch.Tensor]
    layout: str
    """What was read, for messages: ``model.safetensors``, ``3 safetensors shards``, ``pytorch_model.bin``..."""
    weights: str
    """The weights file (or index) read, for messages."""
    pooling: str | None = None
    """A sentence-transformers folder's pooling (``cls``, ``mean``, ``max``, ``mean_max``), else ``None``."""
    normalize: bool = False
    """A sentence-transformers folder with a ``Normalize`` module: sentence vectors are unit length."""
    renamed: int = 0
    """Tensors renamed from legacy ``LayerNorm.gamma``/``beta`` names."""


def read_config(directory: Path) -> dict:
    path = Path(directory) / "config.json"
    if not path.is_file():
        raise DataError(f"{directory}: no config.json (a checkpoint folder has config.json and its weights)")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: unreadable ({exc})") from None
    if not isinstance(config, dict):
        raise DataError(f"{path}: not a JSON object")
    return config


def legacy_renamed(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], int]:
    """``...LayerNorm.gamma``/``.beta`` (TensorFlow-era BERT) -> ``.weight``/``.bias``; and how many."""
    out, renamed = {}, 0
    for key, value in state.items():
        new = key
        if key.endswith(".gamma"):
            new = key[: -len("gamma")] + "weight"
        elif key.endswith(".beta"):
            new = key[: -len("beta")] + "bias"
        renamed += new != key
        out[new] = value
    return out, renamed


def load_bin(path: Path) -> dict[str, torch.Tensor]:
    """A ``pytorch_model.bin`` through ``torch.load(weights_only=True, mmap=True)`` (files saved before
    torch 1.6, not zip archives, cannot be memory-mapped and are read whole, still ``weights_only``)."""
    # torch's weights-only unpickler raises the standard library's UnpicklingError; named through
    # torch.serialization so that src/ imports no pickle module of its own
    refused = torch.serialization.pickle.UnpicklingError
    try:
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as exc:
            if "mmap" not in str(exc):
                raise
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except refused as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(
            f"{path}: needs pickle code to load, and scratchlm reads weights only (torch.load "
            f"weights_only=True refused it: {first[:160]}); get the model.safetensors of this checkpoint"
        ) from None
    except (RuntimeError, OSError, EOFError, ValueError) as exc:
        raise DataError(
            f"{path}: not a readable PyTorch weights file ({str(exc).splitlines()[0][:160]})"
        ) from None
    if isinstance(obj, dict) and len(obj) == 1 and isinstance(next(iter(obj.values())), dict):
        obj = next(iter(obj.values()))  # {"state_dict": {...}} / {"model": {...}}
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise DataError(f"{path}: not a state dict (a mapping of tensor names to tensors)")
    return dict(obj)


def _read_file(path: Path) -> dict[str, torch.Tensor]:
    if path.name.endswith(".safetensors"):
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError) as exc:
            raise DataError(f"{path}: not a readable safetensors file ({exc})") from None
    return load_bin(path)


def _read_index(index: Path) -> tuple[dict[str, torch.Tensor], int]:
    try:
        weight_map = json.loads(index.read_text(encoding="utf-8"))["weight_map"]
        shards = sorted(set(weight_map.values()))
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{index}: not a checkpoint index (needs a weight_map: {exc!r})") from None
    missing = [s for s in shards if not (index.parent / s).is_file()]
    if missing:
        raise DataError(f"{index}: {len(missing)} of {len(shards)} shards missing: {', '.join(missing[:5])}")
    state: dict[str, torch.Tensor] = {}
    for shard in shards:
        state.update(_read_file(index.parent / shard))
    absent = sorted(set(weight_map) - set(state))
    if absent:
        raise DataError(f"{index}: tensors the index lists are in no shard: {', '.join(absent[:5])}")
    return state, len(shards)


def _not_a_checkpoint(directory: Path) -> DataError:
    if not directory.is_dir():
        return DataError(
            f"{directory}: not a directory (a checkpoint folder: config.json + model.safetensors)"
        )
    names = sorted(p.name for p in directory.iterdir())
    other = [n for n in names if n in OTHER_FRAMEWORKS]
    if other:
        return DataError(
            f"{directory}: only {', '.join(other)} weights, which scratchlm does not read; it reads "
            f"{', '.join(WEIGHT_FILES)}"
        )
    shown = ", ".join(names[:8]) + (f" (+{len(names) - 8} more)" if len(names) > 8 else "") or "nothing"
    return DataError(
        f"{directory}: not a checkpoint folder: none of {', '.join(WEIGHT_FILES)} (it has {shown})"
    )


def _sentence_transformers(directory: Path) -> tuple[Path, str | None, bool]:
    """``modules.json`` -> (the Transformer module's folder, the pooling, whether vectors are normalized)."""
    path = directory / "modules.json"
    try:
        modules = json.loads(path.read_text(encoding="utf-8"))
        kinds = {m["type"].rsplit(".", 1)[-1]: directory / m.get("path", "") for m in modules}
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise DataError(f"{path}: not a sentence-transformers module list ({exc!r})") from None
    if "Transformer" not in kinds:
        raise DataError(f"{path}: no Transformer module (found {', '.join(kinds) or 'none'})")
    pooling = None
    if "Pooling" in kinds:
        pool_cfg = kinds["Pooling"] / "config.json"
        if not pool_cfg.is_file():
            raise DataError(f"{path}: its Pooling module has no {pool_cfg}")
        cfg = json.loads(pool_cfg.read_text(encoding="utf-8"))
        on = [
            k.removeprefix("pooling_mode_")
            for k, v in cfg.items()
            if k.startswith("pooling_mode_") and v is True
        ]
        modes = tuple(sorted(MODE_NAMES.get(k, k) for k in on))
        if modes not in POOLING_MODES:
            raise DataError(
                f"{pool_cfg}: pooling {'+'.join(modes) or 'none'}; scratchlm pools cls, mean, max or mean+max"
            )
        pooling = POOLING_MODES[modes]
    return kinds["Transformer"], pooling, "Normalize" in kinds


def read_checkpoint(path: str | Path) -> Checkpoint:
    """The checkpoint in ``path`` (any layout above)."""
    directory = Path(path)
    pooling, normalize, kind = None, False, ""
    if (directory / "modules.json").is_file():
        directory, pooling, normalize = _sentence_transformers(directory)
        kind = f"sentence-transformers ({pooling or 'no'} pooling{', normalized' if normalize else ''}), "
    present = [n for n in WEIGHT_FILES if (directory / n).is_file()]
    if not present:
        raise _not_a_checkpoint(directory)
    config = read_config(directory)
    weights = directory / present[0]
    if weights.name.endswith(".index.json"):
        state, shards = _read_index(weights)
        layout = f"{kind}{shards} {'safetensors' if weights.name == SAFETENSORS_INDEX else 'pytorch_model.bin'} shards"
    else:
        state, layout = _read_file(weights), kind + weights.name
    state, renamed = legacy_renamed(state)
    return Checkpoint(directory, config, state, layout, str(weights), pooling, normalize, renamed)
