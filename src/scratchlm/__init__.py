"""scratchlm: the input layer and encoders of Transformer-style language models, from scratch.

The public API is loaded lazily, so ``import scratchlm`` (and the CLI) start fast.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_API = {
    "RunConfig": "scratchlm.config",
    "DataConfig": "scratchlm.config",
    "ModelConfig": "scratchlm.config",
    "TrainConfig": "scratchlm.config",
    "VectorsConfig": "scratchlm.config",
    "load_config": "scratchlm.config",
    "CharTokenizer": "scratchlm.tokenizers",
    "Vocab": "scratchlm.tokenizers",
    "normalize_text": "scratchlm.tokenizers",
    "load_tokenizer": "scratchlm.tokenizers",
    "TokenEmbedding": "scratchlm.modules",
    "SinusoidalPositionalEncoding": "scratchlm.modules",
    "LearnedPositionalEmbedding": "scratchlm.modules",
    "InputLayer": "scratchlm.modules",
    "MultiHeadSelfAttention": "scratchlm.modules",
    "TransformerEncoder": "scratchlm.modules",
    "TransformerEncoderLayer": "scratchlm.modules",
    "transformer_encoder": "scratchlm.modules",
    "TextClassifier": "scratchlm.models",
    "load_classification_data": "scratchlm.data",
    "list_datasets": "scratchlm.data",
    "train": "scratchlm.training.loop",
    "load_run": "scratchlm.training.run_dir",
    "Task": "scratchlm.tasks.base",
    "make_task": "scratchlm.tasks.registry",
    "task_class": "scratchlm.tasks.registry",
    "classification_metrics": "scratchlm.tasks.metrics",
    "ScratchLMError": "scratchlm.errors",
    "ConfigError": "scratchlm.errors",
    "DataError": "scratchlm.errors",
}

__all__ = sorted(_API) + ["__version__"]


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module(_API[name]), name)
    raise AttributeError(f"module 'scratchlm' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
