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
    if metrics.get("task") in ("masked_lm", "causal_lm"):
        what = "masked-token" if metrics["task"] == "masked_lm" else "next-token"
        print(
            f"run written to {out}: dev {what} accuracy {metrics['dev']['accuracy']:.4f}, "
            f"perplexity {metrics['dev']['perplexity']:.2f}"
        )
        return
    if metrics.get("task") == "seq2seq":
        test = metrics.get("test")
        print(
            f"run written to {out}: dev WER {metrics['dev']['wer']:.4f} PER {metrics['dev']['per']:.4f}"
            + (f", test WER {test['wer']:.4f} PER {test['per']:.4f}" if test else "")
        )
        return
    if metrics.get("task") == "tagging":
        print(
            f"run written to {out}: dev F1 {metrics['dev']['f1']:.4f}"
            + (f", test F1 {metrics['test']['f1']:.4f}" if "test" in metrics else "")
        )
        return
    print(
        f"run written to {out}: dev accuracy {metrics['dev']['accuracy']:.4f}"
        + (f", test accuracy {metrics['test']['accuracy']:.4f}" if "test" in metrics else "")
    )


# ----------------------------------------------------------------------------------------------- eval
def cmd_eval(args: argparse.Namespace) -> int:
    from scratchlm.data import load_classification_data
    from scratchlm.data.files import read_examples
    from scratchlm.errors import DataError
    from scratchlm.predict.batching import evaluate_ids
    from scratchlm.tasks.metrics import format_metrics
    from scratchlm.training.loop import encode_split
    from scratchlm.training.run_dir import load_run

    run = load_run(args.run)
    cfg = run.config
    if run.task == "tagging":
        return _eval_tagger(run, args)
    if run.task == "seq2seq":
        return _eval_seq2seq(run, args)
    if args.data:
        examples = read_examples(args.data, text_field=cfg.data.text_field, label_field=cfg.data.label_field)
        known = set(run.labels)
        for ex in examples:
            if ex.label not in known:
                raise DataError(
                    f"{ex.source}: label {ex.label!r} is not one the model knows ({', '.join(run.labels)})"
                )
        where = args.data
    else:
        from scratchlm.training.loop import _subsample

        data = load_classification_data(cfg.data)
        examples = _subsample(data.split(args.split), cfg.data.max_eval_examples, cfg.train.seed)
        where = f"{data.name} {args.split}"
        if not examples:
            raise DataError(f"{where}: no examples to evaluate")
    label_ids = {label: i for i, label in enumerate(run.labels)}
    enc = encode_split(run.tokenizer, examples, label_ids, run.max_seq_len, cfg.data.truncation)
    metrics = evaluate_ids(
        run.model, enc.seqs, enc.labels, run.labels, run.tokenizer.vocab.pad_id, cfg.train.eval_batch_size
    )
    metrics["truncated"] = enc.truncated
    if args.json:
        _print_json(metrics)
    else:
        print(format_metrics(metrics, f"{args.run} on {where}"))
        if enc.truncated:
            print(f"{enc.truncated} texts were truncated to {run.max_seq_len} tokens")
    return 0


def _eval_tagger(run, args: argparse.Namespace) -> int:
    from scratchlm.tasks.classification import TaggingTask

    task = TaggingTask(run.config)
    return _eval_task(run, args, task, noun="sentences", note=task.encoding_note)


def _eval_task(run, args: argparse.Namespace, task, *, noun: str, note, title: str = "", **extra) -> int:
    """``eval`` of a tagger or seq2seq run through its task: ``--data FILE`` or the dataset's ``--split``;
    ``note(enc)``: a line printed under the metrics (or ``None``); ``extra``: added to the metrics."""
    from scratchlm.errors import DataError
    from scratchlm.training.loop import _subsample

    cfg = run.config
    if args.data:
        examples = task.read_file(args.data, run.labels)
        where = args.data
    else:
        task.load()
        examples = _subsample(task.data.split(args.split), cfg.data.max_eval_examples, cfg.train.seed)
        where = f"{task.data.name} {args.split}"
    if not examples:
        raise DataError(f"{where}: no {noun} to evaluate")
    enc = task.encode(run.tokenizer, examples, run.labels)
    pad_id = run.tokenizer.vocab.pad_id
    metrics = task.evaluate(run.model, enc, run.labels, pad_id, cfg.train.eval_batch_size, "cpu")
    metrics.update(task.extra_metrics(enc), **extra)
    if args.json:
        _print_json(metrics)
    else:
        print(task.format(metrics, f"{args.run} on {where}{title}"))
        line = note(enc)
        if line:
            print(line)
    return 0


def _seq2seq_task(run, beam_size: int | None):
    """The run's seq2seq task, decoding with ``beam_size`` (None: the run's ``model.beam_size``)."""
    import dataclasses

    from scratchlm.errors import ConfigError
    from scratchlm.tasks.seq2seq import Seq2SeqTask

    cfg = run.config
    if beam_size is not None:
        if beam_size < 1:
            raise ConfigError(f"--beam-size {beam_size}: must be >= 1")
        cfg = dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, beam_size=beam_size))
    return Seq2SeqTask(cfg)


def _eval_seq2seq(run, args: argparse.Namespace) -> int:
    task = _seq2seq_task(run, args.beam_size)
    beam = task.cfg.model.beam_size

    def note(enc) -> str | None:
        return (
            f"{enc.truncated} sources were truncated to {run.max_seq_len} tokens" if enc.truncated else None
        )

    return _eval_task(run, args, task, noun="examples", note=note, title=f" (beam {beam})", beam_size=beam)


# -------------------------------------------------------------------------------------------- predict
def cmd_predict(args: argparse.Namespace) -> int:
    from scratchlm.errors import ConfigError, DataError
    from scratchlm.training.run_dir import load_run

    if args.batch_size is not None and args.batch_size < 1:
        raise ConfigError(f"--batch-size {args.batch_size}: must be >= 1")
    if args.input:
        if args.texts:
            raise ConfigError("predict takes TEXT arguments or --input FILE.jsonl, not both")
        return _predict_file(args)
    if args.output:
        raise ConfigError("--output needs --input FILE.jsonl (TEXT arguments print to stdout)")
    from scratchlm.serve.engine import classify_encoded, encode_texts

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
    run = load_run(args.run)
    if run.task == "tagging":
        return _predict_tags(run, texts, args)
    if run.task == "seq2seq":
        return _predict_seq2seq(run, texts, args)
    encodings = encode_texts(run, texts)
    predictions = classify_encoded(run, encodings, args.batch_size or run.config.train.eval_batch_size)
    truncated = sum(p["truncated"] > 0 for p in predictions)
    results = [
        {
            "text": text,
            "label": p["label"],
            "probabilities": p["probabilities"],
            "logits": p["logits"],
            "input_ids": enc.ids,
            "truncated": p["truncated"],
        }
        for text, enc, p in zip(texts, encodings, predictions, strict=True)
    ]
    if args.json:
        _print_json(results)
    else:
        for r in results:
            print(f"{r['label']}\t{r['probabilities'][r['label']]:.3f}\t{r['text']}")
    if truncated:
        print(f"note: {truncated} text(s) truncated to {run.max_seq_len} tokens", file=sys.stderr)
    return 0


def _predict_tags(run, texts: list[str], args: argparse.Namespace) -> int:
    """Word segmentation prints the words separated by spaces; NER the entities as ``text/TYPE``."""
    from scratchlm.tasks.tagging_units import tag_texts

    results = tag_texts(run, texts, args.batch_size or run.config.train.eval_batch_size)
    if args.json:
        _print_json(results)
        return 0
    for r in results:
        if all(s["type"] == "word" for s in r["spans"]) and r["spans"]:
            print(r["output"])
        else:
            print("  ".join(f"{s['text']}/{s['type']}" for s in r["spans"]) or "(no entities)")
    return 0


def _predict_seq2seq(run, texts: list[str], args: argparse.Namespace) -> int:
    """One line per text: the text, a tab, the output tokens separated by spaces."""
    from scratchlm.tasks.seq2seq import encode_sources

    task = _seq2seq_task(run, args.beam_size)
    d = run.config.data
    sources, truncated = encode_sources(run.tokenizer, texts, d.max_seq_len, d.truncation)
    pad_id = run.tokenizer.vocab.pad_id
    batch_size = args.batch_size or run.config.train.eval_batch_size
    outputs = task.decode(run.model, sources, run.labels, pad_id, batch_size, "cpu")
    if args.json:
        _print_json(
            [
                {"text": t, "output": o, "truncated": len(run.tokenizer.tokenize(t)) > d.max_seq_len}
                for t, o in zip(texts, outputs, strict=True)
            ]
        )
    else:
        for text, output in zip(texts, outputs, strict=True):
            print(f"{text}\t{' '.join(output)}")
    if truncated:
        print(f"note: {truncated} text(s) truncated to {d.max_seq_len} tokens", file=sys.stderr)
    return 0


def _predict_file(args: argparse.Namespace) -> int:
    from scratchlm.errors import ConfigError
    from scratchlm.serve.offline import predict_file
    from scratchlm.training.run_dir import load_run

    run = load_run(args.run)
    if run.task != "classification":
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
    from scratchlm.training.run_dir import build_model, is_run_dir, load_run
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
        cfg = load_config(target, args.set)
        vocab_size = args.vocab_size
        cfg, labels = _summary_task(cfg, args.num_classes)
        model = build_model(cfg, vocab_size, len(labels), 0, labels)
        what = (
            f"{len(labels)} tags ({', '.join(labels)})"
            if cfg.data.task == "tag"
            else f"{len(labels)} output tokens"
            if cfg.data.task == "seq2seq"
            else f"{args.num_classes} classes assumed"
        )
        title = f"config {target} (vocabulary {vocab_size}, {what})"
    ids = torch.randint(5, vocab_size, (args.batch, min(args.seq_len, cfg.data.max_seq_len)))
    print(title)
    print(summarize(model, ids))
    return 0


def _summary_task(cfg, num_classes: int):
    """The config with ``data.task`` resolved, and the label names: a built-in tagging dataset's own
    tags (a seq2seq dataset's output tokens), else ``num_classes`` placeholders."""
    import dataclasses

    from scratchlm.data.builtin import TAGGING_LABELS
    from scratchlm.data.seq2seq import SEQ2SEQ_LABELS
    from scratchlm.data.tagging import resolve_task
    from scratchlm.tokenizers.vocab import SPECIALS

    task = resolve_task(cfg.data)
    labels = [f"class_{i}" for i in range(num_classes)]
    changes = {"task": task}
    if task == "tag" and cfg.data.dataset in TAGGING_LABELS and cfg.data.train_file is None:
        labels, changes["tag_scheme"] = TAGGING_LABELS[cfg.data.dataset]
    if task == "seq2seq":  # the output vocabulary: the specials, then the tokens
        builtin = cfg.data.dataset in SEQ2SEQ_LABELS and cfg.data.train_file is None
        labels = [*SPECIALS, *(SEQ2SEQ_LABELS[cfg.data.dataset] if builtin else labels)]
    return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, **changes)), list(labels)


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
