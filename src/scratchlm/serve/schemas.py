"""Request and response bodies of the HTTP API (pydantic models; they also make the OpenAPI docs).

Requests are strict: unknown keys are errors (a typo such as ``"text"`` for ``"texts"`` is reported,
not ignored), strings stay strings and booleans booleans (no ``1`` -> ``"1"`` coercion).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

Texts = list[StrictStr]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClassifyRequest(_Request):
    texts: Texts = Field(
        min_length=1,
        description="Texts to label, one result each (in order).",
        examples=[["这本书写得太好了，强烈推荐！", "质量很差，用了两天就坏了。"]],
    )


class EmbedRequest(_Request):
    texts: Texts = Field(min_length=1, description="Texts to encode.", examples=[["物流很快，包装也不错。"]])
    pooling: Literal["cls", "mean", "max", "mean_max", "last"] | None = Field(
        None, description="How token vectors become one sentence vector (default: the run's own pooling)."
    )
    tokens: StrictBool = Field(
        False,
        description="Also return one vector per token ([CLS] first), the tokens "
        "and their character offsets in the text.",
    )
    normalize: StrictBool = Field(
        False, description="Scale every vector to unit L2 length (for cosine similarity)."
    )


class TagRequest(_Request):
    texts: Texts = Field(min_length=1, description="Texts to tag (token classification models).")


class GenerateRequest(_Request):
    texts: Texts = Field(min_length=1, description="Prompts or source texts (seq2seq / causal LM models).")
    max_new_tokens: StrictInt = Field(64, ge=1, description="Most tokens to generate per text.")


class ClassifyResult(BaseModel):
    label: str = Field(description="The most probable label.")
    score: float = Field(description="Its probability.")
    probabilities: dict[str, float] = Field(description="Probability of every label.")
    truncated: int = Field(description="Tokens dropped from this text to fit the model's max_seq_len.")


class ClassifyResponse(BaseModel):
    model: str
    results: list[ClassifyResult]


class EmbedResult(BaseModel):
    vector: list[float] = Field(description="The pooled sentence vector.")
    truncated: int
    tokens: list[str] | None = Field(None, description="With tokens=true: the tokens, [CLS] first.")
    offsets: list[tuple[int, int]] | None = Field(
        None, description="With tokens=true: [start, end) of each token in the text ([0, 0] for [CLS])."
    )
    token_vectors: list[list[float]] | None = Field(
        None, description="With tokens=true: one vector per token."
    )


class EmbedResponse(BaseModel):
    model: str
    pooling: str
    dim: int
    results: list[EmbedResult]


class ModelInfo(BaseModel):
    name: str
    task: str
    endpoints: list[str] = Field(description="The POST endpoints this model answers.")
    labels: list[str]
    max_seq_len: int
    vocab_size: int
    parameters: int
    config: dict[str, Any] = Field(description="The run's resolved training config.")
    versions: dict[str, Any] = Field(description="`trained_with` (from run.json) and `serving` versions.")
    limits: dict[str, int]
    batching: dict[str, float]
    timeout_s: float | None = Field(None, description="The per-request deadline in seconds (null: none).")


class ErrorBody(BaseModel):
    code: str = Field(
        description="Machine-readable: invalid_json, invalid_request, limit_exceeded, unauthorized, ..."
    )
    message: str = Field(description="One line saying what is wrong and what to do.")
    limit: str | None = Field(
        None, description="For limit_exceeded: the limit's name (max_texts, max_chars, max_body_bytes)."
    )
    max: int | None = Field(None, description="For limit_exceeded: the limit's value.")
    field: str | None = Field(None, description="For invalid_text: the text's field and index (texts.N).")


class ErrorResponse(BaseModel):
    error: ErrorBody
