"""The ``train`` section of a run configuration: optimisation, schedule, evaluation, checkpoints
(:class:`TrainConfig`, with its checks)."""

from __future__ import annotations

from dataclasses import dataclass, field

from scratchlm.config.checks import check_choice, check_positive, check_range
from scratchlm.errors import ConfigError

LOGGERS = ("jsonl", "tensorboard")


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
    """Training examples per optimizer step (over all processes and micro-batches together)."""
    grad_accum_steps: int = 1
    """Cut each batch into this many micro-batches, run one after another and summed (same result, less
    memory); with DDP, each process's share is cut. ``batch_size`` must divide evenly."""
    precision: str = "fp32"
    """``fp32``, ``bf16`` (autocast, CPU or CUDA) or ``fp16`` (autocast with a gradient scaler, CUDA only)."""
    eval_batch_size: int = 128
    """Examples per forward pass in evaluation and prediction."""
    optimizer: str = "adamw"
    """``adamw`` (Adam with decoupled weight decay, Loshchilov & Hutter 2019) or ``sgd`` (plain stochastic
    gradient descent, ``theta <- theta - lr * grad``, with ``momentum``; its ``weight_decay`` is an L2 term
    added to the gradient, torch's ``SGD``). Both follow ``lr``'s warmup and schedule."""
    momentum: float = 0.0
    """``optimizer: sgd``: momentum (0: plain SGD; 0.9 is the usual heavy-ball value)."""
    lr: float = 1e-3
    """Peak learning rate (reached at the end of warmup). SGD usually wants a larger one than AdamW
    (0.1 rather than 1e-3)."""
    embedding_lr: float | None = None
    """Learning rate for the embedding tables: tokens and character pairs (default: ``lr``)."""
    weight_decay: float = 0.01
    """AdamW decoupled weight decay, applied to weight matrices only (not biases, norms, embedding tables)."""
    embedding_weight_decay: float = 0.0
    """Weight decay of the embedding tables (token, token-type and character-pair tables). 0 by default: a
    row gets a gradient only when its token occurs, but decoupled decay shrinks every row at every step,
    so rare tokens' rows would fade. Not with ``model.freeze_embedding_rows: pretrained`` (decay would move
    the frozen rows)."""
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
    layer_lr_decay: float | None = None
    """Layer-wise learning-rate decay (ELECTRA, ULMFiT): the top encoder layer trains at ``lr``, each layer
    below at ``layer_lr_decay`` times the one above, the input layer below the bottom layer; the head at
    ``lr`` (``null``: one ``lr`` everywhere; ``embedding_lr``, when set, still sets the embedding tables')."""
    ema_decay: float | None = None
    """Keep an exponential moving average of the weights with this decay (e.g. 0.999) and evaluate,
    select and save the averaged weights (``null``: off)."""
    early_stopping_patience: int | None = 3
    """Stop when the dev score (the metric that also picks the saved weights: accuracy for a classifier,
    span F1 for a tagger) has not improved for this many evaluations (``null``: never)."""
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
    deterministic: bool = True
    """``torch.use_deterministic_algorithms``: kernels that would give a different result each run are
    replaced by deterministic ones (on CUDA also cuDNN's deterministic algorithms and a fixed cuBLAS
    workspace); an operation that has none warns once and runs anyway. With a seed and the same machine
    and thread count, a run repeats bit for bit (docs/reproducibility.md)."""
    progress: bool = True
    """Show a progress bar (off automatically when stderr is not a terminal and CI is set)."""
    compile: bool = False
    """Run the training forward and backward through ``torch.compile`` (the model's weights and
    checkpoints are the plain module's). Worth it on a GPU; the first steps pay for compilation."""
    compile_backend: str = "inductor"
    """``torch.compile`` backend: ``inductor`` (generates kernels; on CPU it needs a C++ compiler) or
    ``aot_eager`` (no code generation: for tests)."""
    activation_checkpointing: bool = False
    """Recompute each Transformer layer's activations in the backward pass instead of keeping them: less
    memory, about one more forward pass of time, the same gradients."""
    distributed: str = "ddp"
    """Under ``torchrun``: ``ddp`` (each process holds the whole model, gradients all-reduced) or ``fsdp``
    (PyTorch's FSDP2 ``fully_shard``: parameters, gradients and optimizer state sharded over the processes,
    each Transformer layer gathered when it runs; for models that do not fit one device)."""
    peak_tflops: float | None = None
    """Peak FLOP/s of one device (TFLOP/s) for the MFU in the train log (``null``: a known GPU's bf16
    dense peak, none on CPU, where the log shows tokens/s only)."""
    loggers: list[str] = field(default_factory=lambda: ["jsonl"])
    """Where the training events go: ``jsonl`` (``train_log.jsonl``, always: resume, plots and summary
    read it) and optionally ``tensorboard`` (the same scalars, the dev metrics and the run's figures as
    images in ``tensorboard/`` of the run; needs ``pip install tensorboard``)."""

    def __post_init__(self) -> None:
        check_positive("train.epochs", self.epochs)
        check_positive("train.max_steps", self.max_steps)
        check_positive("train.batch_size", self.batch_size)
        check_positive("train.grad_accum_steps", self.grad_accum_steps)
        if self.batch_size % self.grad_accum_steps:
            raise ConfigError(
                f"train.batch_size={self.batch_size} is not divisible by train.grad_accum_steps={self.grad_accum_steps}"
            )
        check_choice("train.precision", self.precision, ("fp32", "bf16", "fp16"))
        check_choice("train.optimizer", self.optimizer, ("adamw", "sgd"))
        if not 0.0 <= self.momentum < 1.0:
            raise ConfigError(f"train.momentum={self.momentum} must be in [0, 1)")
        if self.momentum and self.optimizer != "sgd":
            raise ConfigError(
                f"train.momentum={self.momentum} applies to train.optimizer=sgd; AdamW's moments are train.betas"
            )
        check_choice("train.compile_backend", self.compile_backend, ("inductor", "aot_eager", "eager"))
        check_choice("train.distributed", self.distributed, ("ddp", "fsdp"))
        if self.distributed == "fsdp" and self.ema_decay is not None:
            raise ConfigError(
                "train.ema_decay with train.distributed=fsdp: the moving average would need the whole model "
                "on every process, which FSDP avoids; use ddp, or ema_decay: null"
            )
        if self.peak_tflops is not None and self.peak_tflops <= 0:
            raise ConfigError(f"train.peak_tflops={self.peak_tflops} must be > 0 (TFLOP/s), or null")
        for name in self.loggers:
            check_choice("train.loggers", name, LOGGERS)
        if "jsonl" not in self.loggers:
            raise ConfigError(
                f"train.loggers={self.loggers}: keep jsonl (train_log.jsonl is what resume, plots and "
                "summary read), e.g. [jsonl, tensorboard]"
            )
        check_positive("train.eval_batch_size", self.eval_batch_size)
        check_positive("train.save_every", self.save_every)
        check_positive("train.keep_checkpoints", self.keep_checkpoints)
        check_positive("train.eval_every", self.eval_every)
        check_positive("train.early_stopping_patience", self.early_stopping_patience)
        check_range("train.lr", self.lr, 0, low_open=True)
        check_range("train.embedding_lr", self.embedding_lr, 0, low_open=True, hint=", or null for train.lr")
        check_range(
            "train.grad_clip", self.grad_clip, 0, low_open=True, hint=" (the largest gradient norm kept)"
        )
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError(f"train.warmup_ratio={self.warmup_ratio} must be in [0, 1)")
        check_choice("train.schedule", self.schedule, ("linear", "cosine", "constant"))
        if self.ema_decay is not None and not 0.0 < self.ema_decay < 1.0:
            raise ConfigError(f"train.ema_decay={self.ema_decay} must be in (0, 1), or null for off")
        if self.layer_lr_decay is not None and not 0.0 < self.layer_lr_decay <= 1.0:
            raise ConfigError(
                f"train.layer_lr_decay={self.layer_lr_decay} must be in (0, 1], or null for off"
            )
        if not 0.0 <= self.label_smoothing < 1.0:
            raise ConfigError(f"train.label_smoothing={self.label_smoothing} must be in [0, 1)")
        if len(self.betas) != 2:
            raise ConfigError(f"train.betas must have two values, got {self.betas}")
        for i, beta in enumerate(self.betas):
            check_range(f"train.betas[{i}]", beta, 0, 1, high_open=True)
        for name in ("weight_decay", "embedding_weight_decay"):
            check_range(f"train.{name}", getattr(self, name), 0)
