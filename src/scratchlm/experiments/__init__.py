"""Experiments built from runs: ablation grids over seeds (``ablate``) and the TF-IDF + logistic
regression baseline (``baseline``); their commands live in :mod:`scratchlm.cli`."""
