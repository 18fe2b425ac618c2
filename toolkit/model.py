"""The canonical data model: the hub every reader writes to and every writer reads from.

Two shapes of the same data live here:

* :class:`Conversation` is what a helpdesk holds: ordered :class:`Turn` objects, each
  with a :class:`Speaker` kind (customer, agent, bot, system event, internal note, tool),
  plus the conversation's metadata (ids, channel, customer, tags, CSAT, status).
* :class:`Example` is what a trainer consumes: OpenAI-style chat :class:`Message` objects
  (the superset nearly every trainer reads) plus a ``metadata`` block carrying provenance.

Both round-trip losslessly through plain JSON-compatible dicts: keys the model does not
know are kept in ``extra`` and written back, so reading and re-writing a file never drops data.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

JSON = Any

_MISSING: Any = object()


class Speaker(str, enum.Enum):
    """Who produced a helpdesk turn."""

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"  # system events: "Eric joined the chat", status changes, assignments
    NOTE = "note"  # internal notes, never shown to the customer
    TOOL = "tool"  # an API / database result the agent saw (ABCD actions, Taskmaster api_response)

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.value


class Role(str, enum.Enum):
    """Chat roles of a training example message."""

    SYSTEM = "system"
    DEVELOPER = "developer"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.value


# --------------------------------------------------------------------------- conversations


@dataclass
class Participant:
    """A person or bot taking part in a conversation, as the export describes them."""

    id: str | None = None
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    kind: Speaker | None = None
    extra: dict[str, JSON] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {}
        for key in ("id", "name", "email", "phone"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.kind is not None:
            out["kind"] = self.kind.value
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> "Participant":
        known = {"id", "name", "email", "phone", "kind"}
        kind = data.get("kind")
        return cls(
            id=data.get("id"),
            name=data.get("name"),
            email=data.get("email"),
            phone=data.get("phone"),
            kind=Speaker(kind) if kind is not None else None,
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass
class ToolInvocation:
    """An action an agent took (an API call) inside a helpdesk turn."""

    name: str
    arguments: dict[str, JSON] = field(default_factory=dict)
    id: str | None = None

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"name": self.name, "arguments": self.arguments}
        if self.id is not None:
            out["id"] = self.id
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> "ToolInvocation":
        return cls(name=data["name"], arguments=dict(data.get("arguments") or {}), id=data.get("id"))


@dataclass
class Turn:
    """One message in a helpdesk conversation.

    ``text`` is plain text (readers convert HTML). A turn by an agent may carry
    ``tool_calls`` (actions taken); a ``Speaker.TOOL`` turn carries the result, linked by
    ``tool_call_id``.
    """

    speaker: Speaker
    text: str = ""
    time: str | None = None  # ISO 8601 where the source has a time
    author: str | None = None  # display name
    author_id: str | None = None
    id: str | None = None
    tool_calls: list[ToolInvocation] = field(default_factory=list)
    tool_call_id: str | None = None
    metadata: dict[str, JSON] = field(default_factory=dict)
    extra: dict[str, JSON] = field(default_factory=dict)  # keys the model does not know, kept for the round trip

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"speaker": self.speaker.value, "text": self.text}
        for key in ("time", "author", "author_id", "id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.tool_calls:
            out["tool_calls"] = [call.to_dict() for call in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.metadata:
            out["metadata"] = self.metadata
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> "Turn":
        return cls(
            speaker=Speaker(data["speaker"]),
            text=data.get("text", ""),
            time=data.get("time"),
            author=data.get("author"),
            author_id=data.get("author_id"),
            id=data.get("id"),
            tool_calls=[ToolInvocation.from_dict(c) for c in data.get("tool_calls") or []],
            tool_call_id=data.get("tool_call_id"),
            metadata=dict(data.get("metadata") or {}),
            extra={k: v for k, v in data.items() if k not in _TURN_KEYS},
        )


_TURN_KEYS = frozenset({"speaker", "text", "time", "author", "author_id", "id", "tool_calls", "tool_call_id", "metadata"})
_CONVERSATION_KEYS = frozenset({"id", "turns", "customer_id", "channel", "subject", "status", "csat", "tags", "language",
                                "created_at", "participants", "source", "metadata"})


@dataclass
class Conversation:
    """A helpdesk conversation (ticket, chat, thread) in canonical form.

    ``source`` records provenance: at least ``file`` and ``record`` (the 1-based line,
    row or index of the record in that file) so every later stage can point back to it.
    """

    id: str
    turns: list[Turn] = field(default_factory=list)
    customer_id: str | None = None
    channel: str | None = None
    subject: str | None = None
    status: str | None = None
    csat: JSON = None  # a rating as the source gives it: "good"/"bad", 1-5, ...
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    created_at: str | None = None
    participants: list[Participant] = field(default_factory=list)
    source: dict[str, JSON] = field(default_factory=dict)
    metadata: dict[str, JSON] = field(default_factory=dict)
    extra: dict[str, JSON] = field(default_factory=dict)  # keys the model does not know, kept for the round trip

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"id": self.id}
        for key in ("customer_id", "channel", "subject", "status", "csat", "language", "created_at"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.tags:
            out["tags"] = list(self.tags)
        if self.participants:
            out["participants"] = [p.to_dict() for p in self.participants]
        out["turns"] = [t.to_dict() for t in self.turns]
        if self.source:
            out["source"] = self.source
        if self.metadata:
            out["metadata"] = self.metadata
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> "Conversation":
        return cls(
            id=str(data["id"]),
            turns=[Turn.from_dict(t) for t in data.get("turns") or []],
            customer_id=data.get("customer_id"),
            channel=data.get("channel"),
            subject=data.get("subject"),
            status=data.get("status"),
            csat=data.get("csat"),
            tags=list(data.get("tags") or []),
            language=data.get("language"),
            created_at=data.get("created_at"),
            participants=[Participant.from_dict(p) for p in data.get("participants") or []],
            source=dict(data.get("source") or {}),
            metadata=dict(data.get("metadata") or {}),
            extra={k: v for k, v in data.items() if k not in _CONVERSATION_KEYS},
        )


# --------------------------------------------------------------------------- examples


@dataclass
class FunctionCall:
    name: str
    arguments: str  # a JSON string, as OpenAI requires


@dataclass
class ToolCall:
    """An assistant's tool call in OpenAI form (``arguments`` is a JSON *string*)."""

    id: str
    function: FunctionCall
    type: str = "function"
    extra: dict[str, JSON] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {
            "id": self.id,
            "type": self.type,
            "function": {"name": self.function.name, "arguments": self.function.arguments},
        }
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> "ToolCall":
        fn = data.get("function") or {}
        return cls(
            id=data.get("id"),  # type: ignore[arg-type]  # validators report a missing id
            type=data.get("type", "function"),
            function=FunctionCall(name=fn.get("name"), arguments=fn.get("arguments")),  # type: ignore[arg-type]
            extra={k: v for k, v in data.items() if k not in {"id", "type", "function"}},
        )


_MESSAGE_KEYS = ("role", "content", "name", "weight", "tool_calls", "tool_call_id")


@dataclass
class Message:
    """One chat message of a training example.

    ``content`` is a string, a list of content parts (``{"type": "text", "text": ...}``),
    or ``None`` (an assistant message that only calls tools). ``weight`` is 0 or 1 on
    assistant messages (OpenAI); ``None`` means absent (trainable by default).
    """

    role: str
    content: str | list[dict[str, JSON]] | None = None
    name: str | None = None
    weight: int | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    extra: dict[str, JSON] = field(default_factory=dict)
    # Whether ``content`` was present in the source (``"content": null`` vs no key at all).
    content_present: bool = True

    @property
    def text(self) -> str:
        """The message's text: a string content, or its text parts joined by newlines."""
        return content_text(self.content)

    @property
    def trainable(self) -> bool:
        """Whether a trainer learns from this message (assistant and weight != 0)."""
        return self.role == Role.ASSISTANT.value and self.weight != 0

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"role": self.role}
        if self.content is not None or self.content_present:
            out["content"] = self.content
        if self.name is not None:
            out["name"] = self.name
        if self.tool_calls is not None:
            out["tool_calls"] = [c.to_dict() for c in self.tool_calls]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        if self.weight is not None:
            out["weight"] = self.weight
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> "Message":
        calls = data.get("tool_calls")
        return cls(
            role=data.get("role"),  # type: ignore[arg-type]
            content=data.get("content"),
            name=data.get("name"),
            weight=data.get("weight"),
            tool_calls=[ToolCall.from_dict(c) for c in calls] if isinstance(calls, list) else None,
            tool_call_id=data.get("tool_call_id"),
            extra={k: v for k, v in data.items() if k not in _MESSAGE_KEYS},
            content_present="content" in data,
        )


_EXAMPLE_KEYS = ("messages", "tools", "parallel_tool_calls", "metadata")


@dataclass
class Example:
    """A training example: chat messages, optional tools, and provenance metadata.

    ``metadata`` conventionally carries ``id``, ``source_file``, ``source_record``,
    ``conversation_id`` and ``customer_id`` (written by the converters, read by the splitters
    and the linter), and ``ftkit`` (per-example lint suppressions).
    """

    messages: list[Message] = field(default_factory=list)
    tools: list[dict[str, JSON]] | None = None
    parallel_tool_calls: bool | None = None
    metadata: dict[str, JSON] | None = None
    extra: dict[str, JSON] = field(default_factory=dict)

    def to_dict(self) -> dict[str, JSON]:
        out: dict[str, JSON] = {"messages": [m.to_dict() for m in self.messages]}
        if self.tools is not None:
            out["tools"] = self.tools
        if self.parallel_tool_calls is not None:
            out["parallel_tool_calls"] = self.parallel_tool_calls
        out.update(self.extra)
        if self.metadata is not None:
            out["metadata"] = self.metadata
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, JSON]) -> "Example":
        messages = data.get("messages")
        return cls(
            messages=[Message.from_dict(m) for m in messages if isinstance(m, Mapping)]
            if isinstance(messages, list)
            else [],
            tools=data.get("tools"),
            parallel_tool_calls=data.get("parallel_tool_calls"),
            metadata=data.get("metadata"),
            extra={k: v for k, v in data.items() if k not in _EXAMPLE_KEYS},
        )

    # Convenience views used by lint rules, splitters and reports.

    def iter_role(self, role: str) -> Iterator[tuple[int, Message]]:
        """Yield ``(index, message)`` for every message with ``role``."""
        for index, message in enumerate(self.messages):
            if message.role == role:
                yield index, message

    @property
    def system_prompt(self) -> str | None:
        for message in self.messages:
            if message.role in (Role.SYSTEM.value, Role.DEVELOPER.value):
                return message.text
        return None

    @property
    def conversation_id(self) -> str | None:
        meta = self.metadata or {}
        value = meta.get("conversation_id")
        return None if value is None else str(value)


# --------------------------------------------------------------------------- helpers


def content_text(content: str | list[dict[str, JSON]] | None) -> str:
    """Plain text of a message content: a string, or the text parts joined by newlines."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "\n".join(parts)
    return ""


def examples_from_dicts(records: Iterable[Mapping[str, JSON]]) -> Iterator[Example]:
    """Parse an iterable of dicts into :class:`Example` objects, lazily."""
    for record in records:
        yield Example.from_dict(record)
