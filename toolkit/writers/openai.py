"""OpenAI chat fine-tuning JSONL, and Azure OpenAI (the same records, UTF-8 with a BOM).

One JSON object per line: ``messages`` (``system`` / ``user`` / ``assistant`` / ``tool``
roles; string content; assistant ``tool_calls`` with JSON-string ``arguments``; tool
results with ``tool_call_id``; ``weight`` 0/1 on assistant messages), optional ``tools``
and ``parallel_tool_calls``. OpenAI ignores other top-level keys, so ftkit's provenance
``metadata`` stays in the record (drop it with ``--strip-metadata``).
"""

from __future__ import annotations

from toolkit.writers.base import Writer


class OpenAIWriter(Writer):
    name = "openai"
    description = "OpenAI chat fine-tuning JSONL (messages, tools, weight)"
    roles = ("system", "developer", "user", "assistant", "tool")


class AzureWriter(OpenAIWriter):
    """Azure OpenAI fine-tuning: OpenAI's chat format, and the file must be UTF-8 with a BOM."""

    name = "azure"
    description = "Azure OpenAI fine-tuning JSONL (OpenAI chat format, UTF-8 with BOM)"
    roles = ("system", "user", "assistant", "tool")
    bom = True
