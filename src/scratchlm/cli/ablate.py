"""``scratchlm ablate CONFIG --grid key=v1,v2,... [--grid ...] --seeds N --out DIR``: compare designs.

The experiment (cells, seeds, reuse of finished runs, the tables and the chart) is
:mod:`scratchlm.experiments.ablate`; its docstring is this command's ``--help`` description. The
``--grid`` and ``--set`` keys are any config field by dotted path, checked by the config itself.
Registration uses argparse only; torch loads when the first run trains.
"""

from __future__ import annotations

import argparse

from scratchlm.cli.args import add_set_option
from scratchlm.experiments import ablate as experiment


def cmd_ablate(args: argparse.Namespace) -> int:
    result = experiment.ablate(
        args.config,
        args.grid,
        seeds=args.seeds,
        out=args.out,
        sets=args.set,
        length_factor=args.length_factor,
    )
    if args.json:
        from scratchlm.io import print_json

        print_json({k: v for k, v in result.items() if k != "table"})
    else:
        print(result["table"], end="")
        print(f"wrote {args.out}/results.md, results.csv, runs.csv, results.json, ablation.png")
    return 0


def register(subparsers) -> None:
    doc = experiment.__doc__ or ""
    p = subparsers.add_parser(
        "ablate",
        help="train a grid of config values over several seeds; tables and a chart",
        description=doc.split("\n\n", 2)[2] if doc.count("\n\n") >= 2 else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("config", help="YAML recipe every run starts from")
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="SECTION.KEY=V1,V2,...",
        help="values to compare (repeat for a product of several keys)",
    )
    p.add_argument("--seeds", type=int, default=3, help="runs per cell (default 3)")
    add_set_option(p, help="override for every run")
    p.add_argument(
        "--length-factor",
        type=float,
        default=2.0,
        help="also evaluate at this multiple of data.max_seq_len (default 2)",
    )
    p.add_argument("--out", required=True, help="directory for the runs and the tables")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=cmd_ablate)
