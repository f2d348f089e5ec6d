"""Write a tiny random BERT-family checkpoint folder in the layout people download from the hub.

    python scripts/tiny_checkpoint.py --out DIR [--family bert|roberta|xlm-roberta|albert|distilbert|electra]
        [--layout safetensors|legacy|bin|sharded|sentence-transformers] [--seed 0]

The model is built with ``transformers``' own class and saved by its own ``save_pretrained`` (layouts
``safetensors``, ``sharded``, ``sentence-transformers``), or as the original checkpoints were saved:
``legacy`` is the pretraining model's ``model.safetensors`` with TensorFlow-era names (a ``bert.``-style
prefix, ``LayerNorm.gamma``/``beta``, the pretraining heads: bert-base-chinese's own layout), ``bin``
the same tensors (current names) in a ``pytorch_model.bin`` (most Chinese models on the hub). Every
folder has ``config.json``, ``vocab.txt``, ``tokenizer.json`` and ``tokenizer_config.json``: a WordPiece
vocabulary of 404 Chinese characters (the most frequent in zh-reviews, and 银行河边你好世界) and a few
Latin pieces. Used by the tests (tests/models/) and by docs/checkpoints.md; needs ``transformers``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

CHARS = (
    "的是不了一有我很这人好在个还到就没书也间本房看店上来酒时大以要都点说可能小比多得用们服过后感住么为下中觉务和错子会对"
    "但去自价他太生天面出然里较电实前家方那想样地买如次心作而装当只理给常现开所于最道差发真些知事外其经让意果入内机度读动之"
    "己着非情分什无性餐问行便客话高早喜定员因你系年打再网台欢起星格热水学总位才完且盘孩设同更者程别东第做单几成文置候日爱种"
    "重送手通题体统车明又提全接像工相她容合从已门国回晚结直该费般快音望两此品应月正算安法楼带评少三西卡老解值关收儿把女进量"
    "美等写特携级新标友配观受长部与字怎床气口吧每找显原订被质二件物活象屏施键宾边加馆货驱您头主难故满光虽适元换色朋吃近见处"
    "态声拿力离整强啊平反套推记环公境确并包半调味宝够空先走却修身选硬存信风待简论深清准预使旧钱场它四认亮需改路建放求何散速"
    "思贵海器议视希语及细十荐挺呵周超交版足干白讲华听失节始呢区教刚许连期商洗业另识竟市或表花由式京银河世界"
)
BERT_SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
ROBERTA_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # RoBERTa's and XLM-R's ids 0-3
LATIN = ["，", "！", "。", "ok", "the", "cat", "##s", "a", "b"]
FAMILIES = ("bert", "roberta", "xlm-roberta", "albert", "distilbert", "electra")
LAYOUTS = ("safetensors", "legacy", "bin", "sharded", "sentence-transformers")
# family -> (base model class, pretraining model class, config class)
CLASSES = {
    "bert": ("BertModel", "BertForPreTraining", "BertConfig"),
    "roberta": ("RobertaModel", "RobertaForMaskedLM", "RobertaConfig"),
    "xlm-roberta": ("XLMRobertaModel", "XLMRobertaForMaskedLM", "XLMRobertaConfig"),
    "albert": ("AlbertModel", "AlbertForPreTraining", "AlbertConfig"),
    "distilbert": ("DistilBertModel", "DistilBertForMaskedLM", "DistilBertConfig"),
    "electra": ("ElectraModel", "ElectraForPreTraining", "ElectraConfig"),
}


def vocabulary(family: str) -> list[str]:
    specials = ROBERTA_SPECIALS if family in ("roberta", "xlm-roberta") else BERT_SPECIALS
    return specials + LATIN + list(CHARS)


def config_kwargs(family: str, vocab_size: int) -> dict:
    """The tiny sizes (dropout off, so outputs are deterministic)."""
    if family == "distilbert":
        return dict(vocab_size=vocab_size, dim=32, n_layers=2, n_heads=4, hidden_dim=64,
                    max_position_embeddings=64, dropout=0.0, attention_dropout=0.0, pad_token_id=0)  # fmt: skip
    kw = dict(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
              intermediate_size=64, max_position_embeddings=64, type_vocab_size=2, layer_norm_eps=1e-12,
              hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, pad_token_id=0)  # fmt: skip
    if family in ("roberta", "xlm-roberta"):
        kw.update(
            pad_token_id=1, bos_token_id=0, eos_token_id=2, type_vocab_size=1, max_position_embeddings=66
        )
    if family == "albert":  # 3 layers sharing one, embeddings of 16 projected to 32, tanh GELU
        kw.update(embedding_size=16, num_hidden_layers=3, num_hidden_groups=1, hidden_act="gelu_new")
    if family == "electra":
        kw.update(embedding_size=16)
    return kw


def build(family: str, *, pretraining: bool, seed: int = 0):
    """A random model (LayerNorms and biases moved off their 1 / 0 init, so every map is exercised)."""
    import transformers

    transformers.logging.disable_progress_bar()
    base, full, config_cls = CLASSES[family]
    config = getattr(transformers, config_cls)(**config_kwargs(family, len(vocabulary(family))))
    torch.manual_seed(seed)
    model = getattr(transformers, full if pretraining else base)(config).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name.lower() or name.endswith("bias"):
                p.add_(torch.randn_like(p) * 0.1)
    return model


def write_tokenizer(out: Path, family: str) -> None:
    from tokenizers.implementations import BertWordPieceTokenizer

    vocab = vocabulary(family)
    (out / "vocab.txt").write_text("".join(t + "\n" for t in vocab), encoding="utf-8")
    s = dict(unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]", mask_token="[MASK]")
    if family in ("roberta", "xlm-roberta"):
        s = dict(unk_token="<unk>", cls_token="<s>", sep_token="</s>", pad_token="<pad>", mask_token="<mask>")
    tok = BertWordPieceTokenizer(str(out / "vocab.txt"), lowercase=True, **s)
    tok.save(str(out / "tokenizer.json"))
    (out / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True, **s}), encoding="utf-8")


def legacy_names(state: dict) -> dict:
    """TensorFlow-era names: ``LayerNorm.weight``/``bias`` -> ``LayerNorm.gamma``/``beta``."""
    out = {}
    for k, v in state.items():
        if "LayerNorm" in k or "layer_norm" in k:
            k = (
                k.removesuffix(".weight") + ".gamma"
                if k.endswith(".weight")
                else k.removesuffix(".bias") + ".beta"
            )
        out[k] = v
    return out


def write_checkpoint(
    out: str | Path, family: str = "bert", layout: str = "safetensors", seed: int = 0
) -> Path:
    from safetensors.torch import save_file

    if family not in FAMILIES or layout not in LAYOUTS:
        raise SystemExit(f"family: {', '.join(FAMILIES)}; layout: {', '.join(LAYOUTS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model = build(family, pretraining=layout in ("legacy", "bin"), seed=seed)
    if layout in ("legacy", "bin"):
        model.config.save_pretrained(out)
        state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}  # untie heads
        if layout == "legacy":
            save_file(legacy_names(state), str(out / "model.safetensors"), metadata={"format": "pt"})
        else:
            torch.save(state, out / "pytorch_model.bin")
    else:
        model.save_pretrained(out, max_shard_size="40KB" if layout == "sharded" else "5GB")
    if layout == "sentence-transformers":
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ]
        (out / "modules.json").write_text(json.dumps(modules, indent=2), encoding="utf-8")
        (out / "1_Pooling").mkdir(exist_ok=True)
        (out / "2_Normalize").mkdir(exist_ok=True)
        pooling = {"word_embedding_dimension": model.config.hidden_size if family != "distilbert" else 32,
                   "pooling_mode_cls_token": False, "pooling_mode_mean_tokens": True,
                   "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}  # fmt: skip
        (out / "1_Pooling" / "config.json").write_text(json.dumps(pooling, indent=2), encoding="utf-8")
    write_tokenizer(out, family)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--family", default="bert", choices=FAMILIES)
    p.add_argument("--layout", default="legacy", choices=LAYOUTS)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    out = write_checkpoint(args.out, args.family, args.layout, args.seed)
    print(
        f"wrote {out}: a tiny random {args.family} in the {args.layout} layout ({', '.join(sorted(p.name for p in out.iterdir()))})"
    )


if __name__ == "__main__":
    main()
