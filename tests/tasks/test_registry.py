"""The registry: one name per task, the same names in the config's choices, ``auto`` resolution, and no
task named anywhere outside ``tasks/`` but the config's choices (the rest of the project asks the task)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from scratchlm.config import OLD_TASK_NAMES, TASK_NAMES, DataConfig, config_from_dict
from scratchlm.errors import ConfigError, RunDirError
from scratchlm.tasks.base import Task
from scratchlm.tasks.registry import TASKS, make_task, resolve_task_name, task_class, task_of_run

SRC = Path(__file__).resolve().parents[2] / "src" / "scratchlm"


def test_one_name_per_task_in_registry_and_config():
    assert tuple(TASKS) == TASK_NAMES
    for name in TASKS:
        cls = task_class(name)
        assert issubclass(cls, Task) and cls.name == name
    assert set(OLD_TASK_NAMES.values()) <= set(TASKS)


def test_unknown_names_are_clear_errors():
    with pytest.raises(ConfigError, match="not a task"):
        task_class("translate")
    with pytest.raises(RunDirError, match="does not know"):
        task_of_run({"task": "translate"}, config_from_dict({}), "RUN/run.json")


@pytest.mark.parametrize(
    ("dataset", "task"),
    [
        ("zh-reviews", "classification"),
        ("pd1998-cws", "tagging"),
        ("pd1998-ner", "tagging"),
        ("cmudict-g2p", "seq2seq"),
        ("en-word-polarity", "classification"),
    ],
)
def test_auto_picks_the_task_that_reads_the_builtin(dataset, task):
    assert resolve_task_name(DataConfig(dataset=dataset)) == task


def test_auto_looks_at_a_users_file(tmp_path):
    tags = tmp_path / "t.jsonl"
    tags.write_text('{"text": "迈向", "tags": ["B", "E"]}\n', encoding="utf-8")
    pairs = tmp_path / "p.jsonl"
    pairs.write_text('{"source": "cat", "target": ["K", "AE", "T"]}\n', encoding="utf-8")
    labels = tmp_path / "l.jsonl"
    labels.write_text('{"text": "好", "label": "pos"}\n', encoding="utf-8")
    assert resolve_task_name(DataConfig(dataset=str(tags))) == "tagging"
    assert resolve_task_name(DataConfig(dataset=str(pairs))) == "seq2seq"
    assert resolve_task_name(DataConfig(dataset=str(labels))) == "classification"


def test_auto_reads_the_fields_and_columns_a_file_uses(tmp_path):
    """Tagged rows given as tokens, pair rows with a target string, and a TSV whose target column is
    named by ``data.target_field``."""
    tokens = tmp_path / "ner.jsonl"
    tags = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "O"]
    rows = [{"tokens": list(f"张三在北京{chr(0x4E00 + i)}"), "tags": tags} for i in range(3)]
    tokens.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    pairs = tmp_path / "pairs.jsonl"
    rows = [{"source": "read", "target": "R EH D"}, {"source": "read", "target": ["R", "IY", "D"]}]
    pairs.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("word\tphones\ncat\tK AE T\ndog\tD AO G\n", encoding="utf-8")
    assert resolve_task_name(DataConfig(dataset=str(tokens))) == "tagging"
    assert resolve_task_name(DataConfig(dataset=str(pairs))) == "seq2seq"
    assert resolve_task_name(DataConfig(dataset=str(tsv), target_field="phones")) == "seq2seq"


@pytest.mark.parametrize(("old", "new"), sorted(OLD_TASK_NAMES.items()))
def test_old_task_names_are_migrated(old, new, caplog):
    with caplog.at_level("WARNING", logger="scratchlm.config"):
        cfg = config_from_dict({"data": {"task": old}})
    assert cfg.data.task == new
    assert [r.getMessage() for r in caplog.records] == [
        f"config keys of an earlier version, read as: data.task: {old} -> {new} (docs/configuration.md)"
    ]


def test_make_task_runs_the_tasks_checks():
    with pytest.raises(ConfigError, match="model.head=crf is a tagger head"):
        make_task(config_from_dict({"data": {"task": "classification"}, "model": {"head": "crf"}}))


def _string_constants(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    }


def test_no_task_is_named_outside_tasks_but_in_the_config_choices():
    """Outside ``tasks/`` no code compares or names a task (the names, and the earlier names that are not
    also endpoint names); the config's list of choices and its migration of old names is the one place."""
    names = set(TASKS) | {"mlm", "clm"}
    naming = sorted(
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.parts[len(SRC.parts)] != "tasks" and _string_constants(path) & names
    )
    assert len(naming) <= 2, naming
