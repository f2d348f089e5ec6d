"""``scratchlm export onnx RUN --out model.onnx [--opset N] [--quantize int8]`` (classifiers and
taggers) and ``scratchlm export hf RUN --out DIR`` (a BERT-like run as a Hugging Face ``BertModel``
directory)."""

from __future__ import annotations

import argparse
import json

from scratchlm.errors import ConfigError


def cmd_export_onnx(args: argparse.Namespace) -> int:
    from scratchlm.export.onnx import DEFAULT_OPSET, OPSETS, export_onnx
    from scratchlm.training.run_dir import load_run

    if args.opset not in OPSETS:
        raise ConfigError(
            f"--opset {args.opset}: use an opset from {OPSETS.start} to {OPSETS[-1]} (default {DEFAULT_OPSET})"
        )
    run = load_run(args.run)
    task = run.handler()
    if task.reads_images:
        return _export_image_onnx(run, args)
    if not task.export_outputs:
        raise ConfigError(f"export onnx writes classifier and tagger runs; {args.run} is a {run.task} run")
    if args.quantize and not task.export_quantizable:
        raise ConfigError("--quantize int8 is for classifiers in this version; export the tagger without it")
    report = export_onnx(
        run, args.out, opset=args.opset, quantize=args.quantize, measure_accuracy=not args.no_accuracy
    )
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(
        f"wrote {report['out']} ({report['bytes'] / 1e6:.2f} MB, opset {report['opset']}"
        f"{', int8 weights' if args.quantize else ''}) in {report['seconds']:.1f}s"
    )
    inputs = (
        f"inputs: input_ids, attention_mask (int64, [batch, sequence], sequence <= {report['max_seq_len']})"
    )
    if task.export_per_token:
        tags = report["outputs"]["emissions"][2]
        decoding = "Viterbi of the CRF, in the graph" if report["head"] == "crf" else "best tag per token"
        print(
            f"{inputs}; outputs: emissions (float32, [batch, sequence, {tags}]), "
            f"tags (int64, [batch, sequence]: {decoding})"
        )
        print(
            f"float32 graph vs PyTorch: max |emission difference| {report['max_abs_diff_vs_torch']:.2e}; "
            f"tags identical at {report['tags_compared'] - report['tags_different']} of "
            f"{report['tags_compared']} positions"
        )
        return 0
    print(f"{inputs}; output: logits (float32, [batch, {report['outputs']['logits'][1]}])")
    print(f"float32 graph vs PyTorch: max |logit difference| {report['max_abs_diff_vs_torch']:.2e}")
    if args.quantize:
        print(
            f"int8 graph vs PyTorch: max |logit difference| {report['int8_max_abs_diff_vs_torch']:.2e}; "
            f"size {report['float_bytes'] / 1e6:.2f} MB -> {report['bytes'] / 1e6:.2f} MB"
        )
        acc = report.get("accuracy")
        if acc and "error" not in acc:
            print(
                f"accuracy on {acc['split']}: float32 {acc['float32']:.4f}, int8 {acc['int8']:.4f} "
                f"(change {acc['change']:+.4f}; the two agree on {100 * acc['agreement']:.1f}% of predictions)"
            )
        elif acc:
            print(f"note: {acc['error']}")
    return 0


def _export_image_onnx(run, args: argparse.Namespace) -> int:
    """An image run: ``pixels -> logits`` (scratchlm.export.onnx_image)."""
    from scratchlm.export.onnx_image import export_image_onnx

    if args.quantize:
        raise ConfigError(
            "--quantize int8 is for text classifiers in this version; export the image run without it"
        )
    report = export_image_onnx(run, args.out, opset=args.opset)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    shape = report["inputs"]["pixels"]
    print(
        f"wrote {report['out']} ({report['bytes'] / 1e6:.2f} MB, opset {report['opset']}) in {report['seconds']:.1f}s"
    )
    print(
        f"input: pixels (float32, [batch, {shape[1]}, {shape[2]}, {shape[3]}], standardised with the mean and std "
        f"in the metadata); output: logits (float32, [batch, {report['outputs']['logits'][1]}])"
    )
    print(
        f"float32 graph vs PyTorch on dev images: max |logit difference| {report['max_abs_diff_vs_torch']:.2e}"
    )
    return 0


def cmd_export_hf(args: argparse.Namespace) -> int:
    from scratchlm.export.hf import export_hf

    report = export_hf(args.run, args.out, check=not args.no_check, family=args.family)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    cfg = report["config"]
    arch = cfg["architectures"][0]
    layers, hidden = cfg.get("num_hidden_layers", cfg.get("n_layers")), cfg.get("hidden_size", cfg.get("dim"))
    print(
        f"wrote {report['out']}: {arch} with {layers} layers, hidden {hidden}, "
        f"vocabulary {cfg['vocab_size']}, {cfg['max_position_embeddings']} positions ({report['tensors']} tensors)"
    )
    tok = report["tokenizer"]
    if "note" in tok:
        print(f"note: {tok['note']}")
    elif tok.get("transformers_check"):
        print(
            f"tokenizer.json: AutoTokenizer gives the run's ids on {tok['transformers_check']['texts']} test texts"
        )
    diff = report.get("max_abs_diff_vs_run")
    if diff is not None:
        print(
            f"transformers.AutoModel.from_pretrained ({arch}) vs the run: max |hidden state difference| {diff:.2e}"
        )
    return 0


def register(subparsers) -> None:
    e = subparsers.add_parser(
        "export", help="export a run to another runtime (onnx, needs scratchlm[onnx]; hf)"
    )
    esub = e.add_subparsers(dest="export_format", metavar="FORMAT")
    o = esub.add_parser(
        "onnx",
        help="ONNX graph: input_ids, attention_mask -> logits (classifier) or emissions, tags (tagger)",
        description="Export a classifier or tagger run to ONNX and check it against PyTorch with onnxruntime.",
    )
    o.add_argument("run", help="run directory")
    o.add_argument("--out", required=True, help="the .onnx file to write")
    o.add_argument("--opset", type=int, default=18, help="ONNX opset, 14 to 22 (default: 18)")
    o.add_argument(
        "--quantize",
        choices=["int8"],
        default=None,
        help="int8 weights (dynamic quantization; classifiers); reports the accuracy change on the dev split",
    )
    o.add_argument(
        "--no-accuracy", action="store_true", help="with --quantize: skip the dev-split accuracy check"
    )
    o.add_argument("--json", action="store_true", help="print the report as JSON")
    o.set_defaults(func=cmd_export_onnx)
    h = esub.add_parser(
        "hf",
        help="Hugging Face base-model directory (config.json, model.safetensors, vocab.txt, tokenizer.json) of a BERT-family run",
        description="Write a BERT-family run's input layer and encoder so that transformers.AutoModel."
        "from_pretrained(DIR) loads it with no missing encoder keys and gives the same vectors.",
    )
    h.add_argument("run", help="run directory (learned positions, post-LN, embedding LayerNorm)")
    h.add_argument("--out", required=True, help="the directory to write")
    h.add_argument(
        "--as",
        dest="family",
        default="auto",
        choices=["auto", "bert", "roberta", "albert", "distilbert", "electra"],
        help="the family to write (default auto: albert for shared layers, electra for model.input_dim, "
        "else bert)",
    )
    h.add_argument("--no-check", action="store_true", help="do not load it back with transformers to compare")
    h.add_argument("--json", action="store_true", help="print the report as JSON")
    h.set_defaults(func=cmd_export_hf)
    e.set_defaults(func=lambda a: (e.print_help(), 0)[1])
