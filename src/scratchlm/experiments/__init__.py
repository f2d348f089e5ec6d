"""Experiments built from runs: ablation grids, the TF-IDF baseline, the demo."""
