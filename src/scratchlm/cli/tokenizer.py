"""``scratchlm tokenizer ...``: train a tokenizer, encode a text with it, measure it on a corpus.

Registration uses argparse only; jieba, ``tokenizers`` and numpy load inside the handlers. Wherever a
tokenizer directory is expected, a run directory works too (its ``tokenizer/``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from scratchlm.cli.args import ConfigOption, add_options
from scratchlm.io import print_json as _print_json
from scratchlm.tokenizers.base import KINDS

KIND = ConfigOption("data.tokenizer", "--kind", required=True, choices=KINDS)
TRAIN_OPTIONS = (
    ConfigOption(
        "data.vocab_size",
        "--vocab-size",
        metavar="N",
        help="subword: size to train (default 8000); char/jieba: keep the N most frequent",
    ),
    ConfigOption("data.min_freq", "--min-freq"),
    ConfigOption("data.lowercase", "--lowercase"),
    ConfigOption("data.normalize", "--no-normalize"),
    ConfigOption(
        "data.user_dict",
        "--user-dict",
        metavar="FILE",
        help="jieba: a user dictionary (word [frequency] [tag] per line, jieba's format), saved with it",
    ),
    ConfigOption("data.unk_fallback", "--unk-fallback"),
)
"""``tokenizer train``'s options (with ``KIND``) that set what a run's ``data`` section sets: their type,
choices and help come from there."""


def _corpus(source: str, split: str, max_texts: int | None) -> list[str]:
    """Texts of a file or a built-in dataset; ``split`` picks a split of a labelled built-in one."""
    from scratchlm.data.load import load_texts
    from scratchlm.errors import DataError

    if split == "train":
        texts = load_texts(source)
    else:
        from scratchlm.data.builtin import CLASSIFICATION_LOADERS

        if source not in CLASSIFICATION_LOADERS:
            raise DataError(
                f"--split {split}: only built-in labelled datasets have splits "
                f"({', '.join(CLASSIFICATION_LOADERS)}); {source!r} is read whole"
            )
        texts = [ex.text for ex in CLASSIFICATION_LOADERS[source]().splits[split]]
    texts = [t for t in texts if t.strip()][:max_texts]
    if not texts:
        raise DataError(f"{source}: no non-empty texts")
    return texts


def cmd_train(args: argparse.Namespace) -> int:
    from scratchlm.errors import ConfigError, DataError
    from scratchlm.tokenizers.factory import train_tokenizer

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"{out}: already exists and is not empty; choose another --out or delete it")
    if args.vocab_size is not None and args.vocab_size < 6:
        raise ConfigError(f"--vocab-size {args.vocab_size}: must be >= 6 (the five specials and a token)")
    if args.kind != "jieba" and (args.user_dict or args.unk_fallback != "none"):
        raise ConfigError(f"--user-dict and --unk-fallback apply to --kind jieba, not {args.kind}")
    texts = _corpus(args.corpus, "train", args.max_texts)
    t0 = time.perf_counter()
    tokenizer = train_tokenizer(
        args.kind,
        texts,
        vocab_size=args.vocab_size,
        normalize=args.normalize,
        lowercase=args.lowercase,
        min_freq=args.min_freq,
        user_dict=args.user_dict,
        unk_fallback=args.unk_fallback,
    )
    seconds = time.perf_counter() - t0
    tokenizer.save(out)
    size = len(tokenizer.vocab)
    note = ""
    if args.vocab_size and size > args.vocab_size:
        note = f" (more than --vocab-size {args.vocab_size}: the corpus's alphabet alone needs that many)"
    elif args.vocab_size and size < args.vocab_size:
        note = f" (fewer than --vocab-size {args.vocab_size}: the corpus has no more to learn)"
    print(
        f"{args.kind} tokenizer trained on {len(texts)} texts in {seconds:.1f}s: "
        f"vocabulary {size} tokens{note}; written to {out}"
    )
    return 0


def cmd_encode(args: argparse.Namespace) -> int:
    from scratchlm.tokenizers.factory import load_tokenizer

    tokenizer = load_tokenizer(args.dir)
    enc = tokenizer.encode(args.text, add_cls=not args.no_cls)
    decoded = tokenizer.decode(enc.ids)
    if args.json:
        _print_json(
            {
                "kind": tokenizer.kind,
                "ids": enc.ids,
                "tokens": enc.tokens,
                "offsets": [list(span) for span in enc.offsets],
                "decoded": decoded,
            }
        )
        return 0
    print(f"kind     {tokenizer.kind} ({len(tokenizer.vocab)} tokens)")
    print("tokens   " + " ".join(enc.tokens))
    print("ids      " + " ".join(map(str, enc.ids)))
    print(f"decoded  {decoded}")
    return 0


def tokenizer_stats(tokenizer, texts: list[str]) -> dict:
    """Vocabulary size, [UNK] rates, tokens per character and per jieba word, tokens per text."""
    import numpy as np

    from scratchlm.errors import MissingExtraError
    from scratchlm.tokenizers.jieba_word import HMM, segmenter
    from scratchlm.tokenizers.normalize import normalize_aligned

    unk = tokenizer.vocab.unk_id
    norm = [normalize_aligned(t, nfkc=tokenizer.normalize, lowercase=tokenizer.lowercase)[0] for t in texts]
    try:  # the denominator of "tokens per word": jieba's words, as the jieba tokenizer cuts them
        seg = segmenter()
        words = sum(1 for t in norm for _ in seg.cut(t, HMM=HMM))
    except MissingExtraError:
        words = None
    lengths, unk_tokens, unk_chars = [], 0, 0
    t0 = time.perf_counter()
    for enc in tokenizer.encode_batch(texts, add_cls=False):
        lengths.append(len(enc.ids))
        for i, (a, b) in zip(enc.ids, enc.offsets, strict=True):
            if i == unk:
                unk_tokens += 1
                unk_chars += b - a
    seconds = time.perf_counter() - t0
    tokens, chars = sum(lengths), sum(len(t) for t in norm)
    arr = np.asarray(lengths)
    return {
        "kind": tokenizer.kind,
        "vocab_size": len(tokenizer.vocab),
        "texts": len(texts),
        "characters": chars,
        "jieba_words": words,
        "tokens": tokens,
        "tokens_per_char": round(tokens / max(1, chars), 4),
        "tokens_per_word": round(tokens / max(1, words), 4) if words is not None else None,
        "unk_rate": round(unk_tokens / max(1, tokens), 5),
        "unk_char_rate": round(unk_chars / max(1, sum(len(t) for t in texts)), 5),
        "length": {f"p{q}": float(np.percentile(arr, q)) for q in (50, 90, 99)}
        | {"max": int(arr.max()), "mean": round(float(arr.mean()), 1)},
        "texts_per_second": round(len(texts) / max(seconds, 1e-9)),
    }


def cmd_import(args: argparse.Namespace) -> int:
    from scratchlm.data.builtin import bert_directory
    from scratchlm.tokenizers.subword import import_bert_wordpiece

    tok = import_bert_wordpiece(bert_directory(args.source))
    tok.save(args.out)
    print(
        f"imported {args.source}: WordPiece, {len(tok.vocab)} tokens (specials at ids 0-4); written to {args.out}"
    )
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from scratchlm.tokenizers.factory import load_tokenizer

    tokenizer = load_tokenizer(args.dir)
    stats = tokenizer_stats(tokenizer, _corpus(args.corpus, args.split, args.max_texts))
    if args.json:
        _print_json(stats)
        return 0
    length = stats["length"]
    print(f"{args.dir}: {stats['kind']} tokenizer, vocabulary {stats['vocab_size']} tokens")
    print(
        f"{args.corpus} ({args.split}): {stats['texts']} texts, {stats['characters']} characters, "
        f"{stats['jieba_words']} jieba words, {stats['tokens']} tokens"
    )
    print(f"tokens per character  {stats['tokens_per_char']:.3f}")
    if stats["tokens_per_word"] is not None:
        print(f"tokens per jieba word {stats['tokens_per_word']:.3f}")
    print(
        f"[UNK]                 {100 * stats['unk_rate']:.2f}% of tokens, {100 * stats['unk_char_rate']:.2f}% of characters"
    )
    print(
        f"tokens per text       p50 {length['p50']:.0f}  p90 {length['p90']:.0f}  p99 {length['p99']:.0f}  "
        f"max {length['max']}  mean {length['mean']}"
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from scratchlm.export.hf_tokenizer import export_tokenizer_hf
    from scratchlm.tokenizers.factory import load_tokenizer

    tokenizer = load_tokenizer(args.dir)
    report = export_tokenizer_hf(tokenizer, args.out, check=not args.no_check)
    checked = report.get("transformers_check")
    print(
        f"wrote {args.out}: tokenizer.json and tokenizer_config.json of the {tokenizer.kind} tokenizer "
        f"({len(tokenizer.vocab)} tokens)"
        + (f"; AutoTokenizer gives the same ids on {checked['texts']} test texts" if checked else "")
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tokenizer", help="train, try and measure tokenizers (char, jieba, subword)")
    tsub = p.add_subparsers(dest="tokenizer_command", metavar="ACTION")

    t = tsub.add_parser("train", help="train a tokenizer on a corpus and save it to a directory")
    add_options(t, [KIND])
    t.add_argument(
        "--corpus",
        required=True,
        metavar="FILE|DATASET",
        help="text file (a text a line), jsonl/csv/tsv, or a built-in dataset",
    )
    add_options(t, TRAIN_OPTIONS)
    t.add_argument("--max-texts", type=int, default=None, metavar="N", help="train on the first N texts only")
    t.add_argument("--out", required=True, help="directory to create")
    t.set_defaults(func=cmd_train)

    e = tsub.add_parser("encode", help="tokens, ids and the decoded text of TEXT")
    e.add_argument("dir", help="tokenizer or run directory")
    e.add_argument("text")
    e.add_argument("--no-cls", action="store_true", help="without the leading [CLS]")
    e.add_argument("--json", action="store_true", help="print ids, tokens, offsets, decoded as JSON")
    e.set_defaults(func=cmd_encode)

    i = tsub.add_parser(
        "import",
        help="a BERT-family WordPiece tokenizer (built-in model name or directory) as a scratchlm one",
    )
    i.add_argument(
        "source", metavar="NAME|DIR", help="minilm-l6, or a directory with tokenizer.json or vocab.txt"
    )
    i.add_argument("--out", required=True, help="directory to create")
    i.set_defaults(func=cmd_import)

    x = tsub.add_parser(
        "export",
        help="write a tokenizer for transformers (tokenizer.json, tokenizer_config.json)",
        description="Write DIR's tokenizer so that transformers.AutoTokenizer.from_pretrained(OUT) gives the "
        "same ids and specials (every kind but jieba).",
    )
    x.add_argument("dir", help="tokenizer or run directory")
    x.add_argument("--format", choices=["hf"], default="hf", help="the format to write (hf: Hugging Face)")
    x.add_argument("--out", required=True, help="the directory to write")
    x.add_argument("--no-check", action="store_true", help="do not load it back with transformers to compare")
    x.set_defaults(func=cmd_export)

    s = tsub.add_parser(
        "stats", help="vocabulary, [UNK] rate, tokens per character/word, lengths on a corpus"
    )
    s.add_argument("dir", help="tokenizer or run directory")
    s.add_argument("--corpus", required=True, metavar="FILE|DATASET")
    s.add_argument(
        "--split",
        default="train",
        choices=("train", "dev", "test"),
        help="split of a built-in labelled dataset",
    )
    s.add_argument("--max-texts", type=int, default=None, metavar="N", help="measure the first N texts only")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_stats)
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])
