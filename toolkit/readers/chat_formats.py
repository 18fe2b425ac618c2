"""Chat datasets already in a trainer format -> conversations (so ftkit converts between formats).

* **OpenAI chat** (JSON Lines, or a JSON array): ``{"messages": [{"role": ..., "content": ...}], "tools": ..., "metadata": ...}``.
* **ShareGPT** (LLaMA-Factory / FastChat): ``{"conversations": [{"from": "human", "value": ...}, {"from": "gpt", ...}], "system": ..., "tools": ...}``
  with ``human``/``user``, ``gpt``/``assistant``/``model``, ``system``, ``function_call``, ``observation``.
* **Alpaca**: ``{"instruction": ..., "input": ..., "output": ..., "system": ..., "history": [[q, a], ...]}``.

Roles map to speakers: user -> customer, assistant -> agent, tool/observation -> tool (linked by
``tool_call_id``). **The system prompt** (a leading ``system``/``developer`` message, ShareGPT's
``system``, Alpaca's ``system``) is kept in ``conversation.metadata["system_prompt"]``, not as a turn:
``Speaker.SYSTEM`` means helpdesk system events, which the converter drops; the converter
re-emits ``metadata["system_prompt"]`` as the system message unless a new one is given. A system
message later in the conversation becomes a ``Speaker.SYSTEM`` turn with ``metadata.role = "system"``.
An assistant message's ``weight`` is kept in ``turn.metadata["weight"]``; ``tools`` in
``conversation.metadata["tools"]``; the record's own ``metadata`` in ``conversation.metadata["example"]``
(its ``id``/``conversation_id``, ``customer_id``, ``channel``, ``tags``, ``csat``, ``language``,
``created_at`` also fill the conversation's fields).
"""

from __future__ import annotations

import os
from typing import Any, Iterator, Mapping

import orjson

from toolkit.model import Conversation, Speaker, ToolInvocation, Turn, content_text
from toolkit.readers.base import (
    R_BAD_FIELD,
    R_INVALID_JSON,
    R_MISSING_FIELD,
    R_NO_MESSAGES,
    R_NOT_OBJECT,
    Reader,
    ReaderError,
    Sample,
    as_str,
    type_name,
)

_ROLE_SPEAKER = {"user": Speaker.CUSTOMER, "assistant": Speaker.AGENT, "tool": Speaker.TOOL, "function": Speaker.TOOL}
_SHAREGPT_FROM = {
    "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant",
    "model": "assistant", "bard": "assistant", "bing": "assistant", "system": "system",
    "function_call": "function_call", "observation": "observation", "tool": "observation", "function": "observation",
}


class _ChatReader(Reader):
    """Shared walking of JSON Lines / JSON arrays of records."""

    record_key: str = ""

    def read_file(self, path, name) -> Iterator[Conversation]:
        source = self.json_source(path, name)
        if source.kind == "object":
            doc = source.document() if source.small else None
            if isinstance(doc, dict) and self.record_key in doc:
                records: Any = [(1, doc, None)]
            else:
                keys = source.top_keys()
                key = next((k for k in ("data", "train", "examples", "records") if k in keys), None)
                if key is None:
                    raise ReaderError(f"not {self.description}: expected JSON Lines or an array of records with {self.record_key!r}", file=name)
                records = ((i, v, None) for i, v in source.array(key))
        else:
            records = source.records()
        stem = _stem(name)
        for number, value, error in records:
            if error is not None:
                self.skip(name, number, R_INVALID_JSON, error)
                continue
            if not isinstance(value, dict):
                self.skip(name, number, R_NOT_OBJECT, f"got a JSON {type_name(value)}")
                continue
            conversation = self.convert(value, name, number, stem)
            if conversation is not None:
                yield conversation

    def convert(self, value: Mapping[str, Any], file: str, number: Any, stem: str) -> Conversation | None:  # pragma: no cover
        raise NotImplementedError

    def _new(self, value: Mapping[str, Any], file: str, number: Any, stem: str, fmt: str) -> Conversation:
        meta = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
        cid = as_str(meta.get("conversation_id")) or as_str(meta.get("id")) or as_str(value.get("id")) or f"{stem}-{number}"
        conversation = Conversation(id=cid, source={"file": file, "record": number, "format": fmt})
        if meta:
            conversation.metadata["example"] = dict(meta)
            conversation.customer_id = as_str(meta.get("customer_id"))
            conversation.channel = meta.get("channel") if isinstance(meta.get("channel"), str) else None
            conversation.language = meta.get("language") if isinstance(meta.get("language"), str) else None
            conversation.created_at = meta.get("created_at") if isinstance(meta.get("created_at"), str) else None
            conversation.csat = meta.get("csat")
            if isinstance(meta.get("tags"), list):
                conversation.tags = [str(t) for t in meta["tags"]]
        return conversation


class OpenAIChatReader(_ChatReader):
    name = "openai"
    description = "OpenAI chat fine-tuning JSONL ({\"messages\": [...]})"
    record_key = "messages"

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        for record in sample.records:
            if isinstance(record, dict) and isinstance(record.get("messages"), list):
                first = next((m for m in record["messages"] if isinstance(m, dict)), None)
                if first is not None and "role" in first:
                    return 90
        return 0

    def convert(self, value, file, number, stem):
        messages = value.get("messages")
        if messages is None:
            self.skip(file, number, R_MISSING_FIELD, "no 'messages'", field="messages")
            return None
        if not isinstance(messages, list):
            self.skip(file, number, R_BAD_FIELD, f"'messages' is a JSON {type_name(messages)}, expected an array", field="messages")
            return None
        conversation = self._new(value, file, number, stem, "openai")
        if value.get("tools") is not None:
            conversation.metadata["tools"] = value["tools"]
        if value.get("parallel_tool_calls") is not None:
            conversation.metadata["parallel_tool_calls"] = value["parallel_tool_calls"]
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                self.skip(file, number, R_NOT_OBJECT, f"messages[{index}] is a JSON {type_name(message)}", part=f"messages[{index}]")
                continue
            role = message.get("role")
            text = content_text(message.get("content"))
            if role in ("system", "developer"):
                if not conversation.turns and "system_prompt" not in conversation.metadata:
                    conversation.metadata["system_prompt"] = text
                    if role == "developer":
                        conversation.metadata["system_role"] = "developer"
                else:
                    conversation.turns.append(Turn(speaker=Speaker.SYSTEM, text=text, metadata={"role": role}))
                continue
            speaker = _ROLE_SPEAKER.get(role) if isinstance(role, str) else None
            if speaker is None:
                self.skip(file, number, R_BAD_FIELD, f"messages[{index}].role is {role!r}", part=f"messages[{index}]", field=f"messages[{index}].role")
                continue
            turn = Turn(speaker=speaker, text=text, author=message.get("name") if isinstance(message.get("name"), str) else None)
            if isinstance(message.get("content"), list):
                turn.metadata["content"] = message["content"]
            if message.get("weight") is not None:
                turn.metadata["weight"] = message["weight"]
            if speaker is Speaker.TOOL:
                turn.tool_call_id = as_str(message.get("tool_call_id"))
                if role == "function" and message.get("name"):
                    turn.metadata["function"] = message["name"]
            calls = message.get("tool_calls")
            if isinstance(calls, list):
                for call in calls:
                    invocation = _openai_call(call)
                    if invocation is None:
                        self.skip(file, number, R_BAD_FIELD, f"messages[{index}] has a malformed tool call", part=f"messages[{index}]")
                        continue
                    turn.tool_calls.append(invocation)
            elif isinstance(message.get("function_call"), dict):  # the legacy functions API
                invocation = _openai_call({"function": message["function_call"]})
                if invocation is not None:
                    turn.tool_calls.append(invocation)
            conversation.turns.append(turn)
        if not any(t.speaker is not Speaker.SYSTEM for t in conversation.turns):
            self.skip(file, number, R_NO_MESSAGES, "no user, assistant or tool messages")
            return None
        return conversation


class ShareGPTReader(_ChatReader):
    name = "sharegpt"
    description = "ShareGPT ({\"conversations\": [{\"from\": \"human\", \"value\": ...}]})"
    record_key = "conversations"

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        for record in sample.records:
            if isinstance(record, dict):
                turns = record.get("conversations")
                if isinstance(turns, list) and turns and isinstance(turns[0], dict) and "from" in turns[0] and "value" in turns[0]:
                    return 90
        return 0

    def convert(self, value, file, number, stem):
        turns = value.get("conversations")
        if turns is None:
            self.skip(file, number, R_MISSING_FIELD, "no 'conversations'", field="conversations")
            return None
        if not isinstance(turns, list):
            self.skip(file, number, R_BAD_FIELD, f"'conversations' is a JSON {type_name(turns)}, expected an array", field="conversations")
            return None
        conversation = self._new(value, file, number, stem, "sharegpt")
        if isinstance(value.get("system"), str) and value["system"]:
            conversation.metadata["system_prompt"] = value["system"]
        if value.get("tools"):
            tools = value["tools"]
            if isinstance(tools, str):
                try:
                    tools = orjson.loads(tools)
                except orjson.JSONDecodeError:
                    pass
            conversation.metadata["tools"] = tools
        pending_ids: list[str] = []
        for index, item in enumerate(turns):
            if not isinstance(item, dict):
                self.skip(file, number, R_NOT_OBJECT, f"conversations[{index}] is a JSON {type_name(item)}", part=f"conversations[{index}]")
                continue
            who = _SHAREGPT_FROM.get(str(item.get("from", "")).lower())
            text = item.get("value")
            if not isinstance(text, str):
                text = "" if text is None else orjson.dumps(text).decode()
            if who is None:
                self.skip(file, number, R_BAD_FIELD, f"conversations[{index}].from is {item.get('from')!r}", part=f"conversations[{index}]", field=f"conversations[{index}].from")
                continue
            if who == "system":
                if not conversation.turns and "system_prompt" not in conversation.metadata:
                    conversation.metadata["system_prompt"] = text
                else:
                    conversation.turns.append(Turn(speaker=Speaker.SYSTEM, text=text, metadata={"role": "system"}))
            elif who == "function_call":
                calls = _sharegpt_calls(text, f"{conversation.id}-call-{index}")
                if calls is None:
                    self.skip(file, number, R_BAD_FIELD, f"conversations[{index}] function_call value is not JSON with a name", part=f"conversations[{index}]")
                    continue
                pending_ids = [c.id for c in calls if c.id]
                conversation.turns.append(Turn(speaker=Speaker.AGENT, text="", tool_calls=calls))
            elif who == "observation":
                call_id = pending_ids.pop(0) if pending_ids else None
                conversation.turns.append(Turn(speaker=Speaker.TOOL, text=text, tool_call_id=call_id))
            else:
                conversation.turns.append(Turn(speaker=Speaker.CUSTOMER if who == "user" else Speaker.AGENT, text=text))
        if not conversation.turns:
            self.skip(file, number, R_NO_MESSAGES, "no turns")
            return None
        return conversation


class AlpacaReader(_ChatReader):
    name = "alpaca"
    description = "Alpaca ({\"instruction\", \"input\", \"output\"})"
    record_key = "instruction"

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        for record in sample.records:
            if isinstance(record, dict) and "instruction" in record and "output" in record:
                return 90
        return 0

    def convert(self, value, file, number, stem):
        instruction = value.get("instruction")
        output = value.get("output")
        for field_name, field_value in (("instruction", instruction), ("output", output)):
            if field_value is None:
                self.skip(file, number, R_MISSING_FIELD, f"no {field_name!r}", field=field_name)
                return None
            if not isinstance(field_value, str):
                self.skip(file, number, R_BAD_FIELD, f"{field_name!r} is a JSON {type_name(field_value)}, expected a string", field=field_name)
                return None
        conversation = self._new(value, file, number, stem, "alpaca")
        if isinstance(value.get("system"), str) and value["system"]:
            conversation.metadata["system_prompt"] = value["system"]
        history = value.get("history")
        if history is not None:
            if not isinstance(history, list) or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in history):
                self.skip(file, number, R_BAD_FIELD, "'history' must be a list of [instruction, response] pairs", field="history")
                return None
            for question, answer in history:
                conversation.turns.append(Turn(speaker=Speaker.CUSTOMER, text=str(question)))
                conversation.turns.append(Turn(speaker=Speaker.AGENT, text=str(answer)))
        extra_input = value.get("input")
        prompt = instruction if not extra_input else f"{instruction}\n\n{extra_input}"
        turn = Turn(speaker=Speaker.CUSTOMER, text=prompt)
        if extra_input:
            turn.metadata["alpaca"] = {"instruction": instruction, "input": extra_input}
        conversation.turns.append(turn)
        conversation.turns.append(Turn(speaker=Speaker.AGENT, text=output))
        if not prompt.strip() and not output.strip():
            self.skip(file, number, R_NO_MESSAGES, "instruction and output are empty")
            return None
        return conversation


def _openai_call(call: Any) -> ToolInvocation | None:
    if not isinstance(call, dict):
        return None
    function = call.get("function") if isinstance(call.get("function"), dict) else None
    if function is None or not isinstance(function.get("name"), str):
        return None
    arguments = function.get("arguments")
    parsed: dict[str, Any]
    if isinstance(arguments, dict):
        parsed = dict(arguments)
    elif isinstance(arguments, str) and arguments.strip():
        try:
            loaded = orjson.loads(arguments)
            parsed = loaded if isinstance(loaded, dict) else {"value": loaded}
        except orjson.JSONDecodeError:
            parsed = {"_raw": arguments}  # kept verbatim: the writer/validator reports bad JSON arguments
    else:
        parsed = {}
    return ToolInvocation(name=function["name"], arguments=parsed, id=as_str(call.get("id")))


def _sharegpt_calls(text: str, default_id: str) -> list[ToolInvocation] | None:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    items = value if isinstance(value, list) else [value]
    calls = []
    for position, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return None
        arguments = item.get("arguments", item.get("parameters", {}))
        if isinstance(arguments, str):
            try:
                arguments = orjson.loads(arguments)
            except orjson.JSONDecodeError:
                arguments = {"_raw": arguments}
        if not isinstance(arguments, dict):
            arguments = {"value": arguments}
        suffix = f"-{position}" if len(items) > 1 else ""
        calls.append(ToolInvocation(name=item["name"], arguments=arguments, id=as_str(item.get("id")) or default_id + suffix))
    return calls


def _stem(name: str) -> str:
    base = os.path.basename(name).strip("<>")
    for suffix in (".gz", ".jsonl", ".ndjson", ".json"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base or "record"
