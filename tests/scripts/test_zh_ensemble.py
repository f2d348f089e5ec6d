"""scripts/zh_ensemble.py: every case has a row, each run's accuracy equals its own predictions' on the
stored texts, and a config with more than two labels is a one-line refusal."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from scratchlm.config import load_config
from scratchlm.predict.classify import classify_texts
from scratchlm.serve.synthetic import write_random_run
from scratchlm.training.run_dir import load_run

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "zh_ensemble.py"
spec = importlib.util.spec_from_file_location("zh_ensemble", SCRIPT)
ens = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ens)


def _data(path: Path, labels: tuple[str, ...] = ("neg", "pos")) -> Path:
    rows = [
        {"text": f"{'很好 喜欢' if i % 2 else '太差 失望'} 第{i}次", "label": labels[i % len(labels)]}
        for i in range(120)
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_table_rows_match_the_runs_predictions(tmp_path: Path, capsys) -> None:
    sets = [f"data.dataset={_data(tmp_path / 'd.jsonl')}", "data.task=classification"]
    cfg = load_config("configs/tiny_test.yaml", sets)
    texts = [
        json.loads(line)["text"] for line in (tmp_path / "d.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    runs = [str(write_random_run(tmp_path / f"r{i}", cfg, texts, ["neg", "pos"], seed=i)) for i in range(2)]
    args = ["configs/tiny_test.yaml", *runs]
    assert ens.main([*args, "--features", "char1-3", *[a for s in sets for a in ("--set", s)]]) == 0
    rows = {r.split(" | ")[0][2:]: r.split(" | ")[1:] for r in capsys.readouterr().out.splitlines()[2:]}
    assert set(rows) == {
        "linear (char1-3, C=2)",
        "runs averaged",
        "runs + linear",
        *runs,
        *(f"{r} + linear" for r in runs),
    }
    from scratchlm.data.load import load_classification_data

    data = load_classification_data(cfg.data)
    test = data.splits["test"]
    for run in runs:
        preds = classify_texts(load_run(run), [e.text for e in test])
        acc = sum(p["label"] == e.label for p, e in zip(preds, test, strict=True)) / len(test)
        assert float(rows[run][1].rstrip(" |")) == round(acc, 4)


def test_three_labels_are_refused(tmp_path: Path, capsys) -> None:
    sets = [f"data.dataset={_data(tmp_path / 'd.jsonl', ('a', 'b', 'c'))}", "data.task=classification"]
    assert ens.main(["configs/tiny_test.yaml", "unused-run", *[a for s in sets for a in ("--set", s)]]) == 2
    assert "3 labels; this script averages two-label runs" in capsys.readouterr().err
