"""config/vectors.py: VectorsConfig's defaults and the errors its checks give."""

from __future__ import annotations

import pytest

from scratchlm.config import VectorsConfig, config_from_dict
from scratchlm.errors import ConfigError


def test_defaults_and_a_list_from_text():
    v = VectorsConfig()
    assert (v.corpus, v.method, v.window, v.bigrams) == (["train", "pd1998-text"], "skipgram", 5, False)
    assert config_from_dict({"vectors": {"corpus": "a.txt, b.txt"}}).vectors.corpus == ["a.txt", "b.txt"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"method": "glove"}, "vectors.method='glove' is not one of skipgram, cbow"),
        ({"window": 0}, "vectors.window=0 must be >= 1"),
        ({"workers": 0}, "vectors.workers=0 must be >= 1"),
        ({"corpus": []}, "vectors.corpus is empty"),
        ({"windw": 3}, "unknown config key 'vectors.windw'; did you mean 'window'"),
    ],
)
def test_bad_values_are_clear_errors(values, message):
    with pytest.raises(ConfigError) as exc:
        config_from_dict({"vectors": values})
    assert message in str(exc.value)
