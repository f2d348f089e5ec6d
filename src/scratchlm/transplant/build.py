"""Compose strategies, in order, into the ``(V, D)`` embedding matrix of a target vocabulary, and write
a transplanted model directory; :func:`build_matrix`: the same matrix from vectors, from Python.

Each target token takes the first tier (strategy) that can make its row; the tiers are tried in the
order given. Tokens no tier filled get ``random`` rows and are counted under ``random``, so the tier
counts always add up to the vocabulary size.

A model source also gives its encoder: the output directory is then a model scratchlm fine-tunes
(``model.init: OUT``, :mod:`scratchlm.training.finetune`)::

    OUT/
      embedding.safetensors   {"embedding": (V, D)}, rows in the target vocabulary's order
      tokenizer/              the target tokenizer
      model.safetensors       input.* + encoder.*: the source's, with the new token embedding (model sources)
      config.yaml, run.json   the architecture (model.*) and data.max_seq_len the positions were made for
      transplant.json         the report (:mod:`scratchlm.transplant.report`)

Learned position embeddings are copied when the new maximum length is at most the source's, and
otherwise ``extend``-ed (the source table repeated, as Longformer initialises its 4,096 positions from
RoBERTa's 512) or ``interpolate``-d (the table stretched linearly over the new length).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from scratchlm.errors import DataError
from scratchlm.transplant.sources import TOKEN_EMBEDDING, Source
from scratchlm.transplant.strategies import STRATEGIES, Context, oov_rows
from scratchlm.vectors.base import Vectors
from scratchlm.vectors.match import TIERS, FoundRows, find_rows

POSITIONS = ("extend", "interpolate")
POSITION_KEY = "input.positional.weight"


def parse_strategies(text: str | list[str]) -> list[str]:
    names = [s.strip() for s in text.split(",")] if isinstance(text, str) else list(text)
    names = [n for n in names if n]
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown or not names:
        raise DataError(
            f"unknown strategy {', '.join(map(repr, unknown)) or '(none given)'}; choose an ordered, comma-separated "
            f"list from {', '.join(STRATEGIES)}"
        )
    if len(set(names)) != len(names):
        raise DataError(f"strategy listed twice in {','.join(names)}")
    return names


@dataclass
class Built:
    matrix: np.ndarray  # (V, D) float32
    tiers: list[str]  # tier of each target token


def build_embedding(
    target: list[str],
    source: Source,
    strategies: list[str],
    *,
    aux: Vectors | None = None,
    k: int = 10,
    temperature: float = 0.1,
    seed: int = 0,
) -> Built:
    ctx = Context(list(target), source, aux, k=k, temperature=temperature, seed=seed)
    todo = list(range(len(target)))
    for name in [*strategies, *([] if "random" in strategies else ["random"])]:
        if not todo:
            break
        rows = STRATEGIES[name](ctx, todo)
        ctx.filled.update({i: (name, np.asarray(r, dtype=np.float32)) for i, r in rows.items()})
        todo = [i for i in todo if i not in rows]
    matrix = np.empty((len(target), source.dim), np.float32)
    for i, (_, row) in ctx.filled.items():
        matrix[i] = row
    return Built(matrix, [ctx.filled[i][0] for i in range(len(target))])


def build_matrix(
    vocab_tokens: list[str],
    vectors: Vectors,
    *,
    dim: int | None = None,
    project: str | None = None,
    oov_init: str = "normal",
    std: float | None = None,
    scale_std: float | None = None,
    pad_id: int | None = 0,
    special_ids: set[int] | None = None,
    unk_id: int | None = None,
    seed: int = 0,
    tiers: tuple[str, ...] = TIERS,
    token_counts: dict[str, int] | None = None,
) -> tuple[np.ndarray, FoundRows]:
    """The ``(V, dim)`` float32 embedding matrix of ``vocab_tokens`` from vectors, and how each row was made.

    Each token takes the first matching tier that finds it (:func:`scratchlm.vectors.match.find_rows`,
    as ``model.init``); the others get ``oov_init`` (``normal``, ``uniform``, ``zeros``, or ``sampled``
    from the mean and covariance of the found rows). ``std``: of the OOV init (default: that of the found
    rows, else 0.02); ``scale_std``: rescale the found rows to this standard deviation first.
    ``special_ids`` are not matched: ``pad_id`` is zero, ``unk_id`` the mean of the found rows, the
    others get the OOV init. Vectors of another dimension than ``dim`` need ``project`` (``pca``,
    ``random``, ``pad-truncate``: :mod:`scratchlm.vectors.project`).
    """
    dim = dim or vectors.dim
    if dim != vectors.dim:
        if project is None:
            raise DataError(
                f"the vectors have dimension {vectors.dim} and the embedding {dim}; choose how to "
                "map them: project='pca', 'random' or 'pad-truncate'"
            )
        from scratchlm.vectors.project import project_vectors

        vectors = project_vectors(vectors, dim, project, seed=seed)
    specials = set(special_ids or ()) | {i for i in (pad_id, unk_id) if i is not None}
    found = find_rows(vocab_tokens, vectors, tiers=tiers, skip=specials, token_counts=token_counts)
    rows = found.rows
    if scale_std is not None and len(rows) > 1:
        rows = rows / max(float(rows.std()), 1e-12) * scale_std
    std = std if std is not None else (float(rows.std()) if len(rows) > 1 else 0.02)
    rng = np.random.default_rng(seed)
    matrix = np.empty((len(vocab_tokens), dim), np.float32)
    rest = [i for i, t in enumerate(found.tier) if t in ("oov", "special")]
    matrix[rest] = oov_rows(len(rest), dim, oov_init, std=std, found=rows, rng=rng)
    matrix[found.ids] = rows
    if unk_id is not None and len(rows):
        matrix[unk_id] = rows.mean(axis=0)
    if pad_id is not None:
        matrix[pad_id] = 0.0
    return matrix, found


def resize_positions(table: torch.Tensor, length: int, how: str = "extend") -> torch.Tensor:
    """A ``(P, D)`` learned position table for ``length`` positions: the first rows when shorter,
    else ``extend`` (the table repeated) or ``interpolate`` (linear over positions)."""
    if how not in POSITIONS:
        raise DataError(f"unknown position method {how!r}; choose from {', '.join(POSITIONS)}")
    p = table.shape[0]
    if length <= p:
        return table[:length].clone()
    if how == "extend":
        reps = -(-length // p)
        return table.repeat(reps, 1)[:length].clone()
    stretched = torch.nn.functional.interpolate(
        table.T.unsqueeze(0), size=length, mode="linear", align_corners=True
    )  # (1, D, length)
    return stretched[0].T.contiguous()


def model_config(source: Source, max_seq_len: int, tokenizer_kind: str):
    """The run config a fine-tuning recipe must match: the source's ``model.*``, the target tokenizer."""
    from scratchlm.config import DataConfig, ModelConfig, RunConfig

    fields = dict(source.model_fields)
    fields.update(init="normal", freeze_embedding_rows="none", freeze_embeddings=False, freeze_layers=0)
    return RunConfig(
        data=DataConfig(tokenizer=tokenizer_kind, max_seq_len=max_seq_len), model=ModelConfig(**fields)
    )


def model_state(
    source: Source, matrix: np.ndarray, max_seq_len: int, positions: str, tokenizer_kind: str
) -> tuple[dict[str, torch.Tensor], object]:
    """The transplanted ``input.*``/``encoder.*`` tensors, checked against a model built from the
    config (every key present, no extra, the same shapes)."""
    from scratchlm.models import TextClassifier

    if not source.is_model:
        raise DataError(f"{source.name}: vectors have no encoder; only embedding.safetensors is written")
    cfg = model_config(source, max_seq_len, tokenizer_kind)
    state = dict(source.body)
    state[TOKEN_EMBEDDING] = torch.from_numpy(matrix)
    if POSITION_KEY in state:
        state[POSITION_KEY] = resize_positions(state[POSITION_KEY], max_seq_len, positions)
    model = TextClassifier(
        cfg.model, vocab_size=len(matrix), num_classes=2, max_seq_len=max_seq_len, pad_id=0
    )
    want = {
        k: v
        for k, v in model.state_dict().items()
        if k.startswith(("input.", "encoder.")) and "frozen_rows" not in k
    }
    missing, extra = sorted(set(want) - set(state)), sorted(set(state) - set(want))
    shapes = [
        f"{k} {tuple(state[k].shape)} != {tuple(want[k].shape)}"
        for k in set(want) & set(state)
        if state[k].shape != want[k].shape
    ]
    if missing or extra or shapes:
        raise DataError(
            f"{source.name}: the transplanted weights do not build the model: missing {missing}, extra {extra}, "
            f"shapes {shapes}"
        )
    return {k: v.contiguous() for k, v in state.items()}, cfg


def write_output(
    out: Path,
    built: Built,
    source: Source,
    tokenizer,
    report: dict,
    *,
    max_seq_len: int | None,
    positions: str = "extend",
) -> list[str]:
    """Write the directory described above; returns the files written."""
    from scratchlm.config import dump_config
    from scratchlm.io import atomic_directory, atomic_write_json, atomic_write_text, save_tensors
    from scratchlm.training.run_dir import RUN_MARKER

    state = cfg = None
    if source.is_model:
        length = max_seq_len or _source_positions(source)
        state, cfg = model_state(source, built.matrix, length, positions, tokenizer.kind)
    out = Path(out)
    with atomic_directory(out) as tmp:
        save_tensors(
            tmp / "embedding.safetensors",
            {"embedding": torch.from_numpy(built.matrix)},
            metadata={"source": source.name, "vocab_size": str(len(built.matrix))},
        )
        tokenizer.save(tmp / "tokenizer")
        atomic_write_json(tmp / "transplant.json", report)
        if state is not None:
            save_tensors(tmp / "model.safetensors", state)
            atomic_write_text(tmp / "config.yaml", dump_config(cfg))
            atomic_write_json(
                tmp / RUN_MARKER,
                {
                    "format": "scratchlm-run/1",
                    "task": "transplant",
                    "source": source.name,
                    "vocab_size": len(built.matrix),
                    "max_seq_len": cfg.data.max_seq_len,
                },
            )
        files = sorted(p.name for p in tmp.iterdir())
    return files


def _source_positions(source: Source) -> int:
    if source.body and POSITION_KEY in source.body:
        return int(source.body[POSITION_KEY].shape[0])
    return 512
