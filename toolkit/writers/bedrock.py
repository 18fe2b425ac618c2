"""Amazon Bedrock fine-tuning JSONL for Anthropic Claude (Claude 3 Haiku).

Each line: an optional ``system`` string and ``messages``: ``{"role": "user" | "assistant",
"content": str}``, strictly alternating, starting with ``user`` and ending with
``assistant``. Consecutive messages of one role are merged (reported as an adjustment);
tool calls, tool results and ``weight: 0`` replies cannot be expressed and are refused with
the conversation named. Provenance goes to the sidecar ``<output>.metadata.jsonl`` because
Bedrock validates records strictly.
"""

from __future__ import annotations

from toolkit.model import Example, content_text
from toolkit.writers.base import Record, Writer, check_alternation, merge_consecutive


class BedrockWriter(Writer):
    name = "bedrock"
    description = "Amazon Bedrock Claude JSONL (system + strictly alternating messages)"
    roles = ("system", "user", "assistant")
    supports_weight = False
    supports_tools = False
    metadata_inline = False

    def encode(self, example: Example) -> Record:
        self.check(example)
        system: list[str] = []
        messages: list[Record] = []
        for index, message in enumerate(example.messages):
            if message.role == "system":
                if messages:
                    raise self.refuse("system-position", f"message {index + 1} is a system message after the "
                                      "conversation started; Claude has one system prompt", example)
                system.append(content_text(message.content))
                continue
            messages.append({"role": message.role, "content": content_text(message.content)})
        messages = merge_consecutive(messages, ("user", "assistant"), lambda: self.on_adjust("merged-consecutive-messages"))
        check_alternation(self, messages, example, tool=None)
        for index, message in enumerate(messages):
            if not message["content"].strip():
                raise self.refuse("empty", f"message {index + 1} is empty; Claude rejects empty content", example)
        record: Record = {}
        if system:
            record["system"] = "\n\n".join(system)
        record["messages"] = messages
        return self.with_metadata(record, example)
