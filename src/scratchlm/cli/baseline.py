"""``scratchlm baseline CONFIG``: the strongest ordinary linear baseline on the config's data.

TF-IDF character (and character + word) n-grams + logistic regression; every feature set x C is
scored on dev and the best on dev is reported on test (``experiments/baseline.py``)."""

from __future__ import annotations

import argparse

from scratchlm.cli.args import add_set_option
from scratchlm.io import print_json as _print_json


def cmd_baseline(args: argparse.Namespace) -> int:
    from scratchlm.config import load_config
    from scratchlm.experiments.baseline import C_GRID, FEATURES, linear_baseline
    from scratchlm.tasks.metrics import format_metrics

    cfg = load_config(args.config, args.set)
    result = linear_baseline(
        cfg,
        features=args.features or tuple(FEATURES),
        Cs=[args.C] if args.C is not None else C_GRID,
    )
    if args.json:
        _print_json(result)
        return 0
    if len(result["candidates"]) > 1:
        print(f"{'features':<20}{'C':>6}{'features kept':>15}{'dev acc':>9}")
        for row in result["candidates"]:
            dev = f"{row['dev_accuracy']:.4f}" if "dev_accuracy" in row else "-"
            print(f"{row['features']:<20}{row['C']:>6g}{row['num_features']:>15,}{dev:>9}")
    print(
        f"{result['model']} (selected on {result['selected_on']}) trained on "
        f"{result['train_examples']} examples; {len(result['candidates'])} candidates in {result['seconds']}s"
    )
    for split in ("dev", "test"):
        if split in result:
            print(format_metrics(result[split], split))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from scratchlm.experiments.baseline import FEATURES

    b = sub.add_parser(
        "baseline",
        help="TF-IDF char/word n-grams + logistic regression, the best on dev, on the config's data",
    )
    b.add_argument("config")
    add_set_option(b)
    b.add_argument(
        "--C",
        type=float,
        default=None,
        help="fix the inverse regularisation strength (default: chosen on dev)",
    )
    b.add_argument(
        "--features",
        action="append",
        choices=tuple(FEATURES),
        help="feature set(s) to try (repeatable; default: all, the best on dev is kept)",
    )
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_baseline)
