"""``train.deterministic``: torch kernels that give the same result every run, for the length of a run.

The other sources of run-to-run change are seeded elsewhere: Python, NumPy and torch generators
(:func:`scratchlm.training.loop.seed_everything`), the subsample and the batch order of each epoch
(``train.seed``), dropout (torch's generator, saved in every checkpoint), masked-LM masks (a generator
per text) and the word2vec stage (one gensim worker, ``vectors.workers``). What remains are kernels
that reduce in an order that changes from run to run, mostly on CUDA (atomic adds in index and scatter
backward passes, cuBLAS split-K workspaces, cuDNN's algorithm search); torch's switch
``use_deterministic_algorithms`` picks deterministic ones where they exist. See docs/reproducibility.md.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import torch
import torch.utils.deterministic

CUBLAS_WORKSPACE = ":4096:8"
"""cuBLAS's fixed workspace configuration (one of the two NVIDIA documents as deterministic): without
it, torch refuses cuBLAS matrix products under ``use_deterministic_algorithms`` (CUDA >= 10.2)."""


@contextlib.contextmanager
def deterministic_kernels(enabled: bool, device: str = "cpu") -> Iterator[None]:
    """Within the block, torch uses deterministic kernels (``enabled``) or its fastest ones; the
    process's previous settings come back afterwards (a run inside a test or ``ablate`` leaves no trace).

    An operation without a deterministic kernel warns (``warn_only``) instead of stopping a long run;
    the warning names it, and such a run is not guaranteed to repeat bit for bit."""
    flags = torch.utils.deterministic
    before = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        flags.fill_uninitialized_memory,
    )
    if enabled and str(device).startswith("cuda"):
        # read when cuBLAS makes its first handle; a value the user set is kept
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    torch.use_deterministic_algorithms(enabled, warn_only=True)
    torch.backends.cudnn.deterministic = enabled
    torch.backends.cudnn.benchmark = before[3] and not enabled
    # torch would also fill every new tensor (NaN), a guard against code that reads memory it never
    # wrote; scratchlm writes what it allocates, and the fill was the whole cost of the switch on CPU
    # (5% of a training step of the demo model, none without it: docs/reproducibility.md)
    flags.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[2], before[3]
        flags.fill_uninitialized_memory = before[4]
