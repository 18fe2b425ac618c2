"""Together AI conversational fine-tuning JSONL.

Together's documented rules: ``messages`` with roles ``system`` / ``user`` / ``assistant``
(plus ``tool`` results and assistant ``tool_calls`` with a top-level ``tools`` list for
function-calling fine-tuning); the conversation starts with ``system`` or ``user`` and
then alternates user and assistant; ``weight`` 0/1 per message masks it from the loss.
Consecutive messages of one role are merged (reported as an adjustment); an order that
merging cannot fix is refused.
"""

from __future__ import annotations

from toolkit.model import Example
from toolkit.writers.base import Record, Writer, check_alternation, merge_consecutive


class TogetherWriter(Writer):
    name = "together"
    description = "Together AI conversational JSONL (strict user/assistant alternation)"
    roles = ("system", "user", "assistant", "tool")

    def encode(self, example: Example) -> Record:
        record = super().encode(example)
        messages = record["messages"]
        system = [m for m in messages[:1] if m.get("role") == "system"]
        body = merge_consecutive(messages[len(system):], ("user", "assistant"), lambda: self.on_adjust("merged-consecutive-messages"))
        if any(m.get("role") == "system" for m in body):
            raise self.refuse("system-position", "a system message after the first message", example)
        check_alternation(self, body, example)
        record["messages"] = system + body
        return record
