"""Exporting runs to other runtimes: ``onnx`` (the graph; ``onnx_check`` compares it with PyTorch; needs
``pip install 'scratchlm[onnx]'``) and ``hf`` (a Hugging Face BERT folder)."""
