"""``scratchlm data list|show|export``: the built-in datasets and users' files, described and exported."""

from __future__ import annotations

import argparse

from scratchlm.io import print_json as _print_json


def cmd_data_list(args: argparse.Namespace) -> int:
    from scratchlm.data.load import list_datasets
    from scratchlm.tasks.registry import dataset_task

    rows = [
        {
            "name": r["name"],
            "task": dataset_task(r["kind"]),
            "package": r["package"],
            "description": r["description"],
        }
        for r in list_datasets()
    ]
    if args.json:
        _print_json(rows)
        return 0
    widths = [max(len(r[k]) for r in rows) + 2 for k in ("name", "task", "package")]
    for r in rows:
        print(
            f"{r['name']:<{widths[0]}}{r['task']:<{widths[1]}}{r['package']:<{widths[2]}}{r['description']}"
        )
    return 0


def _load_named(name: str, args: argparse.Namespace):
    from scratchlm.config import DataConfig, RunConfig
    from scratchlm.tasks.registry import resolve_task_name, task_class

    cfg = DataConfig(dataset=name, text_field=args.text_field, label_field=args.label_field)
    task = task_class(resolve_task_name(cfg))(RunConfig(data=cfg))  # the data only: no model checks
    task.load()
    return task.name, task.data


def _with_task(stats: dict, task: str) -> dict:
    """``stats`` with the task that reads the dataset after its name."""
    return {"name": stats["name"], "task": task, **stats}


def _show_tagging(data, as_json: bool, task: str) -> int:
    from scratchlm.data.tagging import tagging_stats

    stats = _with_task(tagging_stats(data), task)
    if as_json:
        _print_json(stats)
        return 0
    print(f"dataset {stats['name']}  scheme {stats['scheme'].upper()}  tags: {', '.join(stats['labels'])}")
    print(
        f"{'split':<7}{'sentences':>10}{'tokens':>10}  {'spans':<36}{'len p50':>8}{'p90':>6}{'p99':>6}{'max':>6}"
    )
    for split, s in stats["splits"].items():
        spans = " ".join(f"{k} {v}" for k, v in s["spans"].items())
        n = s["tokens_per_sentence"]
        print(
            f"{split:<7}{s['sentences']:>10}{s['tokens']:>10}  {spans:<36}{n['p50']:>8.0f}{n['p90']:>6.0f}"
            f"{n['p99']:>6.0f}{n['max']:>6}"
        )
    return 0


def _show_seq2seq(data, as_json: bool, task: str) -> int:
    from scratchlm.data.seq2seq import seq2seq_stats

    stats = _with_task(seq2seq_stats(data), task)
    if as_json:
        _print_json(stats)
        return 0
    print(f"dataset {stats['name']}  {len(stats['labels'])} output tokens: {' '.join(stats['labels'])}")
    if stats["notes"]:
        print("while loading: " + ", ".join(f"{k} {v}" for k, v in stats["notes"].items()))
    print(
        f"{'split':<7}{'examples':>9}{'references':>12}  {'source p50':>10}{'p99':>5}{'max':>5}  {'target p50':>10}{'p99':>5}{'max':>5}"
    )
    for split, s in stats["splits"].items():
        a, b = s["source_chars"], s["target_tokens"]
        print(
            f"{split:<7}{s['examples']:>9}{s['references']:>12}  {a['p50']:>10.0f}{a['p99']:>5.0f}{a['max']:>5}"
            f"  {b['p50']:>10.0f}{b['p99']:>5.0f}{b['max']:>5}"
        )
    return 0


def _show_images(data, as_json: bool, task: str) -> int:
    from scratchlm.data.images import image_stats

    stats = _with_task(image_stats(data), task)
    if as_json:
        _print_json(stats)
        return 0
    print(
        f"dataset {stats['name']}  {stats['size']}x{stats['size']} {stats['mode']} images  labels: {', '.join(stats['labels'])}"
    )
    print(f"{'split':<7}{'images':>8}  labels")
    for split, s in stats["splits"].items():
        print(f"{split:<7}{s['examples']:>8}  " + " ".join(f"{k} {v}" for k, v in s["labels"].items()))
    return 0


def cmd_data_show(args: argparse.Namespace) -> int:
    from scratchlm.data import dataset_stats
    from scratchlm.data.images import ImageData
    from scratchlm.data.seq2seq import Seq2SeqData
    from scratchlm.data.tagging import TaggingData

    task, data = _load_named(args.name, args)
    if isinstance(data, ImageData):
        return _show_images(data, args.json, task)
    if isinstance(data, TaggingData):
        return _show_tagging(data, args.json, task)
    if isinstance(data, Seq2SeqData):
        return _show_seq2seq(data, args.json, task)
    stats = dataset_stats(data)
    if args.json:
        _print_json(stats)
        return 0
    print(f"dataset {stats['name']}  labels: {', '.join(stats['labels'])}")
    if stats["dropped"]:
        print("dropped while loading: " + ", ".join(f"{k} {v}" for k, v in stats["dropped"].items()))
    balances = {}
    for split, s in stats["splits"].items():
        n = max(1, s["examples"])
        balances[split] = " ".join(f"{k} {v} ({100 * v / n:.0f}%)" for k, v in s["labels"].items())
    w = max(8, *(len(b) for b in balances.values())) + 2
    print(f"{'split':<7}{'examples':>9}  {'labels':<{w}}{'chars p50':>10}{'p90':>7}{'p99':>7}{'max':>7}")
    for split, s in stats["splits"].items():
        c = s["chars"]
        print(
            f"{split:<7}{s['examples']:>9}  {balances[split]:<{w}}{c['p50']:>10.0f}{c['p90']:>7.0f}{c['p99']:>7.0f}"
            f"{c.get('max', 0):>7}"
        )
    return 0


def cmd_data_export(args: argparse.Namespace) -> int:
    from scratchlm.data.files import write_jsonl
    from scratchlm.data.images import ImageData, write_npz
    from scratchlm.data.seq2seq import Seq2SeqData, write_pairs_jsonl
    from scratchlm.data.tagging import TaggingData, write_tagged_jsonl

    _, data = _load_named(args.name, args)
    examples = data.split(args.split)
    writer = write_jsonl
    if isinstance(data, ImageData):
        if not str(args.out).endswith(".npz"):
            from scratchlm.errors import ConfigError

            raise ConfigError(f"--out {args.out}: images are exported as .npz (images and labels arrays)")
        writer = write_npz
    elif isinstance(data, TaggingData):
        writer = write_tagged_jsonl
    elif isinstance(data, Seq2SeqData):
        writer = write_pairs_jsonl
    writer(args.out, examples)
    print(f"wrote {len(examples)} examples of {data.name} {args.split} to {args.out}")
    return 0


def cmd_data_prepare(args: argparse.Namespace) -> int:
    from scratchlm.data.prepare import prepare
    from scratchlm.errors import ConfigError

    if args.workers < 1:
        raise ConfigError(f"--workers {args.workers}: must be >= 1")
    if args.shard_tokens < 1:
        raise ConfigError(f"--shard-tokens {args.shard_tokens}: must be >= 1")
    m = prepare(args.corpus, args.tokenizer, args.out, workers=args.workers, text_field=args.text_field,
                shard_tokens=args.shard_tokens, max_eval_docs=args.max_eval_docs)  # fmt: skip
    print(
        f"wrote {args.out}: {m['tokens']:,} tokens of {m['texts']:,} train texts in {len(m['shards'])} "
        f"shard(s) ({m['dtype']}), dev {m['eval_texts']['dev']} / test {m['eval_texts']['test']} texts; "
        f"{m['input_bytes'] / 1e6:.1f} MB in {m['seconds']:.1f}s ({m['mb_per_s']} MB/s, {args.workers} worker(s))"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    d = sub.add_parser("data", help="list, describe and export datasets")
    dsub = d.add_subparsers(dest="data_command", metavar="ACTION")
    dl = dsub.add_parser("list", help="built-in datasets")
    dl.add_argument("--json", action="store_true")
    dl.set_defaults(func=cmd_data_list)
    for name, helptext, func in (
        ("show", "sizes, label balance, length percentiles", cmd_data_show),
        ("export", "write a split as jsonl (images: .npz)", cmd_data_export),
    ):
        dp = dsub.add_parser(name, help=helptext)
        dp.add_argument("name", help="built-in name or a jsonl/csv/tsv file")
        dp.add_argument("--text-field", default="text")
        dp.add_argument("--label-field", default="label")
        if name == "show":
            dp.add_argument("--json", action="store_true")
        else:
            dp.add_argument("--split", default="train", choices=["train", "dev", "test"])
            dp.add_argument("--out", required=True)
        dp.set_defaults(func=func)
    pp = dsub.add_parser(
        "prepare",
        help="tokenize a corpus of any size into memory-mapped token shards (data.shards)",
        description="Tokenize CORPUS files into token shards for data.shards (see docs/pretraining.md); "
        "resumable: run the same command again after an interruption.",
    )
    pp.add_argument("corpus", nargs="+", help=".txt, .jsonl, .parquet files or saved datasets folders")
    pp.add_argument("--tokenizer", required=True, help="tokenizer or run directory")
    pp.add_argument("--out", required=True, help="the shards directory to write (or to continue)")
    pp.add_argument("--workers", type=int, default=1, help="tokenizing processes (default 1)")
    pp.add_argument("--text-field", default="text", help="jsonl key / column of the text (default text)")
    pp.add_argument("--shard-tokens", type=int, default=1 << 26, help="tokens per shard (default 2^26)")
    pp.add_argument(
        "--max-eval-docs", type=int, default=2000, help="dev and test texts kept (default 2000 each)"
    )
    pp.set_defaults(func=cmd_data_prepare)
    d.set_defaults(func=lambda a: (d.print_help(), 0)[1])
