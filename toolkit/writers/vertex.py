"""Vertex AI Gemini supervised tuning JSONL.

Each line: ``systemInstruction`` (``{"role": "system", "parts": [{"text": ...}]}``; Vertex
ignores its role) and ``contents``: a list of ``{"role": "user" | "model", "parts": [...]}``.
Text is a ``{"text": ...}`` part; a tool call is a ``{"functionCall": {"name", "args"}}`` part of
a ``model`` turn; a tool result is a ``{"functionResponse": {"name", "response"}}`` part of a
``user`` turn (a result that is not a JSON object is wrapped as ``{"content": ...}``). Tool
definitions go to ``tools: [{"functionDeclarations": [...]}]``. Consecutive turns of one
role are merged into one turn with several parts. Gemini tuning has no per-message
weight: an example with ``weight: 0`` replies is refused (use ``--examples conversation``).
Vertex validates the records strictly, so provenance goes to the sidecar
``<output>.metadata.jsonl``.
"""

from __future__ import annotations

from typing import Any

import orjson

from toolkit.model import Example, content_text
from toolkit.writers.base import Record, Writer


class VertexWriter(Writer):
    name = "vertex"
    description = "Vertex AI Gemini tuning JSONL (systemInstruction + contents, role model)"
    roles = ("system", "user", "assistant", "tool")
    supports_weight = False
    metadata_inline = False

    def encode(self, example: Example) -> Record:
        self.check(example)
        system_texts: list[str] = []
        contents: list[dict[str, Any]] = []
        call_names: dict[str, str] = {}

        def add(role: str, part: dict[str, Any]) -> None:
            if contents and contents[-1]["role"] == role:
                contents[-1]["parts"].append(part)
                self.on_adjust("merged-consecutive-messages")
            else:
                contents.append({"role": role, "parts": [part]})

        for index, message in enumerate(example.messages):
            text = content_text(message.content)
            if message.role == "system":
                if contents:
                    raise self.refuse("system-position", f"message {index + 1} is a system message after the "
                                      "conversation started; Gemini has one systemInstruction", example)
                system_texts.append(text)
            elif message.role == "user":
                add("user", {"text": text})
            elif message.role == "assistant":
                if text:
                    add("model", {"text": text})
                for call in message.tool_calls or []:
                    try:
                        args = orjson.loads(call.function.arguments) if call.function.arguments else {}
                    except orjson.JSONDecodeError:
                        raise self.refuse("arguments", f"message {index + 1}: tool call arguments are not JSON", example) from None
                    if not isinstance(args, dict):
                        raise self.refuse("arguments", f"message {index + 1}: tool call arguments are not a JSON object",
                                          example)
                    call_names[call.id] = call.function.name
                    add("model", {"functionCall": {"name": call.function.name, "args": args}})
                if not text and not message.tool_calls:
                    add("model", {"text": ""})
            elif message.role == "tool":
                name = call_names.get(str(message.tool_call_id))
                if name is None:
                    raise self.refuse("tool-result", f"message {index + 1} answers tool call {message.tool_call_id!r}, "
                                      "which no assistant message made", example)
                try:
                    response = orjson.loads(text)
                except orjson.JSONDecodeError:
                    response = None
                if not isinstance(response, dict):
                    response = {"content": text}
                add("user", {"functionResponse": {"name": name, "response": response}})
        if not contents or contents[0]["role"] != "user":
            raise self.refuse("order", "Gemini contents must start with a user turn", example)
        if contents[-1]["role"] != "model":
            raise self.refuse("order", "the last turn must be a model turn", example)
        record: Record = {}
        if system_texts:
            record["systemInstruction"] = {"role": "system", "parts": [{"text": "\n\n".join(system_texts)}]}
        record["contents"] = contents
        if example.tools:
            declarations = []
            for tool in example.tools:
                fn = tool.get("function") if isinstance(tool, dict) else None
                if not isinstance(fn, dict) or "name" not in fn:
                    raise self.refuse("tools", "a tool definition is not an OpenAI function tool", example)
                declaration = {"name": fn["name"]}
                if fn.get("description"):
                    declaration["description"] = fn["description"]
                if fn.get("parameters"):
                    declaration["parameters"] = fn["parameters"]
                declarations.append(declaration)
            record["tools"] = [{"functionDeclarations": declarations}]
        return self.with_metadata(record, example)
