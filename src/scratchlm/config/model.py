"""The ``model`` section of a run configuration: the input layer, the encoder and the head
(:class:`ModelConfig`), with its optional parts as nested sections:

- ``model.encoder``     what reads the input layer's vectors: kind and sizes (:class:`EncoderConfig`)
- ``model.positional``  where position information comes from and how it meets the tokens
  (:class:`PositionalConfig`)
- ``model.decoder``     seq2seq: how the recurrent decoder attends to the source (:class:`DecoderConfig`)
- ``model.generation``  seq2seq decoding: beam search and output length (:class:`GenerationConfig`)
- ``model.lexicon``     dictionary-match features in the input layer (:class:`~scratchlm.config.lexicon.LexiconConfig`)

Each section checks what it can see alone; :meth:`ModelConfig.__post_init__` checks the combinations
(``embed_dim`` divisible by ``encoder.num_heads``, a relative ``positional.kind`` needs attention, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scratchlm.config.checks import check_choice, check_positive, sections_from_mappings
from scratchlm.config.image import PatchConfig
from scratchlm.config.lexicon import LexiconConfig
from scratchlm.errors import ConfigError

ENCODER_KINDS = ("transformer", "rnn", "lstm", "gru")
RECURRENT_KINDS = ("rnn", "lstm", "gru")
POSITIONAL_KINDS = ("sinusoidal", "scaled_sinusoidal", "learned", "rope", "alibi", "t5_bias", "none")
"""The kinds for sequences (text)."""
POSITIONAL_KINDS_2D = ("sinusoidal_2d", "learned_2d", "rope_2d")
"""The kinds for image patches only."""
ALL_POSITIONAL_KINDS = (*POSITIONAL_KINDS, *POSITIONAL_KINDS_2D)
IMAGE_POSITIONAL_KINDS = ("none", "learned", "sinusoidal_2d", "learned_2d", "rope_2d")
"""The kinds an image model reads (``learned``: one vector per patch); the ``*_2d`` kinds are for images only."""
ABSOLUTE_KINDS = ("sinusoidal", "scaled_sinusoidal", "learned")
"""Kinds with position vectors combined with the token vectors; the others act inside attention."""
IN_ATTENTION_KINDS = ("rope", "alibi", "t5_bias", "rope_2d")


@dataclass
class EncoderConfig:
    """``model.encoder``: the stack on the input layer (the seq2seq Transformer decoder has the same
    sizes)."""

    kind: str = "transformer"
    """``transformer`` (self-attention: ``num_layers``, ``num_heads``, ``ffn_dim``); ``rnn`` (the plain
    tanh cell), ``lstm`` or ``gru`` (recurrent: ``num_layers`` stacked layers of ``rnn_hidden_dim`` units per
    direction; padding never reaches a real position: packed sequences on CUDA, each row reversed within its
    length on CPU, the same result and 3x faster there)."""
    num_layers: int = 3
    """Encoder layers (``transformer``: 0 lets the input layer feed the head directly; ``rnn``/``lstm``/
    ``gru``: >= 1)."""
    num_heads: int = 4
    """Attention heads; ``model.embed_dim`` must be divisible by it (head_dim = embed_dim / num_heads)."""
    ffn_dim: int = 768
    """Hidden width of each layer's feed-forward block (GELU)."""
    attention_dropout: float = 0.1
    """Dropout on attention weights (inside SDPA, training only)."""
    norm_position: str = "pre"
    """``transformer``: where each layer normalises: ``pre`` (before attention and the feed-forward block,
    a final LayerNorm after the stack; trains stably from scratch) or ``post`` (after each residual sum,
    no final norm: BERT's layout, to run BERT-family weights, docs/transplant.md)."""
    rnn_hidden_dim: int | None = None
    """``rnn``/``lstm``/``gru``: hidden units per direction (``null``: ``model.embed_dim``, halved when
    ``bidirectional``, so the encoder's output width is about ``embed_dim``)."""
    bidirectional: bool = True
    """``rnn``/``lstm``/``gru``: run a second stack right to left and concatenate both directions' outputs."""
    activation: str = "gelu"
    """``transformer``: the feed-forward block's activation: ``gelu`` (exact, BERT) or ``gelu_tanh`` (the
    tanh approximation, Hugging Face's ``gelu_new``: ALBERT's)."""
    unique_layers: int | None = None
    """``transformer``: layers with parameters of their own (``null``: every layer). With fewer than
    ``num_layers``, layers share them across depth, layer ``i`` using set ``i * unique_layers // num_layers``
    (ALBERT's ``num_hidden_groups``: 1, the same layer applied ``num_layers`` times)."""

    @property
    def recurrent(self) -> bool:
        return self.kind in RECURRENT_KINDS

    def __post_init__(self) -> None:
        check_choice("model.encoder.kind", self.kind, ENCODER_KINDS)
        check_positive("model.encoder.num_layers", self.num_layers, minimum=0)
        check_positive("model.encoder.num_heads", self.num_heads)
        check_positive("model.encoder.ffn_dim", self.ffn_dim)
        if not 0.0 <= self.attention_dropout < 1.0:
            raise ConfigError(f"model.encoder.attention_dropout={self.attention_dropout} must be in [0, 1)")
        check_choice("model.encoder.norm_position", self.norm_position, ("pre", "post"))
        check_choice("model.encoder.activation", self.activation, ("gelu", "gelu_tanh"))
        if self.unique_layers is not None and not 1 <= self.unique_layers <= max(1, self.num_layers):
            raise ConfigError(
                f"model.encoder.unique_layers={self.unique_layers} must be in [1, num_layers={self.num_layers}] "
                "(null: every layer has its own parameters)"
            )
        if self.recurrent:
            if self.num_layers < 1:
                raise ConfigError(
                    f"model.encoder.kind={self.kind} needs model.encoder.num_layers >= 1 (got 0)"
                )
            check_positive("model.encoder.rnn_hidden_dim", self.rnn_hidden_dim)
            if self.norm_position != "pre":
                raise ConfigError(
                    f"model.encoder.norm_position={self.norm_position} applies to model.encoder.kind=transformer, "
                    f"not {self.kind}"
                )
            if self.unique_layers is not None or self.activation != "gelu":
                raise ConfigError(
                    f"model.encoder.unique_layers and activation apply to kind transformer, not {self.kind}"
                )
            return
        for key, value, default in (
            ("rnn_hidden_dim", self.rnn_hidden_dim, None),
            ("bidirectional", self.bidirectional, True),
        ):
            if value != default:
                raise ConfigError(
                    f"model.encoder.{key} applies to model.encoder.kind rnn, lstm or gru, not {self.kind} "
                    "(self-attention already reads both directions)"
                )


@dataclass
class PositionalConfig:
    """``model.positional``: position information, and how it is combined with the token vectors."""

    kind: str = "sinusoidal"
    """Added to the token vectors (absolute): ``sinusoidal`` (fixed sin/cos table), ``scaled_sinusoidal``
    (the table times a learned scalar), ``learned`` (one trained vector per position, BERT; cannot go past
    ``data.max_seq_len``). Inside attention (relative): ``rope`` (rotary, on queries and keys), ``alibi``
    (linear distance bias, per-head slopes), ``t5_bias`` (learned bias per distance bucket). ``none``: a bag
    of tokens. See docs/input_layer.md. Images (``data.task: image_classification``, docs/images.md):
    ``none``, ``learned`` (one trained vector per patch), ``sinusoidal_2d`` (half the dimensions for the
    column, half for the row, as MAE), ``learned_2d`` (a row table plus a column table), ``rope_2d`` (axial
    rotary on queries and keys: half of each head's pairs turn with the row, half with the column)."""
    combine: str = "add"
    """How token vectors and absolute position vectors are combined: ``add``, or ``concat`` (side by side,
    then a Linear(2d -> d)). Only for ``sinusoidal``, ``scaled_sinusoidal`` and ``learned``: the other kinds
    have no position vectors."""
    combine_activation: str = "none"
    """``combine: concat``: activation after the projection: ``none``, ``gelu``, ``tanh`` or ``relu`` (the
    ReLU of article 000's "concatenate, project, activate", docs/articles.md)."""
    rope_base: float = 10000.0
    """``kind: rope`` and ``rope_2d``: the base of the rotation frequencies ``theta_i = base^(-2i/r)``."""
    rotary_fraction: float = 1.0
    """``kind: rope``: the fraction of each head's dimensions that is rotated (partial rotary, as in
    GPT-NeoX); ``rotary_fraction * head_dim`` must be an even integer."""
    num_buckets: int = 32
    """``kind: t5_bias``: distance buckets (half for each direction)."""
    max_distance: int = 128
    """``kind: t5_bias``: distances from here on share the last bucket."""

    def __post_init__(self) -> None:
        kind = self.kind
        check_choice("model.positional.kind", kind, ALL_POSITIONAL_KINDS)
        check_choice("model.positional.combine", self.combine, ("add", "concat"))
        check_choice(
            "model.positional.combine_activation", self.combine_activation, ("none", "gelu", "tanh", "relu")
        )
        if kind in ("rope", "rope_2d") and self.rope_base <= 1:
            raise ConfigError(f"model.positional.rope_base={self.rope_base} must be > 1")
        if kind == "t5_bias":
            check_positive("model.positional.num_buckets", self.num_buckets, minimum=4)
            if self.num_buckets % 2:
                raise ConfigError(
                    f"model.positional.num_buckets={self.num_buckets} must be even: half the buckets are for "
                    "each direction (an odd count leaves one never used)"
                )
            if self.max_distance <= self.num_buckets // 4:
                raise ConfigError(
                    f"model.positional.max_distance={self.max_distance} must be > num_buckets / 4 "
                    f"(= {self.num_buckets // 4}, the largest distance with a bucket of its own)"
                )
        if self.combine == "concat" and kind not in ABSOLUTE_KINDS:
            where = (
                "has no position vectors" if kind == "none" else "acts inside attention, not on the vectors"
            )
            raise ConfigError(
                f"model.positional.combine=concat joins token vectors with absolute position vectors, and "
                f"model.positional.kind={kind} {where}; use combine: add, or kind: sinusoidal, "
                "scaled_sinusoidal or learned"
            )
        if self.combine_activation != "none" and self.combine != "concat":
            raise ConfigError(
                f"model.positional.combine_activation={self.combine_activation} applies to combine: concat "
                f"only (model.positional.combine is {self.combine})"
            )


@dataclass
class DecoderConfig:
    """``model.decoder``: seq2seq (``data.task: seq2seq``) only; a Transformer decoder takes the encoder's
    sizes."""

    attention: str = "bahdanau"
    """With a recurrent encoder: how the decoder attends to the source. ``bahdanau`` (additive,
    ``v . tanh(W q + U k)``, from the previous decoder state, the context fed into the next step; Bahdanau et
    al. 2015), ``luong_dot`` (``q . k``) or ``luong_general`` (``q . W k``): from the current state, after the
    recurrent step, so teacher forcing runs the decoder over the whole target at once (Luong et al. 2015).
    ``none``: no attention; the encoder's final state (each direction's last step), projected into the
    decoder's first state, is the only bridge (Sutskever et al. 2014; Cho et al. 2014). A Transformer decoder
    uses multi-head cross-attention (``none`` is for a recurrent encoder only)."""

    def __post_init__(self) -> None:
        check_choice(
            "model.decoder.attention", self.attention, ("bahdanau", "luong_dot", "luong_general", "none")
        )


@dataclass
class GenerationConfig:
    """``model.generation``: how a seq2seq model decodes (evaluation, ``predict``, the server)."""

    beam_size: int = 5
    """Hypotheses kept per source (1: greedy)."""
    length_penalty: float = 1.0
    """Beam search: a finished hypothesis scores ``sum log p / length ** length_penalty`` (0: the plain sum,
    which favours short outputs)."""
    max_new_tokens: int | None = None
    """Most output tokens per source, the end token included (``null``: ``data.max_seq_len - 1``)."""

    def __post_init__(self) -> None:
        check_positive("model.generation.beam_size", self.beam_size)
        check_positive("model.generation.max_new_tokens", self.max_new_tokens)
        if self.length_penalty < 0:
            raise ConfigError(f"model.generation.length_penalty={self.length_penalty} must be >= 0")


@dataclass
class ModelConfig:
    """Input layer + encoder + head."""

    embed_dim: int = 192
    """Width of token vectors and of the encoder (d)."""
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    """The encoder on the input layer (``kind``: transformer, rnn, lstm, gru) and its sizes."""
    positional: PositionalConfig = field(default_factory=PositionalConfig)
    """Position information (``kind``) and how it is combined with the token vectors."""
    dropout: float = 0.1
    """Dropout on residual branches, inside the feed-forward block, between recurrent layers and before the
    classifier or tagger head."""
    embedding_dropout: float = 0.1
    """Dropout on the input layer's output (token + position vectors)."""
    embedding_norm: str = "none"
    """Normalisation of the input layer's output (before its dropout): ``none``, ``layernorm`` (as BERT) or
    ``rmsnorm``."""
    num_token_types: int = 0
    """Token-type (segment) embeddings added to the token vectors, BERT's sentence A/B (0: none). The
    classifier gives every token type 0."""
    init: str = "normal"
    """Pretrained source of the token vectors: ``normal`` (none: every row from ``embedding_init``),
    ``word2vec`` (vectors trained on the ``vectors`` section's corpus before training), or any vectors
    source ``scratchlm vectors info`` reads: a word2vec/GloVe/fastText file, a vectors cache, a run directory,
    or a built-in name such as ``glove-6b-50d``. Tokens are matched in tiers (exact, normalized, chars,
    compose: docs/vectors.md); the rest keep their ``embedding_init`` values. A pretraining run (``data.task: masked_lm``) instead gives its
    tokenizer and its whole input layer and encoder (docs/pretraining.md)."""
    embedding_init: str = "normal"
    """Initialisation of the token embedding matrix: ``normal`` (std ``init_std``), ``truncated_normal``
    (std ``init_std``, cut at 2 std), ``uniform`` (``-embedding_init_a .. embedding_init_a``), ``xavier``,
    ``kaiming`` (std ``1/sqrt(d)``) or ``zeros``."""
    embedding_init_a: float = 0.05
    """``embedding_init: uniform``: the bound a of U(-a, a)."""
    init_std: float = 0.02
    """Standard deviation of the normal init of the token embedding and of every Linear weight."""
    embed_scale: bool = False
    """Multiply the token vectors by sqrt(embed_dim) (Vaswani et al. 2017, §3.4)."""
    input_dim: int | None = None
    """Width of the input layer (token, position and type vectors, its norm) when it differs from
    ``embed_dim``: a ``Linear(input_dim -> embed_dim)`` then feeds the encoder (ELECTRA's and ALBERT's
    ``embedding_size``; ``null``: ``embed_dim``, no projection). Pretrained vectors must have this width."""
    embedding_rank: int | None = None
    """Factorized token embedding (ALBERT): E = A (V x r) . B (r x d) with this rank r < embed_dim
    (``null``: a full V x d matrix). ``scratchlm summary`` shows the parameters saved. Not with pretrained
    vectors (``init`` other than ``normal``)."""
    vectors_std: float | None = None
    """Rescale pretrained vectors (``init`` other than ``normal``) to this standard deviation
    (``null``: keep their own scale)."""
    vectors_vocab: int = 0
    """With pretrained vectors (``init`` a vectors source): also put the vectors' first N words (vector files
    list the frequent words first) in the vocabulary, after the training split's tokens, so that words the
    training data never shows keep their pretrained vector when the model reads them later. Pair it with
    ``freeze_embeddings`` (or ``freeze_embedding_rows: pretrained``): rows trained on the training words
    drift away from the untouched ones. Words are normalised like the text (set ``data.lowercase`` for
    uncased vectors such as GloVe); ``char`` keeps single characters. 0: only the training split's tokens.
    ``char`` and ``jieba`` tokenizers."""
    bigram_buckets: int = 0
    """Add hashed vectors of adjacent-token pairs to the token vectors (0: off). See
    :class:`scratchlm.modules.embeddings.HashedBigramEmbedding`."""
    lexicon: LexiconConfig = field(default_factory=LexiconConfig)
    """Dictionary-match features added to the token vectors (``source: jieba``; off by default)."""
    freeze_embeddings: bool = False
    """Keep the token embedding fixed during training."""
    freeze_layers: int = 0
    """Keep the bottom N encoder layers fixed during training (fine-tuning a pretrained run, ``init``)."""
    freeze_embedding_rows: str = "none"
    """``pretrained``: rows found in the pretrained vectors (``init``) get no gradient and keep their values,
    the other rows train; ``none``: every row trains (unless ``freeze_embeddings``)."""
    pooling: str = "cls"
    """Sentence vector for the classifier: ``cls`` ([CLS] position), ``mean`` or ``max`` over real tokens,
    ``mean_max`` (both, concatenated), or ``last``: the vector at each text's last real token (padding never
    counts), i.e. a recurrent encoder's final state, Keras's ``LSTM(units)``; with a bidirectional
    ``rnn``/``lstm``/``gru`` encoder each direction's final state (right to left: at the first token)."""
    head: str = "softmax"
    """Output layer. Tagger: ``softmax`` (an independent choice per token) or ``crf`` (a linear-chain
    conditional random field: tag-to-tag transition scores, trained on the likelihood of the whole tag
    sequence, decoded with Viterbi; transitions the tag scheme forbids, such as ``O`` -> ``I-PER``, are never
    predicted). Classifier: ``softmax`` (one output per label, cross-entropy) or, for two labels,
    ``sigmoid`` (one output, ``p(second label) = sigmoid(z)``, binary cross-entropy: Keras's ``Dense(1,
    activation="sigmoid")``)."""
    norm_eps: float = 1e-5
    """LayerNorm epsilon (BERT: 1e-12)."""
    tie_embeddings: bool = True
    """``data.task: causal_lm``: the output projection is the token embedding matrix (GPT-2, Press & Wolf 2017);
    ``false``: a matrix of its own. The masked LM's head is always tied."""
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
    """Seq2seq: the decoder's attention to the source."""
    generation: GenerationConfig = field(default_factory=GenerationConfig)
    """Seq2seq: beam search and output length."""
    patches: PatchConfig = field(default_factory=PatchConfig)
    """Images (``data.task: image_classification``): patch size, how patches become vectors, ``[CLS]``."""

    @property
    def input_width(self) -> int:
        """Width of the input layer's vectors (``input_dim``, else ``embed_dim``)."""
        return self.input_dim or self.embed_dim

    def __post_init__(self) -> None:
        sections_from_mappings(self, "model")
        check_positive("model.embed_dim", self.embed_dim)
        check_positive("model.vectors_vocab", self.vectors_vocab, minimum=0)
        if self.vectors_vocab and self.init in ("normal", "word2vec"):
            raise ConfigError(
                f"model.vectors_vocab={self.vectors_vocab} adds words of pretrained vectors to the vocabulary; "
                f"model.init={self.init} has none: give a vectors file, cache or name (e.g. glove-6b-50d)"
            )
        if self.bigram_buckets and self.bigram_buckets < 2:
            raise ConfigError(f"model.bigram_buckets={self.bigram_buckets}: use 0 (off) or >= 2 buckets")
        check_choice("model.head", self.head, ("softmax", "crf", "sigmoid"))
        self._check_encoder()
        for name in ("dropout", "embedding_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"model.{name}={value} must be in [0, 1)")
        check_choice("model.pooling", self.pooling, ("cls", "mean", "max", "mean_max", "last"))
        if self.init_std <= 0:
            raise ConfigError(f"model.init_std={self.init_std} must be > 0")
        self._check_positional()
        self._check_input_layer()

    def _check_encoder(self) -> None:
        enc = self.encoder
        if enc.recurrent:
            if enc.rnn_hidden_dim is None and enc.bidirectional and self.embed_dim < 2:
                raise ConfigError(
                    "model.embed_dim=1 cannot be halved between two directions; set model.encoder.rnn_hidden_dim"
                )
            if self.positional.kind in IN_ATTENTION_KINDS:
                raise ConfigError(
                    f"model.positional.kind={self.positional.kind} acts inside attention, and model.encoder.kind="
                    f"{enc.kind} has none; use positional kind none (a recurrent encoder reads tokens in "
                    "order) or an absolute kind (sinusoidal, scaled_sinusoidal, learned)"
                )
        elif self.decoder.attention == "none":
            raise ConfigError(
                "model.decoder.attention=none is a recurrent decoder without attention, and model.encoder.kind="
                "transformer decodes with cross-attention; use an rnn, lstm or gru encoder, or another attention"
            )
        elif self.embed_dim % enc.num_heads:
            raise ConfigError(
                f"model.embed_dim={self.embed_dim} must be divisible by model.encoder.num_heads={enc.num_heads}"
            )

    def _check_positional(self) -> None:
        kind = self.positional.kind
        if kind in IN_ATTENTION_KINDS and self.encoder.num_layers == 0:
            raise ConfigError(
                f"model.positional.kind={kind} acts inside attention, and model.encoder.num_layers=0 has no "
                "attention layer; use sinusoidal, scaled_sinusoidal or learned, or num_layers >= 1"
            )
        if kind in ("sinusoidal", "scaled_sinusoidal") and self.embed_dim % 2:
            raise ConfigError(
                f"model.positional.kind={kind} needs an even model.embed_dim (got {self.embed_dim}): the table "
                "is made of (sin, cos) pairs, one frequency each, and an odd dimension leaves a sine without "
                "its partner; use an even embed_dim (divisible by encoder.num_heads)"
            )
        self._check_positional_2d()
        if kind == "rope":
            fraction = self.positional.rotary_fraction
            head_dim = self.embed_dim // self.encoder.num_heads
            rotary = fraction * head_dim
            if not 0.0 < fraction <= 1.0 or abs(rotary - round(rotary)) > 1e-6 or round(rotary) % 2:
                raise ConfigError(
                    f"model.positional.rotary_fraction={fraction} with head_dim = embed_dim / num_heads = "
                    f"{head_dim}: RoPE rotates pairs of dimensions, so rotary_fraction * head_dim "
                    f"(= {rotary:g}) must be an even integer >= 2, with rotary_fraction in (0, 1]"
                )
            if round(rotary) < 2:
                raise ConfigError(
                    f"model.positional.rotary_fraction={fraction} rotates no pair of dimensions"
                )

    def _check_positional_2d(self) -> None:
        kind, head_dim = self.positional.kind, self.embed_dim // self.encoder.num_heads
        if kind == "sinusoidal_2d" and self.embed_dim % 4:
            raise ConfigError(
                f"model.positional.kind=sinusoidal_2d needs model.embed_dim divisible by 4 (got {self.embed_dim}): "
                "half the dimensions for columns, half for rows, each made of (sin, cos) pairs"
            )
        if kind == "rope_2d" and head_dim % 4:
            raise ConfigError(
                f"model.positional.kind=rope_2d needs head_dim = embed_dim / num_heads divisible by 4 (got "
                f"{head_dim}): half of each head's pairs of dimensions turn with the row, half with the column"
            )

    def _check_input_layer(self) -> None:
        check_choice("model.embedding_norm", self.embedding_norm, ("none", "layernorm", "rmsnorm"))
        check_choice(
            "model.embedding_init",
            self.embedding_init,
            ("normal", "truncated_normal", "uniform", "xavier", "kaiming", "zeros"),
        )
        check_choice("model.freeze_embedding_rows", self.freeze_embedding_rows, ("none", "pretrained"))
        check_positive("model.num_token_types", self.num_token_types, minimum=0)
        check_positive("model.freeze_layers", self.freeze_layers, minimum=0)
        if self.embedding_init_a <= 0:
            raise ConfigError(f"model.embedding_init_a={self.embedding_init_a} must be > 0")
        pretrained = self.init != "normal"
        check_positive("model.input_dim", self.input_dim)
        if self.input_dim is not None and self.embedding_rank is not None:
            raise ConfigError(
                "model.input_dim and model.embedding_rank are two ways of a narrow token embedding; choose one"
            )
        if self.embedding_rank is not None:
            if not 1 <= self.embedding_rank < self.embed_dim:
                raise ConfigError(
                    f"model.embedding_rank={self.embedding_rank} must be in [1, embed_dim={self.embed_dim}) "
                    "to save parameters (null: the full matrix)"
                )
            if pretrained:
                raise ConfigError(
                    f"model.embedding_rank={self.embedding_rank} with model.init={self.init}: pretrained "
                    f"vectors have {self.embed_dim} dimensions and no exact place in the rank-"
                    f"{self.embedding_rank} factor; use embedding_rank: null, or init: normal"
                )
        if self.freeze_embedding_rows == "pretrained":
            if not pretrained:
                raise ConfigError(
                    "model.freeze_embedding_rows=pretrained freezes the rows found in pretrained vectors, "
                    "and model.init is normal (no pretrained source); set model.init, or use none"
                )
            if self.freeze_embeddings:
                raise ConfigError(
                    "model.freeze_embedding_rows=pretrained and model.freeze_embeddings=true: the second "
                    "already freezes every row; choose one"
                )
