"""``train.loggers: [jsonl, tensorboard]``: the events of ``train_log.jsonl`` also as TensorBoard event
files in ``RUN/tensorboard/`` (``tensorboard --logdir RUN/tensorboard``), through PyTorch's
``SummaryWriter``.

Every number of a ``train`` line is a scalar under ``train/`` (loss, lr, grad_norm, examples_per_s,
tokens_per_s, mfu), every number of an ``eval`` line one under ``dev/`` (``dev_accuracy`` ->
``dev/accuracy``), at the line's step. When the run is finished, the final dev and test metrics go under
``final_dev/`` and ``final_test/``, and its figures as images: the confusion matrix and the training
curves from ``plots/``, and the positional encoding of the trained model (as ``scratchlm plot pe --run``
draws it). A resumed run purges the events after the checkpoint's step, as train_log.jsonl drops its lines.
"""

from __future__ import annotations

import logging
import numbers
from pathlib import Path

from scratchlm.errors import MissingExtraError

log = logging.getLogger(__name__)

DIRECTORY = "tensorboard"
SECTIONS = {"train": "train", "eval": "dev"}


def _writer_class():
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise MissingExtraError(
            "train.loggers tensorboard needs the tensorboard package: pip install -e '.[tracking]'"
        ) from None
    return SummaryWriter


def _numbers(record: dict, prefix: str = "") -> dict[str, float]:
    """The numeric values of ``record`` (nested dicts flattened with ``/``), not bools."""
    out = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out.update(_numbers(value, f"{prefix}{key}/"))
        elif isinstance(value, numbers.Real) and not isinstance(value, bool):
            out[f"{prefix}{key}"] = float(value)
    return out


class TensorBoardLogger:
    """A sink beside :class:`~scratchlm.training.loop.Logger`: ``write(**record)`` as scalars."""

    def __init__(self, run_dir: Path, *, purge_step: int | None = None):
        self.writer = _writer_class()(log_dir=str(run_dir / DIRECTORY), purge_step=purge_step)

    def write(self, **record) -> None:
        section = SECTIONS.get(record.get("event"))
        if section is None:
            return
        step = int(record.get("step", 0))
        for key, value in _numbers(record).items():
            if key in ("step", "epoch") and section == "dev":
                continue
            name = key.removeprefix("dev_") if section == "dev" else key
            if key != "step":
                self.writer.add_scalar(f"{section}/{name}", value, step)
        self.writer.flush()

    def finish(self, run_dir: Path, metrics: dict, step: int, model=None, cfg=None) -> None:
        """The final metrics and the run's figures (plots/*.png, the positional encoding) as images."""
        for split in ("dev", "test"):
            for key, value in _numbers(metrics.get(split, {})).items():
                self.writer.add_scalar(f"final_{split}/{key}", value, step)
        for png in sorted((run_dir / "plots").glob("*.png")):
            self.add_png(f"figures/{png.stem}", png, step)
        if model is not None and cfg is not None:
            self._positional(run_dir, model, cfg, step)
        self.writer.flush()

    def add_png(self, tag: str, path: Path, step: int) -> None:
        from matplotlib.image import imread

        image = imread(str(path))[..., :3]  # (h, w, 3) floats in [0, 1]; the alpha channel dropped
        self.writer.add_image(tag, image, step, dataformats="HWC")

    def _positional(self, run_dir: Path, model, cfg, step: int) -> None:
        from scratchlm.viz.positional import draw_run_positional

        png = run_dir / "plots" / "positional_encoding.png"
        try:
            if draw_run_positional(model, cfg, png):
                self.add_png("figures/positional_encoding", png, step)
        except Exception as exc:  # a figure must never lose a finished run
            log.warning("could not draw the positional encoding: %s", exc)

    def close(self) -> None:
        self.writer.close()
