"""Datasets: the built-in real data (../shared/DATA.md) and users' jsonl/csv/tsv files."""

from scratchlm.data.examples import ClassificationData, Example
from scratchlm.data.load import dataset_stats, list_datasets, load_classification_data, load_texts
from scratchlm.data.splits import split_of

__all__ = [
    "ClassificationData",
    "Example",
    "dataset_stats",
    "list_datasets",
    "load_classification_data",
    "load_texts",
    "split_of",
]
