"""``scratchlm vectors ...``: read, convert, inspect, evaluate, train and export word vectors.

Registration uses argparse only; each handler imports what it needs, so ``scratchlm vectors info
CACHE`` never loads torch or gensim and answers in well under a second.
"""

from __future__ import annotations

import argparse
import sys
import time

from scratchlm.cli.args import ConfigOption, add_options, build_section
from scratchlm.io import print_json as _print_json

TRAIN_OPTIONS = (
    ConfigOption("vectors.window", "--window"),
    ConfigOption("vectors.min_count", "--min-count", default=5),
    ConfigOption("vectors.epochs", "--epochs"),
    ConfigOption("vectors.workers", "--workers"),
)
"""``vectors train``'s options that a recipe's ``vectors`` section also sets (type, help, checks from
there); ``vectors train`` keeps gensim's ``min_count`` default (5) where a recipe's is 1."""

FORMAT_CHOICES = ("auto", "word2vec", "fasttext", "glove", "word2vec-binary", "npy", "cache", "run")


def _load(args: argparse.Namespace, source: str | None = None):
    from scratchlm.vectors.io import load_vectors

    return load_vectors(
        source or args.source,
        format=args.format,
        max_words=args.max_words,
        dtype=args.dtype,
        on_error=args.on_error,
    )


def _skipped(skipped: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(skipped.items())) or "none"


def cmd_info(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    vectors = _load(args)
    info = vectors.info() | {"seconds": round(time.perf_counter() - t0, 4)}
    if args.json:
        _print_json(info)
        return 0
    n, d = vectors.shape
    packed = f", {info['compression']}" if info["compression"] else ""
    print(
        f"{args.source}: {n} words x {d} dimensions, {info['dtype']} ({info['format']}{packed}), "
        f"read in {info['seconds']:.3f}s"
    )
    print(f"skipped: {_skipped(vectors.skipped)}")
    print("first words: " + " ".join(vectors.words[:10]))
    return 0


def _check_out(out: str) -> None:
    from pathlib import Path

    from scratchlm.errors import DataError
    from scratchlm.vectors.cache import MATRIX_FILE

    path = Path(out)
    if path.exists() and (not path.is_dir() or (any(path.iterdir()) and not (path / MATRIX_FILE).exists())):
        raise DataError(f"{out}: exists and is not a vectors cache; choose another --out or remove it")


def _write(vectors, out: str) -> None:
    from scratchlm.vectors.cache import write_cache

    write_cache(out, vectors)
    n, d = vectors.shape
    print(
        f"wrote {out}: {n} words x {d} dimensions, {vectors.matrix.dtype} (skipped: {_skipped(vectors.skipped)})"
    )


def cmd_convert(args: argparse.Namespace) -> int:
    _check_out(args.out)
    vectors = _load(args)
    if args.dim and args.dim != vectors.dim:
        from scratchlm.errors import DataError
        from scratchlm.vectors.project import project_vectors

        if not args.project:
            raise DataError(
                f"--dim {args.dim} differs from the vectors' {vectors.dim}: choose --project pca, "
                "random or pad-truncate"
            )
        vectors = project_vectors(vectors, args.dim, args.project, seed=args.seed)
    _write(vectors, args.out)
    return 0


def _pairs_out(args, title: str, pairs: list[tuple[str, float]]) -> None:
    if args.json:
        return
    print(title)
    for word, score in pairs:
        print(f"  {score:8.4f}  {word}")


def cmd_neighbors(args: argparse.Namespace) -> int:
    from scratchlm.vectors.analysis import neighbors

    vectors = _load(args)
    result = {
        w: neighbors(vectors, w, topn=args.topn, restrict_vocab=args.restrict_vocab) for w in args.words
    }
    for word, pairs in result.items():
        _pairs_out(args, f"nearest to {word}:", pairs)
    if args.json:
        _print_json({w: [{"word": x, "similarity": s} for x, s in p] for w, p in result.items()})
    return 0


def cmd_similarity(args: argparse.Namespace) -> int:
    from scratchlm.vectors.analysis import similarity

    value = similarity(_load(args), args.a, args.b)
    if args.json:
        _print_json({"a": args.a, "b": args.b, "similarity": value})
    else:
        print(f"cosine({args.a}, {args.b}) = {value:.4f}")
    return 0


def cmd_analogy(args: argparse.Namespace) -> int:
    from scratchlm.vectors.analysis import METHODS, analogy

    vectors = _load(args)
    methods = METHODS if args.method == "both" else (args.method,)
    result = {
        m: analogy(
            vectors, args.a, args.b, args.c, topn=args.topn, method=m, restrict_vocab=args.restrict_vocab
        )
        for m in methods
    }
    for m, pairs in result.items():
        _pairs_out(args, f"{args.a} : {args.b} :: {args.c} : ?  ({m})", pairs)
    if args.json:
        _print_json({m: [{"word": x, "score": s} for x, s in p] for m, p in result.items()})
    return 0


def _fmt(vector) -> str:
    return "[" + " ".join(f"{x:g}" for x in vector.tolist()) + "]"


def cmd_lookup(args: argparse.Namespace) -> int:
    """Each word's row of the matrix, ``e(x) = E[x]``."""
    vectors = _load(args)
    rows = {w: vectors.vector(w) for w in args.words}
    if args.json:
        _print_json({w: {"row": vectors.row(w), "vector": [float(x) for x in v]} for w, v in rows.items()})
    for word, v in rows.items() if not args.json else ():
        print(f"{word}\t(row {vectors.row(word)})\t{_fmt(v)}")
    return 0


def cmd_arithmetic(args: argparse.Namespace) -> int:
    """``"king - man + woman"``: the signed sum of the raw vectors and the nearest words (gensim's
    ``most_similar`` rule, the inputs left out)."""
    from scratchlm.vectors.arithmetic import combine, nearest, parse_expression

    terms = parse_expression(args.expression)
    vectors = _load(args)
    total = combine(vectors, terms)
    pairs = nearest(vectors, terms, topn=args.topn, restrict_vocab=args.restrict_vocab)
    if args.json:
        _print_json(
            {
                "positive": [w for s, w in terms if s > 0],
                "negative": [w for s, w in terms if s < 0],
                "vector": [float(x) for x in total],
                "nearest": [{"word": w, "similarity": x} for w, x in pairs],
            }
        )
        return 0
    print(f"{args.expression} = {_fmt(total)}")
    _pairs_out(args, "nearest (cosine, the input words left out):", pairs)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from scratchlm.vectors.analysis import evaluate

    vectors = _load(args)
    r = evaluate(
        vectors,
        args.benchmark,
        restrict_vocab=args.restrict_vocab,
        case_insensitive=not args.case_sensitive,
        method=args.method,
    )
    if args.json:
        _print_json(r)
    elif r["kind"] == "analogy":
        print(
            f"{args.benchmark} ({r['method']}, first {r['restrict_vocab']} words): accuracy {r['accuracy']:.4f} "
            f"({r['correct']} of {r['questions'] - r['oov']}), out of vocabulary {r['oov_ratio']:.1f}%"
        )
        for s in r["sections"]:
            print(f"  {s['section']:<30}{s['accuracy']:.4f}  ({s['correct']}/{s['total']})")
    else:
        print(
            f"{args.benchmark} (first {r['restrict_vocab']} words): spearman {r['spearman']:.4f}, "
            f"pearson {r['pearson']:.4f} ({r['pairs']} pairs, out of vocabulary {r['oov_ratio']:.1f}%)"
        )
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    from scratchlm.errors import ConfigError, DataError
    from scratchlm.viz.plots import cjk_font_note, embedding_points, project_2d

    vectors = _load(args)
    words = list(dict.fromkeys(args.words))
    missing = [w for w in words if w not in vectors]
    if missing:
        raise DataError(
            f"not among the {len(vectors)} words of {args.source}: {' '.join(missing)} (words are matched exactly)"
        )
    minimum = 3 if args.method == "tsne" else 2
    if len(words) < minimum:
        raise ConfigError(f"--method {args.method} needs at least {minimum} distinct words, got {len(words)}")
    points, how = project_2d(vectors.matrix[[vectors.row(w) for w in words]], args.method, seed=args.seed)
    embedding_points(points, words, args.out, title=f"{args.source}: {len(words)} words, {how}")
    if note := cjk_font_note(words):
        print(note, file=sys.stderr)
    if args.json:
        _print_json(
            {
                "method": args.method,
                "out": args.out,
                "points": [
                    {"word": w, "x": round(float(x), 6), "y": round(float(y), 6)}
                    for w, (x, y) in zip(words, points, strict=True)
                ],
            }
        )
    else:
        print(f"wrote {args.out}: {len(words)} words, {how}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from scratchlm.errors import DataError
    from scratchlm.tokenizers.normalize import normalize_text
    from scratchlm.vectors.base import Vectors
    from scratchlm.vectors.word2vec import corpus_sentences, train_vectors

    _check_out(args.out)
    if args.tokenize == "char":

        def tokenize(text: str) -> list[str]:
            return [c for c in normalize_text(text) if not c.isspace()]
    else:
        tokenize = str.split
    settings = build_section(args, TRAIN_OPTIONS, "vectors", method="cbow" if args.cbow else "skipgram")
    t0 = time.perf_counter()
    sentences = corpus_sentences(args.corpus, tokenize, None)
    try:
        words, matrix = train_vectors(
            sentences,
            method=args.method,
            dim=args.dim,
            window=settings.window,
            min_count=settings.min_count,
            epochs=settings.epochs,
            sg=settings.method == "skipgram",
            seed=args.seed,
            workers=settings.workers,
        )
    except (ValueError, RuntimeError) as exc:  # gensim: empty corpus or no word reaching min_count
        raise DataError(f"vectors train on {', '.join(args.corpus)}: {exc}") from None
    source = (
        f"{args.method} on {', '.join(args.corpus)} ({len(sentences)} texts, {time.perf_counter() - t0:.1f}s)"
    )
    _write(Vectors(words, matrix, args.method, source), args.out)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from scratchlm.tokenizers.vocab import SPECIALS
    from scratchlm.vectors.base import Vectors
    from scratchlm.vectors.io import read_run

    _check_out(args.out)
    run = read_run(args.run)
    keep = [i for i, w in enumerate(run.words) if args.keep_specials or w not in SPECIALS]
    _write(Vectors([run.words[i] for i in keep], run.matrix[keep], "run", run.source), args.out)
    return 0


def cmd_coverage(args: argparse.Namespace) -> int:
    from collections import Counter
    from pathlib import Path

    from scratchlm.tokenizers.vocab import SPECIALS
    from scratchlm.vectors.io import read_word_list
    from scratchlm.vectors.match import find_rows

    vectors = _load(args)
    vocab_path, tokenize = Path(args.vocab), str.split
    if vocab_path.is_dir():
        from scratchlm.tokenizers import load_tokenizer

        tokenizer = load_tokenizer(vocab_path)
        tokens, tokenize = tokenizer.vocab.tokens, tokenizer.tokenize
    else:
        tokens = read_word_list(vocab_path)
    counts = None
    if args.corpus:
        from scratchlm.data.load import load_texts

        counts = Counter(t for source in args.corpus for text in load_texts(source) for t in tokenize(text))
    skip = {i for i, t in enumerate(tokens) if t in SPECIALS}
    found = find_rows(tokens, vectors, skip=skip, token_counts=counts, max_misses=args.misses)
    if args.json:
        _print_json(found.coverage.to_dict())
    else:
        print(f"{args.vocab} in {args.source}:")
        print(found.coverage.table())
    return 0


def _source_options(p: argparse.ArgumentParser, *, source: bool = True) -> None:
    if source:
        p.add_argument(
            "source",
            metavar="VECTORS",
            help="a vectors file, a cache directory, a run, or a built-in name (glove-6b-50d)",
        )
    p.add_argument("--format", default="auto", choices=FORMAT_CHOICES, help="override format detection")
    p.add_argument("--max-words", type=int, help="read only the first N words")
    p.add_argument(
        "--dtype",
        choices=["float32", "float16"],
        help="default: float32 for text and binary files, as stored for caches and .npy",
    )
    p.add_argument(
        "--on-error",
        default="raise",
        choices=["raise", "skip"],
        help="bad lines: stop with file:LINE (raise) or leave them out and count them (skip)",
    )


def _add_info(sub) -> None:
    p = sub.add_parser("info", help="shape, format, dtype and skipped lines of a vectors source")
    _source_options(p)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_info)


def _add_convert(sub) -> None:
    p = sub.add_parser("convert", help="write a memory-mappable cache (safetensors + tokens.txt)")
    _source_options(p)
    p.add_argument("--out", required=True, metavar="CACHE")
    p.add_argument("--dim", type=int, help="target dimension (needs --project when it differs)")
    p.add_argument("--project", choices=["pca", "random", "pad-truncate"], help="how to change the dimension")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_convert)


def _add_neighbors(sub) -> None:
    p = sub.add_parser("neighbors", help="nearest words by cosine similarity")
    _source_options(p)
    p.add_argument("words", nargs="+", metavar="WORD")
    p.add_argument("--topn", type=int, default=10)
    p.add_argument("--restrict-vocab", type=int, help="search only the first N words")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_neighbors)


def _add_similarity(sub) -> None:
    p = sub.add_parser("similarity", help="cosine similarity of two words")
    _source_options(p)
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_similarity)


def _add_analogy(sub) -> None:
    p = sub.add_parser("analogy", help="A : B :: C : ? (3CosAdd and 3CosMul)")
    _source_options(p)
    for name in ("a", "b", "c"):
        p.add_argument(name)
    p.add_argument("--method", default="both", choices=["3cosadd", "3cosmul", "both"])
    p.add_argument("--topn", type=int, default=5)
    p.add_argument("--restrict-vocab", type=int, help="search only the first N words")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_analogy)


def _add_lookup(sub) -> None:
    p = sub.add_parser("lookup", help="words' rows of the matrix (their vectors)")
    _source_options(p)
    p.add_argument("words", nargs="+", metavar="WORD")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_lookup)


def _add_arithmetic(sub) -> None:
    p = sub.add_parser(
        "arithmetic", help='"king - man + woman": the sum of the vectors and the nearest words'
    )
    _source_options(p)
    p.add_argument(
        "expression", metavar="EXPRESSION", help='words joined by " + " and " - " (spaces around each)'
    )
    p.add_argument("--topn", type=int, default=10)
    p.add_argument("--restrict-vocab", type=int, help="search only the first N words")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_arithmetic)


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="word analogy or similarity benchmark (same numbers as gensim)")
    _source_options(p)
    p.add_argument("--benchmark", required=True, help="questions-words, wordsim353, simlex999, or a file")
    p.add_argument(
        "--restrict-vocab", type=int, default=300000, help="use the first N words (gensim's default)"
    )
    p.add_argument("--method", default="3cosadd", choices=["3cosadd", "3cosmul"], help="for analogies")
    p.add_argument("--case-sensitive", action="store_true")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_eval)


def _add_plot(sub) -> None:
    p = sub.add_parser("plot", help="words' vectors in 2-d (PCA or t-SNE) as a labelled PNG")
    p.add_argument("words", nargs="+", metavar="WORD", help="words to plot (exact spelling)")
    p.add_argument(
        "--source",
        required=True,
        metavar="VECTORS",
        help="a vectors file, a cache directory, a run, or a built-in name (glove-6b-50d)",
    )
    _source_options(p, source=False)
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.add_argument("--method", default="pca", choices=["pca", "tsne"])
    p.add_argument("--seed", type=int, default=0, help="of PCA's solver and t-SNE")
    p.add_argument(
        "--json", action="store_true", help='also print {"method", "out", "points": [{word, x, y}]}'
    )
    p.set_defaults(func=cmd_plot)


def _add_train(sub) -> None:
    p = sub.add_parser("train", help="train word2vec or fastText vectors (gensim) and write a cache")
    p.add_argument(
        "--corpus",
        action="append",
        required=True,
        metavar="FILE|DATASET",
        help="a text file (one text a line), jsonl/csv/tsv, or a built-in dataset (repeatable)",
    )
    p.add_argument("--method", default="word2vec", choices=["word2vec", "fasttext"])
    p.add_argument("--out", required=True, metavar="CACHE")
    p.add_argument(
        "--tokenize",
        default="whitespace",
        choices=["whitespace", "char"],
        help="char: one token per character after NFKC (for Chinese)",
    )
    p.add_argument("--dim", type=int, default=100)
    add_options(p, TRAIN_OPTIONS)
    p.add_argument("--cbow", action="store_true", help="CBOW instead of skip-gram")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_train)


def _add_export(sub) -> None:
    p = sub.add_parser("export", help="a run's token embedding as a vectors cache")
    p.add_argument("run", metavar="RUN_DIR")
    p.add_argument("--out", required=True, metavar="CACHE")
    p.add_argument("--keep-specials", action="store_true", help="keep [PAD], [UNK], ... rows")
    p.set_defaults(func=cmd_export)


def _add_coverage(sub) -> None:
    p = sub.add_parser("coverage", help="how a vocabulary is found in the vectors, tier by tier")
    _source_options(p)
    p.add_argument(
        "--vocab", required=True, help="vocab.txt (a token a line), a tokenizer directory or a run"
    )
    p.add_argument(
        "--corpus", action="append", metavar="FILE|DATASET", help="weight coverage by token frequency"
    )
    p.add_argument("--misses", type=int, default=20, help="how many missed tokens to show")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_coverage)


ACTIONS = (
    _add_info,
    _add_convert,
    _add_neighbors,
    _add_similarity,
    _add_analogy,
    _add_arithmetic,
    _add_lookup,
    _add_eval,
    _add_plot,
    _add_train,
    _add_export,
    _add_coverage,
)
"""One function per action, each adding its subparser (in the order ``vectors --help`` lists them)."""


def register(subparsers) -> None:
    """Add ``vectors`` and its actions to the ``scratchlm`` parser."""
    v = subparsers.add_parser(
        "vectors", help="pretrained word vectors: read, convert, evaluate, train, align"
    )
    sub = v.add_subparsers(dest="vectors_command", metavar="ACTION")
    v.set_defaults(func=lambda a: (v.print_help(), 0)[1])
    for add in ACTIONS:
        add(sub)


if __name__ == "__main__":  # pragma: no cover - `python -m scratchlm.cli.vectors` is a shortcut
    from scratchlm.cli import main

    sys.exit(main(["vectors", *sys.argv[1:]]))
