"""Compare designs: a grid of config values, each trained over several seeds, in tables and a chart.

The command is ``scratchlm ablate CONFIG --grid key=v1,v2,... [--grid ...] --seeds N --out DIR``
(:mod:`scratchlm.cli.ablate`); :func:`ablate` is the same from Python.

Every combination of the ``--grid`` values (the cells) is trained ``--seeds`` times (seeds
``train.seed``, ``train.seed + 1``, ...) from the same recipe, each run in ``DIR/runs/<cell>-seed<k>/``.
A run that already finished (its ``metrics.json`` is there) is not trained again, so an ablation that
was stopped continues where it was, and adding a seed trains only the new runs.

Besides dev and test accuracy each text run is measured beyond its training length (an image run on
test images with their patches shuffled instead, :mod:`scratchlm.experiments.ablate_images`): the test split is
encoded again with ``--length-factor`` (default 2) times ``data.max_seq_len`` and evaluated, on all
texts and on the "long" ones (texts that were truncated at the training length). A positional
encoding that cannot go past its table (``learned``) gets ``n/a`` with the reason instead of a number.

Written to ``DIR``: ``runs.csv`` (one row a run), ``results.csv`` and ``results.md`` (one row a cell:
mean and sample standard deviation over seeds), ``results.json`` (both) and ``ablation.png`` (test
accuracy per cell, with the longer-input accuracy beside it). Cells whose combination the config rejects
(e.g. ``positional.combine: concat`` with ``positional.kind: rope``) are listed as skipped with the reason; nothing is
trained for them, and the check runs before any training starts.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import math
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from scratchlm.config import apply_overrides, config_from_dict, parse_override, read_yaml
from scratchlm.errors import ConfigError

log = logging.getLogger(__name__)

METRICS = (
    "dev_accuracy",
    "test_accuracy",
    "test_macro_f1",
    "long_test_accuracy",
    "long_test_accuracy_at_len",
)
"""Per-run numbers averaged per cell (``*_at_len``: evaluated at ``length_factor x max_seq_len``)."""


def _short(key: str) -> str:
    """A grid key's name in cell names: its last part, or its section's for a ``kind``
    (``model.positional.kind`` -> ``positional``, ``model.encoder.num_layers`` -> ``num_layers``)."""
    parts = key.split(".")
    return parts[-2] if parts[-1] == "kind" and len(parts) > 2 else parts[-1]


@dataclass
class Cell:
    """One combination of grid values."""

    values: dict[str, str]
    skipped: str | None = None  # the config's reason when the combination is invalid
    runs: list[dict] = field(default_factory=list)

    @property
    def name(self) -> str:
        return ",".join(f"{_short(key)}={value}" for key, value in self.values.items())

    @property
    def slug(self) -> str:
        keep = "".join(c if c.isalnum() or c in "._-" else "-" for c in self.name.replace(",", "_"))
        return keep.strip("-") or "base"


def parse_grid(specs: list[str]) -> dict[str, list[str]]:
    """``["model.positional.kind=sinusoidal,rope"]`` -> ``{"model.positional.kind": ["sinusoidal", "rope"]}``
    (a key of an earlier version comes back under its new name)."""
    grid: dict[str, list[str]] = {}
    for spec in specs:
        section, key, raw = parse_override(spec)  # names the key and suggests close ones when unknown
        dotted = f"{section}.{key}"
        values = [v.strip() for v in raw.split(",")]
        if not raw.strip() or any(not v for v in values):
            raise ConfigError(f"--grid {spec!r}: give comma-separated values, e.g. {dotted}=a,b")
        if dotted in grid:
            raise ConfigError(f"--grid {dotted} is given twice; put all its values in one --grid")
        if len(set(values)) != len(values):
            raise ConfigError(f"--grid {spec!r}: a value is repeated")
        grid[dotted] = values
    if not grid:
        raise ConfigError("ablate needs at least one --grid section.key=v1,v2,...")
    return grid


def plan_cells(raw: dict, grid: dict[str, list[str]], sets: list[str]) -> list[Cell]:
    """Every combination, checked against the config before anything is trained.

    A value no cell can use (a typo, a wrong type, or one that fits none of the other values) is an
    error; a combination the config rejects (values that work elsewhere in the grid but not together)
    becomes a skipped cell with the reason."""
    cells = []
    keys = list(grid)
    for combo in itertools.product(*(grid[k] for k in keys)):
        values = dict(zip(keys, combo, strict=True))
        cell = Cell(values)
        try:
            config_from_dict(apply_overrides(raw, sets + [f"{k}={v}" for k, v in values.items()]))
        except ConfigError as exc:
            cell.skipped = str(exc)
        cells.append(cell)
    for key, options in grid.items():
        for value in options:
            mine = [c for c in cells if c.values[key] == value]
            if all(c.skipped for c in mine):
                raise ConfigError(f"--grid {key}={value}: {mine[0].skipped}")
    return cells


def _long_eval(run_dir: Path, factor: float) -> dict:
    """Test accuracy at ``factor x max_seq_len``, on all texts and on those longer than the training length."""
    from scratchlm.data import load_classification_data
    from scratchlm.tasks.classification import evaluate_ids
    from scratchlm.training.loop import encode_split, subsample
    from scratchlm.training.run_dir import load_run

    run = load_run(run_dir)
    cfg = run.config
    data = load_classification_data(cfg.data)
    examples = subsample(data.split("test"), cfg.data.max_eval_examples, cfg.train.seed)
    label_ids = {label: i for i, label in enumerate(run.labels)}
    length = cfg.data.max_seq_len
    longer = max(length + 1, int(round(length * factor)))
    at_train = encode_split(run.tokenizer, examples, label_ids, length, cfg.data.truncation)
    at_len = encode_split(run.tokenizer, examples, label_ids, longer, cfg.data.truncation)
    # the texts truncated at the training length: the longer encoding holds more of them
    long_rows = [i for i in range(len(examples)) if len(at_len.seqs[i]) > len(at_train.seqs[i])]

    def accuracy(enc, rows) -> float | None:
        if not rows:
            return None
        metrics = evaluate_ids(
            run.model,
            [enc.seqs[i] for i in rows],
            [enc.labels[i] for i in rows],
            run.labels,
            run.tokenizer.vocab.pad_id,
            cfg.train.eval_batch_size,
        )
        return metrics["accuracy"]

    out = {
        "long_texts": len(long_rows),
        "eval_length": longer,
        "long_test_accuracy": accuracy(at_train, long_rows),
    }
    try:
        out["test_accuracy_at_len"] = accuracy(at_len, list(range(len(examples))))
        out["long_test_accuracy_at_len"] = accuracy(at_len, long_rows)
    except ValueError as exc:  # learned positions: no vector past the table
        if "cannot extrapolate" not in str(exc):
            raise
        out["test_accuracy_at_len"] = out["long_test_accuracy_at_len"] = None
        out["at_len_note"] = str(exc)
    return out


def _extra_eval(run_dir: Path, factor: float) -> dict:
    """Text: accuracy beyond the training length; images: accuracy with the patches shuffled."""
    from scratchlm.experiments import ablate_images

    if ablate_images.is_image_run(run_dir):
        return ablate_images.measure(run_dir)
    return _long_eval(run_dir, factor)


def _params(run_dir: Path) -> int:
    from scratchlm.training.run_dir import load_run

    return sum(p.numel() for p in load_run(run_dir).model.parameters())


def run_one(raw: dict, sets: list[str], cell: Cell, seed: int, out: Path, factor: float) -> dict:
    """Train (unless already finished) and measure one run of a cell."""
    from scratchlm.training.loop import train

    run_dir = out / "runs" / f"{cell.slug}-seed{seed}"
    overrides = sets + [f"{k}={v}" for k, v in cell.values.items()] + [f"train.seed={seed}"]
    cfg = config_from_dict(apply_overrides(raw, overrides))
    record_path = run_dir / "ablation.json"
    if record_path.is_file() and (run_dir / "metrics.json").is_file():
        log.info("%s seed %d: finished before, reusing %s", cell.name, seed, run_dir)
        return json.loads(record_path.read_text(encoding="utf-8"))
    if run_dir.exists():  # an interrupted run: start it again from nothing
        import shutil

        shutil.rmtree(run_dir)
    log.info("%s seed %d: training into %s", cell.name, seed, run_dir)
    start = time.perf_counter()
    metrics = train(cfg, run_dir)
    seconds = time.perf_counter() - start
    record = {
        **cell.values,
        "seed": seed,
        "dev_accuracy": metrics["dev"]["accuracy"],
        "test_accuracy": metrics.get("test", {}).get("accuracy"),
        "test_macro_f1": metrics.get("test", {}).get("macro_f1"),
        "train_seconds": round(seconds, 2),
        "parameters": _params(run_dir),
        **(_extra_eval(run_dir, factor) if "test" in metrics else {}),
    }
    from scratchlm.io import atomic_write_json

    atomic_write_json(record_path, record)
    return record


def _mean_std(values: list) -> tuple[float | None, float | None]:
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarise(cells: list[Cell]) -> list[dict]:
    rows = []
    for cell in cells:
        row: dict = {**cell.values, "seeds": len(cell.runs)}
        if cell.skipped:
            row["skipped"] = cell.skipped
            rows.append(row)
            continue
        from scratchlm.experiments.ablate_images import METRICS as IMAGE_METRICS

        for key in (*METRICS, *IMAGE_METRICS, "test_accuracy_at_len", "train_seconds"):
            mean, std = _mean_std([r.get(key) for r in cell.runs])
            row[f"{key}_mean"], row[f"{key}_std"] = mean, std
        notes = {r["at_len_note"] for r in cell.runs if r.get("at_len_note")}
        if notes:
            row["at_len_note"] = sorted(notes)[0]
        row["parameters"] = cell.runs[0]["parameters"] if cell.runs else None
        row["long_texts"] = cell.runs[0].get("long_texts") if cell.runs else None
        rows.append(row)
    return rows


def _pm(row: dict, key: str) -> str:
    mean, std = row.get(f"{key}_mean"), row.get(f"{key}_std")
    return "n/a" if mean is None else f"{mean:.4f} ± {std:.4f}"


def _images(rows: list[dict]) -> bool:
    return any(row.get("shuffled_test_accuracy_mean") is not None for row in rows)


def _text_heads(factor: float) -> list[str]:
    return [
        "dev acc",
        "test acc",
        "test macro-F1",
        "long texts acc",
        f"long texts acc at {factor:g}x length",
        f"test acc at {factor:g}x length",
    ]


def _text_cells(row: dict) -> list[str]:
    note = row.get("at_len_note")
    return [
        _pm(row, "dev_accuracy"),
        _pm(row, "test_accuracy"),
        _pm(row, "test_macro_f1"),
        _pm(row, "long_test_accuracy"),
        "n/a (cannot extrapolate)" if note else _pm(row, "long_test_accuracy_at_len"),
        "n/a" if note else _pm(row, "test_accuracy_at_len"),
    ]


def markdown_table(rows: list[dict], keys: list[str], factor: float) -> str:
    """One row a cell: the grid's values, the task's scores (mean ± std over seeds), time, parameters."""
    if _images(rows):
        from scratchlm.experiments import ablate_images

        heads, cells_of = ablate_images.TABLE_HEADS, lambda row: ablate_images.table_cells(row, _pm)
    else:
        heads, cells_of = _text_heads(factor), _text_cells
    head = [_short(k) for k in keys] + heads + ["train s", "parameters"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [str(row[k]) for k in keys]
        if row.get("skipped"):
            reason = row["skipped"].replace("|", "/")
            lines.append(
                "| " + " | ".join(cells + [f"skipped: {reason}"] + [""] * (len(head) - len(cells) - 1)) + " |"
            )
            continue
        secs = row.get("train_seconds_mean")
        cells += cells_of(row) + [
            "n/a" if secs is None else f"{secs:.1f}",
            f"{row['parameters']:,}" if row.get("parameters") else "n/a",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _csv(rows: list[dict]) -> str:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buf.getvalue()


def plot(rows: list[dict], keys: list[str], out: Path, factor: float) -> Path:
    """Per cell: test accuracy, and the long texts' accuracy at the training length and at ``factor`` x."""
    from scratchlm.viz import plots

    plt = plots._plt()
    shown = [r for r in rows if not r.get("skipped")]
    labels = [",".join(str(r[k]) for k in keys) for r in shown]
    series = [
        ("test_accuracy", "test accuracy"),
        ("long_test_accuracy", "long texts, training length"),
        ("long_test_accuracy_at_len", f"long texts, {factor:g}x length"),
    ]
    if _images(rows):
        from scratchlm.experiments.ablate_images import SERIES

        series = list(SERIES)
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(shown) + 2), 4.6))
    lows = [
        r[f"{k}_mean"] - (r.get(f"{k}_std") or 0)
        for r in shown
        for k, _ in series
        if r.get(f"{k}_mean") is not None
    ]
    bottom = max(0.0, math.floor((min(lows) - 0.05) * 20) / 20) if lows else 0.0
    for j, (key, name) in enumerate(series):
        shift = (j - (len(series) - 1) / 2) * width
        means = [r.get(f"{key}_mean") for r in shown]
        ax.bar(
            [i + shift for i in range(len(shown))],
            [m if m is not None else 0.0 for m in means],
            width,
            yerr=[r.get(f"{key}_std") or 0.0 for r in shown],
            capsize=2,
            label=name,
        )
        for i, m in enumerate(means):
            if m is None:
                ax.text(i + shift, bottom + 0.005, "n/a", ha="center", va="bottom", fontsize=7, rotation=90)
    ax.set_ylim(
        bottom,
        min(
            1.0,
            max(
                (r[f"{k}_mean"] + (r.get(f"{k}_std") or 0))
                for r in shown
                for k, _ in series
                if r.get(f"{k}_mean") is not None
            )
            + 0.06,
        )
        if lows
        else 1.0,
    )
    ax.set_xticks(range(len(shown)), labels, rotation=30, ha="right")
    ax.set_ylabel("accuracy (mean ± std over seeds)")
    ax.set_title(" x ".join(_short(k) for k in keys))
    ax.legend(loc="upper left", ncols=len(series), fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    plots._save(fig, out)
    return out


def ablate(
    config: str | Path,
    grid_specs: list[str],
    *,
    seeds: int,
    out: str | Path,
    sets: list[str] | None = None,
    length_factor: float = 2.0,
) -> dict:
    """Run the grid and write the tables and the chart; returns ``{"cells": [...], "runs": [...]}``."""
    if seeds < 1:
        raise ConfigError(f"--seeds {seeds}: must be >= 1")
    if not length_factor > 1:
        raise ConfigError(f"--length-factor {length_factor}: must be > 1 (it multiplies data.max_seq_len)")
    given = list(sets or [])
    # keys of earlier versions under their new names once, here (one notice), not again in every cell
    sets = [f"{section}.{key}={value}" for section, key, value in map(parse_override, given)]
    grid = parse_grid(grid_specs)
    if any(s.startswith("train.seed=") for s in sets) or "train.seed" in grid:
        raise ConfigError("ablate sets train.seed itself (--seeds N runs seeds base..base+N-1); remove it")
    raw = apply_overrides(read_yaml(config), given, source=config)
    try:
        base = config_from_dict(apply_overrides(raw, sets))
    except ConfigError as exc:
        raise ConfigError(f"{config}: {exc}") from None
    cells = plan_cells(raw, grid, sets)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    todo = [c for c in cells if not c.skipped]
    for cell in cells:
        if cell.skipped:
            log.warning("skipping %s: %s", cell.name, cell.skipped)
    log.info("ablation: %d cells x %d seeds = %d runs into %s", len(todo), seeds, len(todo) * seeds, out)
    all_runs = []
    for cell in todo:
        for k in range(seeds):
            record = run_one(raw, sets, cell, base.train.seed + k, out, length_factor)
            cell.runs.append(record)
            all_runs.append(record)
    keys = list(grid)
    rows = summarise(cells)
    from scratchlm.io import atomic_write_json, atomic_write_text

    atomic_write_text(out / "runs.csv", _csv(all_runs))
    atomic_write_text(out / "results.csv", _csv(rows))
    table = markdown_table(rows, keys, length_factor)
    atomic_write_text(out / "results.md", table)
    result = {
        "config": str(config),
        "grid": grid,
        "sets": sets,
        "seeds": seeds,
        "cells": rows,
        "runs": all_runs,
    }
    atomic_write_json(out / "results.json", result)
    try:
        plot(rows, keys, out / "ablation.png", length_factor)
    except Exception as exc:  # the tables are the result; a failed chart must not lose them
        log.warning("could not draw the chart: %s", exc)
    return result | {"table": table}


__all__ = ["ablate", "parse_grid", "plan_cells"]
