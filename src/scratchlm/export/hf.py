"""``scratchlm export hf RUN --out DIR [--as FAMILY]``: a BERT-family run's input layer and encoder as
a Hugging Face base-model directory (``config.json``, ``model.safetensors``, ``vocab.txt``) with the run's
tokenizer for ``AutoTokenizer`` (``tokenizer.json``, ``tokenizer_config.json``: :mod:`.hf_tokenizer`; not
for jieba, whose run gets a note instead).

The run must be BERT-shaped (learned positions, post-LN, embedding LayerNorm, GELU: what a transplant
from a BERT-family model fine-tunes). ``--as``: ``bert``, ``roberta``, ``albert``, ``distilbert``,
``electra``, or ``auto`` (ALBERT for shared layers, ELECTRA for an input projection, else BERT); the
weight maps are :mod:`scratchlm.models.hf_families`'. A run with no token types gets one all-zero type
row (adding it changes nothing) except as DistilBERT, which has none. The classifier head is not part of
the base model and is not written; ``pooler.*`` is absent (``from_pretrained`` initialises it). When
``transformers`` is installed the directory is loaded back with ``AutoModel.from_pretrained`` and its
vectors compared with the run's.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import torch

from scratchlm.errors import DataError
from scratchlm.export.hf_tokenizer import JIEBA_ERROR, check_with_transformers, write_hf_tokenizer
from scratchlm.models.hf_convert import export_family, hf_config, scratchlm_to_hf

TYPES_KEY = "input.token_type_embedding.embedding.weight"


def bert_state(run, family: str = "auto") -> tuple[dict, dict]:
    """``(config.json dict, base-model state dict)`` of a loaded run, as ``family``."""
    cfg = run.config.model
    if cfg.encoder.kind != "transformer":
        raise DataError(
            f"{run.path}: model.encoder.kind={cfg.encoder.kind}; only Transformer runs map to the BERT family"
        )
    fam = export_family(cfg, family)
    state = dict(run.model.state_dict())
    if cfg.num_token_types == 0 and fam.name != "distilbert":
        state[TYPES_KEY] = torch.zeros(1, cfg.input_width)
        cfg = dataclasses.replace(cfg, num_token_types=1)
    positions = state.get("input.positional.weight")
    max_positions = int(positions.shape[0]) if positions is not None else run.max_seq_len
    config = hf_config(
        fam,
        cfg,
        vocab_size=len(run.tokenizer.vocab),
        max_positions=max_positions,
        pad_id=run.tokenizer.vocab.pad_id,
    )
    return config, scratchlm_to_hf(state, fam, config)


def _write_tokenizer(run, directory: Path, max_positions: int) -> dict:
    """The run's tokenizer as tokenizer.json + tokenizer_config.json; a jieba run gets a note why not."""
    if run.tokenizer.kind == "jieba":
        return {"note": f"no tokenizer.json: {JIEBA_ERROR}"}
    return write_hf_tokenizer(run.tokenizer, directory, model_max_length=max_positions)


def export_hf(run_dir: str | Path, out: str | Path, *, check: bool = True, family: str = "auto") -> dict:
    from scratchlm.io import atomic_directory, atomic_write_json, atomic_write_text, save_tensors
    from scratchlm.training.run_dir import load_run

    t0 = time.time()
    run = load_run(run_dir)
    config, state = bert_state(run, family)
    out = Path(out)
    with atomic_directory(out) as tmp:
        atomic_write_json(tmp / "config.json", config)
        save_tensors(tmp / "model.safetensors", state, metadata={"format": "pt"})
        atomic_write_text(tmp / "vocab.txt", "".join(t + "\n" for t in run.tokenizer.vocab.tokens))
        tokenizer = _write_tokenizer(run, tmp, run.max_seq_len)
    report = {"out": str(out), "tensors": len(state), "config": config, "tokenizer": tokenizer}
    if check:
        report["max_abs_diff_vs_run"] = compare_with_transformers(run, out)
        if "note" not in tokenizer:
            tokenizer["transformers_check"] = check_with_transformers(run.tokenizer, out)
    report["seconds"] = round(time.time() - t0, 1)
    return report


@torch.no_grad()
def compare_with_transformers(run, directory: Path, texts: list[str] | None = None) -> float | None:
    """Max |difference| of the last hidden states (real tokens) of ``AutoModel.from_pretrained(directory)``
    and the run's encoder; ``None`` when transformers is not installed. Missing encoder keys are an error."""
    try:
        import transformers
        from transformers import AutoModel
    except ImportError:
        return None
    verbosity = transformers.logging.get_verbosity()
    transformers.logging.set_verbosity_error()  # the pooler is absent by design: no load report
    transformers.logging.disable_progress_bar()
    try:
        hf, info = AutoModel.from_pretrained(str(directory), output_loading_info=True)
    finally:
        transformers.logging.set_verbosity(verbosity)
        transformers.logging.enable_progress_bar()
    missing = [k for k in info["missing_keys"] if not k.startswith("pooler.")]
    if missing or info["unexpected_keys"]:
        raise DataError(
            f"{directory}: {type(hf).__name__} loads with missing {missing} / unexpected {info['unexpected_keys']}"
        )
    hf.eval()
    texts = texts or ["这个东西很好用", "质量太差了，不推荐", "ok"]
    enc = [run.tokenizer.encode(t, max_len=run.max_seq_len).ids for t in texts]
    width = max(map(len, enc))
    pad = run.tokenizer.vocab.pad_id
    ids = torch.tensor([e + [pad] * (width - len(e)) for e in enc])
    mask = ids != pad
    ours = run.model.encode(ids, mask)
    theirs = hf(input_ids=ids, attention_mask=mask.long()).last_hidden_state
    return float((ours[mask] - theirs[mask]).abs().max())
