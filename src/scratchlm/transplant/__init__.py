"""Put another model's (or vectors') rows into a vocabulary: the one way of matching rows to tokens,
shared by ``model.init``, ``scratchlm vectors coverage`` and ``scratchlm transplant``.

- ``match``: the matching tiers (exact, normalized, chars, compose) and a whole vocabulary's found rows
  and coverage (``model.init``, ``vectors coverage``);
- ``sources``: a BERT-family directory, the built-in ``minilm-l6``, a scratchlm run, or vectors;
- ``strategies``: one function per way of making a row: the matching tiers, and compose_len, knn,
  sampled, random; the OOV inits;
- ``build``: ordered tiers -> the ``(V, D)`` matrix (``build_matrix`` for vectors from Python),
  positions resized, the model directory written;
- ``report``: tier counts, the tier of every token, held-out cosine per strategy.

The command is ``scratchlm transplant`` (:mod:`scratchlm.cli.transplant`). See docs/transplant.md and
docs/vectors.md.
"""
