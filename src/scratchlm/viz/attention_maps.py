"""The attention weights of a Transformer run on one text: what ``scratchlm plot attention`` draws.

The text is read exactly as the run's task reads it: a classifier or masked LM through its tokenizer
([CLS] first, the run's truncation), a tagger one unit (character, or whitespace token) per position.
The encoder then runs once with ``need_weights=True``: each attention module takes its explicit path
(softmax of ``q k^T / sqrt(hd) + mask`` as a tensor, which SDPA never materialises) and hands back its
``(h, s, s)`` weights, query positions as rows, key positions as columns. The outputs of that path equal
SDPA's (``tests/modules/test_attention.py``), so the weights are the ones the model uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from scratchlm.errors import ConfigError, DataError

if TYPE_CHECKING:
    from scratchlm.training.run_dir import LoadedRun


@dataclass
class AttentionMaps:
    tokens: list[str]  # the s positions' labels
    weights: list[torch.Tensor]  # one (h, s, s) tensor per layer: rows queries, columns keys
    truncated: int  # units or tokens dropped to fit max_seq_len


def text_positions(run: LoadedRun, text: str) -> tuple[list[int], list[str], int]:
    """``(ids, tokens, truncated)``: the positions the run's model reads for ``text``."""
    if not text.strip():
        raise DataError("the text is empty; give a sentence to read")
    return run.handler().model_inputs(run, text)


def check_has_attention(run: LoadedRun) -> None:
    from scratchlm.modules.transformer import TransformerEncoder

    if not run.handler().plots_attention:
        raise ConfigError(
            f"{run.path} is a {run.task} run; plot attention reads the self-attention of classifier, "
            "tagger and masked-LM runs"
        )
    if not isinstance(run.model.encoder, TransformerEncoder):
        kind = run.config.model.encoder
        raise ConfigError(
            f"{run.path} uses model.encoder={kind}: a recurrent encoder has no attention weights to plot "
            "(plot attention reads Transformer runs: classifiers, taggers, masked LMs)"
        )


@torch.no_grad()
def attention_maps(run: LoadedRun, text: str) -> AttentionMaps:
    """Every layer's attention weights for ``text`` (one sequence, no padding)."""
    check_has_attention(run)
    ids, tokens, truncated = text_positions(run, text)
    model = run.model
    was_training = model.training
    model.eval()
    try:
        x = model.input(torch.tensor([ids]))  # (1, s, d)
        _, weights = model.encoder(x, torch.ones(1, len(ids), dtype=torch.bool), need_weights=True)
    finally:
        model.train(was_training)
    return AttentionMaps(tokens, [w[0].float() for w in weights], truncated)


def select_layers(spec: str, num_layers: int) -> list[int]:
    """``--layer``: ``last`` (default), ``all``, or a layer number (0 first, -1 last)."""
    if spec == "all":
        return list(range(num_layers))
    if spec == "last":
        return [num_layers - 1]
    try:
        layer = int(spec)
    except ValueError:
        raise ConfigError(f"--layer {spec}: give a layer number, last or all") from None
    if not -num_layers <= layer < num_layers:
        raise ConfigError(
            f"--layer {spec}: the run has {num_layers} layer(s), numbered 0 to {num_layers - 1} (-1: the last)"
        )
    return [layer % num_layers]
