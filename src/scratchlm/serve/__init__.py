"""Serving a run: pure prediction functions (``engine``), the HTTP app (``app``), its schemas and CLI.

Only ``engine`` is imported by ``scratchlm predict``; the HTTP parts need ``pip install 'scratchlm[serve]'``.
"""
