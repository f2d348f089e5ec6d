"""Tasks: everything that differs between a classifier, a tagger, a masked or causal LM and a seq2seq
model lives here, one file per task, behind one protocol (:class:`~scratchlm.tasks.base.Task`: data,
model, batch and loss, evaluation and its headline metric, prediction, served endpoints, exported
outputs). :mod:`.registry` gives each task its one name (the ``data.task`` value and run.json's
``task``) and resolves ``data.task: auto``. The training loop, ``eval``, ``predict``, ``summary``, the
server and the ONNX export ask the task object; none of them tests a task's name.

A new task: one file here with its :class:`Task` subclass, its line in ``registry.TASKS``, and its
name in ``scratchlm.config.data.TASK_NAMES`` (the config sits below the tasks and cannot import the
registry; tests/tasks/test_registry.py checks that the two lists agree)."""
