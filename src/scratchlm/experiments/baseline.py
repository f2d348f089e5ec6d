"""The honest reference: TF-IDF character 1-3-grams + logistic regression (scikit-learn), on the same
data, split and normalisation as a run's config. ``make demo`` prints it beside the Transformer."""

from __future__ import annotations

import time

from scratchlm.config import RunConfig
from scratchlm.data import load_classification_data
from scratchlm.tasks.metrics import classification_metrics
from scratchlm.tokenizers.normalize import normalize_text


def tfidf_logreg(cfg: RunConfig, *, ngram_max: int = 3, C: float = 4.0) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    t0 = time.time()
    data = load_classification_data(cfg.data)
    norm = (
        (lambda t: normalize_text(t, lowercase=cfg.data.lowercase)) if cfg.data.normalize else (lambda t: t)
    )
    label_ids = {label: i for i, label in enumerate(data.labels)}
    train = data.splits["train"]
    if cfg.data.max_train_examples:
        from scratchlm.training.loop import subsample

        train = subsample(train, cfg.data.max_train_examples, cfg.train.seed)
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, ngram_max), sublinear_tf=True, min_df=1)
    x_train = vec.fit_transform([norm(e.text) for e in train])
    clf = LogisticRegression(C=C, max_iter=2000)
    clf.fit(x_train, [label_ids[e.label] for e in train])
    out = {"model": f"tfidf-char-1-{ngram_max}gram+logreg(C={C})", "train_examples": len(train)}
    for split in ("dev", "test"):
        from scratchlm.training.loop import subsample

        examples = subsample(data.splits[split], cfg.data.max_eval_examples, cfg.train.seed)
        if not examples:
            continue
        pred = clf.predict(vec.transform([norm(e.text) for e in examples]))
        out[split] = classification_metrics(
            [label_ids[e.label] for e in examples], pred.tolist(), data.labels
        )
    out["seconds"] = round(time.time() - t0, 1)
    return out
