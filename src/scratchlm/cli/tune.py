"""``scratchlm tune CONFIG --space KEY=SPEC [...] --trials N --out DIR``: an Optuna study over config
fields (:mod:`scratchlm.experiments.tune`, whose docstring is the ``--help`` description). Registration
uses argparse only; Optuna and torch load when the command runs."""

from __future__ import annotations

import argparse

from scratchlm.cli.args import add_set_option


def cmd_tune(args: argparse.Namespace) -> int:
    from scratchlm.errors import ConfigError
    from scratchlm.experiments.tune import tune

    if args.trials < 1:
        raise ConfigError(f"--trials {args.trials}: must be >= 1")
    if args.startup_trials < 0:
        raise ConfigError(f"--startup-trials {args.startup_trials}: must be >= 0")
    result = tune(args.config, args.space, trials=args.trials, out=args.out, sets=args.set,
                  startup_trials=args.startup_trials)  # fmt: skip
    if args.json:
        from scratchlm.io import print_json

        print_json({k: v for k, v in result.items() if k != "table"})
        return 0
    print(result["table"], end="")
    best = result["best"]
    if best:
        print(f"best: trial {best['trial']}, dev score {best['dev_score']:.4f} ({best['run']})")
    files = ["best.yaml"] * bool(best) + ["trials.md", "trials.csv", *result["plots"], "study.db"]
    print(f"wrote {args.out}/: {', '.join(files)}")
    return 0


def register(subparsers) -> None:
    from scratchlm.experiments import tune as experiment

    doc = experiment.__doc__ or ""
    p = subparsers.add_parser(
        "tune",
        help="tune config fields with Optuna (median pruning, a resumable SQLite study, best.yaml, plots)",
        description=doc.split("\n\n", 1)[1] if "\n\n" in doc else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", help="YAML recipe every trial starts from")
    p.add_argument(
        "--space",
        action="append",
        default=[],
        metavar="SECTION.KEY=SPEC",
        help="a field to tune: loguniform:LOW:HIGH, uniform:LOW:HIGH, int:LOW:HIGH or V1,V2,... (repeat)",
    )
    p.add_argument(
        "--trials", type=int, default=20, help="finished trials the study should hold (default 20)"
    )
    p.add_argument(
        "--startup-trials",
        type=int,
        default=5,
        help="finished trials before the median pruner stops any (default 5, Optuna's)",
    )
    add_set_option(p, help="override for every trial")
    p.add_argument("--out", required=True, help="directory for the study, the trials' runs and the results")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_tune)
