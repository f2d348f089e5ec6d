"""``scratchlm plot pe`` for 2-D encodings and ``scratchlm plot patches``: an image model's input layer.

- ``plot pe --kind sinusoidal_2d|learned|learned_2d|rope_2d|none --grid N [--dim D] --out FILE.png``, or
  ``plot pe --run IMAGE_RUN``: each patch's similarity to every other patch, as a grid of small maps
  (map ``(r, c)`` is patch ``(r, c)``'s row of the similarity matrix). Absolute kinds: the cosine
  similarity of the position vectors (``learned`` and ``learned_2d`` at their random init unless
  ``--run``). ``rope_2d``: the score ``<R(p) u, R(p') u>`` of one unit vector ``u`` rotated at both
  patches (a head of ``D`` dimensions), which depends only on the offset ``p' - p``.
- ``plot patches RUN --out FILE.png``: the principal components of the run's patch filters.

``--json`` prints ``{"kind", "grid", "similarity"}`` (``plot pe``) or ``{"shape", "explained"}``
(``plot patches``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from scratchlm.errors import ConfigError
from scratchlm.io import print_json as _print_json

KINDS_2D = ("none", "learned", "sinusoidal_2d", "learned_2d", "rope_2d")


def _fresh_module(kind: str, grid: tuple[int, int], dim: int, seed: int, base: float):
    import torch

    from scratchlm.modules.positional_2d import POSITIONAL_2D
    from scratchlm.modules.rotary_2d import Rotary2DEmbedding

    if dim % 4:
        raise ConfigError(
            f"--dim {dim}: 2-D encodings split the dimensions between rows and columns; give a multiple of 4"
        )
    torch.manual_seed(seed)
    if kind == "rope_2d":
        return Rotary2DEmbedding(dim, grid, base=base)
    if kind == "sinusoidal_2d":
        return POSITIONAL_2D[kind](dim, base)
    if kind in POSITIONAL_2D:
        return POSITIONAL_2D[kind](dim, grid)
    return None


def _run_module(run_path: str, kind_arg: str | None):
    from scratchlm.training.run_dir import load_run

    run = load_run(run_path)
    if not run.handler().reads_images:
        return None
    kind = run.config.model.positional.kind
    if kind_arg is not None and kind_arg != kind:
        raise ConfigError(f"--kind {kind_arg}: the run {run_path} uses model.positional.kind={kind}")
    model = run.model
    grid = model.input.patch_embedding.grid(run.config.data.image_size, run.config.data.image_size)
    module = model.rope if kind == "rope_2d" else model.input.positional
    return kind, module, grid


def similarity_matrix(kind: str, module, grid: tuple[int, int]):
    """``((s, s) similarity, what)`` of a 2-D positional module at ``grid``."""
    import torch

    from scratchlm.viz.images import patch_similarity

    s = grid[0] * grid[1]
    with torch.no_grad():
        if module is None:
            return torch.zeros(s, s).numpy(), "no position information (all zero)"
        if kind == "rope_2d":
            hd = module.head_dim
            module.set_grid(*grid)
            prefix = module.num_prefix_tokens
            unit = torch.full((1, 1, prefix + s, hd), hd**-0.5)  # (b, h, s, hd)
            rotated = module(unit)[0, 0, prefix:]  # (s, hd): unit vectors
            return (rotated @ rotated.T).numpy(), "RoPE-2D score of a unit vector rotated at both patches"
        enc = module.encodings(*grid).float().numpy()
        return patch_similarity(enc), "cosine similarity of the position vectors"


def wants_2d(args: argparse.Namespace) -> bool:
    """Whether ``plot pe`` is about image patches: a 2-D kind, ``--grid``, or an image run."""
    if args.kind is not None and args.kind.endswith("_2d") or getattr(args, "grid", None) is not None:
        return True
    if args.run:
        from scratchlm.training.run_dir import load_run

        return load_run(args.run).handler().reads_images
    return False


def cmd_plot_pe_2d(args: argparse.Namespace) -> int:
    if not args.out and not args.json:
        raise ConfigError("plot pe needs --out FILE.png, --json, or both")
    if args.run:
        kind, module, grid = _run_module(args.run, args.kind)
        where = f"{Path(args.run).name}: {kind}"
    else:
        if args.kind not in KINDS_2D:
            raise ConfigError(f"--kind {args.kind}: with --grid give a 2-D kind ({', '.join(KINDS_2D)})")
        n = args.grid or 8
        if n < 2:
            raise ConfigError(f"--grid {n}: must be >= 2")
        grid = (n, n)
        kind = args.kind
        module = _fresh_module(kind, grid, args.dim, args.seed, args.base or 10000.0)
        where = f"{kind}, {n}x{n} patches, d={args.dim}" + (
            " (untrained)" if kind.startswith("learned") else ""
        )
    sim, what = similarity_matrix(kind, module, grid)
    if args.out:
        from scratchlm.viz.images import similarity_grid

        similarity_grid(
            sim, grid, args.out, title=f"{where}\n{what}: map (r, c) = patch (r, c) vs every patch"
        )
    if args.json:
        obj = {
            "kind": kind,
            "grid": list(grid),
            "similarity": [[round(float(v), 6) + 0.0 for v in row] for row in sim],
        }
        print(json.dumps(obj))
    else:
        print(f"wrote {args.out}: {kind}, {what}, {grid[0]}x{grid[1]} patches")
    return 0


def cmd_plot_patches(args: argparse.Namespace) -> int:
    from scratchlm.training.run_dir import load_run
    from scratchlm.viz.images import patch_filters

    if not args.out and not args.json:
        raise ConfigError("plot patches needs --out FILE.png, --json, or both")
    run = load_run(args.run)
    if not run.handler().reads_images:
        raise ConfigError(f"plot patches draws an image run's patch filters; {args.run} is a {run.task} run")
    weight = run.model.input.patch_embedding.weight.detach().float().numpy()  # (d, c, p, p)
    title = f"{Path(args.run).name}: principal components of the {weight.shape[0]} patch filters"
    if args.out:
        _, share = patch_filters(weight, args.out, title=title, top=args.top)
    else:
        import numpy as np

        s = np.linalg.svd(
            weight.reshape(weight.shape[0], -1) - weight.reshape(weight.shape[0], -1).mean(0),
            compute_uv=False,
        )
        share = (s**2 / (s**2).sum()).tolist()[: args.top]
    if args.json:
        _print_json({"shape": list(weight.shape), "explained": [round(v, 6) for v in share]})
    else:
        print(
            f"wrote {args.out}: {len(share)} components of {weight.shape[0]} filters {tuple(weight.shape[1:])}"
        )
    return 0


def register(psub) -> None:
    pa = psub.add_parser("patches", help="an image run's patch filters (their principal components)")
    pa.add_argument("run", help="an image_classification run directory")
    pa.add_argument("--top", type=int, default=28, help="components to show (default 28)")
    pa.add_argument("--out", help="PNG to write")
    pa.add_argument("--json", action="store_true", help='print {"shape", "explained"}')
    pa.set_defaults(func=cmd_plot_patches)
