"""Tune hyperparameters with Optuna: ``scratchlm tune CONFIG --space KEY=SPEC ... --trials N --out DIR``.

Each trial draws a value for every ``--space`` field (:mod:`.tune_space`; Optuna's TPE sampler, seeded
with ``train.seed``), trains the recipe with them into ``DIR/trials/trial-NNNN/`` and scores it by the
dev metric that picks a run's weights (classifier: accuracy; tagger: F1; ...) of its best weights. After
every dev evaluation (each epoch, or every ``train.eval_every`` steps) the trial reports its dev score,
and Optuna's median pruner stops it when that score is below the median of the earlier trials at the
same evaluation (after ``--startup-trials`` trials have finished). A stopped trial keeps its run
directory, finished at the weights it had, and is recorded as pruned.

The study lives in ``DIR/study.db`` (SQLite): running the same command again continues it up to
``--trials`` finished trials in all (a trial that was running when the process died is marked failed by
Optuna's heartbeat and its directory trained again). Written to ``DIR`` after each trial:
``best.yaml`` (the recipe with the best trial's values: ``scratchlm train DIR/best.yaml``),
``trials.csv`` and ``trials.md`` (one row a trial), ``history.png`` (Optuna's optimisation history) and
``importance.png`` (its fANOVA parameter importances; from two finished trials on).
``scratchlm ablate`` stays the command for fixed grids over seeds.
"""

from __future__ import annotations

import csv
import io
import logging
import shutil
import time
import warnings
from pathlib import Path

from scratchlm.config import apply_overrides, config_from_dict, dump_config, read_yaml
from scratchlm.errors import MissingExtraError
from scratchlm.experiments.tune_space import Dimension, check_space, parse_space

log = logging.getLogger(__name__)

STUDY = "scratchlm-tune"
HEARTBEAT_S = 60


def _optuna():
    try:
        import optuna
    except ImportError:
        raise MissingExtraError("scratchlm tune needs Optuna: pip install -e '.[tracking]'") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def open_study(out: Path, seed: int, startup_trials: int):
    """The study in ``out/study.db``, created or continued."""
    optuna = _optuna()
    out.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the heartbeat is marked experimental
        storage = optuna.storages.RDBStorage(
            f"sqlite:///{out / 'study.db'}", heartbeat_interval=HEARTBEAT_S, grace_period=2 * HEARTBEAT_S
        )
    return optuna.create_study(
        study_name=STUDY,
        storage=storage,
        load_if_exists=True,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=startup_trials),
    )


def objective(raw: dict, sets: list[str], dims: list[Dimension], out: Path):
    """The function Optuna calls per trial: train, report each dev evaluation, return the dev score."""
    optuna = _optuna()
    from scratchlm.training.loop import train

    def run(trial) -> float:
        values = {d.key: d.suggest(trial) for d in dims}
        cfg = config_from_dict(apply_overrides(raw, [*sets, *(f"{k}={v}" for k, v in values.items())]))
        run_dir = out / "trials" / f"trial-{trial.number:04d}"
        if run_dir.exists():  # left by a process that died in it
            shutil.rmtree(run_dir)
        trial.set_user_attr("run", str(run_dir))

        pruned_at: list[int] = []

        def on_eval(number: int, score: float) -> bool:
            trial.report(score, number)
            if trial.should_prune():
                pruned_at.append(number)
            return bool(pruned_at)

        start = time.perf_counter()
        metrics = train(cfg, run_dir, on_eval=on_eval)
        trial.set_user_attr("seconds", round(time.perf_counter() - start, 2))
        score = _score(metrics)
        trial.set_user_attr("dev_score", score)
        if pruned_at:
            raise optuna.TrialPruned(f"dev score below the median at evaluation {pruned_at[0]}")
        return score

    return run


def _score(metrics: dict) -> float:
    from scratchlm.tasks.registry import task_class

    return float(metrics["dev"][task_class(metrics["task"]).score_key])


def tune(config: str, space: list[str], *, trials: int, out: str | Path, sets: list[str] | None = None,
         startup_trials: int = 5) -> dict:  # fmt: skip
    """Run (or continue) the study to ``trials`` finished trials; write the best config, tables, plots."""
    out, sets = Path(out), list(sets or [])
    raw = read_yaml(config)
    dims = parse_space(space)
    check_space(raw, dims, sets)
    base = config_from_dict(apply_overrides(raw, sets))
    study = open_study(out, base.train.seed, startup_trials)
    optuna = _optuna()
    done = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    remaining = trials - len(study.get_trials(deepcopy=False, states=done))
    write_outputs = lambda study, _trial: write_results(study, raw, sets, dims, out)  # noqa: E731
    if remaining > 0:
        study.optimize(objective(raw, sets, dims, out), n_trials=remaining, callbacks=[write_outputs])
    else:
        log.info("the study in %s already has %d finished trials", out, trials - remaining)
    return write_results(study, raw, sets, dims, out)


def _rows(study, dims: list[Dimension]) -> list[dict]:
    rows = []
    for t in study.get_trials(deepcopy=False):
        rows.append({
            "trial": t.number,
            "state": t.state.name.lower(),
            **{d.key: t.params.get(d.key) for d in dims},
            "dev_score": t.value if t.value is not None else t.user_attrs.get("dev_score"),
            "evaluations": len(t.intermediate_values),
            "seconds": t.user_attrs.get("seconds"),
        })  # fmt: skip
    return rows


def _markdown(rows: list[dict], best: int | None) -> str:
    keys = list(rows[0]) if rows else []
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        cells = [_cell(r[k]) for k in keys]
        if r["trial"] == best:
            cells[0] += " (best)"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def write_results(study, raw: dict, sets: list[str], dims: list[Dimension], out: Path) -> dict:
    """``best.yaml``, ``trials.csv``, ``trials.md``, ``history.png``, ``importance.png``; the summary."""
    from scratchlm.io import atomic_write_text

    rows = _rows(study, dims)
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    best = max(complete, key=lambda t: t.value) if complete else None
    table = _markdown(rows, best.number if best else None)
    atomic_write_text(out / "trials.md", table)
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    atomic_write_text(out / "trials.csv", buf.getvalue())
    summary = {"out": str(out), "trials": rows, "table": table, "best": None, "plots": _plots(study, out)}
    if best is not None:
        values = [f"{d.key}={d.suggest(best)}" for d in dims]
        cfg = config_from_dict(apply_overrides(raw, [*sets, *values]))
        atomic_write_text(out / "best.yaml", dump_config(cfg))
        summary["best"] = {"trial": best.number, "dev_score": best.value, "params": best.params,
                           "run": best.user_attrs.get("run")}  # fmt: skip
    return summary


def _plots(study, out: Path) -> list[str]:
    """Optuna's own matplotlib figures; importance needs two finished trials with different values."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as ovm

    finished = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    written = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Optuna marks its matplotlib backend experimental
        for name, draw, need in (("history", ovm.plot_optimization_history, 1),
                                 ("importance", ovm.plot_param_importances, 2)):  # fmt: skip
            if len(finished) < need:
                continue
            try:
                ax = draw(study)
            except (ValueError, RuntimeError) as exc:  # e.g. every finished trial has the same value
                log.warning("no %s plot: %s", name, exc)
                continue
            ax.figure.set_size_inches(7, 4)
            ax.figure.tight_layout()
            ax.figure.savefig(out / f"{name}.png", dpi=110)
            plt.close(ax.figure)
            written.append(f"{name}.png")
    return written
