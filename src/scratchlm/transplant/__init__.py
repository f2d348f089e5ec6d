"""Transplant another model's (or vectors') parameters into a new vocabulary.

- ``sources``: a BERT-family directory, the built-in ``minilm-l6``, a scratchlm run, or vectors;
- ``strategies``: one function per way of making a row (exact, normalized, compose, chars, knn, ...);
- ``build``: ordered tiers -> the ``(V, D)`` matrix, positions resized, the model directory written;
- ``report``: tier counts, the tier of every token, held-out cosine per strategy;
- ``cli``: ``scratchlm transplant``. See docs/transplant.md.
"""
