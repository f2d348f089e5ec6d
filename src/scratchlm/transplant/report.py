"""What a transplant did, and how good each strategy is on tokens whose true row is known.

- ``tiers``: tokens per tier; the counts add up to ``vocab_size``.
- ``token_tiers``: the tier of every target token.
- ``heldout_cosine``: hold out a share (10%) of the tokens both vocabularies have (seeded), remove them
  from the source, rebuild them with each non-exact strategy (after ``exact`` on the rest, so ``knn``
  has its overlap), and average the cosine similarity of the rebuilt rows to the true source rows.
  ``heldout`` says how many held-out tokens each strategy could rebuild at all (the mean is over those;
  ``null`` when none): a strategy with a high cosine on 3 tokens out of 30 is not a good choice.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from scratchlm.transplant.build import Built, build_embedding
from scratchlm.transplant.sources import Source
from scratchlm.vectors.base import Vectors


def heldout_scores(
    target: list[str],
    source: Source,
    strategies: list[str],
    *,
    aux: Vectors | None = None,
    fraction: float = 0.1,
    seed: int = 0,
    k: int = 10,
    temperature: float = 0.1,
) -> tuple[dict[str, float | None], dict]:
    """``(strategy -> mean cosine, details)`` for every strategy in ``strategies`` but ``exact``."""
    index = source.vectors().index
    shared = [i for i, t in enumerate(target) if t in index]
    rng = np.random.default_rng(seed)
    n = max(1, round(fraction * len(shared))) if shared else 0
    held = sorted(rng.choice(shared, size=n, replace=False).tolist()) if n else []
    reduced = source.without({index[target[i]] for i in held})
    truth = np.asarray(source.matrix[[index[target[i]] for i in held]], dtype=np.float32)
    scores: dict[str, float | None] = {}
    rebuilt: dict[str, int] = {}
    for name in strategies:
        if name == "exact":
            continue
        if name == "knn" and aux is None:
            continue
        built = build_embedding(
            target, reduced, ["exact", name], aux=aux, k=k, temperature=temperature, seed=seed
        )
        ok = [j for j, i in enumerate(held) if built.tiers[i] == name]
        rebuilt[name] = len(ok)
        if not ok:
            scores[name] = None
            continue
        rows = built.matrix[[held[j] for j in ok]]
        cos = (rows * truth[ok]).sum(1) / np.maximum(
            np.linalg.norm(rows, axis=1) * np.linalg.norm(truth[ok], axis=1), 1e-12
        )
        scores[name] = round(float(cos.mean()), 4)
    return scores, {"shared": len(shared), "heldout": len(held), "rebuilt": rebuilt}


def make_report(
    target: list[str],
    built: Built,
    source: Source,
    strategies: list[str],
    *,
    aux: Vectors | None = None,
    heldout: tuple[dict, dict] | None = None,
) -> dict:
    counts = Counter(built.tiers)
    order = [*strategies, *([] if "random" in strategies else ["random"])]
    report = {
        "vocab_size": len(target),
        "source": source.name,
        "dim": source.dim,
        "strategies": list(strategies),
        "tiers": {name: counts.get(name, 0) for name in order},
    }
    if heldout is not None:
        report["heldout_cosine"], report["heldout"] = heldout
    report["token_tiers"] = dict(zip(target, built.tiers, strict=True))
    return report


def format_report(report: dict) -> str:
    n = max(1, report["vocab_size"])
    lines = [f"{'tier':<12}{'tokens':>8}{'share':>9}"]
    lines += [f"{t:<12}{c:>8}{100 * c / n:>8.1f}%" for t, c in report["tiers"].items()]
    lines.append(f"{'total':<12}{report['vocab_size']:>8}")
    if "heldout_cosine" in report:
        h = report["heldout"]
        lines.append(
            f"held-out quality ({h['heldout']} of {h['shared']} shared tokens removed from the source, rebuilt):"
        )
        for name, value in report["heldout_cosine"].items():
            cos = "-" if value is None else f"{value:.4f}"
            lines.append(f"  {name:<12} mean cosine {cos:>7}  ({h['rebuilt'][name]} rebuilt)")
    return "\n".join(lines)
