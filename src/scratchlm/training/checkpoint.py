"""Full training state on disk, without pickle: ``checkpoints/step-NNNNNN/``.

Each checkpoint directory holds
- ``model.safetensors``: the weights;
- ``optimizer.safetensors`` + ``optimizer.json``: the optimizer's tensors (flattened as
  ``state.<param>.<key>``) and everything else (param groups, scalars);
- ``ema.safetensors``: the moving average of the weights, when ``train.ema_decay`` is set;
- ``trainer.json``: scheduler state, step, data position (epoch, batch), best dev score, history,
  and the Python / NumPy RNG states; ``rng.safetensors``: the torch CPU (and CUDA) RNG states.
- ``best.safetensors``: a copy of the run's best-on-dev weights (``RUN/model.safetensors``) as they were
  at this step, put back when a run resumes from here.
A checkpoint is written to a temporary directory and renamed into place, so a directory named
``step-NNNNNN`` is complete when written; a disk or a user may still damage it later.
:func:`choose_checkpoint` picks what ``--resume`` continues from: the newest sound checkpoint (or the one
``--from`` names), setting damaged and newer ones aside.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from scratchlm.io import atomic_directory, atomic_write_json, load_tensors, save_tensors

STEP_DIR = re.compile(r"^step-(\d{6,})$")
REQUIRED = ("trainer.json", "model.safetensors", "optimizer.safetensors", "optimizer.json", "rng.safetensors")
"""The files every checkpoint has (``ema.safetensors`` and ``best.safetensors`` only some)."""
log = logging.getLogger("scratchlm.train")


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
        _keep_best(run_dir / "model.safetensors", tmp / "best.safetensors")
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


def with_defaults(saved: dict, defaults: dict) -> dict:
    """``saved`` with every key it lacks taken from ``defaults`` (recursively): a checkpoint written
    before a config key existed ran with that key's default, which is what it stands for."""
    out = dict(saved)
    for key, value in defaults.items():
        if key not in out:
            out[key] = value
        elif isinstance(out[key], dict) and isinstance(value, dict):
            out[key] = with_defaults(out[key], value)
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
    saved = with_defaults(saved, json.loads(json.dumps(type(cfg)().to_dict())))  # keys added since
    for section, key in HARMLESS:
        saved.get(section, {}).pop(key, None)
        current.get(section, {}).pop(key, None)
    diff = config_differences(saved, current)
    if diff:
        raise RunDirError(
            f"{path}: the run's config.yaml ({path.parent.parent / 'config.yaml'}) disagrees with the config "
            "this checkpoint was written under "
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


# ------------------------------------------------------------------------------------ which to resume
def _keep_best(best: Path, target: Path) -> None:
    """``target``: a copy of the best weights as they are now. A copy, not a hard link: a user's ``cp``
    over ``model.safetensors`` writes in place and would change every checkpoint's copy with it."""
    if best.is_file():
        shutil.copyfile(best, target)


def restore_best(path: Path, run_dir: Path) -> bool:
    """Put the best weights saved with checkpoint ``path`` back as ``run_dir/model.safetensors`` (those a
    later step wrote belong to a history the resumed run may not repeat). Returns whether there were any."""
    from scratchlm.io import fsync_directory

    saved = path / "best.safetensors"
    if not saved.is_file():
        return False
    tmp = run_dir / ".model.safetensors.restore.tmp"
    tmp.unlink(missing_ok=True)
    _keep_best(saved, tmp)
    os.replace(tmp, run_dir / "model.safetensors")
    fsync_directory(run_dir)
    return True


def checkpoint_problem(path: Path) -> str | None:
    """Why checkpoint ``path`` cannot be resumed from (a file missing, cut short or unreadable), else
    ``None``. Reads the JSON files and every safetensors header (which records the file's size)."""
    from safetensors import safe_open

    names = list(REQUIRED) + sorted(p.name for p in path.glob("*.safetensors") if p.name not in REQUIRED)
    for name in names:
        file = path / name
        if not file.is_file():
            return f"no {name}"
        try:
            if name.endswith(".json"):
                json.loads(file.read_text(encoding="utf-8"))
            else:
                with safe_open(str(file), framework="pt") as f:
                    f.keys()
        except Exception as exc:  # noqa: BLE001 - any reader error means the file is damaged
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return f"{name} is damaged ({reason})"
    return None


def _step_dirs(run_dir: Path) -> list[Path]:
    root = Path(run_dir) / "checkpoints"
    found = [p for p in root.iterdir() if p.is_dir() and STEP_DIR.match(p.name)] if root.is_dir() else []
    return sorted(found, key=lambda p: int(STEP_DIR.match(p.name).group(1)))


def _set_aside(path: Path, why: str) -> str:
    """Rename a checkpoint out of ``--resume``'s way (kept for inspection): ``step-N.damaged``."""
    target = path.with_name(f"{path.name}.{why}")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(path, target)
    return target.name


def _named(run_dir: Path, name: str, dirs: list[Path]) -> Path:
    from scratchlm.errors import RunDirError

    match = re.match(r"^(?:step-)?(\d+)$", name.strip())
    chosen = [p for p in dirs if match and int(STEP_DIR.match(p.name).group(1)) == int(match.group(1))]
    if not chosen:
        have = ", ".join(p.name for p in dirs) or "none"
        raise RunDirError(f"{run_dir}: --from {name}: no such checkpoint (checkpoints: {have})")
    problem = checkpoint_problem(chosen[0])
    if problem:
        raise RunDirError(f"{chosen[0]}: cannot resume from it: {problem}")
    return chosen[0]


def choose_checkpoint(run_dir: Path, name: str | None = None) -> Path:
    """The checkpoint ``--resume`` continues from: ``name`` (``step-N`` or ``N``) when given, else the
    newest sound one, with a warning naming each damaged checkpoint passed over. Checkpoints newer than
    the chosen one are renamed ``step-N.damaged`` or ``step-N.superseded`` (the resumed run writes its own
    under those steps), so a later ``--resume`` never continues from them."""
    from scratchlm.errors import RunDirError

    dirs = _step_dirs(run_dir)
    if name is not None:
        chosen = _named(run_dir, name, dirs)
    else:
        chosen = None
        for path in reversed(dirs):
            problem = checkpoint_problem(path)
            if problem is None:
                chosen = path
                break
            log.warning("checkpoint %s cannot be resumed from (%s): trying the one before it", path.name,
                        problem)  # fmt: skip
        if chosen is None:
            bad = incomplete_checkpoints(run_dir) + [
                f"{p.name} ({checkpoint_problem(p)})" for p in dirs if (p / "trainer.json").exists()
            ]
            raise RunDirError(
                f"{run_dir}: no complete checkpoint to resume from (checkpoints/step-NNNNNN with trainer.json)"
                + (f"; incomplete: {', '.join(bad)}" if bad else "; checkpoints/ is empty or missing")
            )
    newer = [
        p for p in dirs if int(STEP_DIR.match(p.name).group(1)) > int(STEP_DIR.match(chosen.name).group(1))
    ]
    for path in newer:
        moved = _set_aside(path, "superseded" if checkpoint_problem(path) is None else "damaged")
        log.warning("set aside checkpoints/%s -> %s (resuming from %s)", path.name, moved, chosen.name)
    return chosen
