"""What ``scratchlm ablate`` measures on an image run besides dev and test accuracy: the test accuracy on
the same images with their patches shuffled (each image's ``p x p`` patches put back in a random order, one
fixed order per image, from the run's seed). A model without position information sees a set of patches
and cannot tell; a model with positions reads where each patch is, and loses accuracy when that is wrong.
"""

from __future__ import annotations

from pathlib import Path

import torch

METRICS = ("shuffled_test_accuracy",)
"""Per-run numbers averaged per cell."""


def shuffle_patches(pixels: torch.Tensor, patch: int, generator: torch.Generator) -> torch.Tensor:
    """``(c, H, W)`` with its ``patch x patch`` blocks permuted at random (a derangement is not forced)."""
    c, h, w = pixels.shape
    gh, gw = h // patch, w // patch
    blocks = pixels.reshape(c, gh, patch, gw, patch).permute(1, 3, 0, 2, 4).reshape(gh * gw, c, patch, patch)
    blocks = blocks[torch.randperm(gh * gw, generator=generator)]
    return blocks.reshape(gh, gw, c, patch, patch).permute(2, 0, 3, 1, 4).reshape(c, h, w)


def is_image_run(run_dir: Path) -> bool:
    from scratchlm.training.run_dir import load_run

    return load_run(run_dir).handler().reads_images


def measure(run_dir: Path) -> dict:
    """``{"shuffled_test_accuracy"}`` of a finished image run."""
    from scratchlm.predict.images import image_logits
    from scratchlm.tasks.metrics import classification_metrics
    from scratchlm.training.loop import subsample
    from scratchlm.training.run_dir import load_run

    run = load_run(run_dir)
    cfg = run.config
    task = run.handler()
    task.load()
    examples = subsample(task.split("test"), cfg.data.max_eval_examples, cfg.train.seed)
    enc = task.encode(run.tokenizer, examples, run.labels)
    g = torch.Generator().manual_seed(cfg.train.seed)
    shuffled = [shuffle_patches(x, cfg.model.patches.size, g) for x in enc.seqs]
    preds = image_logits(run.model, shuffled, cfg.train.eval_batch_size).argmax(-1).tolist()
    return {"shuffled_test_accuracy": classification_metrics(enc.labels, preds, run.labels)["accuracy"]}


TABLE_HEADS = ["dev acc", "test acc", "test acc, patches shuffled"]
"""An image ablation's score columns (ablate.markdown_table adds the grid, time and parameters)."""


def table_cells(row: dict, pm) -> list[str]:
    """Dev, test and patch-shuffled test accuracy (mean ± std over seeds) of one cell."""
    return [pm(row, "dev_accuracy"), pm(row, "test_accuracy"), pm(row, "shuffled_test_accuracy")]


SERIES = (("test_accuracy", "test accuracy"), ("shuffled_test_accuracy", "test, patches shuffled"))
"""The chart's bars for an image ablation."""
