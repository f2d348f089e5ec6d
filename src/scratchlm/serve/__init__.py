"""Serving a run over HTTP: the app (``app``), its routes (``routes``), request checks and schemas, the
micro-batcher (``engine``) and batch prediction of JSONL files (``offline``). Prediction itself is
:mod:`scratchlm.predict`'s. The HTTP parts need ``pip install 'scratchlm[serve]'``.
"""
