"""The training loop: data -> tokenizer -> model -> AdamW -> best-on-dev run, for every task (a text
classifier, a tagger): what differs between tasks lives in :mod:`scratchlm.tasks.classification`.

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
from scratchlm.data import Example
from scratchlm.data.collate import batch_order
from scratchlm.errors import RunDirError
from scratchlm.io import atomic_write_json, atomic_write_text, save_tensors
from scratchlm.tasks.classification import ClassificationTask, EncodedSplit, encode_split, make_task
from scratchlm.tokenizers import load_tokenizer
from scratchlm.training import checkpoint as ckpt
from scratchlm.training import distributed, engine
from scratchlm.training.distributed import DistContext
from scratchlm.training.ema import EMA
from scratchlm.training.finetune import apply_freezing, pretrained_tokenizer
from scratchlm.training.init import add_vectors_vocab, init_embeddings
from scratchlm.training.optim import build_optimizer
from scratchlm.training.progress import progress
from scratchlm.training.run_dir import RUN_MARKER, build_model, read_run_config, run_metadata
from scratchlm.training.schedule import build_scheduler
from scratchlm.training.step import StepRunner

__all__ = ["EncodedSplit", "encode_split", "seed_everything", "train"]  # encode_split: used by cli, ablate

log = logging.getLogger("scratchlm.train")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _subsample(examples: list[Example], n: int | None, seed: int) -> list[Example]:
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


class Logger:
    """Appends JSON lines to ``train_log.jsonl``."""

    def __init__(self, path: Path, *, keep_until_step: int | None = None):
        self.path = path
        if keep_until_step is not None and path.exists():
            kept = [
                line
                for line in path.read_text(encoding="utf-8").splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= keep_until_step
            ]
            atomic_write_text(path, "".join(line + "\n" for line in kept))

    def write(self, **record) -> None:
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")


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


def train(cfg: RunConfig, out: str | Path, *, resume: bool = False, device: str = "cpu") -> dict:
    """Train, keep the best-on-dev weights, evaluate dev and test; returns the final metrics (on DDP
    processes other than rank 0: ``{}``)."""
    out = Path(out)
    created = not out.exists()
    ctx, device = distributed.setup(device)
    try:
        return _train(cfg, out, resume=resume, device=device, ctx=ctx)
    except BaseException:
        # a run that failed before writing anything leaves no empty directory behind
        if ctx.is_main and created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        raise
    finally:
        distributed.cleanup(ctx)


def _train(cfg: RunConfig, out: Path, *, resume: bool, device: str, ctx: DistContext) -> dict:
    if resume:
        if not (out / RUN_MARKER).exists():
            raise RunDirError(f"{out}: cannot resume, not a scratchlm run directory (no {RUN_MARKER})")
        cfg = read_run_config(out)
    distributed.check_batch(cfg.train.batch_size, cfg.train.grad_accum_steps, ctx.world_size)
    if ctx.is_main:
        _prepare_out_dir(out, resume)
    ctx.barrier()
    tc = cfg.train
    if tc.num_threads:
        torch.set_num_threads(tc.num_threads)
    seed_everything(tc.seed)

    task = make_task(cfg)
    cfg = task.load()  # data.task (and a tagger's scheme) resolved: what the run saves
    data, labels = task.data, task.labels
    train_ex = _subsample(data.splits["train"], cfg.data.max_train_examples, tc.seed)
    dev_ex = _subsample(data.splits["dev"], cfg.data.max_eval_examples, tc.seed)
    test_ex = _subsample(data.splits["test"], cfg.data.max_eval_examples, tc.seed)
    if not dev_ex:
        raise RunDirError(f"dataset {data.name}: the dev split is empty; give data.dev_file")

    vocab_report = vocab_vectors = None
    if not ctx.is_main:
        ctx.barrier()  # rank 0 builds and saves the tokenizer, the others read it
        tokenizer = load_tokenizer(out / "tokenizer")
    elif resume:
        tokenizer = load_tokenizer(out / "tokenizer")
    else:
        tokenizer = pretrained_tokenizer(cfg)  # model.init: a pretraining run -> its tokenizer
        if tokenizer is None:
            tokenizer = task.build_tokenizer(train_ex)
            if cfg.model.vectors_vocab:
                vocab_report, vocab_vectors = add_vectors_vocab(tokenizer, cfg)
        tokenizer.save(out / "tokenizer")
        atomic_write_text(out / "config.yaml", dump_config(cfg))
        atomic_write_json(out / RUN_MARKER, run_metadata(labels, tokenizer, cfg, **task.metadata(train_ex)))
    if ctx.is_main:
        ctx.barrier()
    train_enc = task.encode(tokenizer, train_ex, labels)
    dev_enc = task.encode(tokenizer, dev_ex, labels)
    test_enc = task.encode(tokenizer, test_ex, labels)
    log.info(
        "data %s (%s): train %d, dev %d, test %d examples; %d labels; vocabulary %d tokens",
        data.name,
        task.name,
        len(train_ex),
        len(dev_ex),
        len(test_ex),
        len(labels),
        len(tokenizer.vocab),
    )
    for name, enc in (("train", train_enc), ("dev", dev_enc), ("test", test_enc)):
        note = task.encoding_note(enc)
        if note:
            log.info("%s: %s", name, note)

    pad_id = tokenizer.vocab.pad_id
    model = build_model(cfg, len(tokenizer.vocab), len(labels), pad_id, labels)
    # DDP copies rank 0's weights to every process: only rank 0 initialises (and writes vectors/)
    fresh = not resume and ctx.is_main
    init_report = (
        init_embeddings(model, cfg, tokenizer, task.texts(train_ex), out, vocab_vectors) if fresh else None
    )
    vocab_vectors = None  # its rows are in the model now: do not hold the matrix through training
    if init_report and vocab_report:
        init_report["vectors_vocab"] = vocab_report
    apply_freezing(model, cfg.model)  # freeze_embeddings, freeze_layers
    model.to(device)
    engine.apply_activation_checkpointing(model, tc.activation_checkpointing)
    sharded = ctx.enabled and tc.distributed == "fsdp"
    if sharded:  # the whole weights in place on every process first, then sharded
        if resume:
            found = ckpt.list_checkpoints(out)
            if found:
                ckpt.check_config(found[-1], cfg)
                ckpt.load_weights(found[-1], model)
        else:
            distributed.broadcast_weights(model)
        distributed.shard_model(model)

    steps_per_epoch = math.ceil(len(train_enc.seqs) / tc.batch_size)
    total_steps = (
        tc.epochs * steps_per_epoch
        if tc.max_steps is None
        else min(tc.max_steps, tc.epochs * steps_per_epoch)
    )
    optimizer = build_optimizer(model, tc)
    scheduler = build_scheduler(
        optimizer, total_steps=total_steps, warmup_ratio=tc.warmup_ratio, kind=tc.schedule
    )

    ema = EMA(model, tc.ema_decay) if tc.ema_decay else None
    state = TrainerState()
    step = 0
    trainer: dict = {}
    if resume:
        found = ckpt.list_checkpoints(out)
        if not found:
            bad = ckpt.incomplete_checkpoints(out)
            raise RunDirError(
                f"{out}: no complete checkpoint to resume from (checkpoints/step-NNNNNN with trainer.json)"
                + (f"; incomplete: {', '.join(bad)}" if bad else "; checkpoints/ is empty or missing")
            )
        ckpt.check_config(found[-1], cfg)
        trainer = ckpt.load_checkpoint(
            found[-1],
            model,
            optimizer,
            scheduler,
            weights_loaded=sharded,
            load_optimizer=(lambda state: distributed.load_full_optimizer_state(model, optimizer, state))
            if sharded
            else None,
        )
        if ema is not None:
            ema_state = ckpt.load_extra(found[-1], "ema")
            if ema_state is None:
                raise RunDirError(f"{found[-1]}: no ema.safetensors but train.ema_decay is set")
            ema.load_state_dict(ema_state)
        step = trainer.pop("step")
        state = TrainerState(**{k: v for k, v in trainer.items() if k in TrainerState.__dataclass_fields__})
        log.info(
            "resumed from %s (step %d, epoch %d, batch %d)",
            found[-1].name,
            step,
            state.epoch,
            state.batch_in_epoch,
        )
    if ctx.enabled:
        torch.manual_seed(tc.seed + 7919 * ctx.rank + step)  # each process its own dropout
    engine.compile_model(model, tc)
    runner = StepRunner(model, task, train_enc, pad_id, optimizer, scheduler, tc, ctx, device)
    if resume and "scaler" in trainer:
        runner.scaler.load_state_dict(trainer["scaler"])
    logger = (
        Logger(out / "train_log.jsonl", keep_until_step=step if resume else None)
        if ctx.is_main
        else NullLogger()
    )
    if init_report:
        logger.write(step=0, event="init", **init_report)

    n_params = sum(p.numel() for p in model.parameters())
    peak = engine.peak_flops(tc, device)
    flop_shape = (engine.matmul_parameters(model), *engine.transformer_shape(model))
    log.info(
        "model: %s parameters; %d steps (%d per epoch), batch %d",
        f"{n_params:,}",
        total_steps,
        steps_per_epoch,
        tc.batch_size,
    )

    def evaluation_weights():
        return ema.applied(model) if ema is not None else contextlib.nullcontext()

    def evaluate_dev() -> dict:
        return task.evaluate_for_selection(model, dev_enc, labels, pad_id, tc.eval_batch_size, device)

    def save_state() -> None:
        weights, opt_state = distributed.full_state(model, optimizer) if sharded else (None, None)
        if not ctx.is_main:
            return
        extra = {"ema": ema.state_dict()} if ema is not None else None
        trainer_state = {**state.to_dict(), "config": cfg.to_dict()}
        if runner.scaler.is_enabled():
            trainer_state["scaler"] = runner.scaler.state_dict()
        ckpt.save_checkpoint(
            out,
            step,
            model,
            optimizer,
            scheduler,
            trainer_state,
            tc.keep_checkpoints,
            extra,
            model_state=weights,
            optimizer_state=opt_state,
        )

    def evaluate_and_keep_best(step: int) -> bool:
        """Dev evaluation (rank 0); saves improved weights; returns True when early stopping triggers."""
        if not ctx.is_main and not sharded:  # sharded: every process takes part in the forward passes
            return False
        with evaluation_weights():
            m = evaluate_dev()
            score = m[task.score_key]
            if score > state.best_score:
                weights = distributed.full_weights(model) if sharded else model.state_dict()
                if ctx.is_main:
                    save_tensors(out / "model.safetensors", weights, metadata={"step": str(step)})
        record = {"step": step, "epoch": state.epoch, **task.eval_record(m)}
        state.history.append(record)
        logger.write(event="eval", **record)
        improved = score > state.best_score
        log.info(
            "step %d epoch %d: dev %s%s", step, state.epoch, task.headline(m), " (best)" if improved else ""
        )
        model.train()
        if improved:
            state.best_score, state.best_step = score, step
            state.evals_without_improvement = 0
            return False
        state.evals_without_improvement += 1
        patience = tc.early_stopping_patience
        if patience and state.evals_without_improvement >= patience:
            log.info("early stopping: no dev improvement in %d evaluations", state.evals_without_improvement)
            return True
        return False

    stop = state.stopped_early
    lengths = [len(s) for s in train_enc.seqs]
    if not lengths:
        raise RunDirError(f"dataset {data.name}: no training examples")
    bar = progress(total=total_steps, desc="train", enabled=tc.progress, unit="step")
    bar.update(step)
    bar = bar if ctx.is_main else progress(total=total_steps, enabled=False)
    window_examples, window_tokens, window_start, window_loss, window_steps = 0, 0, time.time(), 0.0, 0
    window_flops = 0.0
    model.train()
    while not stop and state.epoch < tc.epochs and step < total_steps:
        batches = batch_order(
            lengths,
            tc.batch_size,
            shuffle=True,
            seed=tc.seed,
            epoch=state.epoch,
            bucketing=tc.length_bucketing,
        )
        for position in range(state.batch_in_epoch, len(batches)):
            result = runner.step(batches[position], step, out)
            if ema is not None:
                ema.update(model)
            step += 1
            end_of_epoch = position + 1 == len(batches)
            # the saved position always names the next batch to run
            state.epoch, state.batch_in_epoch = (
                (state.epoch + 1, 0) if end_of_epoch else (state.epoch, position + 1)
            )
            window_examples += result.examples
            window_tokens += result.tokens
            window_loss += result.loss
            window_steps += 1
            window_flops += result.tokens * engine.flops_per_token(*flop_shape, result.seq_len)
            if step % 20 == 0 or step == total_steps:
                seconds = max(1e-9, time.time() - window_start)
                rate = window_examples / seconds
                mean_loss = window_loss / window_steps  # over the last (up to) 20 steps: a readable curve
                logger.write(
                    step=step,
                    event="train",
                    epoch=state.epoch,
                    loss=round(mean_loss, 5),
                    lr=scheduler.get_last_lr()[0],
                    grad_norm=round(result.grad_norm, 4),
                    examples_per_s=round(rate, 1),
                    tokens_per_s=round(window_tokens / seconds, 1),
                    **({"mfu": round(window_flops / seconds / (peak * ctx.world_size), 4)} if peak else {}),
                )
                bar.set_postfix(loss=f"{mean_loss:.4f}", tok_s=f"{window_tokens / seconds:.0f}")
                window_examples, window_tokens, window_start, window_loss, window_steps = (
                    0,
                    0,
                    time.time(),
                    0.0,
                    0,
                )
                window_flops = 0.0
            bar.update(1)
            due = (step % tc.eval_every == 0) if tc.eval_every else end_of_epoch
            if due or step == total_steps:
                stop = state.stopped_early = ctx.broadcast_flag(evaluate_and_keep_best(step))
            if step % tc.save_every == 0 and step != total_steps and not stop:
                save_state()
            if stop or step == total_steps:
                break
    bar.close()
    save_state()
    if not ctx.is_main:
        return {}
    if sharded:  # the final evaluation runs on rank 0 alone, on an unsharded copy of the model
        model = build_model(cfg, len(tokenizer.vocab), len(labels), pad_id, labels).to(device)
    return finish(out, task, model, labels, dev_enc, test_enc, pad_id, tc.eval_batch_size, state, device)


def finish(
    out: Path,
    task: ClassificationTask,
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
