"""The registry: one name per task, the class that implements it, and how ``data.task: auto`` and a
run's ``run.json`` find it. A new task is one file in :mod:`scratchlm.tasks` plus its line in
:data:`TASKS` (and the same name in :data:`scratchlm.config.TASK_NAMES`, which a test checks)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from scratchlm.errors import ConfigError, RunDirError

if TYPE_CHECKING:
    from scratchlm.config import DataConfig, RunConfig
    from scratchlm.tasks.base import Task

TASKS: dict[str, str] = {
    "classification": "scratchlm.tasks.classification:ClassificationTask",
    "tagging": "scratchlm.tasks.tagging:TaggingTask",
    "masked_lm": "scratchlm.tasks.masked_lm:MaskedLMTask",
    "causal_lm": "scratchlm.tasks.causal_lm:CausalLMTask",
    "seq2seq": "scratchlm.tasks.seq2seq:Seq2SeqTask",
}
"""Task name -> ``module:Class`` (imported when asked for, so the CLI starts fast)."""

DEFAULT = "classification"
"""What ``data.task: auto`` picks for a user's file no other task recognises, and what a run written
before run.json recorded its task is."""

DETECT_ORDER = ("seq2seq", "tagging")
"""The tasks whose ``detects`` looks at a user's file for ``data.task: auto``, in this order."""


def task_class(name: str) -> type[Task]:
    if name not in TASKS:
        raise ConfigError(f"data.task={name!r}: not a task (tasks: {', '.join(TASKS)})")
    module, cls = TASKS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def resolve_task_name(data: DataConfig) -> str:
    """``data.task``, or for ``auto`` the task that reads the built-in dataset's kind or recognises the
    user's file."""
    from scratchlm.data.builtin import BUILTINS

    if data.task != "auto":
        task_class(data.task)
        return data.task
    name = data.train_file or data.dataset
    if name in BUILTINS:
        kind = BUILTINS[name].kind
        for task in TASKS:
            if task_class(task).dataset_kind == kind:
                return task
    for task in DETECT_ORDER:
        if task_class(task).detects(data):
            return task
    return DEFAULT


def make_task(cfg: RunConfig) -> Task:
    """The task ``cfg.data.task`` names (``auto``: from the dataset), after its checks of ``cfg``."""
    cls = task_class(resolve_task_name(cfg.data))
    cls.check_config(cfg)
    return cls(cfg)


def task_of_run(meta: dict, cfg: RunConfig, where: object = "") -> Task:
    """The task of a run directory, from its run.json ``task``."""
    name = meta.get("task", DEFAULT)
    if name not in TASKS:
        raise RunDirError(f"{where}: run.json names task {name!r}, which this version does not know")
    return task_class(name)(cfg)


def dataset_task(kind: str) -> str:
    """The task that reads a built-in dataset of this kind (``text`` when none but pretraining does)."""
    for task in TASKS:
        cls = task_class(task)
        if cls.dataset_kind == kind and not cls.pretrains:
            return task
    return kind
