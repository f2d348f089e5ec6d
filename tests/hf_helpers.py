"""Tiny random BERT-family checkpoint folders in the layouts people download (scripts/tiny_checkpoint.py,
built with transformers' own classes), shared by tests/models/, tests/transplant/ and tests/cli/."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import tiny_checkpoint  # noqa: E402

FAMILIES = tiny_checkpoint.FAMILIES
LAYOUTS = tiny_checkpoint.LAYOUTS
_MADE: dict[tuple[str, str], Path] = {}


def checkpoint_dir(tmp_path_factory, family: str = "bert", layout: str = "safetensors") -> Path:
    """The folder of ``family`` in ``layout``, written once per session."""
    pytest.importorskip("transformers")
    key = (family, layout)
    if key not in _MADE:
        _MADE[key] = tiny_checkpoint.write_checkpoint(
            tmp_path_factory.mktemp(f"{family}-{layout}"), family, layout
        )
    return _MADE[key]


def reference_model(family: str, layout: str) -> torch.nn.Module:
    """transformers' base model with the folder's weights (the same seed and class that wrote them)."""
    model = tiny_checkpoint.build(family, pretraining=layout in ("legacy", "bin"))
    return model.base_model.eval()


def batch(vocab_size: int, pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Three rows of ids (specials 0-4 apart), right-padded to 11 with ``pad_id``."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab_size, (3, 11), generator=g)
    ids[1, 7:] = pad_id
    ids[2, 4:] = pad_id
    return ids, ids != pad_id


def hf_hidden_states(model: torch.nn.Module, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask.long()).last_hidden_state
