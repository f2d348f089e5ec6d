"""One optimizer step over one global batch: micro-batches (``train.grad_accum_steps``, and the share of
each DDP process), autocast (``train.precision``), the fp16 gradient scaler, clipping, counts.

Each micro-batch loss is a mean over its own units (texts, real tokens, predicted tokens:
``task.loss_weight``), so it is weighted by ``units / units of the whole global batch`` before backward:
the summed gradient then equals the gradient of the whole batch's mean, whatever the split. With one
micro-batch and one process the factor is exactly 1.0 and the step is the plain one, bit for bit.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch
from torch import nn

from scratchlm.errors import RunDirError
from scratchlm.training.distributed import DistContext

PRECISIONS = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class TaskLoss(nn.Module):
    """``batch -> loss`` as a module, so that DDP sees the forward pass of every task's loss."""

    def __init__(self, model: nn.Module, task, device: str):
        super().__init__()
        self.model, self.task, self.device = model, task, device

    def forward(self, batch) -> torch.Tensor:
        return self.task.loss(self.model, batch, self.device)


@dataclass
class StepResult:
    loss: float  # mean over the global batch's units
    grad_norm: float
    examples: int  # over all processes
    tokens: int  # real (non-padding) tokens over all processes
    seq_len: int = 0  # the longest (padded) micro-batch row of this process: the attention FLOPs' s


def micro_batches(index: list[int], parts: int) -> list[list[int]]:
    """``index`` cut into ``parts`` contiguous pieces, sizes differing by at most one (some may be empty)."""
    n = len(index)
    return [index[i * n // parts : (i + 1) * n // parts] for i in range(parts)]


class StepRunner:
    def __init__(
        self, model, task, enc, pad_id: int, optimizer, scheduler, tc, ctx: DistContext, device: str
    ):
        self.model, self.task, self.enc, self.pad_id = model, task, enc, pad_id
        self.optimizer, self.scheduler, self.tc, self.ctx = optimizer, scheduler, tc, ctx
        self.device_type = "cuda" if device.startswith("cuda") else "cpu"
        if tc.precision == "fp16" and self.device_type != "cuda":
            raise RunDirError("train.precision=fp16 needs CUDA (and its gradient scaler); use bf16 on CPU")
        self.dtype = PRECISIONS[tc.precision]
        self.scaler = torch.amp.GradScaler("cuda", enabled=tc.precision == "fp16")
        self.loss_fn: nn.Module = TaskLoss(model, task, device)
        self.sharded = ctx.enabled and tc.distributed == "fsdp"  # FSDP: the model is already sharded
        if ctx.enabled and not self.sharded:
            from torch.nn.parallel import DistributedDataParallel

            ids = [ctx.local_rank] if self.device_type == "cuda" else None
            self.loss_fn = DistributedDataParallel(self.loss_fn, device_ids=ids, find_unused_parameters=False)

    def autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def step(self, index: list[int], step: int, out) -> StepResult:
        tc, ctx = self.tc, self.ctx
        accum = tc.grad_accum_steps
        mine = micro_batches(index, ctx.world_size * accum)[ctx.rank * accum : (ctx.rank + 1) * accum]
        # an empty piece (a short last batch) still runs, on one example with weight 0: every process
        # must take part in each gradient all-reduce
        batches = [self.task.batch(self.enc, part or index[:1], self.pad_id) for part in mine]
        weights = [self.task.loss_weight(b) if part else 0 for b, part in zip(batches, mine, strict=True)]
        total = ctx.all_reduce_sum([float(sum(weights))])[0] if ctx.enabled else sum(weights)
        self.optimizer.zero_grad(set_to_none=True)
        loss_sum, tokens, examples, last_loss = 0.0, 0, 0, None
        seq_len = max(int(b.padding_mask.shape[1]) for b in batches)
        for i, (batch, w) in enumerate(zip(batches, weights, strict=True)):
            sync = i == len(batches) - 1 or not ctx.enabled
            if self.sharded:  # gradients reduce-scattered after the last micro-batch only
                self.model.set_requires_gradient_sync(sync)
            no_sync = contextlib.nullcontext() if sync or self.sharded else self.loss_fn.no_sync()
            with self.autocast(), no_sync:
                loss = self.loss_fn(batch)
                factor = w * ctx.world_size / total if total else 0.0
                self.scaler.scale(loss * factor if factor != 1.0 else loss).backward()
            last_loss = loss.item()
            loss_sum += last_loss * w
            if w:
                tokens += int(batch.padding_mask.sum())
                examples += len(batch.index)
        if ctx.enabled:
            loss_sum, tokens, examples = ctx.all_reduce_sum([loss_sum, float(tokens), float(examples)])
        mean_loss = last_loss if len(batches) == 1 and not ctx.enabled else loss_sum / max(total, 1e-12)
        if not math.isfinite(mean_loss):
            from scratchlm.training import checkpoint as ckpt

            last = ckpt.list_checkpoints(out)
            raise RunDirError(
                f"non-finite loss at step {step + 1}; last good checkpoint: "
                f"{last[-1] if last else 'none'}. Lower train.lr or check the data"
            )
        self.scaler.unscale_(self.optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), tc.grad_clip)
        if hasattr(grad_norm, "full_tensor"):  # a DTensor (FSDP)
            grad_norm = grad_norm.full_tensor()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.scheduler.step()
        return StepResult(mean_loss, float(grad_norm), int(examples), int(tokens), seq_len)
