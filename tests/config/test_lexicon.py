"""``model.lexicon``: off by default, typed, strict keys, and values that parse but make no sense refused."""

from __future__ import annotations

import pytest

from scratchlm.config import ConfigError, config_from_dict


def test_off_by_default_and_round_trip():
    assert not config_from_dict({}).model.lexicon.enabled
    cfg = config_from_dict({"model": {"lexicon": {"source": "jieba", "max_len": 6, "groups": ["nr", "ns"]}}})
    lex = cfg.model.lexicon
    assert (lex.enabled, lex.source, lex.max_len, lex.groups, lex.min_freq) == (
        True,
        "jieba",
        6,
        ["nr", "ns"],
        0,
    )


def test_groups_from_the_command_line_are_comma_separated():
    cfg = config_from_dict({"model": {"lexicon": {"source": "jieba", "groups": "nr, ns,nt"}}})
    assert cfg.model.lexicon.groups == ["nr", "ns", "nt"]


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"source": "jieba", "max_len": 1}, "model.lexicon.max_len=1 must be >= 2"),
        ({"source": "jieba", "min_freq": -1}, "model.lexicon.min_freq=-1 must be >= 0"),
        ({"source": "  "}, "model.lexicon.source is empty"),
        ({"source": "jieba", "groups": ["nr", "nr"]}, "names a group twice"),
        ({"source": "jieba", "groups": ["n r"]}, "is not a tag prefix"),
        ({"source": "jieba", "tags": ["nr"]}, "model.lexicon.tags"),
    ],
)
def test_bad_values_are_refused(raw, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"model": {"lexicon": raw}})
