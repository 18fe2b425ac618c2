"""Chat token counts the way OpenAI-style targets bill them, as labelled estimates.

The count of a chat example is the sum, per message, of a fixed overhead (the chat
template's framing, :data:`TOKENS_PER_MESSAGE`), the content tokens, one more for a
``name``, plus the reply priming (:data:`TOKENS_PER_REPLY`). This is the method OpenAI
documents in its cookbook ("How to count tokens with tiktoken"). Tool calls count their
function name and JSON arguments; tool definitions count their JSON text. These are the
figures ftkit reports as *estimates*, always naming the encoding that made them.

``trainable`` tokens are those of assistant messages a trainer learns from (``weight``
absent or 1); everything else is ``prompt`` tokens.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import orjson
import tiktoken

from toolkit.model import Example, Message, content_text
from toolkit.tokens.encodings import get_encoding
from toolkit.tokens.models import encoding_for_model

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
TOKENS_PER_REPLY = 3
TOKENS_PER_TOOL_CALL = 3  # framing around one function call (name + arguments)
TOKENS_FOR_TOOLS = 9  # framing around the tool definitions block


@dataclass
class TokenCount:
    """Token figures for one example. All figures are estimates made with ``encoding``."""

    encoding: str
    total: int = 0
    prompt: int = 0
    trainable: int = 0
    per_message: list[int] = field(default_factory=list)
    tools: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "encoding": self.encoding,
            "estimate": True,
            "total": self.total,
            "prompt": self.prompt,
            "trainable": self.trainable,
            "per_message": list(self.per_message),
            "tools": self.tools,
        }


def resolve_encoding(model: str | None = None, encoding: str | None = None) -> tiktoken.Encoding:
    """Pick the encoding: an explicit name wins, else the model's, else ``o200k_base``."""
    if encoding:
        return get_encoding(encoding)
    return get_encoding(encoding_for_model(model) if model else "o200k_base")


def count_text(text: str, encoding: tiktoken.Encoding | str = "o200k_base") -> int:
    """Tokens in plain text; special-token strings are counted as ordinary text."""
    enc = get_encoding(encoding) if isinstance(encoding, str) else encoding
    return len(enc.encode_ordinary(text))


def _message_texts(message: Message) -> list[str]:
    texts = [content_text(message.content)]
    for call in message.tool_calls or []:
        fn = call.function
        texts.append(fn.name if isinstance(fn.name, str) else "")
        texts.append(fn.arguments if isinstance(fn.arguments, str) else orjson.dumps(fn.arguments).decode())
    return texts


def count_example(
    example: Example | Mapping[str, Any],
    encoding: tiktoken.Encoding | str = "o200k_base",
) -> TokenCount:
    """Count the tokens of one chat example (see the module doc for the method)."""
    enc = get_encoding(encoding) if isinstance(encoding, str) else encoding
    if not isinstance(example, Example):
        example = Example.from_dict(example)
    per_message_texts = [_message_texts(m) for m in example.messages]
    flat = [t for texts in per_message_texts for t in texts]
    # Plain calls: encode_ordinary_batch starts a thread pool per call, which costs far
    # more than encoding one example's few messages.
    lengths = [len(enc.encode_ordinary(text)) for text in flat]
    result = TokenCount(encoding=enc.name)
    cursor = 0
    for message, texts in zip(example.messages, per_message_texts):
        n = TOKENS_PER_MESSAGE + sum(lengths[cursor : cursor + len(texts)])
        cursor += len(texts)
        n += TOKENS_PER_TOOL_CALL * len(message.tool_calls or [])
        if message.name:
            n += TOKENS_PER_NAME
        result.per_message.append(n)
        if message.trainable:
            result.trainable += n
        else:
            result.prompt += n
    if example.tools:
        result.tools = TOKENS_FOR_TOOLS + len(enc.encode_ordinary(orjson.dumps(example.tools, option=orjson.OPT_SORT_KEYS).decode()))
        result.prompt += result.tools
    result.prompt += TOKENS_PER_REPLY
    result.total = result.prompt + result.trainable
    return result


def count_examples(
    examples: Iterable[Example | Mapping[str, Any]],
    encoding: tiktoken.Encoding | str = "o200k_base",
) -> Iterable[TokenCount]:
    """Lazily count a stream of examples."""
    enc = get_encoding(encoding) if isinstance(encoding, str) else encoding
    for example in examples:
        yield count_example(example, enc)
