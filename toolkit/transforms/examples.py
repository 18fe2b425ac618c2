"""Conversation -> Example: chat messages, tool calls, provenance, and a token budget.

Two shapes:

* ``mode="conversation"`` (default): one example per conversation, every agent reply
  trainable.
* ``mode="per-reply"``: one example per agent reply, ending with that reply; earlier
  agent replies stay as context with ``weight: 0`` (trainers that honour weights learn
  each reply once, in its own context).

Within a token budget (``max_tokens``, counted with a tiktoken encoding: an estimate,
like every ftkit token figure), a conversation that is too long is cut between exchanges:
``overflow="split"`` (default) packs consecutive exchanges into as many examples as needed,
``"truncate"`` keeps only the first part, ``"skip"`` skips the conversation. In per-reply
mode, the oldest exchanges are dropped from the context until the example fits. An
exchange that alone exceeds the budget is skipped and reported.

Turns become messages: customer -> ``user``, agent -> ``assistant`` (its ``tool_calls``
become OpenAI tool calls with JSON-string arguments), tool turns -> ``tool`` messages linked
by ``tool_call_id``. Provenance goes into ``metadata``: ``id`` (stable: source file name,
conversation id, and the part or reply number), ``source_file``, ``source_record``,
``conversation_id``, ``customer_id``, ``channel``, ``language``, ``tags``, ``csat``,
``status``, ``created_at``.
"""

from __future__ import annotations

import os
from typing import Any, Iterator

import orjson

from toolkit.model import Conversation, Example, FunctionCall, Message, Speaker, ToolCall, content_text
from toolkit.tokens import count_example, get_encoding
from toolkit.tokens.counting import TOKENS_FOR_TOOLS, TOKENS_PER_REPLY
from toolkit.transforms.base import ConvertReport, Step
from toolkit.transforms.filters import csat_value
from toolkit.transforms.system_prompt import SYSTEM_PROMPT_KEY

MODES = ("conversation", "per-reply")
OVERFLOWS = ("split", "truncate", "skip")

# Conversation fields copied into example metadata when present.
_PROVENANCE_FIELDS = ("customer_id", "channel", "language", "status", "created_at")


class ExpressError(ValueError):
    """A conversation that cannot be turned into chat messages (e.g. a tool result with no call)."""


def conversation_messages(conversation: Conversation) -> list[Message]:
    """The chat messages of a cleaned conversation (customer/agent/tool turns).

    Raises :class:`ExpressError` for turns that have no chat form: speakers other than
    customer/agent/tool (run :class:`MapRoles` first), or a tool result that answers no call.
    """
    messages: list[Message] = []
    system = conversation.metadata.get(SYSTEM_PROMPT_KEY)
    if isinstance(system, str):
        role = "developer" if conversation.metadata.get("system_role") == "developer" else "system"
        messages.append(Message(role=role, content=system))
    # Chat-format sources (an OpenAI file being converted) carry message names as authors;
    # helpdesk authors are people's names and never become message names.
    names_from_authors = conversation.source.get("format") == "openai"
    pending: list[str] = []  # tool call ids awaiting their result, in call order
    answered: set[str] = set()
    call_number = 0
    for index, turn in enumerate(conversation.turns):
        if turn.speaker is Speaker.CUSTOMER:
            messages.append(_with_turn_extras(Message(role="user", content=_content(turn)), turn, names_from_authors))
        elif turn.speaker is Speaker.AGENT:
            calls = None
            if turn.tool_calls:
                calls = []
                for invocation in turn.tool_calls:
                    call_number += 1
                    call_id = invocation.id or f"call_{call_number}"
                    arguments = _arguments_json(invocation.arguments)
                    calls.append(ToolCall(id=str(call_id), function=FunctionCall(name=invocation.name, arguments=arguments)))
                    pending.append(str(call_id))
            content = _content(turn) if (turn.text or not calls) else None
            message = Message(role="assistant", content=content, tool_calls=calls)
            weight = turn.metadata.get("weight")
            if weight in (0, 1) and not isinstance(weight, bool):
                message.weight = weight
            messages.append(_with_turn_extras(message, turn, names_from_authors))
        elif turn.speaker is Speaker.TOOL:
            call_id = turn.tool_call_id
            if call_id is None:
                if not pending:
                    raise ExpressError(f"turn {index + 1}: a tool result that answers no tool call")
                call_id = pending[0]
            call_id = str(call_id)
            if call_id in pending:
                pending.remove(call_id)
            elif call_id not in answered:
                raise ExpressError(f"turn {index + 1}: tool result for call {call_id!r}, which no agent turn made")
            answered.add(call_id)
            messages.append(Message(role="tool", content=_content(turn), tool_call_id=call_id))
        else:
            raise ExpressError(
                f"turn {index + 1} is a {turn.speaker.value} turn; map or drop it first (MapRoles)"
            )
    return messages


def _content(turn: Any) -> str | list[dict[str, Any]]:
    """The turn's text, or its original content parts when no step changed the text."""
    parts = turn.metadata.get("content")
    if isinstance(parts, list) and content_text(parts) == turn.text:
        return parts
    return turn.text


def _arguments_json(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    if isinstance(arguments, dict) and set(arguments) == {"_raw"} and isinstance(arguments["_raw"], str):
        return arguments["_raw"]  # arguments that were not JSON in the source: kept verbatim
    return orjson.dumps(arguments).decode()


def _with_turn_extras(message: Message, turn: Any, names_from_authors: bool = False) -> Message:
    name = turn.metadata.get("name")
    if not (isinstance(name, str) and name) and names_from_authors:
        name = turn.author
    if isinstance(name, str) and name:
        message.name = name
    return message


def provenance(conversation: Conversation) -> dict[str, Any]:
    """The metadata block every example of ``conversation`` carries."""
    source_file = conversation.source.get("file")
    base = os.path.basename(str(source_file)) if source_file else "input"
    original = conversation.metadata.get("example")
    if isinstance(original, dict) and original:
        # Converting a dataset that already carries provenance: keep it (it points at the
        # helpdesk record, which is more useful than the intermediate file) and fill gaps.
        meta = dict(original)
        meta.setdefault("id", f"{base}:{conversation.id}")
        meta.setdefault("conversation_id", conversation.id)
        return meta
    meta: dict[str, Any] = {"id": f"{base}:{conversation.id}"}
    if source_file is not None:
        meta["source_file"] = str(source_file)
    if conversation.source.get("record") is not None:
        meta["source_record"] = conversation.source.get("record")
    meta["conversation_id"] = conversation.id
    for key in _PROVENANCE_FIELDS:
        value = getattr(conversation, key)
        if value is not None:
            meta[key] = value
    if conversation.tags:
        meta["tags"] = list(conversation.tags)
    if conversation.csat is not None:
        # A rating object may carry the customer's free-text comment (unredacted): keep the score.
        meta["csat"] = csat_value(conversation.csat) if isinstance(conversation.csat, dict) else conversation.csat
    return meta


class _Tools:
    """Tool definitions plus the source's ``parallel_tool_calls`` flag, carried together."""

    __slots__ = ("tools", "parallel")

    def __init__(self, tools: Any, parallel: bool):
        self.tools = tools
        self.parallel = parallel


class ToExamples(Step):
    """Turn cleaned conversations into examples (see the module doc for the options).

    ``encoding`` names the tiktoken encoding used for the budget (default ``o200k_base``);
    ``tools`` (a list of OpenAI tool definitions) is attached to examples that call tools,
    unless the conversation carries its own (``metadata["tools"]``). Without either,
    ``infer_tools`` (default on) declares each called function with a parameters schema
    inferred from the arguments it was called with in that conversation (helpdesk exports
    record the calls, not the API's definitions; targets want the tools declared).
    """

    name = "examples"
    accepts = "conversation"
    produces = "example"

    def __init__(
        self,
        mode: str = "conversation",
        *,
        max_tokens: int | None = None,
        encoding: str = "o200k_base",
        overflow: str = "split",
        tools: list[dict[str, Any]] | None = None,
        infer_tools: bool = True,
    ):
        if mode not in MODES:
            raise ValueError(f"examples mode must be one of {', '.join(MODES)}, got {mode!r}")
        if overflow not in OVERFLOWS:
            raise ValueError(f"overflow must be one of {', '.join(OVERFLOWS)}, got {overflow!r}")
        if max_tokens is not None and max_tokens <= 0:
            raise ValueError("max_tokens must be a positive number")
        self.mode = mode
        self.max_tokens = max_tokens
        self.encoding_name = encoding
        self._encoding = get_encoding(encoding) if max_tokens is not None else None
        self.overflow = overflow
        self.tools = tools
        self.infer_tools = infer_tools

    def process(self, conversation: Conversation, report: ConvertReport) -> Iterator[Example] | None:
        try:
            messages = conversation_messages(conversation)
        except ExpressError as exc:
            report.skip("cannot-express", str(exc), conversation=conversation, stage="examples", step=self.name)
            return None
        if not any(m.role == "assistant" for m in messages):
            report.skip("no-agent-reply", "no assistant message", conversation=conversation, stage="examples", step=self.name)
            return None
        tools = normalize_tools(conversation.metadata.get("tools"))
        if not tools and any(m.tool_calls for m in messages):
            tools = self.tools or (infer_tools(messages) if self.infer_tools else None)
        meta = provenance(conversation)
        source = {"source_file": conversation.source.get("file"), "source_record": conversation.source.get("record"),
                  "conversation_id": conversation.id}
        parallel = conversation.metadata.get("parallel_tool_calls")
        if isinstance(parallel, bool):
            tools = _Tools(tools, parallel)
        if self.mode == "per-reply":
            return _noting_source(self._per_reply(conversation, messages, tools, meta, report), source)
        return _noting_source(self._whole(conversation, messages, tools, meta, report), source)

    # ------------------------------------------------------------------ helpers

    def _fixed_tokens(self, tools: Any) -> int:
        if isinstance(tools, _Tools):
            tools = tools.tools
        fixed = TOKENS_PER_REPLY
        if tools:
            fixed += TOKENS_FOR_TOOLS + len(
                self._encoding.encode_ordinary(orjson.dumps(tools, option=orjson.OPT_SORT_KEYS).decode())  # type: ignore[union-attr]
            )
        return fixed

    def _costs(self, messages: list[Message]) -> list[int]:
        return count_example(Example(messages=messages), self._encoding).per_message  # type: ignore[arg-type]

    @staticmethod
    def _segments(body: list[Message]) -> list[tuple[int, int]]:
        """``(start, end)`` index ranges of exchanges: each starts at a user message after an assistant turn."""
        bounds: list[int] = [0]
        for i in range(1, len(body)):
            if body[i].role == "user" and body[i - 1].role in ("assistant", "tool"):
                bounds.append(i)
        bounds.append(len(body))
        return [(bounds[k], bounds[k + 1]) for k in range(len(bounds) - 1)]

    def _make(self, messages: list[Message], tools: Any, meta: dict[str, Any], suffix: str | None) -> Example:
        metadata = dict(meta)
        if suffix:
            metadata["id"] = f"{meta['id']}#{suffix}"
        if isinstance(tools, _Tools):
            example = Example(messages=messages, tools=tools.tools, parallel_tool_calls=tools.parallel, metadata=metadata)
        else:
            example = Example(messages=messages, tools=tools, metadata=metadata)
        return example

    def _whole(self, conversation: Conversation, messages: list[Message], tools: Any, meta: dict[str, Any],
               report: ConvertReport) -> Iterator[Example]:
        if self.max_tokens is None:
            yield self._make(messages, tools, meta, None)
            return
        system = [m for m in messages[:1] if m.role == "system"]
        body = messages[len(system):]
        costs = self._costs(messages)
        sys_cost = sum(costs[: len(system)])
        body_costs = costs[len(system):]
        fixed = self._fixed_tokens(tools) + sys_cost
        if fixed + sum(body_costs) <= self.max_tokens:
            yield self._make(messages, tools, meta, None)
            return
        if self.overflow == "skip":
            report.skip("over-token-budget", f"about {fixed + sum(body_costs)} tokens ({self.encoding_name}, estimate) "
                        f"> {self.max_tokens}", conversation=conversation, stage="examples", step=self.name)
            return
        chunks: list[list[Message]] = []
        current: list[Message] = []
        current_cost = 0
        for start, end in self._segments(body):
            seg_cost = sum(body_costs[start:end])
            if fixed + seg_cost > self.max_tokens:
                if current:
                    chunks.append(current)
                    current, current_cost = [], 0
                report.skip("over-token-budget", f"one exchange (messages {start + len(system) + 1}-{end + len(system)}) "
                            f"is about {fixed + seg_cost} tokens ({self.encoding_name}, estimate) > {self.max_tokens}",
                            conversation=conversation, stage="examples", step=self.name)
                continue
            if current and fixed + current_cost + seg_cost > self.max_tokens:
                chunks.append(current)
                current, current_cost = [], 0
            current.extend(body[start:end])
            current_cost += seg_cost
        if current:
            chunks.append(current)
        replied = [c for c in chunks if any(m.role == "assistant" for m in c)]
        report.adjust("unanswered-part-dropped", len(chunks) - len(replied))
        chunks = replied
        if self.overflow == "truncate" and len(chunks) > 1:
            report.adjust("truncated-to-token-budget")
            chunks = chunks[:1]
        elif len(chunks) > 1:
            report.adjust("split-to-token-budget")
        for number, chunk in enumerate(chunks, 1):
            yield self._make(system + chunk, tools, meta, f"part{number}" if len(chunks) > 1 else None)

    def _per_reply(self, conversation: Conversation, messages: list[Message], tools: Any, meta: dict[str, Any],
                   report: ConvertReport) -> Iterator[Example]:
        system = [m for m in messages[:1] if m.role == "system"]
        body = messages[len(system):]
        costs = self._costs(messages) if self.max_tokens is not None else []
        sys_cost = sum(costs[: len(system)]) if costs else 0
        body_costs = costs[len(system):]
        fixed = (self._fixed_tokens(tools) + sys_cost) if self.max_tokens is not None else 0
        reply_number = 0
        for index, message in enumerate(body):
            if message.role != "assistant":
                continue
            reply_number += 1
            if message.weight == 0:
                report.adjust("untrained-reply-not-a-target")
                continue
            context = [
                _masked(m) if m.role == "assistant" else m
                for m in body[:index]
            ]
            target = _unweighted(message)
            start = 0
            if self.max_tokens is not None:
                total = fixed + sum(body_costs[: index + 1])
                if total > self.max_tokens:
                    # Drop whole exchanges from the front until it fits.
                    starts = [s for s, _ in self._segments(body[: index + 1])]
                    fitting = [s for s in starts if fixed + sum(body_costs[s : index + 1]) <= self.max_tokens]
                    if not fitting:
                        report.skip("over-token-budget", f"reply {reply_number} with its question is over "
                                    f"{self.max_tokens} tokens ({self.encoding_name}, estimate)",
                                    conversation=conversation, stage="examples", step=self.name)
                        continue
                    start = fitting[0]
                    report.adjust("context-trimmed-to-token-budget")
            window = context[start:] + [target]
            if not any(m.role == "user" for m in window):
                # A reply with no question before it teaches nothing (kept leading agent turns).
                report.adjust("reply-without-question-not-a-target")
                continue
            yield self._make(system + window, tools, {**meta, "reply_index": reply_number}, f"r{reply_number}")


def normalize_tools(tools: Any) -> Any:
    """OpenAI-form tool definitions: bare function definitions (ShareGPT / LLaMA-Factory's
    ``{"name", "description", "parameters"}``) are wrapped as ``{"type": "function", "function": ...}``."""
    if not isinstance(tools, list):
        return tools
    out = []
    for tool in tools:
        if isinstance(tool, dict) and "function" not in tool and isinstance(tool.get("name"), str):
            tool = {"type": "function", "function": tool}
        out.append(tool)
    return out


def _json_type(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"type": "boolean"}
    if isinstance(value, int):
        return {"type": "integer"}
    if isinstance(value, float):
        return {"type": "number"}
    if isinstance(value, str):
        return {"type": "string"}
    if isinstance(value, list):
        item_types = [_json_type(v) for v in value]
        schema: dict[str, Any] = {"type": "array"}
        if item_types and all(t == item_types[0] for t in item_types):
            schema["items"] = item_types[0]
        return schema
    if isinstance(value, dict):
        return {"type": "object", "properties": {k: _json_type(v) for k, v in value.items()}}
    return {}  # null: any type


def infer_tools(messages: list[Message]) -> list[dict[str, Any]]:
    """OpenAI tool definitions for the functions ``messages`` call, inferred from their arguments.

    A parameter's type is the JSON type of the values it was called with (no type when calls
    disagree or pass null); parameters passed in every call are ``required``. Functions are
    listed in order of first call; the result is deterministic.
    """
    seen: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        for call in message.tool_calls or []:
            try:
                arguments = orjson.loads(call.function.arguments) if call.function.arguments else {}
            except orjson.JSONDecodeError:
                arguments = None
            seen.setdefault(call.function.name, []).append(arguments if isinstance(arguments, dict) else {})
    tools = []
    for name, calls in seen.items():
        properties: dict[str, Any] = {}
        for arguments in calls:
            for key, value in arguments.items():
                schema = _json_type(value)
                if key not in properties:
                    properties[key] = schema
                elif properties[key] != schema:
                    properties[key] = {}
        required = [k for k in properties if all(k in a for a in calls)]
        parameters: dict[str, Any] = {"type": "object", "properties": properties}
        if required:
            parameters["required"] = required
        tools.append({"type": "function", "function": {"name": name, "parameters": parameters}})
    return tools


def _noting_source(examples: Iterator[Example], source: dict[str, Any]) -> Iterator[Example]:
    """Note the conversation's file and record on each example object.

    Not output: it lets reports and refusals name the source even when the metadata is a
    dataset's own or is stripped.
    """
    for example in examples:
        example._ftkit_source = source  # type: ignore[attr-defined]
        yield example


def _masked(message: Message) -> Message:
    return Message(role=message.role, content=message.content, name=message.name, weight=0,
                   tool_calls=message.tool_calls, tool_call_id=message.tool_call_id, extra=dict(message.extra))


def _unweighted(message: Message) -> Message:
    return Message(role=message.role, content=message.content, name=message.name, weight=None,
                   tool_calls=message.tool_calls, tool_call_id=message.tool_call_id, extra=dict(message.extra))
