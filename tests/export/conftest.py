"""Tiny random-weight runs for the export tests (every weight random, so parity covers every path)."""

from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime", reason="ONNX export tests need pip install 'scratchlm[onnx]'")
pytest.importorskip("onnxscript", reason="ONNX export tests need pip install 'scratchlm[onnx]'")
