"""Typed run configuration: dataclasses loaded from YAML, dotted ``--set`` overrides, strict keys.

A config has four sections, each a dataclass:

- ``data``       what to read and how to tokenize it (:class:`DataConfig`)
- ``model``      the input layer, the encoder and the head (:class:`ModelConfig`)
- ``train``      optimisation, schedule, checkpoints (:class:`TrainConfig`)
- ``vectors``    how to pretrain initial token vectors when ``model.init: word2vec`` (:class:`VectorsConfig`)

Unknown keys are errors that name the key and suggest the closest valid ones (no ``**kwargs`` sinks:
a typo never silently falls back to a default). Values from the command line are parsed to the
field's declared type.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scratchlm.errors import ConfigError


@dataclass
class DataConfig:
    """Where the examples come from and how text becomes ids."""

    dataset: str = "zh-reviews"
    """A built-in dataset name (``scratchlm data list``) or a path to a jsonl/csv/tsv file."""
    train_file: str | None = None
    """User data: training file (jsonl/csv/tsv). Overrides ``dataset``'s train split."""
    dev_file: str | None = None
    """User data: dev file. Without it, 10% of the training file is held out by the sha1 rule."""
    test_file: str | None = None
    """User data: test file."""
    text_field: str = "text"
    """Column / key holding the text in user files."""
    label_field: str = "label"
    """Column / key holding the label in user files."""
    tokenizer: str = "char"
    """Tokenizer kind. ``char``: one token per character after normalisation."""
    normalize: bool = True
    """NFKC + full-width to half-width normalisation before tokenizing."""
    lowercase: bool = False
    """Lowercase after normalising (useful for mixed Chinese/English text)."""
    min_freq: int = 1
    """Characters seen fewer times than this in train become [UNK]."""
    max_vocab_size: int | None = None
    """Keep at most this many tokens (specials included), most frequent first."""
    max_seq_len: int = 256
    """Tokens per example including [CLS]; longer texts are truncated (and counted)."""
    truncation: str = "end"
    """Which tokens a too-long text loses: ``end`` (keep the beginning), ``start`` (keep the end),
    ``middle`` (keep the first quarter and the last three quarters of the budget)."""
    max_train_examples: int | None = None
    """Use only the first N training examples (after shuffling with the seed): for quick runs."""
    max_eval_examples: int | None = None
    """Use only the first N dev/test examples: for quick runs."""

    def __post_init__(self) -> None:
        if self.tokenizer not in ("char",):
            raise ConfigError(
                f"data.tokenizer: unknown tokenizer {self.tokenizer!r}; this version offers 'char'"
            )
        _choice("data.truncation", self.truncation, ("end", "start", "middle"))
        _positive("data.min_freq", self.min_freq)
        _positive("data.max_seq_len", self.max_seq_len, minimum=2)
        _positive("data.max_vocab_size", self.max_vocab_size, minimum=6)
        _positive("data.max_train_examples", self.max_train_examples)
        _positive("data.max_eval_examples", self.max_eval_examples)


@dataclass
class ModelConfig:
    """Input layer + encoder + head."""

    embed_dim: int = 192
    """Width of token vectors and of the encoder (d)."""
    num_layers: int = 3
    """Transformer encoder layers (0: the input layer feeds the head directly)."""
    num_heads: int = 4
    """Attention heads; ``embed_dim`` must be divisible by it (head_dim = embed_dim / num_heads)."""
    ffn_dim: int = 768
    """Hidden width of each layer's feed-forward block (GELU)."""
    dropout: float = 0.1
    """Dropout on residual branches, inside the feed-forward block and before the classifier."""
    attention_dropout: float = 0.1
    """Dropout on attention weights (inside SDPA, training only)."""
    embedding_dropout: float = 0.1
    """Dropout on the input layer's output (token + position vectors)."""
    positional: str = "sinusoidal"
    """Positional encoding added to token vectors: ``sinusoidal``, ``learned`` or ``none``."""
    combine: str = "add"
    """How token and position vectors are combined: ``add`` (this version offers only ``add``)."""
    init: str = "normal"
    """Token embedding initialisation: ``normal`` (std ``init_std``), ``word2vec`` (vectors trained on the
    ``vectors`` section's corpus before training), or any vectors source ``scratchlm vectors info`` reads:
    a word2vec/GloVe/fastText file, a vectors cache, a run directory, or a built-in name such as
    ``glove-6b-50d``. Tokens are matched in tiers (exact, lowercase, NFKC, ...); the rest keep the normal init."""
    init_std: float = 0.02
    """Standard deviation of the normal init of the token embedding and of every Linear weight."""
    vectors_std: float | None = None
    """Rescale pretrained vectors (``init`` other than ``normal``) to this standard deviation
    (``null``: keep their own scale)."""
    bigram_buckets: int = 0
    """Add hashed vectors of adjacent-token pairs to the token vectors (0: off). See
    :class:`scratchlm.modules.embeddings.HashedBigramEmbedding`."""
    freeze_embeddings: bool = False
    """Keep the token embedding fixed during training."""
    pooling: str = "cls"
    """Sentence vector for the classifier: ``cls`` ([CLS] position), ``mean`` or ``max`` over real tokens,
    or ``mean_max`` (both, concatenated)."""
    norm_eps: float = 1e-5
    """LayerNorm epsilon."""

    def __post_init__(self) -> None:
        _positive("model.embed_dim", self.embed_dim)
        _positive("model.num_layers", self.num_layers, minimum=0)
        _positive("model.num_heads", self.num_heads)
        _positive("model.ffn_dim", self.ffn_dim)
        if self.bigram_buckets and self.bigram_buckets < 2:
            raise ConfigError(f"model.bigram_buckets={self.bigram_buckets}: use 0 (off) or >= 2 buckets")
        if self.embed_dim % self.num_heads:
            raise ConfigError(
                f"model.embed_dim={self.embed_dim} must be divisible by model.num_heads={self.num_heads}"
            )
        for name in ("dropout", "attention_dropout", "embedding_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"model.{name}={value} must be in [0, 1)")
        _choice("model.positional", self.positional, ("sinusoidal", "learned", "none"))
        _choice("model.combine", self.combine, ("add",))
        _choice("model.pooling", self.pooling, ("cls", "mean", "max", "mean_max"))
        if self.init_std <= 0:
            raise ConfigError(f"model.init_std={self.init_std} must be > 0")


@dataclass
class TrainConfig:
    """Optimisation and bookkeeping."""

    seed: int = 13
    """Seeds Python, NumPy and torch, the subsampling and the batch order."""
    epochs: int = 4
    """Passes over the training data (``max_steps`` and early stopping may end training sooner)."""
    max_steps: int | None = None
    """Stop after this many optimizer steps (overrides ``epochs`` when reached first)."""
    batch_size: int = 32
    """Training examples per optimizer step."""
    eval_batch_size: int = 128
    """Examples per forward pass in evaluation and prediction."""
    lr: float = 1e-3
    """Peak learning rate of AdamW (reached at the end of warmup)."""
    embedding_lr: float | None = None
    """Learning rate for the embedding tables: tokens and character pairs (default: ``lr``)."""
    weight_decay: float = 0.01
    """AdamW decoupled weight decay, applied to weight matrices only (not biases, norms, embedding tables)."""
    betas: tuple[float, float] = (0.9, 0.98)
    """AdamW moment decay rates."""
    warmup_ratio: float = 0.06
    """Fraction of all steps with linear warmup."""
    schedule: str = "linear"
    """Decay after warmup: ``linear``, ``cosine`` or ``constant``."""
    grad_clip: float = 1.0
    """Clip the global gradient norm to this value."""
    label_smoothing: float = 0.0
    """Cross-entropy label smoothing."""
    ema_decay: float | None = None
    """Keep an exponential moving average of the weights with this decay (e.g. 0.999) and evaluate,
    select and save the averaged weights (``null``: off)."""
    early_stopping_patience: int | None = 3
    """Stop when dev accuracy (the metric that also picks the saved weights) has not improved for this
    many evaluations (``null``: never)."""
    eval_every: int | None = None
    """Evaluate on dev every N steps (default: at the end of each epoch)."""
    save_every: int = 500
    """Write a full training-state checkpoint every N steps (and always at the last step)."""
    keep_checkpoints: int = 2
    """How many step checkpoints to keep (oldest removed first)."""
    length_bucketing: bool = True
    """Batch examples of similar length together (much less padding, same examples per epoch)."""
    num_threads: int | None = None
    """torch intra-op threads (default: torch's choice)."""
    progress: bool = True
    """Show a progress bar (off automatically when stderr is not a terminal and CI is set)."""

    def __post_init__(self) -> None:
        _positive("train.epochs", self.epochs)
        _positive("train.max_steps", self.max_steps)
        _positive("train.batch_size", self.batch_size)
        _positive("train.eval_batch_size", self.eval_batch_size)
        _positive("train.save_every", self.save_every)
        _positive("train.keep_checkpoints", self.keep_checkpoints)
        _positive("train.eval_every", self.eval_every)
        _positive("train.early_stopping_patience", self.early_stopping_patience)
        if self.lr <= 0:
            raise ConfigError(f"train.lr={self.lr} must be > 0")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(f"train.warmup_ratio={self.warmup_ratio} must be in [0, 1)")
        _choice("train.schedule", self.schedule, ("linear", "cosine", "constant"))
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ConfigError(f"train.ema_decay={self.ema_decay} must be in (0, 1), or null for off")
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"train.label_smoothing={self.label_smoothing} must be in [0, 1)")
        if len(self.betas) != 2:
            raise ConfigError(f"train.betas must have two values, got {self.betas}")


@dataclass
class VectorsConfig:
    """Pretraining of initial token vectors (``model.init: word2vec``), the recipe's own first stage."""

    corpus: list[str] = field(default_factory=lambda: ["train", "pd1998-text"])
    """Texts to learn from: ``train`` (the run's training texts), ``pd1998-text`` (People's Daily,
    tags stripped), or paths to UTF-8 text files (one text per line)."""
    method: str = "skipgram"
    """``skipgram`` or ``cbow`` (gensim's word2vec)."""
    window: int = 5
    """word2vec context window (tokens on each side)."""
    negative: int = 5
    """Negative samples per positive pair."""
    epochs: int = 5
    """Passes of word2vec over the corpus."""
    min_count: int = 1
    """Tokens rarer than this in the corpus get no vector."""
    sample: float = 1e-3
    """Down-sampling threshold for frequent tokens."""
    bigrams: bool = False
    """With ``model.bigram_buckets > 0``: also learn vectors of adjacent-token pairs and put them in the
    bigram buckets."""
    bigram_min_count: int = 2
    """Pairs seen fewer times than this in the corpus get no pretrained vector (they start at zero)."""
    workers: int = 2
    """word2vec threads. With more than one, gensim's result varies slightly from run to run; use 1 for
    bit-for-bit reproducible vectors (about twice as slow)."""

    def __post_init__(self) -> None:
        _choice("vectors.method", self.method, ("skipgram", "cbow"))
        _positive("vectors.window", self.window)
        _positive("vectors.epochs", self.epochs)
        _positive("vectors.min_count", self.min_count)
        _positive("vectors.workers", self.workers)
        if not self.corpus:
            raise ConfigError("vectors.corpus is empty: name at least one text source")


@dataclass
class RunConfig:
    """A whole recipe: what ``scratchlm train CONFIG.yaml`` reads and what a run saves."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    vectors: VectorsConfig = field(default_factory=VectorsConfig)

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["train"]["betas"] = list(self.train.betas)
        return out


# ----------------------------------------------------------------------------------------------
# loading, overriding, saving


def _positive(name: str, value: int | None, minimum: int = 1) -> None:
    if value is not None and value < minimum:
        raise ConfigError(f"{name}={value} must be >= {minimum}")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not one of {', '.join(allowed)}")


# names other libraries use for our fields: suggested first when a user types them
SYNONYMS = {
    "learning_rate": "lr",
    "hidden_size": "embed_dim",
    "d_model": "embed_dim",
    "dim": "embed_dim",
    "n_layers": "num_layers",
    "n_heads": "num_heads",
    "num_attention_heads": "num_heads",
    "intermediate_size": "ffn_dim",
    "max_length": "max_seq_len",
    "max_len": "max_seq_len",
    "num_epochs": "epochs",
    "warmup": "warmup_ratio",
    "clip": "grad_clip",
    "max_grad_norm": "grad_clip",
}


def _unknown_key(where: str, key: str, valid: list[str]) -> ConfigError:
    close = difflib.get_close_matches(key, valid, n=3, cutoff=0.5)
    if SYNONYMS.get(key) in valid:
        close = [SYNONYMS[key]] + [c for c in close if c != SYNONYMS[key]]
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return ConfigError(f"unknown config key '{where}{key}'{hint} (valid keys: {', '.join(valid)})")


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _coerce(name: str, value: Any, tp: Any) -> Any:
    """Convert ``value`` (from YAML or from a ``--set`` string) to the declared type ``tp``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() in ("null", "none", "~")):
            if type(None) in args:
                return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(name, value, arg)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{name}: cannot use {value!r}")
    if origin in (list, tuple):
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()] if value.strip() else []
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{name}: expected a list, got {value!r}")
        if origin is tuple:
            return tuple(_coerce(name, v, a) for v, a in zip(value, args, strict=False))
        return [_coerce(name, v, args[0] if args else str) for v in value]
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "yes", "1", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "no", "0", "off"):
            return False
        raise ConfigError(f"{name}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.replace("_", ""))
            except ValueError:
                pass
        raise ConfigError(f"{name}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected a number, got {value!r}")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected a number, got {value!r}") from None
    if tp is str:
        if isinstance(value, (dict, list)):
            raise ConfigError(f"{name}: expected a string, got {value!r}")
        return str(value)
    return value


def _build_section(cls: type, raw: dict[str, Any], section: str) -> Any:
    types_ = _field_types(cls)
    for key in raw:
        if key not in types_:
            raise _unknown_key(f"{section}.", key, list(types_))
    kwargs = {k: _coerce(f"{section}.{k}", v, types_[k]) for k, v in raw.items()}
    return cls(**kwargs)


SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "vectors": VectorsConfig,
}


def config_from_dict(raw: dict[str, Any]) -> RunConfig:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(
            f"a config must be a mapping of sections ({', '.join(SECTIONS)}), got {type(raw).__name__}"
        )
    for key, value in raw.items():
        if key not in SECTIONS:
            raise _unknown_key("", key, list(SECTIONS))
        if value is not None and not isinstance(value, dict):
            raise ConfigError(f"config section {key!r} must be a mapping, got {value!r}")
    return RunConfig(
        **{name: _build_section(cls, raw.get(name) or {}, name) for name, cls in SECTIONS.items()}
    )


def parse_override(text: str) -> tuple[str, str, str]:
    """``"train.lr=3e-4"`` -> ``("train", "lr", "3e-4")`` with clear errors."""
    if "=" not in text:
        raise ConfigError(f"--set {text!r}: expected section.key=value, e.g. --set train.lr=3e-4")
    dotted, value = text.split("=", 1)
    parts = dotted.strip().split(".")
    if len(parts) != 2 or not all(parts):
        raise ConfigError(
            f"--set {text!r}: the key must be section.key, e.g. train.lr (sections: {', '.join(SECTIONS)})"
        )
    section, key = parts
    if section not in SECTIONS:
        raise _unknown_key("", section, list(SECTIONS))
    if key not in _field_types(SECTIONS[section]):
        raise _unknown_key(f"{section}.", key, list(_field_types(SECTIONS[section])))
    return section, key, value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of the raw YAML mapping with ``section.key=value`` strings applied."""
    out = {k: dict(v or {}) for k, v in (raw or {}).items()}
    for text in overrides:
        section, key, value = parse_override(text)
        out.setdefault(section, {})[key] = value
    return out


def read_yaml(path: str | Path) -> dict[str, Any]:
    import yaml

    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory, expected a YAML config file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path}{where}: invalid YAML ({getattr(exc, 'problem', exc)})") from None
    return raw or {}


def load_config(path: str | Path, overrides: list[str] | None = None) -> RunConfig:
    """Read a YAML recipe, apply ``--set`` overrides, validate every key and value."""
    raw = apply_overrides(read_yaml(path), overrides or [])
    try:
        return config_from_dict(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def dump_config(config: RunConfig) -> str:
    import yaml

    return yaml.safe_dump(config.to_dict(), sort_keys=False, allow_unicode=True)
