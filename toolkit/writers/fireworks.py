"""Fireworks AI supervised fine-tuning JSONL (OpenAI-compatible, with Fireworks' restrictions).

Fireworks documents: ``messages`` with roles ``system`` / ``user`` / ``assistant`` (and tool
results with ``tools`` for function-calling datasets); a system message is optional but,
when present, must be the first message; ``content`` is a string; optional ``weight`` 0 or
1; at least 3 examples per dataset. An assistant message that only calls tools gets an
empty string as content.
"""

from __future__ import annotations

from toolkit.model import Example
from toolkit.writers.base import Record, Writer


class FireworksWriter(Writer):
    name = "fireworks"
    description = "Fireworks AI SFT JSONL (OpenAI-compatible; system first, string content)"
    roles = ("system", "user", "assistant", "tool")
    min_examples = 3

    def encode(self, example: Example) -> Record:
        record = super().encode(example)
        for index, message in enumerate(record["messages"]):
            if message.get("role") == "system" and index != 0:
                raise self.refuse("system-position", f"message {index + 1} is a system message; Fireworks allows "
                                  "one, as the first message", example)
            if message.get("content") is None:
                message["content"] = ""
        return record
