"""Exporting runs to other runtimes: ``onnx`` (needs ``pip install 'scratchlm[onnx]'``)."""
