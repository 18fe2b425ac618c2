"""ShareGPT JSONL for LLaMA-Factory, with the ``dataset_info.json`` entry that loads it.

Each line: ``conversations`` (``{"from": "human" | "gpt" | "function_call" | "observation",
"value": str}``), an optional ``system`` string and optional ``tools`` (a JSON *string* of
function definitions), as LLaMA-Factory's ``sharegpt`` formatting reads them. LLaMA-Factory
requires human/observation turns at odd positions and gpt/function_call turns at even
positions, so consecutive turns of one side are merged (reported); parallel tool results
are joined into one observation (a JSON list). A function call is
``{"name": ..., "arguments": {...}}`` as a JSON string (a JSON list of them for parallel calls).
An assistant message with both text and tool calls, and ``weight: 0`` replies (LLaMA-Factory
has no per-message mask; use its ``mask_history`` option instead) are refused.

:meth:`ShareGPTWriter.finish` writes or updates ``dataset_info.json`` beside the output
(other entries in an existing file are kept) with ``file_name``, ``formatting: sharegpt``,
the column names and the role tags.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson

from toolkit.io.jsonl import atomic_writer
from toolkit.model import Example, content_text
from toolkit.writers.base import Record, Writer

TAGS = {
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "observation_tag": "observation",
    "function_tag": "function_call",
    "system_tag": "system",
}
_ODD = ("human", "observation")
_EVEN = ("gpt", "function_call")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class ShareGPTWriter(Writer):
    name = "sharegpt"
    description = "ShareGPT JSONL for LLaMA-Factory + dataset_info.json"
    roles = ("system", "user", "assistant", "tool")
    supports_weight = False

    def __init__(self, dataset_name: str | None = None, **options: Any):
        super().__init__(**options)
        self.dataset_name = dataset_name
        self._has_system = False
        self._has_tools = False

    def encode(self, example: Example) -> Record:
        self.check(example)
        system: list[str] = []
        turns: list[dict[str, str]] = []

        def add(side: str, value: str) -> None:
            if turns and turns[-1]["from"] == side and side in ("human", "gpt", "observation"):
                if side == "observation":
                    previous = turns[-1].get("_results") or [turns[-1]["value"]]
                    turns[-1] = {"from": side, "value": _json(previous + [value]), "_results": previous + [value]}  # type: ignore[dict-item]
                else:
                    turns[-1] = {"from": side, "value": turns[-1]["value"] + "\n\n" + value}
                    self.on_adjust("merged-consecutive-messages")
            else:
                turns.append({"from": side, "value": value})

        for index, message in enumerate(example.messages):
            text = content_text(message.content)
            if message.role == "system":
                if turns:
                    raise self.refuse("system-position", f"message {index + 1} is a system message after the "
                                      "conversation started", example)
                system.append(text)
            elif message.role == "user":
                add("human", text)
            elif message.role == "assistant":
                if message.tool_calls:
                    if text.strip():
                        raise self.refuse("text-with-tool-call", f"message {index + 1} has text and a tool call; "
                                          "LLaMA-Factory's sharegpt has one or the other per turn", example)
                    calls = []
                    for call in message.tool_calls:
                        try:
                            arguments = orjson.loads(call.function.arguments) if call.function.arguments else {}
                        except orjson.JSONDecodeError:
                            raise self.refuse("arguments", f"message {index + 1}: tool call arguments are not JSON",
                                              example) from None
                        calls.append({"name": call.function.name, "arguments": arguments})
                    add("function_call", _json(calls[0] if len(calls) == 1 else calls))
                else:
                    add("gpt", text)
            elif message.role == "tool":
                add("observation", text)
        for turn in turns:
            turn.pop("_results", None)  # type: ignore[misc]
        for index, turn in enumerate(turns):
            expected = _ODD if index % 2 == 0 else _EVEN
            if turn["from"] not in expected:
                raise self.refuse("order", f"turn {index + 1} is {turn['from']!r} where LLaMA-Factory expects "
                                  f"{' or '.join(expected)}", example)
        if not turns or turns[-1]["from"] not in _EVEN:
            raise self.refuse("order", "the conversation must end with a gpt reply or function call", example)
        record: Record = {"conversations": turns}
        if system:
            record["system"] = "\n\n".join(system)
        if example.tools:
            functions = [t.get("function", t) if isinstance(t, dict) else t for t in example.tools]
            record["tools"] = _json(functions)
        return self.with_metadata(record, example)

    def write(self, path: str | os.PathLike[str], records: Iterable[Record]) -> int:
        # Which optional columns exist is learnt from the records as they are written (they
        # may have been encoded in worker processes), for the dataset_info.json entry.
        return super().write(path, self._observe(records))

    def _observe(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            self._has_system = self._has_system or "system" in record
            self._has_tools = self._has_tools or "tools" in record
            yield record

    def finish(self, path: str | os.PathLike[str], count: int) -> list[Path]:
        """Write or update ``dataset_info.json`` in the output's folder."""
        target = Path(path)
        info_path = target.parent / "dataset_info.json"
        name = self.dataset_name or target.name.split(".")[0]
        info: dict[str, Any] = {}
        if info_path.exists():
            try:
                info = json.loads(info_path.read_text(encoding="utf-8"))
            except (ValueError, OSError) as exc:
                raise ValueError(f"{info_path}: cannot update the existing dataset_info.json: {exc}") from None
            if not isinstance(info, dict):
                raise ValueError(f"{info_path}: is not a JSON object; cannot add the {name!r} entry")
        columns = {"messages": "conversations"}
        if self._has_system:
            columns["system"] = "system"
        if self._has_tools:
            columns["tools"] = "tools"
        info[name] = {"file_name": target.name, "formatting": "sharegpt", "columns": columns, "tags": dict(TAGS)}
        with atomic_writer(info_path) as out:
            out.write((json.dumps(info, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
        return [info_path]
