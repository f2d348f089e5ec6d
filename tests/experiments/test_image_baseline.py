"""The image baseline on a subsample: an SVC on the raw pixels, on the config's split."""

from __future__ import annotations

from cli_helpers import ROOT
from scratchlm.config import load_config
from scratchlm.experiments.image_baseline import svc_pixels


def test_svc_on_a_subsample():
    cfg = load_config(ROOT / "configs" / "digits_vit.yaml", ["data.max_train_examples=300"])
    result = svc_pixels(cfg)
    assert result["train_examples"] == 300 and result["test"]["num_examples"] == 159
    assert result["test"]["accuracy"] > 0.9
