"""``scratchlm transplant --source SRC --target-tokenizer DIR --strategy TIER,... --out OUT``."""

from __future__ import annotations

import argparse
import json
import time


def cmd_transplant(args: argparse.Namespace) -> int:
    from scratchlm.errors import DataError
    from scratchlm.io import atomic_write_json
    from scratchlm.tokenizers import load_tokenizer
    from scratchlm.transplant.build import build_embedding, parse_strategies, write_output
    from scratchlm.transplant.report import format_report, heldout_scores, make_report
    from scratchlm.transplant.sources import load_source

    t0 = time.time()
    strategies = parse_strategies(args.strategy)
    if "knn" in strategies and not args.aux:
        raise DataError(
            "--strategy knn needs --aux VECTORS: a static vector space covering the target tokens"
        )
    tokenizer = load_tokenizer(args.target_tokenizer)
    source = load_source(args.source)
    if args.dim is not None and args.dim != source.dim:
        if source.is_model:
            raise DataError(
                f"--dim {args.dim}: the source model {source.name} has hidden size {source.dim}, and its "
                "encoder needs rows of that size"
            )
        if args.project is None:
            raise DataError(
                f"the source has dimension {source.dim} and --dim is {args.dim}; choose how to map them: "
                "--project pca, random or pad-truncate"
            )
        import numpy as np

        from scratchlm.transplant.sources import Source
        from scratchlm.vectors.project import project_vectors

        projected = project_vectors(source.vectors(), args.dim, args.project, seed=args.seed)
        matrix = np.asarray(projected.matrix, dtype=np.float32)
        source = Source(source.name, source.tokens, matrix, source.tokenize, init_std=float(matrix.std()))
    aux = None
    if args.aux:
        from scratchlm.vectors.io import load_vectors

        aux = load_vectors(args.aux)
    target = list(tokenizer.vocab.tokens)
    options = dict(aux=aux, k=args.k, temperature=args.temperature, seed=args.seed)
    built = build_embedding(target, source, strategies, **options)
    heldout = (
        None
        if args.no_heldout
        else heldout_scores(target, source, strategies, fraction=args.heldout, **options)
    )
    report = make_report(target, built, source, strategies, aux=aux, heldout=heldout)
    report["seconds"] = round(time.time() - t0, 1)
    files = write_output(
        args.out, built, source, tokenizer, report, max_seq_len=args.max_seq_len, positions=args.positions
    )
    if args.report:
        atomic_write_json(args.report, report)
    if args.json:
        print(
            json.dumps({k: v for k, v in report.items() if k != "token_tiers"}, ensure_ascii=False, indent=2)
        )
        return 0
    print(f"transplanted {source.name} ({len(source.tokens)} x {source.dim}) into {len(target)} tokens:")
    print(format_report(report))
    print(f"wrote {args.out}: {', '.join(files)}" + (f"; report {args.report}" if args.report else ""))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "transplant",
        help="initialise a new vocabulary's embeddings from a pretrained model or vectors",
        description="Build the embedding matrix of a target vocabulary from a source model's (or vectors') "
        "rows, tier by tier, and, for a model source, a model directory that model.init fine-tunes.",
    )
    p.add_argument(
        "--source",
        required=True,
        metavar="DIR|NAME|VECTORS",
        help="a BERT-family directory, minilm-l6, a scratchlm run, or any vectors source",
    )
    p.add_argument("--target-tokenizer", required=True, metavar="DIR", help="a tokenizer directory or a run")
    p.add_argument(
        "--strategy",
        default="exact,normalized,compose,chars,sampled",
        metavar="TIER,TIER,...",
        help="ordered tiers: exact, normalized, compose, compose_len, chars, knn, sampled, random "
        "(default: %(default)s)",
    )
    p.add_argument("--out", required=True, metavar="OUT")
    p.add_argument("--report", metavar="FILE.json", help="also write the report here")
    p.add_argument(
        "--aux", metavar="VECTORS", help="static vectors for knn (e.g. from scratchlm vectors train)"
    )
    p.add_argument("--k", type=int, default=10, help="knn: neighbours (default: %(default)s)")
    p.add_argument(
        "--temperature", type=float, default=0.1, help="knn: softmax temperature (default: %(default)s)"
    )
    p.add_argument("--max-seq-len", type=int, help="positions of the output model (default: the source's)")
    p.add_argument(
        "--positions",
        default="extend",
        choices=["extend", "interpolate"],
        help="learned positions past the source's length (default: %(default)s)",
    )
    p.add_argument("--dim", type=int, help="vectors sources: the output dimension (needs --project)")
    p.add_argument("--project", choices=["pca", "random", "pad-truncate"], help="how to change the dimension")
    p.add_argument(
        "--heldout", type=float, default=0.1, help="share of shared tokens held out (default: 0.1)"
    )
    p.add_argument("--no-heldout", action="store_true", help="skip the held-out quality score")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print the report (without token_tiers) as JSON")
    p.set_defaults(func=cmd_transplant)
