"""``scratchlm predict RUN [TEXT ...]``: a run's predictions on texts, through its task; ``--input`` for files."""

from __future__ import annotations

import argparse
import sys

from scratchlm.cli.run_options import add_run_options
from scratchlm.io import print_json as _print_json


def cmd_predict(args: argparse.Namespace) -> int:
    from scratchlm.errors import ConfigError
    from scratchlm.training.run_dir import load_run

    if args.batch_size is not None and args.batch_size < 1:
        raise ConfigError(f"--batch-size {args.batch_size}: must be >= 1")
    if args.input:
        if args.texts:
            raise ConfigError("predict takes TEXT arguments or --input FILE.jsonl, not both")
        return _predict_file(args)
    if args.output:
        raise ConfigError("--output needs --input FILE.jsonl (TEXT arguments print to stdout)")
    texts = _predict_texts(args)
    run = load_run(args.run)
    task = run.handler(beam_size=args.beam_size)
    results = task.predict(run, texts, args.batch_size or run.config.train.eval_batch_size)
    if args.json:
        _print_json(results)
    else:
        for r in results:
            print(task.prediction_line(r))
    note = task.prediction_note(results, run)
    if note:
        print(note, file=sys.stderr)
    return 0


def _predict_texts(args: argparse.Namespace) -> list[str]:
    """The TEXT arguments, or the non-empty lines of stdin; an empty text is an error naming it."""
    from scratchlm.errors import DataError

    texts = list(args.texts)
    if not texts:
        if sys.stdin is None or sys.stdin.isatty():
            raise DataError("predict needs TEXT arguments, lines on stdin, or --input FILE.jsonl")
        texts = [line.rstrip("\n") for line in sys.stdin]
        texts = [t for t in texts if t.strip()]
        if not texts:
            raise DataError("predict: stdin had no non-empty lines")
    for i, text in enumerate(texts, 1):
        if not text.strip():
            raise DataError(f"predict: text {i} is empty; give non-empty texts")
    return texts


def _predict_file(args: argparse.Namespace) -> int:
    from scratchlm.errors import ConfigError
    from scratchlm.serve.offline import predict_file
    from scratchlm.training.run_dir import load_run

    run = load_run(args.run)
    if not run.handler().predicts_files:
        raise ConfigError(
            f"predict --input reads files for classifier runs; {args.run} is a {run.task} run: give TEXT "
            "arguments or lines on stdin"
        )
    text_field = args.text_field or run.config.data.text_field
    summary = predict_file(
        run,
        args.input,
        args.output,
        batch_size=args.batch_size or run.config.train.eval_batch_size,
        text_field=text_field,
    )
    where = args.output or "stdout"
    counts = ", ".join(f"{label} {n}" for label, n in sorted(summary["labels"].items()))
    print(
        f"{summary['records']} predictions written to {where} in {summary['seconds']:.1f}s "
        f"({summary['texts_per_second']} texts/s): {counts}"
        + (
            f"; {summary['truncated']} text(s) truncated to {run.max_seq_len} tokens"
            if summary["truncated"]
            else ""
        ),
        file=sys.stderr,
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    pr = sub.add_parser("predict", help="label texts (arguments, lines on stdin, or a JSONL file)")
    add_run_options(pr)
    pr.add_argument("texts", nargs="*")
    pr.add_argument("--json", action="store_true", help="TEXT/stdin mode: print results as JSON")
    pr.add_argument(
        "--input",
        metavar="FILE.jsonl",
        help="label every line of a JSONL file (objects with a text key, or strings), or every row of a .parquet file or saved datasets folder",
    )
    pr.add_argument(
        "--output",
        metavar="OUT.jsonl",
        help="with --input: write each record plus its prediction here (default: stdout)",
    )
    pr.add_argument(
        "--text-field", default=None, help="with --input: the key holding the text (default: the run's)"
    )
    pr.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="most texts per forward pass (default: the run's eval batch)",
    )
    pr.set_defaults(func=cmd_predict)
