"""Put another model's (or vectors') rows into a vocabulary. Tokens are matched to the source's rows
by :mod:`scratchlm.vectors.match` (tiers exact, normalized, chars, compose), the matching ``model.init``
and ``scratchlm vectors coverage`` use too.

- ``sources``: a BERT-family directory, the built-in ``minilm-l6``, a scratchlm run, or vectors;
- ``strategies``: one function per way of making a row: the matching tiers, and compose_len, knn,
  sampled, random; the OOV inits;
- ``build``: ordered tiers -> the ``(V, D)`` matrix (``build_matrix`` for vectors from Python),
  positions resized, the model directory written;
- ``report``: tier counts, the tier of every token, held-out cosine per strategy.

The command is ``scratchlm transplant`` (:mod:`scratchlm.cli.transplant`). See docs/transplant.md and
docs/vectors.md.
"""
