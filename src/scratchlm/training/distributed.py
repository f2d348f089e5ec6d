"""Data-parallel training with ``torch.distributed`` (DDP), started by ``torchrun``:

    torchrun --nproc_per_node 2 -m scratchlm train CONFIG --out RUN

``torchrun`` sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; :func:`setup` joins the process group
(gloo on CPU, NCCL on CUDA, one GPU per process). Every process reads the data and walks the same batch
order; each global batch of ``train.batch_size`` examples is cut into ``world_size x grad_accum_steps``
contiguous micro-batches and process ``r`` takes its share (a sampler without padding or dropped
examples). Rank 0 alone writes the run directory, the logs and the checkpoints, with the unwrapped
model's names, so a DDP checkpoint resumes in a single process and the other way round.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from scratchlm.errors import ConfigError


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.enabled:
            dist.barrier()

    def all_reduce_sum(self, values: list[float]) -> list[float]:
        """Sum a few numbers over the processes (float64 on CPU: gloo; the device's tensor on NCCL)."""
        if not self.enabled:
            return values
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()

    def broadcast_flag(self, flag: bool) -> bool:
        """Rank 0's value of ``flag`` on every process."""
        if not self.enabled:
            return flag
        t = torch.tensor([int(flag)], device=self.device)
        dist.broadcast(t, src=0)
        return bool(t.item())

    @property
    def device(self) -> str:
        return "cuda" if dist.is_initialized() and dist.get_backend() == "nccl" else "cpu"


def check_batch(batch_size: int, grad_accum_steps: int, world_size: int) -> None:
    parts = world_size * grad_accum_steps
    if batch_size % parts:
        raise ConfigError(
            f"train.batch_size={batch_size} cannot be cut into {world_size} process(es) x "
            f"train.grad_accum_steps={grad_accum_steps} equal micro-batches; use a batch size divisible by "
            f"{parts} (or another --nproc_per_node / grad_accum_steps)"
        )


def setup(device: str) -> tuple[DistContext, str]:
    """Join the process group when started by torchrun; returns the context and this process's device."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext(), device
    rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if not dist.is_initialized():
        cuda = device.startswith("cuda")
        if cuda:
            torch.cuda.set_device(local)
        dist.init_process_group(backend="nccl" if cuda else "gloo")
    if device.startswith("cuda"):
        device = f"cuda:{local}"
    if rank != 0:
        logging.getLogger("scratchlm").setLevel(logging.WARNING)  # rank 0 logs for everyone
    return DistContext(rank, world, local), device


def cleanup(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


# ------------------------------------------------------------------------------------------ FSDP (FSDP2)
# ``train.distributed: fsdp``: PyTorch's ``fully_shard`` on each Transformer layer and on the whole model.
# Parameters, gradients and AdamW state live in shards (DTensors); a layer's parameters are gathered when
# it runs. Checkpoints hold the full, unsharded tensors under the plain names, in the same format as a
# single process's (optimizer state numbered in parameter order), so they resume in any process count.


def broadcast_weights(model: torch.nn.Module) -> None:
    """Rank 0's parameters and buffers on every process (what DDP does when it wraps a model)."""
    with torch.no_grad():
        for tensor in model.state_dict().values():
            dist.broadcast(tensor, src=0)


def shard_model(model: torch.nn.Module) -> None:
    from torch.distributed.fsdp import fully_shard

    for layer in getattr(getattr(model, "encoder", None), "layers", None) or []:
        fully_shard(layer)
    fully_shard(model)


def full_weights(model) -> dict:
    """The whole model's weights on rank 0 (empty elsewhere); every process must call it."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def _optimizer_names(model: torch.nn.Module, optimizer: torch.optim.Optimizer) -> list[str]:
    """The parameter names in the optimizer's numbering (groups in order, parameters in order)."""
    names = {id(p): n for n, p in model.named_parameters()}
    return [names[id(p)] for group in optimizer.param_groups for p in group["params"]]


def full_state(model, optimizer) -> tuple[dict, dict]:
    """The whole model's and optimizer's state on rank 0 (empty on the others), numbered like a single
    process's ``optimizer.state_dict()``. Every process must call it (it gathers the shards)."""
    from torch.distributed.checkpoint.state_dict import (
        StateDictOptions,
        get_model_state_dict,
        get_optimizer_state_dict,
    )

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    weights = get_model_state_dict(model, options=options)
    opt = get_optimizer_state_dict(model, optimizer, options=options)
    if not weights:
        return {}, {}
    index = {name: i for i, name in enumerate(_optimizer_names(model, optimizer))}
    numbered = {
        "state": {index[name]: entry for name, entry in opt["state"].items()},
        "param_groups": [
            {**group, "params": [index[name] for name in group["params"]]} for group in opt["param_groups"]
        ],
    }
    return weights, numbered


def load_full_optimizer_state(model, optimizer, state: dict) -> None:
    """A single-process-format optimizer state (numbered) into the sharded optimizer."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    names = _optimizer_names(model, optimizer)
    named = {
        "state": {names[int(i)]: entry for i, entry in state["state"].items()},
        "param_groups": [
            {**group, "params": [names[int(i)] for i in group["params"]]} for group in state["param_groups"]
        ],
    }
    set_optimizer_state_dict(
        model, optimizer, named, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=False)
    )
