"""``model.patches`` and the image fields of ``data``: defaults, checks, and the 2-D positional kinds'
dimension rules."""

from __future__ import annotations

import pytest

from scratchlm.config import ConfigError, config_from_dict


def test_defaults_and_round_trip():
    cfg = config_from_dict(
        {"model": {"patches": {"size": 4, "embedding": "unfold"}}, "data": {"image_size": 16}}
    )
    assert (cfg.model.patches.size, cfg.model.patches.embedding, cfg.model.patches.cls_token) == (
        4,
        "unfold",
        True,
    )
    assert cfg.data.image_size == 16 and cfg.data.image_mode == "auto"


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"model": {"patches": {"size": 0}}}, "model.patches.size=0 must be >= 1"),
        (
            {"model": {"patches": {"embedding": "mlp"}}},
            "model.patches.embedding='mlp' is not one of conv, unfold",
        ),
        ({"model": {"patches": {"sise": 2}}}, "sise"),
        ({"data": {"image_mode": "CMYK"}}, "data.image_mode='CMYK'"),
        (
            {
                "model": {
                    "embed_dim": 18,
                    "encoder": {"num_heads": 1},
                    "positional": {"kind": "sinusoidal_2d"},
                }
            },
            "divisible by 4",
        ),
        (
            {"model": {"embed_dim": 24, "encoder": {"num_heads": 4}, "positional": {"kind": "rope_2d"}}},
            "head_dim = embed_dim / num_heads divisible by 4",
        ),
    ],
)
def test_checks(raw, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(raw)
