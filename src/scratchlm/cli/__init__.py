"""``scratchlm <command>``: one entry point, a dict of subcommand -> function.

Imports are lazy (torch is loaded only by the commands that need it), so ``scratchlm --help`` and
``scratchlm data list`` start fast. Errors a user can fix print one line and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from scratchlm.io import print_json as _print_json

EXIT_USAGE = 2


# ---------------------------------------------------------------------------------------------- train
def cmd_train(args: argparse.Namespace) -> int:
    from scratchlm.config import load_config
    from scratchlm.errors import ConfigError
    from scratchlm.training.loop import train

    if args.resume:
        if args.config or args.set:
            raise ConfigError(
                "--resume RUN continues with the run's saved config; give no CONFIG or --set with it"
            )
        metrics = train(None, args.resume, resume=True, device=args.device)
        _print_run_written(args.resume, metrics)
        return 0
    if not args.config or not args.out:
        raise ConfigError("train needs CONFIG.yaml and --out DIR (or --resume RUN)")
    cfg = load_config(args.config, args.set)
    metrics = train(cfg, args.out, device=args.device)
    _print_run_written(args.out, metrics)
    return 0


def _print_run_written(out: str, metrics: dict) -> None:
    if "dev" not in metrics:  # a DDP process other than rank 0
        return
    from scratchlm.tasks.registry import task_class

    print(task_class(metrics["task"])(None).written_line(out, metrics))


# ----------------------------------------------------------------------------------------------- eval
def cmd_eval(args: argparse.Namespace) -> int:
    """``eval`` of any run through its task: ``--data FILE`` or the dataset's ``--split``."""
    from scratchlm.errors import DataError
    from scratchlm.training.loop import subsample
    from scratchlm.training.run_dir import load_run

    run = load_run(args.run)
    task = run.handler(beam_size=args.beam_size)
    cfg = run.config
    if args.data:
        examples = task.read_file(args.data, run.labels)
        where = args.data
    else:
        task.load()
        examples = subsample(task.split(args.split), cfg.data.max_eval_examples, cfg.train.seed)
        where = f"{task.data.name} {args.split}"
    if not examples:
        raise DataError(f"{where}: no {task.metric_noun} to evaluate")
    enc = task.encode(run.tokenizer, examples, run.labels)
    pad_id = run.tokenizer.vocab.pad_id
    metrics = task.evaluate(run.model, enc, run.labels, pad_id, cfg.train.eval_batch_size, "cpu")
    metrics.update(task.extra_metrics(enc), **task.extra_eval_metrics())
    if args.json:
        _print_json(metrics)
    else:
        print(task.format(metrics, f"{args.run} on {where}{task.eval_title()}"))
        line = task.eval_note(enc)
        if line:
            print(line)
    return 0


# -------------------------------------------------------------------------------------------- predict
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
    if "classify" not in run.handler().endpoints:
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


# -------------------------------------------------------------------------------------------- summary
def cmd_summary(args: argparse.Namespace) -> int:
    from pathlib import Path

    import torch

    from scratchlm.config import load_config
    from scratchlm.tasks.registry import make_task
    from scratchlm.training.run_dir import is_run_dir, load_run
    from scratchlm.viz.summary import summarize

    target = Path(args.target)
    if target.is_dir() and is_run_dir(target):
        if args.set:
            from scratchlm.errors import ConfigError

            raise ConfigError("summary RUN shows the run as trained; --set applies only to a CONFIG.yaml")
        run = load_run(target)
        model, cfg, vocab_size = run.model, run.config, len(run.tokenizer.vocab)
        title = f"run {target}"
    else:
        import dataclasses

        cfg = load_config(target, args.set)
        vocab_size = args.vocab_size
        task = make_task(cfg)
        labels, changes = task.placeholder_labels(args.num_classes)
        cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, task=task.name, **changes))
        task = type(task)(cfg)
        model = task.build_model(vocab_size, len(labels), 0, labels)
        title = f"config {target} (vocabulary {vocab_size}, {task.summary_note(labels, args.num_classes)})"
    ids = torch.randint(5, vocab_size, (args.batch, min(args.seq_len, cfg.data.max_seq_len)))
    print(title)
    print(summarize(model, ids))
    return 0


# ------------------------------------------------------------------------------------------- baseline
def cmd_baseline(args: argparse.Namespace) -> int:
    from scratchlm.config import load_config
    from scratchlm.experiments.baseline import tfidf_logreg
    from scratchlm.tasks.metrics import format_metrics

    cfg = load_config(args.config, args.set)
    result = tfidf_logreg(cfg, C=args.C)
    if args.json:
        _print_json(result)
    else:
        print(f"{result['model']} trained on {result['train_examples']} examples in {result['seconds']}s")
        for split in ("dev", "test"):
            if split in result:
                print(format_metrics(result[split], split))
    return 0


# ------------------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from scratchlm import __version__

    p = argparse.ArgumentParser(
        prog="scratchlm", description="Build, train and inspect text encoders from scratch."
    )
    p.add_argument("--version", action="version", version=f"scratchlm {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    t = sub.add_parser("train", help="train a model from a YAML recipe")
    t.add_argument("config", nargs="?", help="YAML recipe, e.g. configs/zh_sentiment.yaml")
    t.add_argument(
        "--set", action="append", default=[], metavar="SECTION.KEY=VALUE", help="override a config value"
    )
    t.add_argument("--out", help="run directory to create")
    t.add_argument("--resume", metavar="RUN", help="continue a run from its newest checkpoint")
    t.add_argument("--device", default="cpu", help="cpu or cuda (default: cpu)")
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="evaluate a run on a split or a labelled file")
    e.add_argument("run")
    e.add_argument("--split", default="test", choices=["test", "dev", "train"])
    e.add_argument(
        "--data", help="a labelled jsonl/csv/tsv file (a tagger: tagged .jsonl/.txt) instead of a split"
    )
    e.add_argument("--json", action="store_true")
    e.add_argument(
        "--beam-size", type=int, default=None, help="seq2seq: beam size (default: the run's model.beam_size)"
    )
    e.set_defaults(func=cmd_eval)

    pr = sub.add_parser("predict", help="label texts (arguments, lines on stdin, or a JSONL file)")
    pr.add_argument("run")
    pr.add_argument("texts", nargs="*")
    pr.add_argument("--json", action="store_true", help="TEXT/stdin mode: print results as JSON")
    pr.add_argument(
        "--input",
        metavar="FILE.jsonl",
        help="label every line of a JSONL file (objects with a text key, or strings)",
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
    pr.add_argument(
        "--beam-size", type=int, default=None, help="seq2seq: beam size (default: the run's model.beam_size)"
    )
    pr.set_defaults(func=cmd_predict)

    s = sub.add_parser("summary", help="layer table of a config or a run")
    s.add_argument("target", help="CONFIG.yaml or RUN directory")
    s.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    s.add_argument("--vocab-size", type=int, default=5000, help="for a config: vocabulary size to assume")
    s.add_argument(
        "--num-classes",
        type=int,
        default=2,
        help="for a config: number of classes (tags, for a tagger on a user file) to assume",
    )
    s.add_argument("--batch", type=int, default=2)
    s.add_argument("--seq-len", type=int, default=64)
    s.set_defaults(func=cmd_summary)

    b = sub.add_parser("baseline", help="TF-IDF char n-grams + logistic regression on the config's data")
    b.add_argument("config")
    b.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    b.add_argument("--C", type=float, default=4.0, help="inverse regularisation strength")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func=cmd_baseline)

    # Command groups that live beside their feature (each module builds its own subparser with
    # argparse only, and imports heavy code inside its handlers).
    for module in EXTENSIONS:
        importlib.import_module(module).register(sub)
    return p


EXTENSIONS: tuple[str, ...] = (
    "scratchlm.cli.data",
    "scratchlm.cli.vectors",
    "scratchlm.cli.serve",
    "scratchlm.cli.export",
    "scratchlm.cli.tokenizer",
    "scratchlm.cli.plot",
    "scratchlm.cli.ablate",
    "scratchlm.cli.transplant",
)
"""Modules with a ``register(subparsers)`` function adding a command group (e.g. ``vectors``)."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # `predict RUN --json TEXT...`: argparse stops collecting TEXT at the option; take the rest back
        if getattr(args, "command", None) == "predict" and not any(e.startswith("-") for e in extra):
            args.texts = [*args.texts, *extra]
        else:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from scratchlm.errors import ScratchLMError

    if args.command in ("train", "eval", "baseline", "ablate"):
        from scratchlm.training.progress import setup_logging

        setup_logging(args.verbose)
    try:
        return args.func(args)
    except ScratchLMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
