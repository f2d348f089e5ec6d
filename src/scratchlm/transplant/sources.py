"""Where transplanted parameters come from: a BERT-family checkpoint folder (any layout and family), the built-in ``minilm-l6``, a
scratchlm run, or static vectors.

Every source becomes a :class:`Source`: its token strings and ``(Vs, D)`` embedding matrix (what the
strategies read), its own tokenizer when it has one (for subword composition), and, for models, the
rest of the encoder in scratchlm's names (``body``) with the ``model.*`` fields that build it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from scratchlm.data.builtin import BUILTIN_MODELS, bert_directory
from scratchlm.errors import DataError
from scratchlm.vectors.base import Vectors

TOKEN_EMBEDDING = "input.token_embedding.embedding.weight"
CHECKPOINT_MARKERS = ("config.json", "modules.json", "model.safetensors", "pytorch_model.bin")
"""A folder with any of these is read as a checkpoint (and says what it lacks)."""


@dataclass
class Source:
    name: str
    tokens: list[str]
    matrix: np.ndarray  # (Vs, D) float32
    tokenize: Callable[[str], list[int] | None] | None = None
    """Text -> source row ids (``None`` when a piece is unknown); ``None``: the source has no tokenizer."""
    body: dict[str, torch.Tensor] | None = None
    """A model's ``input.*`` and ``encoder.*`` tensors except the token embedding (``None``: vectors)."""
    model_fields: dict = field(default_factory=dict)
    """``ModelConfig`` fields of the model's architecture (empty for vectors)."""
    init_std: float = 0.02

    @property
    def dim(self) -> int:
        return int(self.matrix.shape[1])

    @property
    def is_model(self) -> bool:
        return self.body is not None

    def vectors(self) -> Vectors:
        return Vectors(self.tokens, self.matrix, "source", self.name)

    def without(self, rows: set[int]) -> Source:
        """The same source with ``rows`` removed (the held-out tokens of the quality score): neither
        found by name nor produced by the tokenizer."""
        keep = np.array([i for i in range(len(self.tokens)) if i not in rows], dtype=np.int64)
        new_id = np.full(len(self.tokens), -1, dtype=np.int64)
        new_id[keep] = np.arange(len(keep))
        kept = {self.tokens[i]: int(new_id[i]) for i in keep}
        tokenize = None
        if self.tokenize is not None:
            inner = self.tokenize

            def tokenize(text: str) -> list[int] | None:
                ids = inner(text)
                if ids is None:
                    return None
                out = []
                for i in ids:  # a removed piece is cut again as WordPiece would without it
                    pieces = [int(new_id[i])] if new_id[i] >= 0 else _wordpiece(self.tokens[i], kept)
                    if pieces is None:
                        return None
                    out += pieces
                return out

        return Source(
            self.name, [self.tokens[i] for i in keep], self.matrix[keep], tokenize, None, {}, self.init_std
        )


def _wordpiece(token: str, vocab: dict[str, int]) -> list[int] | None:
    """Greedy longest match of ``token`` over ``vocab`` (WordPiece's algorithm: pieces after the first,
    and all of a ``##`` token's, are ``##`` continuations); ``None`` when some part is not covered."""
    cont = token.startswith("##") and len(token) > 2
    text = token[2:] if cont else token
    out, start = [], 0
    while start < len(text):
        for end in range(len(text), start, -1):
            piece = ("##" if cont or start else "") + text[start:end]
            if piece in vocab:
                out.append(vocab[piece])
                start = end
                break
        else:
            return None
    return out


def load_source(spec: str) -> Source:
    """``spec``: a built-in model name, a BERT-family directory, a scratchlm run, or any vectors source
    :func:`scratchlm.vectors.io.load_vectors` reads."""
    path = Path(spec)
    if spec in BUILTIN_MODELS and not path.exists():
        return read_checkpoint_dir(bert_directory(spec), name=spec)
    if path.is_dir() and (path / "run.json").is_file():
        return read_run_source(path)
    if path.is_dir() and any((path / n).exists() for n in CHECKPOINT_MARKERS):
        return read_checkpoint_dir(path)
    from scratchlm.vectors.io import load_vectors

    vectors = load_vectors(spec)
    matrix = np.asarray(vectors.matrix, dtype=np.float32)
    return Source(spec, list(vectors.words), matrix, init_std=float(matrix.std()))


# --------------------------------------------------------------------------------------- BERT family
def _bert_tokenizer(directory: Path, tokens: list[str]) -> Callable[[str], list[int] | None]:
    from tokenizers.implementations import BertWordPieceTokenizer

    from tokenizers import Tokenizer

    if (directory / "tokenizer.json").is_file():
        tok = Tokenizer.from_file(str(directory / "tokenizer.json"))
    else:
        lower = True
        cfg = directory / "tokenizer_config.json"
        if cfg.is_file():
            lower = bool(json.loads(cfg.read_text(encoding="utf-8")).get("do_lower_case", True))
        tok = BertWordPieceTokenizer(str(directory / "vocab.txt"), lowercase=lower)
    # a tokenizer.json may pad or truncate every encoding (all-MiniLM-L6-v2's pads to 128 with [PAD]):
    # a token's pieces are what it is cut into, nothing added
    tok.no_padding()
    tok.no_truncation()
    unk = tok.token_to_id("[UNK]")

    def tokenize(text: str) -> list[int] | None:
        ids = tok.encode(text, add_special_tokens=False).ids
        return None if not ids or unk in ids or max(ids) >= len(tokens) else ids

    return tokenize


def _bert_tokens(directory: Path) -> list[str]:
    vocab = directory / "vocab.txt"
    if vocab.is_file():
        lines = vocab.read_text(encoding="utf-8").split("\n")
        return lines[:-1] if lines and lines[-1] == "" else lines
    tj = directory / "tokenizer.json"
    if tj.is_file():
        model_vocab = json.loads(tj.read_text(encoding="utf-8")).get("model", {}).get("vocab")
        if isinstance(model_vocab, dict):  # WordPiece, BPE: token -> id
            return [t for t, _ in sorted(model_vocab.items(), key=lambda kv: kv[1])]
        if isinstance(model_vocab, list):  # Unigram (XLM-R): [token, score] in id order
            return [entry[0] for entry in model_vocab]
    vocab_json = directory / "vocab.json"
    if vocab_json.is_file():  # a byte-level BPE's (RoBERTa)
        vocab = json.loads(vocab_json.read_text(encoding="utf-8"))
        return [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    raise DataError(f"{directory}: no vocab.txt, tokenizer.json or vocab.json (the source's tokens)")


def read_checkpoint_dir(directory: str | Path, *, name: str | None = None) -> Source:
    """A BERT-family checkpoint folder in any layout :mod:`scratchlm.models.hf_layouts` reads (BERT,
    RoBERTa/XLM-R, ALBERT, DistilBERT, ELECTRA: :mod:`scratchlm.models.hf_families`), with its
    ``vocab.txt``, ``tokenizer.json`` or ``vocab.json``; converted through the strict weight maps."""
    from scratchlm.models.hf_convert import hf_to_scratchlm
    from scratchlm.models.hf_layouts import read_checkpoint

    ck = read_checkpoint(directory)
    conv = hf_to_scratchlm(ck.state, ck.config, where=ck.weights)
    if ck.pooling is not None:  # a sentence-transformers model: the pooling it was trained with
        conv.fields["pooling"] = ck.pooling
    state = dict(conv.state)
    matrix = state.pop(TOKEN_EMBEDDING).float().numpy()
    tokens = _bert_tokens(ck.directory)
    if len(tokens) != matrix.shape[0]:
        raise DataError(
            f"{ck.directory}: {len(tokens)} tokens in its vocabulary for {matrix.shape[0]} embedding rows"
        )
    return Source(
        name or str(directory),
        tokens,
        matrix,
        _bert_tokenizer(ck.directory, tokens),
        {k: v.float() for k, v in state.items()},
        conv.fields,
        conv.fields["init_std"],
    )


read_bert_dir = read_checkpoint_dir


# ----------------------------------------------------------------------------------- scratchlm runs
def read_run_source(run: Path) -> Source:
    """A scratchlm run (any task): its tokenizer, token embedding and input layer + encoder."""
    from scratchlm.io import load_tensors
    from scratchlm.tokenizers import load_tokenizer
    from scratchlm.training.run_dir import read_run_config

    weights = run / "model.safetensors"
    if not weights.is_file():
        raise DataError(f"{run}: the run has no model.safetensors (unfinished?)")
    cfg = read_run_config(run)
    if cfg.model.embedding_rank is not None or cfg.model.bigram_buckets:
        raise DataError(f"{run}: a factorized or bigram embedding has no one row per token to transplant")
    state = load_tensors(weights)
    if TOKEN_EMBEDDING not in state:
        raise DataError(f"{run}/model.safetensors: no {TOKEN_EMBEDDING}")
    tokenizer = load_tokenizer(run)
    tokens = list(tokenizer.vocab.tokens)
    matrix = state[TOKEN_EMBEDDING].float().numpy()
    unk = tokenizer.vocab.unk_id

    def tokenize(text: str) -> list[int] | None:
        ids = tokenizer.vocab.ids(tokenizer.tokenize(text))
        return None if not ids or unk in ids else ids

    body = {
        k: v.float()
        for k, v in state.items()
        if k.startswith(("input.", "encoder.")) and k != TOKEN_EMBEDDING and "frozen_rows" not in k
    }
    fields = {k: getattr(cfg.model, k) for k in cfg.model.__dataclass_fields__}
    return Source(str(run), tokens, matrix, tokenize, body, fields, cfg.model.init_std)
