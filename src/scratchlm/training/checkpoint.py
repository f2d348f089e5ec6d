"""Full training state on disk, without pickle: ``checkpoints/step-NNNNNN/``.

Each checkpoint directory holds
- ``model.safetensors``: the weights;
- ``optimizer.safetensors`` + ``optimizer.json``: the optimizer's tensors (flattened as
  ``state.<param>.<key>``) and everything else (param groups, scalars);
- ``ema.safetensors``: the moving average of the weights, when ``train.ema_decay`` is set;
- ``trainer.json``: scheduler state, step, data position (epoch, batch), best dev score, history,
  and the Python / NumPy RNG states; ``rng.safetensors``: the torch CPU (and CUDA) RNG states.
A checkpoint is written to a temporary directory and renamed into place, so a directory named
``step-NNNNNN`` is always complete.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from scratchlm.io import atomic_directory, atomic_write_json, load_tensors, save_tensors

STEP_DIR = re.compile(r"^step-(\d{6,})$")


def step_dir_name(step: int) -> str:
    return f"step-{step:06d}"


def _flatten_optimizer(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors: dict[str, torch.Tensor] = {}
    rest: dict[str, Any] = {"param_groups": state["param_groups"], "state": {}}
    for pid, entry in state["state"].items():
        rest["state"][str(pid)] = {}
        for key, value in entry.items():
            if torch.is_tensor(value):
                tensors[f"state.{pid}.{key}"] = value
                rest["state"][str(pid)][key] = {"tensor": f"state.{pid}.{key}"}
            else:
                rest["state"][str(pid)][key] = {"value": value}
    return tensors, rest


def _unflatten_optimizer(tensors: dict[str, torch.Tensor], rest: dict) -> dict:
    state: dict[int, dict] = {}
    for pid, entry in rest["state"].items():
        state[int(pid)] = {k: tensors[v["tensor"]] if "tensor" in v else v["value"] for k, v in entry.items()}
    return {"state": state, "param_groups": rest["param_groups"]}


def rng_state() -> tuple[dict, dict[str, torch.Tensor]]:
    py = random.getstate()
    np_state = np.random.get_state()
    meta = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": [np_state[0], np_state[1].tolist(), int(np_state[2]), int(np_state[3]), float(np_state[4])],
    }
    tensors = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"cuda.{i}"] = s
    return meta, tensors


def set_rng_state(meta: dict, tensors: dict[str, torch.Tensor]) -> None:
    v, state, gauss = meta["python"]
    random.setstate((v, tuple(state), gauss))
    n = meta["numpy"]
    np.random.set_state((n[0], np.asarray(n[1], dtype=np.uint32), n[2], n[3], n[4]))
    torch.set_rng_state(tensors["torch"])
    cuda = [tensors[k] for k in sorted(k for k in tensors if k.startswith("cuda."))]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)


def save_checkpoint(
    run_dir: Path,
    step: int,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    trainer_state: dict,
    keep: int,
    extra: dict[str, dict[str, torch.Tensor]] | None = None,
) -> Path:
    """``extra`` maps a name to more tensors to keep (e.g. ``{"ema": ...}`` -> ``ema.safetensors``)."""
    root = run_dir / "checkpoints"
    target = root / step_dir_name(step)
    with atomic_directory(target) as tmp:
        save_tensors(tmp / "model.safetensors", model.state_dict())
        opt_tensors, opt_rest = _flatten_optimizer(optimizer.state_dict())
        save_tensors(tmp / "optimizer.safetensors", opt_tensors)
        atomic_write_json(tmp / "optimizer.json", opt_rest)
        rng_meta, rng_tensors = rng_state()
        save_tensors(tmp / "rng.safetensors", rng_tensors)
        for name, tensors in (extra or {}).items():
            save_tensors(tmp / f"{name}.safetensors", tensors)
        atomic_write_json(
            tmp / "trainer.json",
            {**trainer_state, "step": step, "scheduler": scheduler.state_dict(), "rng": rng_meta},
        )
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def list_checkpoints(run_dir: Path) -> list[Path]:
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    found = [
        p for p in root.iterdir() if p.is_dir() and STEP_DIR.match(p.name) and (p / "trainer.json").exists()
    ]
    return sorted(found, key=lambda p: int(STEP_DIR.match(p.name).group(1)))


def load_extra(path: Path, name: str) -> dict[str, torch.Tensor] | None:
    file = path / f"{name}.safetensors"
    return load_tensors(file) if file.exists() else None


def load_checkpoint(
    path: Path, model: torch.nn.Module, optimizer: torch.optim.Optimizer, scheduler: Any
) -> dict:
    model.load_state_dict(load_tensors(path / "model.safetensors"))
    rest = json.loads((path / "optimizer.json").read_text(encoding="utf-8"))
    optimizer.load_state_dict(_unflatten_optimizer(load_tensors(path / "optimizer.safetensors"), rest))
    trainer = json.loads((path / "trainer.json").read_text(encoding="utf-8"))
    scheduler.load_state_dict(trainer.pop("scheduler"))
    set_rng_state(trainer.pop("rng"), load_tensors(path / "rng.safetensors"))
    return trainer
