"""The linear baseline: every feature set x C scored on dev, the best on dev reported on test."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from scratchlm.config import apply_overrides, config_from_dict
from scratchlm.errors import ConfigError
from scratchlm.experiments.baseline import MIN_DF, _vectorizer, linear_baseline, word_tokens


def _data(path: Path, n: int = 400) -> Path:
    rng = random.Random(0)
    good, bad, filler = (
        ["great", "lovely", "superb"],
        ["awful", "broken", "poor"],
        ["the", "item", "was", "a"],
    )
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            label = "pos" if i % 2 else "neg"
            words = rng.sample(filler, 3) + [rng.choice(good if label == "pos" else bad), f"id{i}"]
            rng.shuffle(words)
            f.write(json.dumps({"text": " ".join(words), "label": label}) + "\n")
    return path


def _config(overrides: list[str]):
    return config_from_dict(apply_overrides({}, overrides, source="test"))


def _cfg(tmp_path: Path, *extra: str):
    data = _data(tmp_path / "d.jsonl")
    return _config([f"data.dataset={data}", "data.task=classification", *extra])


def test_the_best_candidate_on_dev_is_the_one_reported(tmp_path: Path) -> None:
    out = linear_baseline(_cfg(tmp_path), Cs=[0.01, 4.0])
    assert len(out["candidates"]) == 3 * 2
    best = max(out["candidates"], key=lambda r: r["dev_accuracy"])
    assert best["dev_accuracy"] == pytest.approx(out["dev"]["accuracy"], abs=1e-4)
    assert (out["features"], out["C"]) == (best["features"], best["C"])
    assert out["selected_on"] == "dev accuracy"
    # the signal is one word in five: a strong C separates it, the test split says so too
    assert out["test"]["accuracy"] > 0.9
    assert out["model"] == f"tfidf-{best['features']}-gram+logreg(C={best['C']:g})"


def test_ngrams_seen_once_are_dropped(tmp_path: Path) -> None:
    vec = _vectorizer("char1-3+word1-2")
    vec.fit(["ab cd", "ab ef", "zz"])
    names = set(vec.get_feature_names_out())
    assert MIN_DF == 2
    assert "words__ab" in names and "words__cd" not in names and "chars__zz" not in names


def test_words_are_jieba_cuts_for_chinese_and_word_runs_otherwise() -> None:
    import jieba

    assert word_tokens("这本书写得 太好了") == [w for w in jieba.lcut("这本书写得 太好了") if w != " "]
    assert word_tokens("It's good, isn't it?") == ["It", "s", "good", "isn", "t", "it"]


def test_without_a_dev_split_the_default_is_used_and_said(tmp_path: Path) -> None:
    from scratchlm.data.splits import split_of

    data = _data(tmp_path / "all.jsonl", n=200)
    rows = [r for r in data.read_text().splitlines() if split_of(json.loads(r)["text"]) != "dev"]
    (tmp_path / "d.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    cfg = _config([f"data.dataset={tmp_path / 'd.jsonl'}", "data.task=classification"])
    out = linear_baseline(cfg)
    assert len(out["candidates"]) == 1 and out["C"] == 4.0
    assert out["selected_on"].startswith("no dev split")
    assert "dev" not in out and "test" in out


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"features": ["char9"]}, "choose from char1-3"),
        ({"Cs": [0.0]}, "positive finite"),
        ({"Cs": [float("nan")]}, "positive finite"),
    ],
)
def test_bad_choices_name_the_problem(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        linear_baseline(_cfg(tmp_path), **kwargs)
