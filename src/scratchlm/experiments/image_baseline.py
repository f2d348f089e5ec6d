"""The reference for images: scikit-learn's ``SVC`` (RBF kernel) on the raw pixels, flattened, on the same
data and split as a run's config (``digits``: values 0-16, where ``gamma=0.001`` is scikit-learn's own
example setting; ../shared/DATA.md measures test accuracy 0.994)."""

from __future__ import annotations

import time

import numpy as np

from scratchlm.config import RunConfig
from scratchlm.tasks.metrics import classification_metrics


def svc_pixels(cfg: RunConfig, *, gamma: float | str = 0.001, C: float = 1.0) -> dict:
    """``gamma``: a number or ``"scale"`` (scikit-learn's ``1 / (n_features * X.var())``)."""
    from sklearn.svm import SVC

    from scratchlm.tasks.registry import make_task
    from scratchlm.training.loop import subsample

    t0 = time.time()
    task = make_task(cfg)
    task.load()
    data = task.data
    ids = {label: i for i, label in enumerate(data.labels)}

    def arrays(examples):
        x = np.stack([ex.pixels.reshape(-1) for ex in examples]).astype(np.float64) * data.pixel_max
        return x, [ids[ex.label] for ex in examples]

    train = subsample(data.splits["train"], cfg.data.max_train_examples, cfg.train.seed)
    clf = SVC(gamma=gamma, C=C).fit(*arrays(train))
    out = {"model": f"svc-rbf-raw-pixels(gamma={gamma}, C={C})", "train_examples": len(train)}
    for split in ("dev", "test"):
        examples = subsample(data.splits[split], cfg.data.max_eval_examples, cfg.train.seed)
        if examples:
            x, y = arrays(examples)
            out[split] = classification_metrics(y, clf.predict(x).tolist(), data.labels)
    out["seconds"] = round(time.time() - t0, 1)
    return out
