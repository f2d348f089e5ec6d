"""``scratchlm plot pe``, ``plot embeddings`` and ``plot attention``: see the input layer and the encoder
(images: ``plot pe --grid`` and ``plot patches``, :mod:`scratchlm.cli.plot_images`).

- ``plot pe --kind K --length N --dim D --out FILE.png [--json]``: a positional encoding as a matrix
  (heatmap) and how position ``p`` relates to ``p + k``. What the matrix is depends on the kind:

  - ``sinusoidal``, ``scaled_sinusoidal``, ``learned``, ``none``: the ``(N, D)`` position vectors the
    input layer combines with the token vectors (``scaled_sinusoidal`` at its initial scale ``D^-1/2``,
    ``learned`` at its random initialisation unless ``--run`` gives a trained run);
  - ``rope``: the rotation applied to a constant unit vector ``(1, ..., 1) / sqrt(D)`` of a head of
    dimension ``D``, at each position: ``(N, D)``;
  - ``alibi``, ``t5_bias``: the ``(N, N)`` attention bias of head 0 (``t5_bias`` untrained unless
    ``--run``).

  ``--json`` prints ``{"kind", "what", "shape", "matrix"}``; ``--run RUN`` plots a trained run's own
  positional part (its kind and sizes).
- ``plot embeddings RUN [--tokens T ...] --method pca|tsne --out FILE.png [--json]``: the run's token
  vectors projected to 2-d (scikit-learn PCA or t-SNE), each point labelled.
- ``plot attention RUN TEXT --out FILE.png [--layer L|last|all] [--json]``: a Transformer run's
  attention weights on ``TEXT`` (read as the run's task reads it), a heatmap per head (query x key
  position, the tokens as labels) for the last layer, layer ``L`` (0 first, -1 last) or all of them.
  ``--json`` prints ``{"tokens", "truncated", "layers": [{"layer", "heads": [matrix, ...]}]}``.

Registration uses argparse only; torch, matplotlib and scikit-learn load inside the handlers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scratchlm.cli.args import ConfigOption, add_options, config_value
from scratchlm.config import POSITIONAL_KINDS
from scratchlm.errors import ConfigError, DataError
from scratchlm.io import print_json as _print_json
from scratchlm.viz.positional import BIAS_KINDS, module_dim, positional_matrix, positional_module

KIND = ConfigOption("model.positional.kind", "--kind", default=None, note="Or take the run's: --run.")
PE_OPTIONS = (
    ConfigOption(
        "model.encoder.num_heads", "--heads", default=8, help="alibi, t5_bias: heads; head 0 is plotted"
    ),
    ConfigOption("model.positional.rope_base", "--base", help="sinusoidal, rope: frequency base"),
    ConfigOption("model.positional.num_buckets", "--num-buckets"),
    ConfigOption("model.positional.max_distance", "--max-distance"),
)
"""``plot pe``'s options that are config fields (their type, choices and help come from the config):
the positional kind and its sizes; ``--length`` and ``--dim`` are the plot's own."""


def _fresh_parts(args: argparse.Namespace):
    """The positional module of ``--kind`` at the requested size (untrained, seeded)."""
    import torch

    from scratchlm.modules import positional
    from scratchlm.modules.attention_bias import ALiBiBias, T5RelativePositionBias
    from scratchlm.modules.rotary import RotaryEmbedding

    kind, n, d = args.kind, args.length, args.dim
    torch.manual_seed(args.seed)
    if kind == "sinusoidal":
        return positional.SinusoidalPositionalEncoding(d, n, base=args.base)
    if kind == "scaled_sinusoidal":
        return positional.ScaledSinusoidalPositionalEncoding(d, n, base=args.base)
    if kind == "learned":
        return positional.LearnedPositionalEmbedding(d, n)
    if kind == "rope":
        return RotaryEmbedding(d, n, base=args.base)
    if kind == "alibi":
        return ALiBiBias(args.heads)
    if kind == "t5_bias":
        return T5RelativePositionBias(
            args.heads, num_buckets=args.num_buckets, max_distance=args.max_distance
        )
    return None


def _run_parts(args: argparse.Namespace):
    """A trained run's positional module, and its kind."""
    from scratchlm.training.run_dir import load_run

    run = load_run(args.run)
    path = KIND.path
    model, kind = run.model, config_value(run.config, path)
    if args.kind is not None and args.kind != kind:
        raise ConfigError(f"--kind {args.kind}: the run {args.run} uses {path}={kind}")
    return kind, positional_module(model, kind)


def cmd_plot_pe(args: argparse.Namespace) -> int:
    from scratchlm.cli import plot_images

    if plot_images.wants_2d(args):  # image patches: docs/images.md
        return plot_images.cmd_plot_pe_2d(args)
    if not args.out and not args.json:
        raise ConfigError("plot pe needs --out FILE.png, --json, or both")
    if args.length < 2:
        raise ConfigError(f"--length {args.length}: must be >= 2")
    if args.run:
        kind, module = _run_parts(args)
        dim = module_dim(kind, module)
    else:
        if args.kind is None:
            raise ConfigError(f"plot pe needs --kind ({', '.join(POSITIONAL_KINDS)}) or --run RUN")
        if args.dim < 2:
            raise ConfigError(f"--dim {args.dim}: must be >= 2")
        if args.kind in ("sinusoidal", "scaled_sinusoidal", "rope") and args.dim % 2:
            raise ConfigError(
                f"--dim {args.dim}: {args.kind} works on pairs of dimensions (one frequency each); give an even --dim"
            )
        if args.heads < 1:
            raise ConfigError(f"--heads {args.heads}: must be >= 1")
        if args.kind == "t5_bias" and (
            args.num_buckets < 4 or args.num_buckets % 2 or args.max_distance <= args.num_buckets // 4
        ):
            raise ConfigError(
                f"--num-buckets {args.num_buckets} --max-distance {args.max_distance}: need an even number of "
                "buckets >= 4 and max-distance > num-buckets / 4"
            )
        kind, module, dim = args.kind, _fresh_parts(args), args.dim
    try:
        matrix, what = positional_matrix(kind, module, args.length, dim)
    except ValueError as exc:  # learned positions past the trained length
        raise ConfigError(f"--length {args.length}: {exc}") from None
    matrix = matrix.detach().float().cpu()
    if args.out:
        from scratchlm.viz.plots import positional_encoding

        positional_encoding(matrix.numpy(), Path(args.out), kind=kind, what=what, bias=kind in BIAS_KINDS)
    if args.json:  # compact: one line (N x D numbers would take N x D lines indented)
        obj = {
            "kind": kind,
            "what": what,
            "shape": list(matrix.shape),
            "matrix": [[round(v, 6) + 0.0 for v in row] for row in matrix.tolist()],  # no -0.0
        }
        print(json.dumps(obj, ensure_ascii=False))
    else:
        print(f"wrote {args.out}: {kind}, {what}, {tuple(matrix.shape)}")
    return 0


def _token_ids(run, tokens: list[str] | None, top: int) -> tuple[list[str], list[int]]:
    vocab = run.tokenizer.vocab
    if not tokens:
        ids = [i for i in range(len(vocab)) if i not in vocab.special_ids][:top]
        return [vocab.token(i) for i in ids], ids
    found, unknown = [], []
    for tok in tokens:
        if tok not in vocab:  # try the tokenizer's normalisation (full width, NFKC, case)
            pieces = run.tokenizer.tokenize(tok) if hasattr(run.tokenizer, "tokenize") else []
            tok = pieces[0] if len(pieces) == 1 else tok
        (found if tok in vocab else unknown).append(tok)
    if unknown:
        raise DataError(
            f"not in the run's vocabulary ({len(vocab)} tokens): {' '.join(unknown)}; "
            "leave out --tokens to plot the most frequent ones"
        )
    found = list(dict.fromkeys(found))
    return found, [vocab.id(t) for t in found]


def cmd_plot_embeddings(args: argparse.Namespace) -> int:
    import torch

    from scratchlm.training.run_dir import load_run

    if not args.out and not args.json:
        raise ConfigError("plot embeddings needs --out FILE.png, --json, or both")
    run = load_run(args.run)
    tokens, ids = _token_ids(run, args.tokens, args.top)
    minimum = 3 if args.method == "tsne" else 2
    if len(ids) < minimum:
        raise ConfigError(f"--method {args.method} needs at least {minimum} distinct tokens, got {len(ids)}")
    with torch.no_grad():
        vectors = run.model.token_embedding.matrix()[torch.tensor(ids)].float().numpy()  # (n, d)
    from scratchlm.viz.plots import project_2d

    points, how = project_2d(vectors, args.method, seed=args.seed)
    title = f"{args.run}: token vectors, {how}"
    if args.out:
        import sys

        from scratchlm.viz.plots import cjk_font_note, embedding_points

        embedding_points(points, tokens, args.out, title=title)
        if note := cjk_font_note(tokens):
            print(note, file=sys.stderr)
    if args.json:
        _print_json(
            {
                "method": args.method,
                "points": [
                    {"token": t, "id": i, "x": round(float(x), 6), "y": round(float(y), 6)}
                    for t, i, (x, y) in zip(tokens, ids, points, strict=True)
                ],
            }
        )
    else:
        print(f"wrote {args.out}: {len(ids)} tokens, {args.method}")
    return 0


def cmd_plot_attention(args: argparse.Namespace) -> int:
    import sys

    from scratchlm.training.run_dir import load_run
    from scratchlm.viz.attention_maps import attention_maps, check_has_attention, select_layers

    if not args.out and not args.json:
        raise ConfigError("plot attention needs --out FILE.png, --json, or both")
    run = load_run(args.run)
    check_has_attention(run)
    layers = select_layers(args.layer, len(run.model.encoder.layers))
    maps = attention_maps(run, args.text)
    weights = [maps.weights[i] for i in layers]
    if args.out:
        import torch

        from scratchlm.viz.plots import attention_heads, cjk_font_note

        title = f"{Path(args.run).name}: attention weights (rows: queries, columns: keys)"
        attention_heads(torch.stack(weights).numpy(), maps.tokens, args.out, layers=layers, title=title)
        if note := cjk_font_note(maps.tokens, json_gives="the weights"):
            print(note, file=sys.stderr)
    if maps.truncated:
        print(
            f"note: the text is longer than the run's max_seq_len ({run.max_seq_len}); "
            f"{maps.truncated} token(s) past it are not shown",
            file=sys.stderr,
        )
    if args.json:
        obj = {
            "tokens": maps.tokens,
            "truncated": maps.truncated,
            "layers": [
                {"layer": i, "heads": [[[round(v, 6) for v in row] for row in h] for h in w.tolist()]}
                for i, w in zip(layers, weights, strict=True)
            ],
        }
        print(json.dumps(obj, ensure_ascii=False))
    else:
        heads = weights[0].shape[0]
        print(f"wrote {args.out}: {len(layers)} layer(s) x {heads} head(s), {len(maps.tokens)} positions")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("plot", help="figures: positional encodings, token vectors, attention weights")
    psub = p.add_subparsers(dest="plot_command", metavar="WHAT")

    pe = psub.add_parser(
        "pe",
        help="a positional encoding: heatmap and similarity of position p with p + k",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_options(pe, [KIND])
    pe.add_argument("--length", type=int, default=64, help="positions N (default 64)")
    pe.add_argument(
        "--dim", type=int, default=64, help="vector width D; for rope the head dimension (default 64)"
    )
    add_options(pe, PE_OPTIONS)
    pe.add_argument(
        "--grid",
        type=int,
        default=None,
        help="image patches: an N x N grid, each patch's similarity to every other",
    )
    pe.add_argument("--seed", type=int, default=0, help="learned, t5_bias: seed of the untrained init")
    pe.add_argument("--run", help="plot this trained run's positional part instead of a fresh one")
    pe.add_argument("--out", help="PNG to write")
    pe.add_argument("--json", action="store_true", help='print {"kind", "what", "shape", "matrix"}')
    pe.set_defaults(func=cmd_plot_pe)

    em = psub.add_parser("embeddings", help="a run's token vectors in 2-d (PCA or t-SNE)")
    em.add_argument("run", help="run directory")
    em.add_argument("--tokens", nargs="+", help="tokens to plot (default: the --top most frequent)")
    em.add_argument("--top", type=int, default=40, help="without --tokens: how many (default 40)")
    em.add_argument("--method", choices=("pca", "tsne"), default="pca")
    em.add_argument("--seed", type=int, default=0)
    em.add_argument("--out", help="PNG to write")
    em.add_argument("--json", action="store_true", help='print {"method", "points": [{token, id, x, y}]}')
    em.set_defaults(func=cmd_plot_embeddings)

    at = psub.add_parser(
        "attention",
        help="a Transformer run's attention weights on a text: heads x (query x key) heatmaps",
    )
    at.add_argument("run", help="run directory (classifier, tagger or masked LM with a Transformer encoder)")
    at.add_argument("text", help="the text to read")
    at.add_argument("--layer", default="last", help="layer number (0 first, -1 last), last (default) or all")
    at.add_argument("--out", help="PNG to write")
    at.add_argument(
        "--json", action="store_true", help='print {"tokens", "layers": [{"layer", "heads": [matrix]}]}'
    )
    at.set_defaults(func=cmd_plot_attention)

    from scratchlm.cli import plot_images

    plot_images.register(psub)
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])
