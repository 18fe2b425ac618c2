"""Model names -> tokenizer encodings and per-example training token limits.

The limits are the documented maximum tokens *per training example* for fine-tuning
(OpenAI's fine-tuning guide, "Token limits"), which can differ from the model's inference
context window. Unknown models fall back by family prefix.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelInfo:
    name: str
    encoding: str
    max_example_tokens: int | None  # per training example; None = not documented


# Exact names first; prefixes below catch dated snapshots ("gpt-4o-mini-2024-07-18").
MODELS: dict[str, ModelInfo] = {
    m.name: m
    for m in [
        ModelInfo("gpt-4.1", "o200k_base", 65_536),
        ModelInfo("gpt-4.1-mini", "o200k_base", 65_536),
        ModelInfo("gpt-4.1-nano", "o200k_base", 65_536),
        ModelInfo("gpt-4o", "o200k_base", 65_536),
        ModelInfo("gpt-4o-mini", "o200k_base", 65_536),
        ModelInfo("o4-mini", "o200k_base", 65_536),
        ModelInfo("o3", "o200k_base", 65_536),
        ModelInfo("o3-mini", "o200k_base", 65_536),
        ModelInfo("o1", "o200k_base", 65_536),
        ModelInfo("o1-mini", "o200k_base", 65_536),
        ModelInfo("gpt-4", "cl100k_base", 8_192),
        ModelInfo("gpt-4-turbo", "cl100k_base", 65_536),
        ModelInfo("gpt-3.5-turbo", "cl100k_base", 16_385),
        ModelInfo("gpt-3.5-turbo-0613", "cl100k_base", 4_096),
        ModelInfo("gpt-3.5-turbo-1106", "cl100k_base", 16_385),
        ModelInfo("gpt-3.5-turbo-0125", "cl100k_base", 16_385),
        ModelInfo("babbage-002", "cl100k_base", 16_384),
        ModelInfo("davinci-002", "cl100k_base", 16_384),
    ]
}

# Longest prefix wins.
_PREFIXES: list[tuple[str, str]] = sorted(
    [
        ("gpt-4.1", "o200k_base"),
        ("gpt-4.5", "o200k_base"),
        ("gpt-4o", "o200k_base"),
        ("gpt-5", "o200k_base"),
        ("o1", "o200k_base"),
        ("o3", "o200k_base"),
        ("o4", "o200k_base"),
        ("gpt-oss", "o200k_base"),
        ("gpt-4", "cl100k_base"),
        ("gpt-3.5", "cl100k_base"),
        ("ft:gpt-4o", "o200k_base"),
        ("ft:gpt-4.1", "o200k_base"),
        ("ft:gpt-3.5", "cl100k_base"),
        ("text-embedding-3", "cl100k_base"),
    ],
    key=lambda pair: -len(pair[0]),
)

DEFAULT_ENCODING = "o200k_base"


def model_info(model: str) -> ModelInfo | None:
    """Known facts about ``model``, matching dated snapshots to their family."""
    if model in MODELS:
        return MODELS[model]
    base = model[3:].split(":", 1)[0] if model.startswith("ft:") else model
    best: ModelInfo | None = None
    for name, info in MODELS.items():
        if base == name or base.startswith(name + "-"):
            if best is None or len(name) > len(best.name):
                best = info
    return best


def encoding_for_model(model: str) -> str:
    """The tiktoken encoding name for a model (gpt-4o, gpt-4.1, o-series: o200k_base; gpt-3.5/gpt-4: cl100k_base).

    Models of other vendors (Mistral, Gemini, Claude, Llama) have no public tiktoken
    encoding; ftkit counts them with ``o200k_base`` and says so (an estimate).
    """
    info = model_info(model)
    if info is not None:
        return info.encoding
    for prefix, encoding in _PREFIXES:
        if model.startswith(prefix):
            return encoding
    return DEFAULT_ENCODING


def max_example_tokens(model: str) -> int | None:
    """Documented per-example training token limit of ``model``, or ``None`` when unknown."""
    info = model_info(model)
    return info.max_example_tokens if info else None
