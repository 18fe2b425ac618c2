"""Mistral fine-tuning JSONL.

Mistral's format: ``messages`` with roles ``system`` / ``user`` / ``assistant`` / ``tool``;
assistant ``tool_calls`` (``id``, ``type: function``, ``function.name``,
``function.arguments`` as a JSON string) answered by ``tool`` messages with ``tool_call_id``;
``weight`` 0/1 on assistant messages; user and assistant turns alternate, tool results are
followed by the assistant's reply, and the last message is an assistant message; tool call
ids are exactly 9 characters of ``[a-zA-Z0-9]``. ftkit rewrites other ids to stable 9-character
ids (derived from the original, the same in the call and its result) and reports it.
"""

from __future__ import annotations

import hashlib
import re

from toolkit.model import Example
from toolkit.writers.base import Record, Writer, check_alternation

_MISTRAL_ID = re.compile(r"^[a-zA-Z0-9]{9}$")
_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def mistral_call_id(original: str, taken: set[str]) -> str:
    """A stable 9-character alphanumeric id for ``original`` (unique among ``taken``)."""
    if _MISTRAL_ID.match(original) and original not in taken:
        return original
    salt = 0
    while True:
        digest = hashlib.sha256(f"{original}\x00{salt}".encode()).digest()
        candidate = "".join(_ALPHABET[b % len(_ALPHABET)] for b in digest[:9])
        if candidate not in taken:
            return candidate
        salt += 1


class MistralWriter(Writer):
    name = "mistral"
    description = "Mistral fine-tuning JSONL (9-character tool call ids, assistant last)"
    roles = ("system", "user", "assistant", "tool")

    def encode(self, example: Example) -> Record:
        record = super().encode(example)
        messages = record["messages"]
        if messages[-1].get("role") != "assistant":
            raise self.refuse("last-message", "the last message must be an assistant message", example)
        system = [m for m in messages[:1] if m.get("role") == "system"]
        if any(m.get("role") == "system" for m in messages[len(system):]):
            raise self.refuse("system-position", "a system message after the first message", example)
        # Mistral wants user and assistant turns to alternate, and an assistant reply after tool results.
        check_alternation(self, messages[len(system):], example)
        mapping: dict[str, str] = {}
        for message in messages:
            if message.get("role") == "assistant" and message.get("content") is None:
                message.pop("content", None)
            for call in message.get("tool_calls") or []:
                original = str(call.get("id"))
                if original not in mapping:
                    mapping[original] = mistral_call_id(original, set(mapping.values()))
                call["id"] = mapping[original]
        rewritten = False
        for message in messages:
            if message.get("role") == "tool":
                original = str(message.get("tool_call_id"))
                if original not in mapping:
                    raise self.refuse("tool-result", f"a tool result for call {original!r}, which no assistant "
                                      "message made", example)
                message["tool_call_id"] = mapping[original]
        rewritten = any(k != v for k, v in mapping.items())
        if rewritten:
            self.on_adjust("tool-call-ids-rewritten")
        return record
