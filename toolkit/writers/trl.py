"""Hugging Face TRL ``SFTTrainer`` datasets: conversational ``messages``, or ``prompt`` / ``completion``.

* ``style="messages"`` (default): ``{"messages": [...]}`` with ``tools`` when present. Tool
  calls follow the transformers chat-template convention (``{"type": "function",
  "function": {"name", "arguments": {...}}}``, arguments as a JSON *object*), which is what
  TRL's chat templates render. TRL has no per-message weight: examples with ``weight: 0``
  replies are refused (use ``--trl-style prompt-completion`` for per-reply examples).
* ``style="prompt-completion"``: ``{"prompt": [...], "completion": [final assistant message]}``
  (conversational prompt-completion; TRL trains on the completion only). Earlier assistant
  replies in the prompt must already be context (``weight: 0``, as per-reply examples make
  them); an earlier *trainable* reply would silently go untrained, so it is refused.
"""

from __future__ import annotations

from typing import Any

import orjson

from toolkit.model import Example, Message, content_text
from toolkit.writers.base import Record, Writer

STYLES = ("messages", "prompt-completion")


class TRLWriter(Writer):
    name = "trl"
    description = "TRL SFT JSONL (messages, or conversational prompt/completion)"
    roles = ("system", "user", "assistant", "tool")

    def __init__(self, style: str = "messages", **options: Any):
        super().__init__(**options)
        if style not in STYLES:
            raise ValueError(f"TRL style must be one of {', '.join(STYLES)}, got {style!r}")
        self.style = style
        self.supports_weight = style == "prompt-completion"

    def _message(self, message: Message, example: Example, index: int) -> Record:
        out: Record = {"role": message.role, "content": content_text(message.content)}
        if message.tool_calls:
            calls = []
            for call in message.tool_calls:
                try:
                    arguments = orjson.loads(call.function.arguments) if call.function.arguments else {}
                except orjson.JSONDecodeError:
                    raise self.refuse("arguments", f"message {index + 1}: tool call arguments are not JSON", example) from None
                calls.append({"id": call.id, "type": "function", "function": {"name": call.function.name, "arguments": arguments}})
            out["tool_calls"] = calls
        if message.tool_call_id is not None:
            out["tool_call_id"] = message.tool_call_id
        if message.name is not None:
            out["name"] = message.name
        return out

    def encode(self, example: Example) -> Record:
        self.check(example)
        messages = [self._message(m, example, i) for i, m in enumerate(example.messages)]
        record: Record
        if self.style == "messages":
            record = {"messages": messages}
        else:
            last = len(example.messages) - 1
            if example.messages[last].role != "assistant":
                raise self.refuse("last-message", "the completion must be an assistant message", example)
            for index, message in enumerate(example.messages[:last]):
                if message.role == "assistant" and message.weight != 0:
                    raise self.refuse("trainable-context", f"message {index + 1} is a trainable assistant reply inside the "
                                      "prompt; prompt/completion trains only the last reply (use --examples per-reply)",
                                      example)
            record = {"prompt": messages[:last], "completion": messages[last:]}
        if example.tools is not None:
            record["tools"] = example.tools
        return self.with_metadata(record, example)
