"""The registry: one name per task, the class that implements it and the data it reads, and how
``data.task: auto`` and a run's ``run.json`` find it. A new task is one file in :mod:`scratchlm.tasks` plus its line in
:data:`TASKS` (and the same name in :data:`scratchlm.config.TASK_NAMES`, which a test checks)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, NamedTuple

from scratchlm.errors import ConfigError, RunDirError

if TYPE_CHECKING:
    from scratchlm.config import DataConfig, RunConfig
    from scratchlm.tasks.base import Task


class Entry(NamedTuple):
    path: str
    """``module:Class``, imported when the task is asked for (so ``data list`` and the CLI start fast)."""
    reads: str
    """The kind of built-in dataset it reads (:data:`scratchlm.data.builtin.BUILTINS`)."""


TASKS: dict[str, Entry] = {
    "classification": Entry("scratchlm.tasks.classification:ClassificationTask", "labels"),
    "tagging": Entry("scratchlm.tasks.tagging:TaggingTask", "tags"),
    "masked_lm": Entry("scratchlm.tasks.masked_lm:MaskedLMTask", "text"),
    "causal_lm": Entry("scratchlm.tasks.causal_lm:CausalLMTask", "text"),
    "seq2seq": Entry("scratchlm.tasks.seq2seq:Seq2SeqTask", "pairs"),
    "image_classification": Entry("scratchlm.tasks.image_classification:ImageClassificationTask", "images"),
}
"""Task name -> where its class is and what data it reads."""

DEFAULT = "classification"
"""What ``data.task: auto`` picks for a user's file no other task recognises, and what a run written
before run.json recorded its task is."""

DETECT_ORDER = ("image_classification", "seq2seq", "tagging")
"""The tasks whose ``detects`` looks at a user's file for ``data.task: auto``, in this order."""


def task_class(name: str) -> type[Task]:
    if name not in TASKS:
        raise ConfigError(f"data.task={name!r}: not a task (tasks: {', '.join(TASKS)})")
    module, cls = TASKS[name].path.split(":")
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
        task = dataset_task(BUILTINS[name].kind)
        if task in TASKS:
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
    """The one task that reads datasets of this kind, or the kind itself when several do (raw ``text``:
    masked and causal LM) or none does. Imports no task."""
    readers = [name for name, entry in TASKS.items() if entry.reads == kind]
    return readers[0] if len(readers) == 1 else kind
