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
    *,
    model_state: dict[str, torch.Tensor] | None = None,
    optimizer_state: dict | None = None,
) -> Path:
    """``extra`` maps a name to more tensors to keep (e.g. ``{"ema": ...}`` -> ``ema.safetensors``);
    ``model_state``/``optimizer_state``: the full states when the live ones are sharded (FSDP)."""
    root = run_dir / "checkpoints"
    target = root / step_dir_name(step)
    with atomic_directory(target) as tmp:
        save_tensors(tmp / "model.safetensors", model_state or model.state_dict())
        opt_tensors, opt_rest = _flatten_optimizer(optimizer_state or optimizer.state_dict())
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


def incomplete_checkpoints(run_dir: Path) -> list[str]:
    """What ``checkpoints/`` holds that is not a complete checkpoint, each with the reason."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    out = []
    for p in sorted(root.iterdir()):
        if p.name.endswith(".tmp"):
            out.append(f"{p.name} (a checkpoint interrupted while being written)")
        elif p.is_dir() and STEP_DIR.match(p.name) and not (p / "trainer.json").exists():
            out.append(f"{p.name} (no trainer.json)")
        elif not (p.is_dir() and STEP_DIR.match(p.name)):
            out.append(f"{p.name} (not a step-NNNNNN directory)")
    return out


def check_model_tensors(path: Path, model: torch.nn.Module) -> None:
    """The checkpoint's weights fit ``model`` (built from the run's config.yaml): else an error listing the
    missing, extra and differently shaped tensors."""
    from safetensors import safe_open

    from scratchlm.errors import RunDirError

    with safe_open(str(path / "model.safetensors"), framework="pt") as f:
        theirs = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    mine = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    problems = []
    for title, keys in (
        ("missing from the checkpoint", sorted(set(mine) - set(theirs))),
        ("not in the model", sorted(set(theirs) - set(mine))),
    ):
        if keys:
            more = f" (+{len(keys) - 6} more)" if len(keys) > 6 else ""
            problems.append(f"{title}: {', '.join(keys[:6])}{more}")
    shapes = [
        f"{k} {theirs[k]} in the checkpoint, {mine[k]} in the model"
        for k in sorted(set(mine) & set(theirs))
        if mine[k] != theirs[k]
    ]
    if shapes:
        problems.append(
            "shapes: " + "; ".join(shapes[:6]) + (f" (+{len(shapes) - 6} more)" if len(shapes) > 6 else "")
        )
    if problems:
        raise RunDirError(
            f"{path}: the checkpoint does not fit the model its run's config.yaml builds: "
            + " | ".join(problems)
        )


def config_differences(saved: dict, current: dict, prefix: str = "") -> list[str]:
    """``section.key: A in the checkpoint, B in config.yaml`` for every value that differs."""
    out = []
    for key in sorted(set(saved) | set(current)):
        a, b = saved.get(key, "(absent)"), current.get(key, "(absent)")
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend(config_differences(a, b, f"{prefix}{key}."))
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} in the checkpoint, {b!r} in config.yaml")
    return out


HARMLESS = {("train", "progress"), ("train", "num_threads"), ("train", "eval_batch_size")}
"""Settings that may change between a checkpoint and its resumption without changing the result."""


def check_config(path: Path, cfg) -> None:
    """The run's config.yaml agrees with the config the checkpoint was written under (stored in its
    trainer.json): else an error listing every difference, before any work."""
    from scratchlm.config.migrate import migrate
    from scratchlm.errors import RunDirError, ScratchLMError

    saved = json.loads((path / "trainer.json").read_text(encoding="utf-8")).get("config")
    if saved is None:  # a checkpoint from before configs were stored
        return
    saved, _notes = migrate(saved)  # an earlier version's key names (config.yaml's load told the user)
    try:  # keys added since the checkpoint was written take their defaults (what that version ran)
        from scratchlm.config import config_from_dict

        saved = json.loads(json.dumps(config_from_dict(saved).to_dict()))
    except ScratchLMError:
        pass  # compared as stored: the differences name what changed
    current = json.loads(json.dumps(cfg.to_dict()))
    for section, key in HARMLESS:
        saved.get(section, {}).pop(key, None)
        current.get(section, {}).pop(key, None)
    diff = config_differences(saved, current)
    if diff:
        raise RunDirError(
            f"{path}: the run's config.yaml disagrees with the config this checkpoint was written under "
            f"({len(diff)} difference{'s' if len(diff) > 1 else ''}): {'; '.join(diff)}. Restore config.yaml, "
            "or start a new run"
        )


def load_extra(path: Path, name: str) -> dict[str, torch.Tensor] | None:
    file = path / f"{name}.safetensors"
    return load_tensors(file) if file.exists() else None


def load_weights(path: Path, model: torch.nn.Module) -> None:
    check_model_tensors(path, model)
    model.load_state_dict(load_tensors(path / "model.safetensors"))


def load_checkpoint(
    path: Path,
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scheduler: Any,
    *,
    weights_loaded: bool = False,
    load_optimizer: Any = None,
) -> dict:
    """Everything back into place. ``weights_loaded``: the model already holds the checkpoint's weights
    (FSDP loads them before sharding); ``load_optimizer(state)``: how to load the optimizer state (FSDP)."""
    if not weights_loaded:
        load_weights(path, model)
    rest = json.loads((path / "optimizer.json").read_text(encoding="utf-8"))
    state = _unflatten_optimizer(load_tensors(path / "optimizer.safetensors"), rest)
    (load_optimizer or optimizer.load_state_dict)(state)
    trainer = json.loads((path / "trainer.json").read_text(encoding="utf-8"))
    scheduler.load_state_dict(trainer.pop("scheduler"))
    set_rng_state(trainer.pop("rng"), load_tensors(path / "rng.safetensors"))
    return trainer
