"""Task models wired from modules."""

from scratchlm.models.classifier import TextClassifier
from scratchlm.models.tagger import TokenTagger

__all__ = ["TextClassifier", "TokenTagger"]
