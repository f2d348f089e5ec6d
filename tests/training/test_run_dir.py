"""Run directories written by the previous version keep working: eval and predict give what they gave."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import fuzz_helpers
from scratchlm.cli import main

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runs_v0_1"
TEXTS = {
    "classifier": ["这本书很好看", "质量太差了，不推荐", "一般般"],
    "tagger": ["迈向充满希望的新世纪", "北京是中国的首都"],
}


def _close(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_close, a, b))
    if isinstance(a, float):
        return b == pytest.approx(a, rel=1e-5, abs=1e-6)
    return a == b


@pytest.fixture(params=["classifier", "tagger"])
def old_run(request, tmp_path) -> tuple[str, Path]:
    run = tmp_path / request.param
    shutil.copytree(FIXTURES / request.param, run)
    return request.param, run


def test_old_run_evaluates_the_same(old_run, capsys):
    name, run = old_run
    assert main(["eval", str(run), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = json.loads((FIXTURES / f"{name}.eval.json").read_text(encoding="utf-8"))
    assert _close(expected, out), (expected, out)


def test_old_run_predicts_the_same(old_run, capsys):
    name, run = old_run
    assert main(["predict", str(run), "--json", *TEXTS[name]]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = json.loads((FIXTURES / f"{name}.predict.json").read_text(encoding="utf-8"))
    assert _close(expected, out), (expected, out)


def test_old_run_files_are_untouched(old_run, capsys):
    """Migration happens on read: the old run directory is not rewritten."""
    name, run = old_run
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    main(["predict", str(run), "--json", *TEXTS[name]])
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize("name", ["classifier", "tagger"])
def test_old_recipe_still_trains(name, tmp_path, capsys, caplog):
    """A recipe written for the previous version (old ``data.task`` names, flat model keys) trains; the
    run saves the keys as they are written now, and the load says what it migrated."""
    recipe = FIXTURES.parent / "recipes_v0_1" / f"{name}.yaml"
    out = tmp_path / "run"
    with caplog.at_level("WARNING", logger="scratchlm.config"):
        assert main(["train", str(recipe), "--out", str(out)]) == 0
    assert "run written to" in capsys.readouterr().out
    meta = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert meta["task"] == {"classifier": "classification", "tagger": "tagging"}[name]
    saved = (out / "config.yaml").read_text(encoding="utf-8")
    assert f"task: {meta['task']}" in saved
    assert "encoder:\n    kind:" in saved and "num_layers" not in saved.split("encoder:")[0]  # nested now
    (notice,) = [r.getMessage() for r in caplog.records if r.name == "scratchlm.config"]  # one line per load
    if name == "tagger":
        assert "data.task: tag -> tagging" in notice and "model.encoder -> model.encoder.kind" in notice
    else:
        assert "model.rope_base -> model.positional.rope_base" in notice


DAMAGED = ["run.json", "model.safetensors", "tokenizer/tokenizer.json", "tokenizer/vocab.txt", "config.yaml"]


@pytest.fixture(scope="module")
def sound_run(tmp_path_factory):
    from scratchlm.serve.synthetic import write_tiny_run

    return write_tiny_run(tmp_path_factory.mktemp("sound"))


@pytest.mark.parametrize("name", DAMAGED)
def test_a_damaged_run_file_is_one_line_naming_it(sound_run, tmp_path, capsys, name):
    """A file cut in half (a full disk, a copy interrupted): every command that loads the run says which
    file, in one line, with no traceback."""
    run = tmp_path / "run"
    shutil.copytree(sound_run, run)
    data = (run / name).read_bytes()
    (run / name).write_bytes(data[: len(data) // 2])
    for command in (
        ["eval", str(run)],
        ["predict", str(run), "好"],
        ["export", "hf", str(run), "--out", str(tmp_path / "hf")],
        ["serve", str(run), "--port", "1"],
    ):
        assert main(command) == 2, command
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and "\n" not in err, err
        assert str(run / name) in err, (command, err)


@fuzz_helpers.fuzz()
@given(data=st.data())
def test_fuzz_damaged_run_directories_only_scratchlm_errors(sound_run, tmp_path_factory, data):
    """A run with one file damaged (cut, overwritten, extended, emptied, replaced): load_run gives a run
    that predicts, or one ScratchLMError, never a traceback."""
    from scratchlm.errors import ScratchLMError
    from scratchlm.predict.classify import classify_texts
    from scratchlm.training.run_dir import load_run

    run = tmp_path_factory.mktemp("damaged") / "run"
    shutil.copytree(sound_run, run)
    files = sorted(p for p in run.rglob("*") if p.is_file() and p.suffix != ".jsonl")
    fuzz_helpers.damage_file(data.draw, data.draw(st.sampled_from(files)))
    try:
        loaded = load_run(run)
    except ScratchLMError as exc:
        assert "\n" not in str(exc)
        return
    assert len(classify_texts(loaded, ["好书，值得一读。"])) == 1
