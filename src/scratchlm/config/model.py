"""The ``model`` section of a run configuration: the input layer, the encoder and the head
(:class:`ModelConfig`, with its checks). :mod:`scratchlm.config` puts it together with the other
sections (:mod:`scratchlm.config.sections`); import it from there.
"""

from __future__ import annotations

from dataclasses import dataclass

from scratchlm.config.checks import check_choice, check_positive
from scratchlm.errors import ConfigError

ENCODER_KINDS = ("transformer", "lstm", "gru")
POSITIONAL_KINDS = ("sinusoidal", "scaled_sinusoidal", "learned", "rope", "alibi", "t5_bias", "none")


@dataclass
class ModelConfig:
    """Input layer + encoder + head."""

    embed_dim: int = 192
    """Width of token vectors and of the encoder (d)."""
    encoder: str = "transformer"
    """The encoder on the input layer: ``transformer`` (pre-LN self-attention: ``num_layers``, ``num_heads``,
    ``ffn_dim``), ``lstm`` or ``gru`` (recurrent: ``num_layers`` stacked layers of ``rnn_hidden_dim`` units
    per direction; padding never reaches a real position: packed sequences on CUDA, each row reversed
    within its length on CPU, the same result and 3x faster there)."""
    num_layers: int = 3
    """Encoder layers (``transformer``: 0 lets the input layer feed the head directly; ``lstm``/``gru``: >= 1)."""
    num_heads: int = 4
    """Attention heads; ``embed_dim`` must be divisible by it (head_dim = embed_dim / num_heads)."""
    ffn_dim: int = 768
    """Hidden width of each layer's feed-forward block (GELU)."""
    rnn_hidden_dim: int | None = None
    """``lstm``/``gru``: hidden units per direction (``null``: ``embed_dim``, halved when ``bidirectional``,
    so the encoder's output width is about ``embed_dim``)."""
    bidirectional: bool = True
    """``lstm``/``gru``: run a second stack right to left and concatenate both directions' outputs."""
    dropout: float = 0.1
    """Dropout on residual branches, inside the feed-forward block, between recurrent layers and before the
    classifier or tagger head."""
    attention_dropout: float = 0.1
    """Dropout on attention weights (inside SDPA, training only)."""
    embedding_dropout: float = 0.1
    """Dropout on the input layer's output (token + position vectors)."""
    positional: str = "sinusoidal"
    """Position information. Added to the token vectors (absolute): ``sinusoidal`` (fixed sin/cos table),
    ``scaled_sinusoidal`` (the table times a learned scalar), ``learned`` (one trained vector per position,
    BERT; cannot go past ``data.max_seq_len``). Inside attention (relative): ``rope`` (rotary, on queries and
    keys), ``alibi`` (linear distance bias, per-head slopes), ``t5_bias`` (learned bias per distance bucket).
    ``none``: a bag of tokens. See docs/input_layer.md."""
    rope_base: float = 10000.0
    """``positional: rope``: the base of the rotation frequencies ``theta_i = base^(-2i/r)``."""
    rotary_fraction: float = 1.0
    """``positional: rope``: the fraction of each head's dimensions that is rotated (partial rotary, as in
    GPT-NeoX); ``rotary_fraction * head_dim`` must be an even integer."""
    t5_num_buckets: int = 32
    """``positional: t5_bias``: distance buckets (half for each direction)."""
    t5_max_distance: int = 128
    """``positional: t5_bias``: distances from here on share the last bucket."""
    combine: str = "add"
    """How token vectors and absolute position vectors are combined: ``add``, or ``concat`` (side by side,
    then a Linear(2d -> d)). Only for ``sinusoidal``, ``scaled_sinusoidal`` and ``learned``: the other kinds
    have no position vectors."""
    combine_activation: str = "none"
    """``combine: concat``: activation after the projection: ``none``, ``gelu`` or ``tanh``."""
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
    compose: docs/vectors.md); the rest keep their ``embedding_init`` values. A pretraining run (``data.task: mlm``) instead gives its
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
    freeze_embeddings: bool = False
    """Keep the token embedding fixed during training."""
    freeze_layers: int = 0
    """Keep the bottom N encoder layers fixed during training (fine-tuning a pretrained run, ``init``)."""
    freeze_embedding_rows: str = "none"
    """``pretrained``: rows found in the pretrained vectors (``init``) get no gradient and keep their values,
    the other rows train; ``none``: every row trains (unless ``freeze_embeddings``)."""
    pooling: str = "cls"
    """Sentence vector for the classifier: ``cls`` ([CLS] position), ``mean`` or ``max`` over real tokens,
    or ``mean_max`` (both, concatenated)."""
    head: str = "softmax"
    """Tagger output: ``softmax`` (an independent choice per token) or ``crf`` (a linear-chain conditional
    random field: tag-to-tag transition scores, trained on the likelihood of the whole tag sequence, decoded
    with Viterbi; transitions the tag scheme forbids, such as ``O`` -> ``I-PER``, are never predicted).
    Classifiers use ``softmax``."""
    norm_eps: float = 1e-5
    """LayerNorm epsilon (BERT: 1e-12)."""
    norm_position: str = "pre"
    """``transformer``: where each layer normalises: ``pre`` (before attention and the feed-forward block,
    a final LayerNorm after the stack; trains stably from scratch) or ``post`` (after each residual sum,
    no final norm: BERT's layout, to run BERT-family weights, docs/transplant.md)."""
    attention: str = "bahdanau"
    """Seq2seq with a recurrent encoder: how the decoder attends to the source. ``bahdanau`` (additive,
    ``v . tanh(W q + U k)``, from the previous decoder state, the context fed into the next step; Bahdanau et
    al. 2015), ``luong_dot`` (``q . k``) or ``luong_general`` (``q . W k``): from the current state, after the
    recurrent step, so teacher forcing runs the decoder over the whole target at once (Luong et al. 2015).
    A Transformer decoder uses multi-head cross-attention."""
    beam_size: int = 5
    """Seq2seq decoding: hypotheses kept per source (1: greedy)."""
    length_penalty: float = 1.0
    """Seq2seq beam search: a finished hypothesis scores ``sum log p / length ** length_penalty`` (0: the plain
    sum, which favours short outputs)."""
    max_decode_len: int | None = None
    """Seq2seq decoding: most output tokens per source, the end token included (``null``:
    ``data.max_seq_len - 1``)."""
    tie_embeddings: bool = True
    """``data.task: clm``: the output projection is the token embedding matrix (GPT-2, Press & Wolf 2017);
    ``false``: a matrix of its own. The masked LM's head is always tied."""

    def __post_init__(self) -> None:
        check_positive("model.embed_dim", self.embed_dim)
        check_positive("model.num_layers", self.num_layers, minimum=0)
        check_positive("model.num_heads", self.num_heads)
        check_positive("model.ffn_dim", self.ffn_dim)
        check_positive("model.vectors_vocab", self.vectors_vocab, minimum=0)
        if self.vectors_vocab and self.init in ("normal", "word2vec"):
            raise ConfigError(
                f"model.vectors_vocab={self.vectors_vocab} adds words of pretrained vectors to the vocabulary; "
                f"model.init={self.init} has none: give a vectors file, cache or name (e.g. glove-6b-50d)"
            )
        if self.bigram_buckets and self.bigram_buckets < 2:
            raise ConfigError(f"model.bigram_buckets={self.bigram_buckets}: use 0 (off) or >= 2 buckets")
        self._check_encoder()
        if self.encoder == "transformer" and self.embed_dim % self.num_heads:
            raise ConfigError(
                f"model.embed_dim={self.embed_dim} must be divisible by model.num_heads={self.num_heads}"
            )
        for name in ("dropout", "attention_dropout", "embedding_dropout"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ConfigError(f"model.{name}={value} must be in [0, 1)")
        check_choice("model.pooling", self.pooling, ("cls", "mean", "max", "mean_max"))
        check_choice("model.norm_position", self.norm_position, ("pre", "post"))
        if self.norm_position != "pre" and self.encoder != "transformer":
            raise ConfigError(
                f"model.norm_position={self.norm_position} applies to model.encoder=transformer, not {self.encoder}"
            )
        if self.init_std <= 0:
            raise ConfigError(f"model.init_std={self.init_std} must be > 0")
        self._check_positional()
        self._check_input_layer()

    def _check_encoder(self) -> None:
        check_choice("model.encoder", self.encoder, ENCODER_KINDS)
        check_choice("model.head", self.head, ("softmax", "crf"))
        check_choice("model.attention", self.attention, ("bahdanau", "luong_dot", "luong_general"))
        check_positive("model.beam_size", self.beam_size)
        check_positive("model.max_decode_len", self.max_decode_len)
        if self.length_penalty < 0:
            raise ConfigError(f"model.length_penalty={self.length_penalty} must be >= 0")
        recurrent = self.encoder in ("lstm", "gru")
        if recurrent:
            if self.num_layers < 1:
                raise ConfigError(f"model.encoder={self.encoder} needs model.num_layers >= 1 (got 0)")
            check_positive("model.rnn_hidden_dim", self.rnn_hidden_dim)
            if self.rnn_hidden_dim is None and self.bidirectional and self.embed_dim < 2:
                raise ConfigError(
                    "model.embed_dim=1 cannot be halved between two directions; set rnn_hidden_dim"
                )
            if self.positional in ("rope", "alibi", "t5_bias"):
                raise ConfigError(
                    f"model.positional={self.positional} acts inside attention, and model.encoder="
                    f"{self.encoder} has none; use positional: none (a recurrent encoder reads tokens in "
                    "order) or an absolute kind (sinusoidal, scaled_sinusoidal, learned)"
                )
            return
        for key, value, default in (
            ("rnn_hidden_dim", self.rnn_hidden_dim, None),
            ("bidirectional", self.bidirectional, True),
        ):
            if value != default:
                raise ConfigError(
                    f"model.{key} applies to model.encoder lstm or gru, not {self.encoder} "
                    "(self-attention already reads both directions)"
                )

    def _check_positional(self) -> None:
        kind = self.positional
        check_choice("model.positional", kind, POSITIONAL_KINDS)
        check_choice("model.combine", self.combine, ("add", "concat"))
        check_choice("model.combine_activation", self.combine_activation, ("none", "gelu", "tanh"))
        if kind in ("rope", "alibi", "t5_bias") and self.num_layers == 0:
            raise ConfigError(
                f"model.positional={kind} acts inside attention, and model.num_layers=0 has no attention "
                "layer; use sinusoidal, scaled_sinusoidal or learned, or num_layers >= 1"
            )
        if kind in ("sinusoidal", "scaled_sinusoidal") and self.embed_dim % 2:
            raise ConfigError(
                f"model.positional={kind} needs an even model.embed_dim (got {self.embed_dim}): the table is "
                "made of (sin, cos) pairs, one frequency each, and an odd dimension leaves a sine without its "
                "partner; use an even embed_dim (divisible by num_heads)"
            )
        if kind == "rope":
            head_dim = self.embed_dim // self.num_heads
            rotary = self.rotary_fraction * head_dim
            if (
                not 0.0 < self.rotary_fraction <= 1.0
                or abs(rotary - round(rotary)) > 1e-6
                or round(rotary) % 2
            ):
                raise ConfigError(
                    f"model.rotary_fraction={self.rotary_fraction} with head_dim = embed_dim / num_heads = "
                    f"{head_dim}: RoPE rotates pairs of dimensions, so rotary_fraction * head_dim "
                    f"(= {rotary:g}) must be an even integer >= 2, with rotary_fraction in (0, 1]"
                )
            if round(rotary) < 2:
                raise ConfigError(
                    f"model.rotary_fraction={self.rotary_fraction} rotates no pair of dimensions"
                )
            if self.rope_base <= 1:
                raise ConfigError(f"model.rope_base={self.rope_base} must be > 1")
        if kind == "t5_bias":
            check_positive("model.t5_num_buckets", self.t5_num_buckets, minimum=4)
            if self.t5_num_buckets % 2:
                raise ConfigError(
                    f"model.t5_num_buckets={self.t5_num_buckets} must be even: half the buckets are for "
                    "each direction (an odd count leaves one never used)"
                )
            if self.t5_max_distance <= self.t5_num_buckets // 4:
                raise ConfigError(
                    f"model.t5_max_distance={self.t5_max_distance} must be > t5_num_buckets / 4 "
                    f"(= {self.t5_num_buckets // 4}, the largest distance with a bucket of its own)"
                )
        if self.combine == "concat" and kind not in ("sinusoidal", "scaled_sinusoidal", "learned"):
            where = (
                "has no position vectors" if kind == "none" else "acts inside attention, not on the vectors"
            )
            raise ConfigError(
                f"model.combine=concat joins token vectors with absolute position vectors, and "
                f"model.positional={kind} {where}; use combine: add, or positional: sinusoidal, "
                "scaled_sinusoidal or learned"
            )
        if self.combine_activation != "none" and self.combine != "concat":
            raise ConfigError(
                f"model.combine_activation={self.combine_activation} applies to combine: concat only "
                f"(model.combine is {self.combine})"
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
