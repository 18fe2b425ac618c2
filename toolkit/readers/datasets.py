"""Public task-oriented dialogue datasets -> conversations (with their tool calls).

* **abcd** - Action-Based Conversations Dataset (a list of conversations, or ``{"train": [...],
  "dev": [...], "test": [...]}``). ``original`` holds ``[speaker, text]`` pairs; an ``action`` turn
  is what the agent did in its tools: it becomes an agent turn with a tool call (the button name
  and values from the aligned ``delexed`` targets) followed by a ``Speaker.TOOL`` turn with the
  action's text as its result. The scenario's customer name, email and phone become participants.
* **taskmaster** - Taskmaster (TM-1..4) dialogues: ``utterances`` with ``speaker`` user/assistant;
  ``api_call`` / ``request`` and ``api_response`` / ``response`` annotations become tool calls and
  tool results (after a user utterance they follow it; on an assistant utterance they precede it).
* **sgd** - Schema-Guided Dialogue: ``turns`` with ``USER`` / ``SYSTEM``; a frame's ``service_call``
  and ``service_results`` become a tool call and its result before the system utterance; each
  turn's dialogue acts are kept in ``turn.metadata["actions"]``.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

import orjson

from toolkit.model import Conversation, Participant, Speaker, ToolInvocation, Turn
from toolkit.readers.base import (
    R_BAD_FIELD,
    R_INVALID_JSON,
    R_MISSING_FIELD,
    R_NO_MESSAGES,
    R_NOT_OBJECT,
    R_UNKNOWN_SHAPE,
    Reader,
    ReaderError,
    Sample,
    add_participant,
    as_str,
    type_name,
)


class _DatasetReader(Reader):
    splits: tuple[str, ...] = ()
    fmt = ""

    def read_file(self, path, name) -> Iterator[Conversation]:
        source = self.json_source(path, name)
        if source.kind == "object":
            keys = source.top_keys()
            splits = [k for k in keys if k in self.splits]
            if not splits:
                if source.small and self.is_record(source.document()):
                    yield from self._one(source.document(), name, 1, "")
                    return
                raise ReaderError(f"not a {self.description} file (top-level keys: {', '.join(keys[:10])})", file=name)
            for split in splits:
                for index, value in source.array(split):
                    yield from self._one(value, name, f"{split}[{index}]", split)
            return
        for number, value, error in source.records():
            if error is not None:
                self.skip(name, number, R_INVALID_JSON, error)
                continue
            yield from self._one(value, name, number, "")

    def _one(self, value: Any, file: str, record: Any, split: str) -> Iterator[Conversation]:
        if not isinstance(value, dict):
            self.skip(file, record, R_NOT_OBJECT, f"got a JSON {type_name(value)}")
            return
        if not self.is_record(value):
            self.skip(file, record, R_UNKNOWN_SHAPE, f"not a {self.name} dialogue (keys: {', '.join(list(value)[:8])})")
            return
        conversation = self.convert(value, file, record)
        if conversation is None:
            return
        if split:
            conversation.metadata["split"] = split
        if not conversation.turns:
            self.skip(file, record, R_NO_MESSAGES, f"dialogue {conversation.id} has no turns")
            return
        yield conversation

    def is_record(self, value: Any) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def convert(self, value: Mapping[str, Any], file: str, record: Any) -> Conversation | None:  # pragma: no cover
        raise NotImplementedError


class AbcdReader(_DatasetReader):
    name = "abcd"
    description = "ABCD (Action-Based Conversations Dataset)"
    splits = ("train", "dev", "test")

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        if set(sample.top_keys) & set(cls.splits) and sample.records:
            first = sample.records[0]
            for split in cls.splits:
                items = first.get(split) if isinstance(first, dict) else None
                if isinstance(items, list) and items and _is_abcd(items[0]):
                    return 90
        return 90 if any(_is_abcd(r) for r in sample.records) else 0

    def is_record(self, value: Any) -> bool:
        return _is_abcd(value)

    def convert(self, value, file, record):
        cid = as_str(value.get("convo_id"))
        if cid is None:
            self.skip(file, record, R_MISSING_FIELD, "no convo_id", field="convo_id")
            return None
        original = value.get("original")
        if not isinstance(original, list):
            self.skip(file, record, R_BAD_FIELD, f"'original' is a JSON {type_name(original)}", field="original")
            return None
        delexed = value.get("delexed") if isinstance(value.get("delexed"), list) else []
        conversation = Conversation(id=cid, source={"file": file, "record": record, "format": "abcd"}, channel="chat")
        scenario = value.get("scenario") if isinstance(value.get("scenario"), dict) else {}
        personal = scenario.get("personal") if isinstance(scenario.get("personal"), dict) else {}
        if personal:
            conversation.customer_id = as_str(personal.get("account_id") or personal.get("username"))
            add_participant(conversation, Participant(
                id=conversation.customer_id, name=_title(personal.get("customer_name")), email=personal.get("email"),
                phone=personal.get("phone"), kind=Speaker.CUSTOMER,
                extra={k: personal[k] for k in ("username", "member_level") if personal.get(k)}))
        for key in ("flow", "subflow"):
            if scenario.get(key):
                conversation.metadata[key] = scenario[key]
                if key == "subflow":
                    conversation.tags.append(str(scenario[key]))
        for index, pair in enumerate(original):
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and isinstance(pair[1], str)):
                self.skip(file, record, R_BAD_FIELD, f"original[{index}] is not a [speaker, text] pair", part=f"original[{index}]")
                continue
            speaker, text = pair
            if speaker == "customer":
                conversation.turns.append(Turn(speaker=Speaker.CUSTOMER, text=text))
            elif speaker == "agent":
                conversation.turns.append(Turn(speaker=Speaker.AGENT, text=text))
            elif speaker == "action":
                targets = delexed[index].get("targets") if index < len(delexed) and isinstance(delexed[index], dict) else None
                name = targets[2] if isinstance(targets, list) and len(targets) > 3 and isinstance(targets[2], str) else "action"
                values = targets[3] if isinstance(targets, list) and len(targets) > 3 and isinstance(targets[3], list) else []
                call_id = f"{cid}-action-{index + 1}"
                conversation.turns.append(Turn(speaker=Speaker.AGENT, text="", tool_calls=[
                    ToolInvocation(name=name.replace("-", "_"), arguments={"values": values}, id=call_id)],
                    metadata={"action": name}))
                conversation.turns.append(Turn(speaker=Speaker.TOOL, text=text, tool_call_id=call_id))
            else:
                self.skip(file, record, R_BAD_FIELD, f"original[{index}] has speaker {speaker!r}", part=f"original[{index}]")
        return conversation


class TaskmasterReader(_DatasetReader):
    name = "taskmaster"
    description = "Taskmaster dialogues (utterances with api_call / api_response annotations)"

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        return 90 if any(_is_taskmaster(r) for r in sample.records) else 0

    def is_record(self, value: Any) -> bool:
        return _is_taskmaster(value)

    def convert(self, value, file, record):
        cid = as_str(value.get("conversation_id") or value.get("conversationId"))
        if cid is None:
            self.skip(file, record, R_MISSING_FIELD, "no conversation_id", field="conversation_id")
            return None
        conversation = Conversation(id=cid, source={"file": file, "record": record, "format": "taskmaster"})
        for key in ("vertical", "scenario", "instruction_id"):
            if value.get(key):
                conversation.metadata[key] = value[key]
        for index, utterance in enumerate(value.get("utterances") or []):
            if not isinstance(utterance, dict) or not isinstance(utterance.get("text"), str):
                self.skip(file, record, R_BAD_FIELD, f"utterances[{index}] has no text", part=f"utterances[{index}]")
                continue
            who = str(utterance.get("speaker", "")).lower()
            calls = self._calls(utterance.get("annotations"), cid)
            if who in ("user", "customer"):
                conversation.turns.append(Turn(speaker=Speaker.CUSTOMER, text=utterance["text"]))
                conversation.turns.extend(calls)
            elif who in ("assistant", "agent", "system"):
                conversation.turns.extend(calls)
                conversation.turns.append(Turn(speaker=Speaker.AGENT, text=utterance["text"]))
            else:
                self.skip(file, record, R_BAD_FIELD, f"utterances[{index}] has speaker {who!r}", part=f"utterances[{index}]")
        return conversation

    @staticmethod
    def _calls(annotations: Any, cid: str) -> list[Turn]:
        if not isinstance(annotations, list):
            return []
        calls: dict[str, dict[str, Any]] = {}
        order: list[str] = []
        for item in annotations:
            if not isinstance(item, dict):
                continue
            context = str(item.get("context") or "")
            number = context.rsplit("_", 1)[-1]
            entry = calls.setdefault(number, {})
            if number not in order:
                order.append(number)
            entry[str(item.get("name"))] = item.get("value")
        turns: list[Turn] = []
        for number in order:
            entry = calls[number]
            name = entry.get("api_call") or entry.get("api_response")
            if not name:
                continue
            call_id = f"{cid}-call-{number}"
            if "api_call" in entry:
                arguments = _json_or_raw(entry.get("request"))
                turns.append(Turn(speaker=Speaker.AGENT, text="", tool_calls=[
                    ToolInvocation(name=str(name), arguments=arguments if isinstance(arguments, dict) else {"value": arguments}, id=call_id)]))
            if "api_response" in entry:
                response = entry.get("response")
                turns.append(Turn(speaker=Speaker.TOOL, text=response if isinstance(response, str) else orjson.dumps(response).decode(),
                                  tool_call_id=call_id, metadata={"function": str(name)}))
        return turns


class SgdReader(_DatasetReader):
    name = "sgd"
    description = "Schema-Guided Dialogue (dialogues with USER / SYSTEM turns and service calls)"

    @classmethod
    def sniff(cls, sample: Sample) -> int:
        return 90 if any(_is_sgd(r) for r in sample.records) else 0

    def is_record(self, value: Any) -> bool:
        return _is_sgd(value)

    def convert(self, value, file, record):
        cid = as_str(value.get("dialogue_id"))
        if cid is None:
            self.skip(file, record, R_MISSING_FIELD, "no dialogue_id", field="dialogue_id")
            return None
        conversation = Conversation(id=cid, source={"file": file, "record": record, "format": "sgd"})
        if value.get("services"):
            conversation.metadata["services"] = value["services"]
            conversation.tags = [str(s) for s in value["services"]]
        for index, turn in enumerate(value.get("turns") or []):
            if not isinstance(turn, dict) or not isinstance(turn.get("utterance"), str):
                self.skip(file, record, R_BAD_FIELD, f"turns[{index}] has no utterance", part=f"turns[{index}]")
                continue
            frames = [f for f in turn.get("frames") or [] if isinstance(f, dict)]
            actions = [
                {"service": f.get("service"), **{k: a.get(k) for k in ("act", "slot", "values") if k in a}}
                for f in frames for a in f.get("actions") or [] if isinstance(a, dict)
            ]
            speaker = str(turn.get("speaker", "")).upper()
            if speaker == "USER":
                conversation.turns.append(Turn(speaker=Speaker.CUSTOMER, text=turn["utterance"], metadata={"actions": actions}))
            elif speaker == "SYSTEM":
                for position, frame in enumerate(frames):
                    call = frame.get("service_call")
                    if not isinstance(call, dict) or not call.get("method"):
                        continue
                    call_id = f"{cid}-{index}-{position}"
                    conversation.turns.append(Turn(speaker=Speaker.AGENT, text="", tool_calls=[ToolInvocation(
                        name=str(call["method"]), arguments=dict(call.get("parameters") or {}), id=call_id)],
                        metadata={"service": frame.get("service")}))
                    results = frame.get("service_results")
                    conversation.turns.append(Turn(speaker=Speaker.TOOL, text=orjson.dumps(results if results is not None else []).decode(),
                                                   tool_call_id=call_id, metadata={"function": str(call["method"])}))
                conversation.turns.append(Turn(speaker=Speaker.AGENT, text=turn["utterance"], metadata={"actions": actions}))
            else:
                self.skip(file, record, R_BAD_FIELD, f"turns[{index}] has speaker {speaker!r}", part=f"turns[{index}]")
        return conversation


def _is_abcd(value: Any) -> bool:
    return isinstance(value, dict) and "convo_id" in value and isinstance(value.get("original"), list)


def _is_taskmaster(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("utterances"), list) and (
        "conversation_id" in value or "instruction_id" in value or "conversationId" in value)


def _is_sgd(value: Any) -> bool:
    if not (isinstance(value, dict) and "dialogue_id" in value and isinstance(value.get("turns"), list)):
        return False
    first = value["turns"][0] if value["turns"] else None
    return isinstance(first, dict) and "utterance" in first


def _json_or_raw(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return {"_raw": value}
    return value if value is not None else {}


def _title(name: Any) -> str | None:
    if not isinstance(name, str) or not name.strip():
        return None
    return " ".join(part.capitalize() for part in name.split())
