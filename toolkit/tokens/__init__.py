"""Offline, verified tiktoken encodings and chat token counting (all counts are estimates)."""

from toolkit.tokens.counting import TokenCount, count_example, count_examples, count_text, resolve_encoding
from toolkit.tokens.encodings import available_encodings, encoding_source, get_encoding
from toolkit.tokens.models import encoding_for_model, max_example_tokens, model_info

__all__ = [
    "TokenCount",
    "available_encodings",
    "count_example",
    "count_examples",
    "count_text",
    "encoding_for_model",
    "encoding_source",
    "get_encoding",
    "max_example_tokens",
    "model_info",
    "resolve_encoding",
]
