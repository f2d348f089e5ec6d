"""The training loop: data -> tokenizer -> model -> AdamW -> best-on-dev run, for every task; what differs
between tasks lives in the task object (:mod:`scratchlm.tasks`). :func:`train` runs named stages: the task
(:func:`_task_for`), the splits, the tokenizer, the encodings, the model, its placement, then the
:class:`Trainer` (optimizer, resume, the epoch loop, evaluation, checkpoints) and :func:`finish`.

What it writes is described in :mod:`scratchlm.training.run_dir`. Resuming (``resume=True``) continues from the
newest complete checkpoint and replays the same batches, so the result equals an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from scratchlm.config import RunConfig, dump_config
from scratchlm.config.checks import check_device
from scratchlm.data import Example
from scratchlm.data.collate import batch_order
from scratchlm.errors import RunDirError
from scratchlm.io import atomic_write_json, atomic_write_text, read_json_lines, save_tensors
from scratchlm.tasks.base import Task
from scratchlm.tasks.classification import EncodedSplit, encode_split
from scratchlm.tasks.registry import make_task
from scratchlm.training import checkpoint as ckpt
from scratchlm.training import distributed, engine
from scratchlm.training.determinism import deterministic_kernels
from scratchlm.training.distributed import DistContext
from scratchlm.training.ema import EMA
from scratchlm.training.finetune import apply_freezing, pretrained_tokenizer
from scratchlm.training.init import add_vectors_vocab, init_embeddings, init_lexicon
from scratchlm.training.optim import build_optimizer
from scratchlm.training.progress import progress
from scratchlm.training.run_dir import (
    RUN_MARKER,
    load_run_tokenizer,
    read_run_config,
    read_run_meta,
    run_metadata,
)
from scratchlm.training.schedule import build_scheduler
from scratchlm.training.step import StepRunner

__all__ = [
    "EncodedSplit",
    "encode_split",
    "seed_everything",
    "subsample",
    "train",
]  # encode_split: used by ablate

log = logging.getLogger("scratchlm.train")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def subsample(examples: list[Example], n: int | None, seed: int) -> list[Example]:
    """``n`` of the examples (all when ``n`` is ``None``), chosen by ``seed``, in their order."""
    if n is None or n >= len(examples):
        return examples
    idx = list(range(len(examples)))
    random.Random(seed).shuffle(idx)
    return [examples[i] for i in sorted(idx[:n])]


@dataclass
class TrainerState:
    epoch: int = 0
    batch_in_epoch: int = 0
    best_score: float = -1.0
    best_step: int = 0
    evals_without_improvement: int = 0
    stopped_early: bool = False
    history: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


class NullLogger:
    """What DDP processes other than rank 0 log to."""

    def write(self, **record) -> None:
        pass

    def finish(self, *args, **kwargs) -> None:
        pass


class Logger:
    """Appends JSON lines to ``train_log.jsonl``."""

    def __init__(self, path: Path, *, keep_until_step: int | None = None, also: tuple = ()):
        self.path = path
        self.also = also  # further sinks of the same records (train.loggers: tensorboard)
        if keep_until_step is not None and path.exists():
            try:  # a last line cut short when the run was killed mid-write is dropped
                records = read_json_lines(path)
            except ValueError as exc:
                raise RunDirError(f"{exc}; remove that line to resume") from None
            kept = [r for r in records if isinstance(r, dict) and r.get("step", 0) <= keep_until_step]
            atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept))

    def write(self, **record) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        for sink in self.also:
            sink.write(**record)

    def finish(self, run_dir: Path, metrics: dict, step: int, model=None, cfg=None) -> None:
        """The end of the run for the further sinks (final metrics, figures), then close them."""
        for sink in self.also:
            try:
                sink.finish(run_dir, metrics, step, model, cfg)
            finally:
                sink.close()


def _prepare_out_dir(out: Path, resume: bool) -> None:
    if resume:
        if not (out / RUN_MARKER).exists():
            raise RunDirError(f"{out}: cannot resume, not a scratchlm run directory (no {RUN_MARKER})")
        return
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise RunDirError(
            f"{out}: already exists and is not empty; choose another --out, delete it, "
            f"or continue it with --resume {out}"
        )
    out.mkdir(parents=True, exist_ok=True)


def train(
    cfg: RunConfig | None,
    out: str | Path,
    *,
    resume: bool = False,
    device: str = "cpu",
    resume_from: str | None = None,
    on_eval=None,
) -> dict:
    """Train, keep the best-on-dev weights, evaluate dev and test; returns the final metrics (on DDP
    processes other than rank 0: ``{}``). ``resume``: continue ``out`` from its newest sound checkpoint,
    or from ``resume_from`` (``step-N``). ``on_eval(number, score)`` is called after each dev evaluation
    (its number from 1, the headline score); returning True stops training there, as early stopping
    does (``scratchlm tune`` prunes a weak trial this way)."""
    out = Path(out)
    check_device(device)  # before anything is written: a bad device would leave a run that cannot resume
    created = not out.exists()
    ctx, device = distributed.setup(device)
    try:
        return _train(cfg, out, resume=resume or resume_from is not None, device=device, ctx=ctx,
                      resume_from=resume_from, on_eval=on_eval)  # fmt: skip
    except BaseException:
        # a run that failed before writing anything leaves no empty directory behind
        if ctx.is_main and created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise
    finally:
        distributed.cleanup(ctx)


@dataclass
class Splits:
    """The examples of the three splits and their encodings (what the task's ``encode`` returns)."""

    name: str
    examples: dict[str, list]
    encoded: dict[str, object] = field(default_factory=dict)


def _task_for(cfg: RunConfig | None, out: Path, resume: bool, ctx: DistContext):
    """Stage 1: the config (a resumed run's own) and its task, checked before anything is written."""
    if resume:
        if not (out / RUN_MARKER).exists():
            raise RunDirError(f"{out}: cannot resume, not a scratchlm run directory (no {RUN_MARKER})")
        cfg = read_run_config(out)
    distributed.check_batch(cfg.train.batch_size, cfg.train.grad_accum_steps, ctx.world_size)
    task = make_task(cfg)
    if ctx.is_main:
        _prepare_out_dir(out, resume)
    ctx.barrier()
    if cfg.train.num_threads:
        torch.set_num_threads(cfg.train.num_threads)
    seed_everything(cfg.train.seed)
    return task


def _load_splits(task: Task) -> tuple[RunConfig, Splits]:
    """Stage 2: the dataset (``data.task`` and a tagger's scheme resolved), subsampled as configured."""
    cfg = task.load()
    d, seed = cfg.data, cfg.train.seed
    examples = {
        "train": subsample(task.split("train"), d.max_train_examples, seed),
        "dev": subsample(task.split("dev"), d.max_eval_examples, seed),
        "test": subsample(task.split("test"), d.max_eval_examples, seed),
    }
    if not examples["dev"]:
        raise RunDirError(f"dataset {task.data.name}: the dev split is empty; give data.dev_file")
    return cfg, Splits(task.data.name, examples)


def _make_tokenizer(task: Task, cfg: RunConfig, splits: Splits, out: Path, resume: bool, ctx: DistContext):
    """Stage 3: a new run builds (or takes from ``model.init``) and saves its tokenizer, config and
    run.json; a resumed run and the other DDP processes read them. Returns the tokenizer and the
    vectors read for ``model.vectors_vocab`` (with their report)."""
    vocab = (None, None)
    if not ctx.is_main:
        ctx.barrier()  # rank 0 builds and saves the tokenizer, the others read it
        return task.load_tokenizer(out / "tokenizer"), vocab
    if resume:
        tokenizer = load_run_tokenizer(out, read_run_meta(out), task)
    else:
        train_ex = splits.examples["train"]
        tokenizer = pretrained_tokenizer(cfg, task)  # model.init: a pretraining run -> its tokenizer
        if tokenizer is None:
            tokenizer = task.build_tokenizer(train_ex)
            if cfg.model.vectors_vocab:
                vocab = add_vectors_vocab(tokenizer, cfg)
        tokenizer.save(out / "tokenizer")
        atomic_write_text(out / "config.yaml", dump_config(cfg))
        meta = run_metadata(task.labels, tokenizer, cfg, **task.metadata(train_ex))
        atomic_write_json(out / RUN_MARKER, meta)
    ctx.barrier()
    return tokenizer, vocab


def _encode(task: Task, tokenizer, splits: Splits) -> None:
    """Stage 4: token ids of every split, with what encoding changed in the log."""
    for name, examples in splits.examples.items():
        splits.encoded[name] = task.encode(tokenizer, examples, task.labels)
    sizes = [len(splits.examples[k]) for k in ("train", "dev", "test")]
    log.info(
        "data %s (%s): train %d, dev %d, test %d examples; %d labels; vocabulary %d tokens",
        splits.name,
        task.name,
        *sizes,
        len(task.labels),
        len(tokenizer.vocab),
    )
    for name, enc in splits.encoded.items():
        note = task.encoding_note(enc)
        if note:
            log.info("%s: %s", name, note)


def _build(task: Task, cfg: RunConfig, tokenizer, splits: Splits, out: Path, fresh: bool, vocab):
    """Stage 5: the model, its embeddings initialised (``model.init``; only a fresh run's rank 0: DDP
    copies its weights to the others) and the frozen parts switched off. Returns it and the init report."""
    model = task.build_model(len(tokenizer.vocab), len(task.labels), tokenizer.vocab.pad_id, task.labels)
    vocab_report, vocab_vectors = vocab
    init_report = None
    if fresh:
        texts = task.texts(splits.examples["train"])
        init_report = init_embeddings(model, cfg, tokenizer, texts, out, vocab_vectors)
        if init_report and vocab_report:
            init_report["vectors_vocab"] = vocab_report
        lexicon_report = init_lexicon(model, cfg, tokenizer)
        if lexicon_report is not None:
            init_report = {**(init_report or {}), "lexicon": lexicon_report}
    apply_freezing(model, cfg.model)  # freeze_embeddings, freeze_layers
    return model, init_report


def _place(model, cfg: RunConfig, start: Path | None, ctx: DistContext, device: str) -> bool:
    """Stage 6: the model on its device, activation checkpointing, and FSDP sharding (the whole weights
    in place on every process first). Returns whether the model is sharded."""
    model.to(device)
    engine.apply_activation_checkpointing(model, cfg.train.activation_checkpointing)
    sharded = ctx.enabled and cfg.train.distributed == "fsdp"
    if sharded:
        if start is not None:
            ckpt.check_config(start, cfg)
            ckpt.load_weights(start, model)
        else:
            distributed.broadcast_weights(model)
        distributed.shard_model(model)
    return sharded


def _start_checkpoint(out: Path, resume_from: str | None, ctx: DistContext) -> Path:
    """Stage 1b of a resumed run: the checkpoint to continue from (rank 0 chooses and sets aside damaged
    and newer ones; the others wait, then take the newest left)."""
    if ctx.is_main:
        start = ckpt.choose_checkpoint(out, resume_from)
        ckpt.restore_best(start, out)
    ctx.barrier()
    return start if ctx.is_main else ckpt.list_checkpoints(out)[-1]


def _train(
    cfg: RunConfig | None,
    out: Path,
    *,
    resume: bool,
    device: str,
    ctx: DistContext,
    resume_from: str | None,
    on_eval=None,
) -> dict:
    task = _task_for(cfg, out, resume, ctx)
    with deterministic_kernels(task.cfg.train.deterministic, device):
        return _run(
            task, out, resume=resume, device=device, ctx=ctx, resume_from=resume_from, on_eval=on_eval
        )


def _run(
    task: Task,
    out: Path,
    *,
    resume: bool,
    device: str,
    ctx: DistContext,
    resume_from: str | None,
    on_eval=None,
) -> dict:
    """Stages 1b-9 and :func:`finish`, for the task :func:`_task_for` checked."""
    start = _start_checkpoint(out, resume_from, ctx) if resume else None
    cfg, splits = _load_splits(task)
    tokenizer, vocab = _make_tokenizer(task, cfg, splits, out, resume, ctx)
    _encode(task, tokenizer, splits)
    model, init_report = _build(task, cfg, tokenizer, splits, out, not resume and ctx.is_main, vocab)
    vocab = None  # its rows are in the model now: do not hold the matrix through training
    sharded = _place(model, cfg, start, ctx, device)
    trainer = Trainer(task, cfg, model, tokenizer, splits, out, ctx, device, sharded)
    trainer.on_eval = on_eval
    if start is not None:
        trainer.resume(start)
    trainer.start(init_report)
    trainer.fit()
    if not ctx.is_main:
        return {}
    if sharded:  # the final evaluation runs on rank 0 alone, on an unsharded copy of the model
        model = task.build_model(len(tokenizer.vocab), len(task.labels), tokenizer.vocab.pad_id, task.labels)
        model.to(device)
    tc = cfg.train
    metrics = finish(
        out, task, model, task.labels, splits.encoded["dev"], splits.encoded["test"],
        tokenizer.vocab.pad_id, tc.eval_batch_size, trainer.state, device,
    )  # fmt: skip
    trainer.logger.finish(out, metrics, trainer.step, model, cfg)
    return metrics


class Trainer:
    """Stages 7-9: the optimizer and schedule, resuming, the epoch loop with its logging, dev
    evaluation (best weights kept, early stopping) and checkpoints."""

    def __init__(self, task: Task, cfg: RunConfig, model, tokenizer, splits: Splits, out: Path,
                 ctx: DistContext, device: str, sharded: bool):  # fmt: skip
        self.task, self.cfg, self.tc, self.model = task, cfg, cfg.train, model
        self.splits, self.out, self.ctx, self.device, self.sharded = splits, out, ctx, device, sharded
        self.pad_id = tokenizer.vocab.pad_id
        tc = self.tc
        train_enc = splits.encoded["train"]
        # token shards (data.shards): equal blocks in a batch order of their own, no lengths to read
        sharded_data = hasattr(train_enc, "batch_order")
        self.lengths = [] if sharded_data else [len(s) for s in train_enc.seqs]
        if not len(train_enc.seqs):
            raise RunDirError(f"dataset {splits.name}: no training examples")
        self.steps_per_epoch = math.ceil(len(train_enc.seqs) / tc.batch_size)
        epochs_steps = tc.epochs * self.steps_per_epoch
        self.total_steps = epochs_steps if tc.max_steps is None else min(tc.max_steps, epochs_steps)
        self.optimizer = build_optimizer(model, tc)
        self.scheduler = build_scheduler(
            self.optimizer, total_steps=self.total_steps, warmup_ratio=tc.warmup_ratio, kind=tc.schedule
        )
        self.ema = EMA(model, tc.ema_decay) if tc.ema_decay else None
        self.state = TrainerState()
        self.step = 0
        self.saved: dict = {}
        self.on_eval = None  # see train()

    # ----------------------------------------------------------------------------------- resuming
    def resume(self, start: Path) -> None:
        """Weights, optimizer, schedule, EMA and loop position from checkpoint ``start``
        (:func:`~scratchlm.training.checkpoint.choose_checkpoint`)."""
        ckpt.check_config(start, self.cfg)
        model, optimizer = self.model, self.optimizer
        load_optimizer = None
        if self.sharded:
            load_optimizer = lambda state: distributed.load_full_optimizer_state(model, optimizer, state)  # noqa: E731
        self.saved = ckpt.load_checkpoint(
            start, model, optimizer, self.scheduler,
            weights_loaded=self.sharded, load_optimizer=load_optimizer,
        )  # fmt: skip
        if self.ema is not None:
            ema_state = ckpt.load_extra(start, "ema")
            if ema_state is None:
                raise RunDirError(f"{start}: no ema.safetensors but train.ema_decay is set")
            self.ema.load_state_dict(ema_state)
        self.step = self.saved.pop("step")
        self._check_same_shards(start)
        fields = TrainerState.__dataclass_fields__
        self.state = TrainerState(**{k: v for k, v in self.saved.items() if k in fields})
        s = self.state
        log.info("resumed from %s (step %d, epoch %d, batch %d)", start.name, self.step, s.epoch,
                 s.batch_in_epoch)  # fmt: skip

    def _check_same_shards(self, start: Path) -> None:
        """A run on token shards resumes on the same shards (checkpoints of earlier versions recorded none)."""
        saved = self.saved.get("shards_fingerprint")
        train = self.splits.encoded["train"]
        now = getattr(train, "fingerprint", None)
        if saved is not None and now is not None and saved != now:
            raise RunDirError(
                f"{start}: data.shards={train.directory} holds other tokens than the shards this run was "
                "trained on (their manifest checksums differ): the saved position would continue in other "
                "data. Resume with the original shards, or start a new run (model.init can take this one)"
            )

    # ------------------------------------------------------------------------------------ starting
    def start(self, init_report: dict | None) -> None:
        """Per-process dropout seeds, compilation, the step runner and the log."""
        tc, ctx, model = self.tc, self.ctx, self.model
        if ctx.enabled:
            torch.manual_seed(tc.seed + 7919 * ctx.rank + self.step)  # each process its own dropout
        engine.compile_model(model, tc)
        self.runner = StepRunner(model, self.task, self.splits.encoded["train"], self.pad_id,
                                 self.optimizer, self.scheduler, tc, ctx, self.device)  # fmt: skip
        if "scaler" in self.saved:
            self.runner.scaler.load_state_dict(self.saved["scaler"])
        resumed_at = self.step if self.saved else None
        self.logger = (
            Logger(self.out / "train_log.jsonl", keep_until_step=resumed_at, also=self._sinks(resumed_at))
            if ctx.is_main
            else NullLogger()
        )
        if init_report:
            self.logger.write(step=0, event="init", **init_report)
        n_params = sum(p.numel() for p in model.parameters())
        self.peak = engine.peak_flops(tc, self.device)
        self.flop_shape = (engine.matmul_parameters(model), *engine.transformer_shape(model))
        log.info("model: %s parameters; %d steps (%d per epoch), batch %d", f"{n_params:,}",
                 self.total_steps, self.steps_per_epoch, tc.batch_size)  # fmt: skip

    def _sinks(self, resumed_at: int | None) -> tuple:
        """``train.loggers`` beyond jsonl; a resumed run's TensorBoard events after its step are dropped."""
        if "tensorboard" not in self.tc.loggers:
            return ()
        from scratchlm.training.tensorboard import TensorBoardLogger

        return (TensorBoardLogger(self.out, purge_step=None if resumed_at is None else resumed_at + 1),)

    # ---------------------------------------------------------------------------------- the loop
    def fit(self) -> None:
        """Epochs of length-bucketed batches until ``epochs``, ``max_steps`` or early stopping; the
        saved position always names the next batch to run, so a resumed run replays the same batches."""
        tc, state = self.tc, self.state
        stop = state.stopped_early
        bar = progress(total=self.total_steps, desc="train", enabled=tc.progress, unit="step")
        bar.update(self.step)
        bar = bar if self.ctx.is_main else progress(total=self.total_steps, enabled=False)
        self.window = _Window()
        self.model.train()
        while not stop and state.epoch < tc.epochs and self.step < self.total_steps:
            batches = self._batch_order(state.epoch)
            for position in range(state.batch_in_epoch, len(batches)):
                stop = self._step(batches, position, bar)
                if stop or self.step == self.total_steps:
                    break
        bar.close()
        self.save_state()

    def _batch_order(self, epoch: int):
        """The epoch's batches (a shuffled, seeded order: the same on every process and after a resume)."""
        tc, train_enc = self.tc, self.splits.encoded["train"]
        if hasattr(train_enc, "batch_order"):  # token shards: a lazy permutation of equal blocks
            return train_enc.batch_order(tc.batch_size, seed=tc.seed, epoch=epoch)
        return batch_order(self.lengths, tc.batch_size, shuffle=True, seed=tc.seed, epoch=epoch,
                           bucketing=tc.length_bucketing)  # fmt: skip

    def _step(self, batches: list, position: int, bar) -> bool:
        """One batch, its logging, evaluation and checkpoint; returns whether to stop."""
        tc, state = self.tc, self.state
        result = self.runner.step(batches[position], self.step, self.out)
        if self.ema is not None:
            self.ema.update(self.model)
        self.step += 1
        end_of_epoch = position + 1 == len(batches)
        state.epoch, state.batch_in_epoch = (
            (state.epoch + 1, 0) if end_of_epoch else (state.epoch, position + 1)
        )
        self.window.add(result, engine.flops_per_token(*self.flop_shape, result.seq_len))
        if self.step % 20 == 0 or self.step == self.total_steps:
            self._log_window(result, bar)
        bar.update(1)
        stop = False
        due = (self.step % tc.eval_every == 0) if tc.eval_every else end_of_epoch
        if due or self.step == self.total_steps:
            stop = state.stopped_early = self.ctx.broadcast_flag(self.evaluate_and_keep_best())
        if self.step % tc.save_every == 0 and self.step != self.total_steps and not stop:
            self.save_state()
        return stop

    def _log_window(self, result, bar) -> None:
        """A train_log.jsonl line over the last (up to) 20 steps: a readable curve."""
        w = self.window
        seconds = max(1e-9, time.time() - w.start)
        mean_loss = w.loss / w.steps
        mfu = {"mfu": round(w.flops / seconds / (self.peak * self.ctx.world_size), 4)} if self.peak else {}
        self.logger.write(
            step=self.step,
            event="train",
            epoch=self.state.epoch,
            loss=round(mean_loss, 5),
            lr=self.scheduler.get_last_lr()[0],
            grad_norm=round(result.grad_norm, 4),
            examples_per_s=round(w.examples / seconds, 1),
            tokens_per_s=round(w.tokens / seconds, 1),
            **mfu,
        )
        bar.set_postfix(loss=f"{mean_loss:.4f}", tok_s=f"{w.tokens / seconds:.0f}")
        self.window = _Window()

    # ---------------------------------------------------------------------------------- evaluation
    def evaluate_and_keep_best(self) -> bool:
        """Dev evaluation (rank 0); saves improved weights; returns True when early stopping triggers."""
        ctx, state, task, step = self.ctx, self.state, self.task, self.step
        if not ctx.is_main and not self.sharded:  # sharded: every process takes part in the forward passes
            return False
        with self.ema.applied(self.model) if self.ema is not None else contextlib.nullcontext():
            m = task.evaluate_for_selection(self.model, self.splits.encoded["dev"], task.labels, self.pad_id,
                                            self.tc.eval_batch_size, self.device)  # fmt: skip
            score = m[task.score_key]
            if score > state.best_score:
                weights = distributed.full_weights(self.model) if self.sharded else self.model.state_dict()
                if ctx.is_main:
                    save_tensors(self.out / "model.safetensors", weights, metadata={"step": str(step)})
        record = {"step": step, "epoch": state.epoch, **task.eval_record(m)}
        state.history.append(record)
        self.logger.write(event="eval", **record)
        improved = score > state.best_score
        log.info(
            "step %d epoch %d: dev %s%s", step, state.epoch, task.headline(m), " (best)" if improved else ""
        )
        self.model.train()
        pruned = self.on_eval is not None and bool(self.on_eval(len(state.history), score))
        if pruned:
            log.info("stopped after this evaluation by the caller (a pruned trial)")
        if improved:
            self._improved(score, step)
            return pruned
        state.evals_without_improvement += 1
        patience = self.tc.early_stopping_patience
        if patience and state.evals_without_improvement >= patience:
            log.info("early stopping: no dev improvement in %d evaluations", state.evals_without_improvement)
            return True
        return pruned

    def _improved(self, score: float, step: int) -> None:
        state = self.state
        state.best_score, state.best_step = score, step
        state.evals_without_improvement = 0

    def save_state(self) -> None:
        """A checkpoint of everything a resume needs (FSDP: gathered to rank 0 first)."""
        sharded = self.sharded
        weights, opt_state = distributed.full_state(self.model, self.optimizer) if sharded else (None, None)
        if not self.ctx.is_main:
            return
        extra = {"ema": self.ema.state_dict()} if self.ema is not None else None
        trainer_state = {**self.state.to_dict(), "config": self.cfg.to_dict()}
        shards = getattr(self.splits.encoded["train"], "fingerprint", None)
        if shards is not None:  # token shards: a resume must read the same tokens at the saved position
            trainer_state["shards_fingerprint"] = shards
        if self.runner.scaler.is_enabled():
            trainer_state["scaler"] = self.runner.scaler.state_dict()
        ckpt.save_checkpoint(self.out, self.step, self.model, self.optimizer, self.scheduler, trainer_state,
                             self.tc.keep_checkpoints, extra, model_state=weights,
                             optimizer_state=opt_state)  # fmt: skip


@dataclass
class _Window:
    """What the steps since the last train_log.jsonl line add up to."""

    examples: int = 0
    tokens: int = 0
    loss: float = 0.0
    steps: int = 0
    flops: float = 0.0
    start: float = field(default_factory=time.time)

    def add(self, result, flops_per_token: float) -> None:
        self.examples += result.examples
        self.tokens += result.tokens
        self.loss += result.loss
        self.steps += 1
        self.flops += result.tokens * flops_per_token


def finish(
    out: Path,
    task: Task,
    model,
    labels: list[str],
    dev_enc,
    test_enc,
    pad_id: int,
    batch_size: int,
    state: TrainerState,
    device: str,
) -> dict:
    """Reload the best weights, evaluate dev and test, write metrics.json and the plots."""
    from safetensors.torch import load_file

    model.load_state_dict(load_file(str(out / "model.safetensors")))
    metrics = {
        "best_step": state.best_step,
        "task": task.name,
        "dev": task.evaluate(model, dev_enc, labels, pad_id, batch_size, device),
    }
    if test_enc.seqs:
        metrics["test"] = task.evaluate(model, test_enc, labels, pad_id, batch_size, device)
    atomic_write_json(out / "metrics.json", metrics)
    log.info("%s", task.format(metrics["dev"], f"dev (best weights, step {state.best_step})"))
    if "test" in metrics:
        log.info("%s", task.format(metrics["test"], "test"))
    try:
        task.plots(out, metrics)
    except Exception as exc:  # plots must never lose a finished run
        log.warning("could not draw plots: %s", exc)
    return metrics
