"""Image classification (``data.task: image_classification``): one label per image, a Vision Transformer
(:class:`~scratchlm.models.vit.ImageClassifier`: patches and 2-D positions, then the text classifier's
encoder, pooling and head). Data: the built-in ``digits``, a folder of PNG/JPEG files per label or an
``.npz`` (:mod:`scratchlm.data.images`); the run's "tokenizer" is an image processor (mode, size, pixel
statistics; :mod:`scratchlm.data.image_processor`). Metrics, plots and reports are the text
classifier's; ``predict RUN image.png ...`` labels image files, ``serve`` answers ``/v1/classify`` with an
image, ``export onnx`` writes the logits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from scratchlm.config import IMAGE_POSITIONAL_KINDS, RunConfig
from scratchlm.data.image_processor import ImageProcessor
from scratchlm.errors import ConfigError, DataError
from scratchlm.tasks.base import with_data
from scratchlm.tasks.classification import ClassificationTask
from scratchlm.tasks.metrics import classification_metrics

if TYPE_CHECKING:
    from scratchlm.data.images import ImageExample
    from scratchlm.training.run_dir import LoadedRun

BUILTIN_IMAGES = {
    "digits": ("L", 8, [str(d) for d in range(10)]),
    "mnist-5k": ("L", 28, [str(d) for d in range(10)]),
}
"""Built-in image datasets: mode, size and labels, known without reading them."""


@dataclass
class EncodedImages:
    seqs: list[torch.Tensor]
    """Standardised ``(c, H, W)`` pixels of each image (an image's whole input, as a text's ids are)."""
    labels: list[int]


@dataclass
class ImageBatch:
    pixels: torch.Tensor  # (b, c, H, W)
    padding_mask: torch.Tensor  # (b, s) all True: one per position the encoder sees ([CLS] + patches)
    labels: torch.Tensor  # (b,)
    index: list[int]


def _refuse_text_options(cfg: RunConfig) -> None:
    m = cfg.model
    text_only = {
        "model.init": (m.init, "normal"),
        "model.vectors_vocab": (m.vectors_vocab, 0),
        "model.bigram_buckets": (m.bigram_buckets, 0),
        "model.lexicon.source": (m.lexicon.source, None),
        "model.embedding_rank": (m.embedding_rank, None),
        "model.num_token_types": (m.num_token_types, 0),
        "model.freeze_embeddings": (m.freeze_embeddings, False),
        "model.positional.combine": (m.positional.combine, "add"),
        "model.input_dim": (m.input_dim, None),
        "model.encoder.kind": (m.encoder.kind, "transformer"),
    }
    for key, (value, default) in text_only.items():
        if value != default:
            raise ConfigError(
                f"{key}={value} does not apply to images (data.task=image_classification); leave it at {default}"
            )


class ImageClassificationTask(ClassificationTask):
    name = "image_classification"
    endpoints = ("classify",)
    predicts_files = False
    export_quantizable = False
    plots_attention = False
    metric_noun = "images"
    reads_images = True

    @classmethod
    def detects(cls, data) -> bool:
        path = Path(data.train_file or data.dataset)
        return path.suffix.lower() == ".npz" or path.is_dir()

    @classmethod
    def check_config(cls, cfg: RunConfig) -> None:
        super().check_config(cfg)
        kind, m = cfg.model.positional.kind, cfg.model
        if kind not in IMAGE_POSITIONAL_KINDS:
            raise ConfigError(
                f"model.positional.kind={kind} is for text; images use {', '.join(IMAGE_POSITIONAL_KINDS)}"
            )
        _refuse_text_options(cfg)
        if m.pooling == "cls" and not m.patches.cls_token:
            raise ConfigError(
                "model.pooling=cls reads the [CLS] output and model.patches.cls_token is false; "
                "use pooling mean, max or mean_max, or cls_token: true"
            )
        size = cfg.data.image_size or BUILTIN_IMAGES.get(cfg.data.dataset, (None, None))[1]
        if size is not None and size % m.patches.size:
            raise ConfigError(
                f"model.patches.size={m.patches.size} does not divide the images' side ({size} pixels); "
                "choose a divisor or set data.image_size"
            )

    # ------------------------------------------------------------------------------------------ data
    def load(self) -> RunConfig:
        d = self.cfg.data
        if d.train_file is None and d.dataset in BUILTIN_IMAGES:
            self.data = self._load_builtin(d.dataset)
        else:
            from scratchlm.data.images import load_image_data

            train = d.train_file or d.dataset
            self.data = load_image_data(train, d.dev_file, d.test_file, mode=d.image_mode, size=d.image_size)
        if not self.data.splits["train"]:
            raise DataError(f"dataset {self.data.name}: the train split is empty")
        if len(self.data.labels) < 2:
            raise DataError(
                f"dataset {self.data.name}: {len(self.data.labels)} label(s); a classifier needs 2 or more"
            )
        self.cfg = with_data(self.cfg, task=self.name, image_mode=self.data.mode, image_size=self.data.size)
        return self.cfg

    def _load_builtin(self, name: str):
        from scratchlm.data.images import load_digits_data, load_mnist_5k

        mode, size, _ = BUILTIN_IMAGES[name]
        d = self.cfg.data
        if d.image_size not in (None, size) or d.image_mode not in ("auto", mode):
            raise ConfigError(
                f"dataset {name} holds {size}x{size} {mode} images; leave data.image_size null and data.image_mode auto"
            )
        return load_digits_data() if name == "digits" else load_mnist_5k()

    def texts(self, examples: list) -> list[str]:
        return []  # images have no text (nothing for word2vec or a tokenizer)

    def build_tokenizer(self, examples: list) -> ImageProcessor:
        return ImageProcessor.train(examples, self.cfg.data.image_mode, self.cfg.data.image_size)

    def load_tokenizer(self, directory: str | Path) -> ImageProcessor:
        return ImageProcessor.load(directory)

    def read_file(self, path: str, labels: list[str]) -> list:
        from scratchlm.data.images import read_images

        d = self.cfg.data
        examples = read_images(path, d.image_mode, d.image_size)
        for ex in examples:
            if ex.label not in labels:
                raise DataError(
                    f"{ex.source}: label {ex.label!r} is not one the model knows ({', '.join(labels)})"
                )
        return examples

    def encode(
        self, processor: ImageProcessor, examples: list[ImageExample], labels: list[str]
    ) -> EncodedImages:
        ids = {label: i for i, label in enumerate(labels)}
        for ex in examples:
            processor.check(ex)
        return EncodedImages(
            [processor.normalize(ex.pixels) for ex in examples], [ids[ex.label] for ex in examples]
        )

    def encoding_note(self, enc) -> str | None:
        return None

    def eval_note(self, enc) -> str | None:
        return None

    def extra_metrics(self, enc) -> dict:
        return {}

    # ----------------------------------------------------------------------------------------- model
    def build_model(self, vocab_size: int, num_labels: int, pad_id: int, labels: list[str] | None = None):
        from scratchlm.models.vit import ImageClassifier

        d, patch = self.cfg.data, self.cfg.model.patches.size
        if d.image_size is None:
            raise ConfigError(
                "data.image_size is unknown before the images are read; set it (or load the data)"
            )
        if d.image_size % patch:
            raise ConfigError(
                f"model.patches.size={patch} does not divide the images' side ({d.image_size} pixels); "
                "choose a divisor or set data.image_size"
            )
        channels = 1 if d.image_mode == "L" else 3
        return ImageClassifier(
            self.cfg.model, channels=channels, image_size=d.image_size, num_classes=num_labels
        )

    def example_input(self, batch: int, seq_len: int, vocab_size: int) -> torch.Tensor:
        d = self.cfg.data
        return torch.randn(batch, 1 if d.image_mode == "L" else 3, d.image_size, d.image_size)

    # -------------------------------------------------------------------------------------- training
    def batch(self, enc: EncodedImages, index: list[int], pad_id: int) -> ImageBatch:
        pixels = torch.stack([enc.seqs[i] for i in index])  # (b, c, H, W)
        m = self.cfg.model
        positions = (pixels.shape[-1] // m.patches.size) ** 2 + (1 if m.patches.cls_token else 0)
        return ImageBatch(
            pixels,
            torch.ones(len(index), positions, dtype=torch.bool),
            torch.tensor([enc.labels[i] for i in index], dtype=torch.long),
            index,
        )

    def loss(self, model, batch: ImageBatch, device: str) -> torch.Tensor:
        logits = model(batch.pixels.to(device))
        return F.cross_entropy(
            logits, batch.labels.to(device), label_smoothing=self.cfg.train.label_smoothing
        )

    def evaluate(
        self, model, enc: EncodedImages, labels: list[str], pad_id: int, batch_size: int, device: str
    ) -> dict:
        from scratchlm.predict.images import image_logits

        logits = image_logits(model, enc.seqs, batch_size, device)
        preds = logits.argmax(-1).tolist() if enc.seqs else []
        return classification_metrics(list(enc.labels), preds, labels)

    # ------------------------------------------------------------------------------------ prediction
    def predict(self, run: LoadedRun, texts: Sequence[str], batch_size: int) -> list[dict]:
        """``texts``: image files."""
        from scratchlm.predict.images import image_logits, labelled

        processor = run.tokenizer
        pixels = [processor.normalize(processor.read(path)) for path in texts]
        results = labelled(image_logits(run.model, pixels, batch_size), run.labels)
        return [{"image": str(path), **r} for path, r in zip(texts, results, strict=True)]

    def prediction_line(self, result: dict) -> str:
        return f"{result['label']}\t{result['score']:.3f}\t{result['image']}"

    def prediction_note(self, results: list[dict], run: LoadedRun) -> str | None:
        return None

    def placeholder_labels(self, num_classes: int) -> tuple[list[str], dict]:
        d = self.cfg.data
        if d.train_file is None and d.dataset in BUILTIN_IMAGES:
            mode, size, labels = BUILTIN_IMAGES[d.dataset]
            return labels, {"image_mode": mode, "image_size": size}
        mode = "L" if d.image_mode == "auto" else d.image_mode
        return [f"class_{i}" for i in range(num_classes)], {
            "image_mode": mode,
            "image_size": d.image_size or 32,
        }

    def summary_note(self, labels: list[str], num_classes: int) -> str:
        d = self.cfg.data
        return f"{len(labels)} classes, {d.image_size}x{d.image_size} {d.image_mode} images"
