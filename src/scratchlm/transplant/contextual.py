"""Contextual vectors of a pretrained encoder: ``scratchlm encode SOURCE TEXT...``.

A source is a checkpoint folder (any layout and family :mod:`scratchlm.models.hf_layouts` and
:mod:`scratchlm.models.hf_families` read, tokenized by its own ``tokenizer.json`` or ``vocab.txt``, so
the ids are the ones ``transformers`` would use), the built-in ``minilm-l6``, or a scratchlm run
(its tokenizer and encoder). The hidden states of every layer are collected in one forward pass:
layer 0 is the input layer's output (after an ALBERT/ELECTRA projection), layer ``i`` the output of
encoder layer ``i``, and the last layer the encoder's output (for a pre-LN run, after its final norm).
For BERT-family checkpoints these are ``transformers``' ``hidden_states`` (the tests check it).

:func:`compare_word` is the demonstration of contextual against static vectors: the same word in
different texts has one row of the token embedding (cosine 1 between texts), and a contextual vector
that depends on the text around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from scratchlm.errors import DataError


@dataclass
class Encoder:
    name: str
    model: nn.Module
    """Has ``input``, ``encoder`` and ``token_embedding`` (a scratchlm task model)."""
    encode: Callable[[str], tuple[list[str], list[int]]]
    """text -> (tokens, ids), with the source's special tokens."""
    pieces: Callable[[str], list[int]]
    """a word -> its ids, no special tokens."""
    kind: str
    pooling: str | None = None
    """The sentence vector's pooling: a sentence-transformers folder's, a run's ``model.pooling``."""
    normalize: bool = False
    """A sentence-transformers folder with a Normalize module: sentence vectors of unit length."""

    @property
    def num_layers(self) -> int:
        return len(getattr(self.model.encoder, "order", ()))


def _hf_tokenizer(directory: Path, max_len: int):
    from tokenizers.implementations import BertWordPieceTokenizer

    from tokenizers import Tokenizer

    if (directory / "tokenizer.json").is_file():
        tok = Tokenizer.from_file(str(directory / "tokenizer.json"))
    elif (directory / "vocab.txt").is_file():
        tok = BertWordPieceTokenizer(str(directory / "vocab.txt"), lowercase=True)
    else:
        raise DataError(f"{directory}: no tokenizer.json or vocab.txt to cut texts with")
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    return tok


def load_encoder(spec: str) -> Encoder:
    """``spec``: a checkpoint folder, ``minilm-l6``, or a scratchlm run directory."""
    from scratchlm.data.builtin import BUILTIN_MODELS, bert_directory

    path = Path(spec)
    if path.is_dir() and (path / "run.json").is_file():
        return _run_encoder(path)
    if spec in BUILTIN_MODELS and not path.exists():
        path = bert_directory(spec)
    from scratchlm.models.hf_convert import build_model, hf_to_scratchlm
    from scratchlm.models.hf_layouts import read_checkpoint

    ck = read_checkpoint(path)
    conv = hf_to_scratchlm(ck.state, ck.config, where=ck.weights)
    tok = _hf_tokenizer(ck.directory, conv.max_positions)

    def encode(text: str) -> tuple[list[str], list[int]]:
        enc = tok.encode(text)
        return list(enc.tokens), list(enc.ids)

    def pieces(word: str) -> list[int]:
        return list(tok.encode(word, add_special_tokens=False).ids)

    kind = f"{conv.family.name} checkpoint ({ck.layout})"
    return Encoder(spec, build_model(conv), encode, pieces, kind, ck.pooling, ck.normalize)


def _run_encoder(path: Path) -> Encoder:
    from scratchlm.training.run_dir import load_run

    run = load_run(path)
    if not hasattr(run.model, "input") or not hasattr(run.model, "encoder"):
        raise DataError(f"{path}: a {run.task} run has no single encoder to read vectors from")
    tok = run.tokenizer

    def encode(text: str) -> tuple[list[str], list[int]]:
        enc = tok.encode(text, max_len=run.max_seq_len)
        return list(enc.tokens), list(enc.ids)

    def pieces(word: str) -> list[int]:
        return list(tok.encode(word, add_cls=False).ids)

    run.model.eval()
    return Encoder(
        str(path), run.model, encode, pieces, f"scratchlm {run.task} run", run.config.model.pooling
    )


@torch.no_grad()
def hidden_states(encoder: Encoder, ids: list[int]) -> list[torch.Tensor]:
    """``[layer 0, ..., layer L]``, each ``(s, d)``, for one text (layer L: the encoder's output)."""
    model = encoder.model
    seen: list[torch.Tensor] = []
    layers = list(getattr(model.encoder, "layers", []))
    hooks = [m.register_forward_hook(lambda _m, _i, out: seen.append(out)) for m in [model.input, *layers]]
    try:
        x = torch.tensor([ids])
        last = model.encoder(model.input(x), torch.ones_like(x, dtype=torch.bool))
    finally:
        for h in hooks:
            h.remove()
    states = [s[0].float() for s in seen]  # input layer, then each layer as it ran (a shared one again)
    return [*states[:-1], last[0].float()] if len(states) > 1 else [states[0], last[0].float()]


@torch.no_grad()
def sentence_vector(encoder: Encoder, last: torch.Tensor) -> list[float] | None:
    """The source's own sentence vector from the last layer ``(s, d)`` (its pooling, normalized when
    it says so): ``SentenceTransformer.encode``'s for a sentence-transformers folder; ``None`` when the
    source names no pooling."""
    from scratchlm.modules.heads import POOLING

    if encoder.pooling is None:
        return None
    v = POOLING[encoder.pooling](last[None], torch.ones(1, last.shape[0], dtype=torch.bool))[0]
    if encoder.normalize:
        v = torch.nn.functional.normalize(v, dim=-1)
    return [round(x, 6) for x in v.tolist()]


def layer_index(layer: str, num_states: int) -> list[int]:
    """``--layer``: ``last``, ``all`` or a number in ``0..L``."""
    if layer == "last":
        return [num_states - 1]
    if layer == "all":
        return list(range(num_states))
    if layer.isdigit() and int(layer) < num_states:
        return [int(layer)]
    raise DataError(
        f"--layer {layer}: use last, all, or a number from 0 (the input layer) to {num_states - 1}"
    )


def find_word(ids: list[int], pieces: list[int]) -> list[int] | None:
    """Positions of the first occurrence of ``pieces`` in ``ids``."""
    n = len(pieces)
    for start in range(len(ids) - n + 1):
        if ids[start : start + n] == pieces:
            return list(range(start, start + n))
    return None


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    return round(float(torch.nn.functional.cosine_similarity(a, b, dim=0)), 4)


@torch.no_grad()
def compare_word(encoder: Encoder, texts: list[str], word: str, layer: int | None = None) -> dict:
    """The word's contextual vector in each text (the mean over its pieces at ``layer``, default the
    last), their pairwise cosine similarities, and its static row (the mean of its pieces' token
    embedding rows: the same in every text) with each contextual vector's cosine to it."""
    pieces = encoder.pieces(word)
    if not pieces:
        raise DataError(f"--compare {word!r}: the tokenizer gives it no pieces")
    vectors, where = [], []
    for i, text in enumerate(texts, 1):
        _tokens, ids = encoder.encode(text)
        positions = find_word(ids, pieces)
        if positions is None:
            raise DataError(f"--compare {word!r}: not in text {i} ({text!r}) as the same pieces {pieces}")
        states = hidden_states(encoder, ids)
        vectors.append(states[-1 if layer is None else layer][positions].mean(0))
        where.append(positions)
    static = encoder.model.token_embedding.matrix()[pieces].float().mean(0)
    comparable = static.shape[0] == vectors[0].shape[0]
    return {
        "word": word,
        "pieces": pieces,
        "positions": where,
        "contextual_cosine": [[_cos(a, b) for b in vectors] for a in vectors],
        "static_cosine_between_texts": 1.0,
        "contextual_vs_static": [_cos(v, static) for v in vectors] if comparable else None,
        "static_dim": int(static.shape[0]),
    }
