"""Task models wired from modules."""

from scratchlm.models.classifier import TextClassifier

__all__ = ["TextClassifier"]
