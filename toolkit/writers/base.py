"""The writer interface: one :class:`Writer` per target format, knowing only :class:`Example`.

A writer does two things:

* :meth:`Writer.encode` turns one :class:`~toolkit.model.Example` into the target's record
  (a JSON-compatible dict), applying the target's rules: role names, alternation, where
  the system prompt goes, what a tool call looks like. What the target cannot express is
  refused with :class:`CannotExpress`, naming the example's conversation and the reason;
  what it can express after a lossless adjustment (merging two consecutive user messages
  for a target that needs strict alternation) is adjusted and reported.
* :meth:`Writer.write` writes a stream of encoded records to a path atomically (JSONL by
  default; Parquet and Hugging Face ``save_to_disk`` override it) and returns the paths
  it wrote.

Provenance (``metadata``) stays in the record for targets that ignore unknown keys; for
targets with closed schemas (``metadata_inline = False``: Vertex, Bedrock) :meth:`write`
moves it to a line-aligned sidecar file ``<output>.metadata.jsonl`` so the training file
stays valid and provenance is still kept.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Iterable

import orjson

from toolkit.io.jsonl import atomic_writer, dumps
from toolkit.model import Example, Message, content_text

Record = dict[str, Any]


class CannotExpress(ValueError):
    """An example the target format cannot express, with a short ``code`` and a human message."""

    def __init__(self, code: str, message: str, *, example: Example | None = None, target: str | None = None):
        self.code = code
        self.target = target
        self.example = example
        where = describe_example(example) if example is not None else ""
        super().__init__(f"{where}{target + ': ' if target else ''}{message}")
        self.detail = message


def describe_example(example: Example) -> str:
    """``conversation 1234 (samples/raw/zendesk.json:3): `` - who a message is about."""
    meta = dict(example_source(example))
    meta.update({k: v for k, v in (example.metadata or {}).items() if v is not None})
    parts = []
    if meta.get("conversation_id") is not None:
        parts.append(f"conversation {meta['conversation_id']}")
    elif meta.get("id") is not None:
        parts.append(f"example {meta['id']}")
    where = meta.get("source_file")
    if where is not None:
        record = meta.get("source_record")
        parts.append(f"({where}{':' + str(record) if record is not None else ''})")
    return (" ".join(parts) + ": ") if parts else ""


def example_source(example: Example) -> dict[str, Any]:
    """Where an example came from, for messages: its metadata, else what the converter noted.

    :class:`~toolkit.transforms.ToExamples` notes the conversation's file and record on the
    example object (not in its metadata, which is output) so that refusals can name them
    even when the metadata is a dataset's own or is stripped.
    """
    noted = getattr(example, "_ftkit_source", None) or {}
    return {k: v for k, v in noted.items() if v is not None}


class Writer:
    """Base writer: OpenAI-style JSONL with ``messages``; subclasses override what differs."""

    name = "openai"
    description = "OpenAI chat fine-tuning JSONL"
    suffix = ".jsonl"
    #: target supports ``weight`` 0/1 on assistant messages (per-reply examples need it)
    supports_weight = True
    #: target supports tool calls and tool results
    supports_tools = True
    #: roles allowed in ``messages``
    roles: tuple[str, ...] = ("system", "user", "assistant", "tool")
    #: write a UTF-8 BOM first (Azure OpenAI)
    bom = False
    #: metadata stays inside each record (else: a sidecar file)
    metadata_inline = True
    #: the output is a directory (Hugging Face save_to_disk) rather than a file
    directory_output = False

    def __init__(self, **options: Any):
        self.options = options
        # Called with a short adjustment name whenever encode() changes an example to fit.
        self.on_adjust: Callable[[str], None] = lambda what: None

    # ------------------------------------------------------------------ encoding

    def refuse(self, code: str, message: str, example: Example) -> CannotExpress:
        return CannotExpress(f"{self.name}-{code}", message, example=example, target=self.name)

    def check(self, example: Example) -> None:
        """Rules common to every chat target: some assistant reply, known roles, text content."""
        if not example.messages:
            raise self.refuse("empty", "the example has no messages", example)
        for index, message in enumerate(example.messages):
            if message.role not in self.roles:
                raise self.refuse("role", f"message {index + 1} has role {message.role!r}; "
                                  f"{self.name} accepts {', '.join(self.roles)}", example)
            if (message.tool_calls or message.role == "tool") and not self.supports_tools:
                raise self.refuse("tools", f"message {index + 1} is a tool call or tool result; {self.name} "
                                  "training data has no tool calls (drop tool turns or choose a target with tools)", example)
            if message.weight == 0 and not self.supports_weight:
                raise self.refuse("weight", f"message {index + 1} has weight 0 (a reply kept as context, not "
                                  f"trained); {self.name} cannot mask a reply from training (use --examples "
                                  "conversation, or a target with weights)", example)
            if isinstance(message.content, list):
                kinds = sorted({str(p.get("type")) for p in message.content if isinstance(p, dict)} - {"text"})
                if kinds:
                    raise self.refuse("content-parts", f"message {index + 1} has {', '.join(kinds)} content; "
                                      "ftkit writes text conversations", example)
            for call in message.tool_calls or []:
                arguments = call.function.arguments
                try:
                    parsed = orjson.loads(arguments) if isinstance(arguments, str) else None
                except orjson.JSONDecodeError as exc:
                    raise self.refuse("arguments", f"message {index + 1}: the arguments of tool call "
                                      f"{call.function.name!r} are not valid JSON ({exc}); the source record is "
                                      "malformed", example) from None
                if not isinstance(parsed, dict):
                    raise self.refuse("arguments", f"message {index + 1}: the arguments of tool call "
                                      f"{call.function.name!r} are not a JSON object", example)
        if not any(m.role == "assistant" for m in example.messages):
            raise self.refuse("no-assistant", "the example has no assistant message to learn from", example)

    def encode(self, example: Example) -> Record:
        """The target record for one example (with ``metadata`` when the example has it)."""
        self.check(example)
        record: Record = {"messages": [self.encode_message(m) for m in example.messages]}
        if example.tools is not None:
            record["tools"] = example.tools
        if example.parallel_tool_calls is not None:
            record["parallel_tool_calls"] = example.parallel_tool_calls
        return self.with_metadata(record, example)

    def encode_message(self, message: Message) -> Record:
        out = message.to_dict()
        if isinstance(message.content, list):
            out["content"] = content_text(message.content)
        return out

    def with_metadata(self, record: Record, example: Example) -> Record:
        if example.metadata is not None:
            record["metadata"] = example.metadata
        return record

    # ------------------------------------------------------------------ writing

    def output_paths(self, path: str | os.PathLike[str]) -> list[Path]:
        """Every path :meth:`write` creates for ``path`` (for messages and clean-up)."""
        paths = [Path(path)]
        if not self.metadata_inline:
            paths.append(sidecar_path(path))
        return paths

    def write(self, path: str | os.PathLike[str], records: Iterable[Record]) -> int:
        """Write encoded records to ``path`` atomically; returns the number written."""
        if self.metadata_inline:
            count = 0
            with atomic_writer(path) as out:
                if self.bom:
                    out.write(b"\xef\xbb\xbf")
                for record in records:
                    out.write(dumps(record))
                    out.write(b"\n")
                    count += 1
            return count
        return _write_with_sidecar(path, records, bom=self.bom)

    def finish(self, path: str | os.PathLike[str], count: int) -> list[Path]:
        """Write companion files after the data (LLaMA-Factory's dataset_info.json ...)."""
        return []


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """``out/train.jsonl`` -> ``out/train.metadata.jsonl`` (provenance for closed-schema targets)."""
    target = Path(path)
    name = target.name
    for suffix in (".jsonl.gz", ".jsonl", ".json"):
        if name.endswith(suffix):
            gz = ".gz" if suffix.endswith(".gz") else ""
            return target.with_name(name[: -len(suffix)] + ".metadata.jsonl" + gz)
    return target.with_name(name + ".metadata.jsonl")


def _write_with_sidecar(path: str | os.PathLike[str], records: Iterable[Record], *, bom: bool) -> int:
    count = 0
    side = sidecar_path(path)
    wrote_meta = False
    with atomic_writer(path) as out, atomic_writer(side) as meta_out:
        if bom:
            out.write(b"\xef\xbb\xbf")
        for record in records:
            meta = record.pop("metadata", None)
            out.write(dumps(record))
            out.write(b"\n")
            count += 1
            # Line N of the sidecar describes line N of the data file.
            meta_out.write(dumps({"line": count, "metadata": meta}))
            meta_out.write(b"\n")
            wrote_meta = wrote_meta or meta is not None
    if not wrote_meta:
        side.unlink(missing_ok=True)  # --strip-metadata: no provenance, no sidecar
    return count


def merge_consecutive(messages: list[Record], roles: tuple[str, ...], on_merge: Callable[[], None],
                      key: str = "role", text: str = "content") -> list[Record]:
    """Join consecutive text messages of the same role (for targets that need strict alternation)."""
    out: list[Record] = []
    for message in messages:
        if out and out[-1].get(key) == message.get(key) and message.get(key) in roles \
                and isinstance(out[-1].get(text), str) and isinstance(message.get(text), str) \
                and out[-1].get("weight") == message.get("weight"):
            out[-1] = {**out[-1], text: out[-1][text] + "\n\n" + message[text]}
            on_merge()
        else:
            out.append(dict(message))
    return out


def check_alternation(writer: Writer, messages: list[Record], example: Example, *, user: str = "user",
                      assistant: str = "assistant", tool: str | None = "tool") -> None:
    """Strict turn order: user first, then assistant and user alternating, assistant last.

    Tool results (``tool``) may follow an assistant message that called tools, and an
    assistant message may follow tool results.
    """
    previous: str | None = None
    previous_called = False
    for index, message in enumerate(messages):
        role = message.get("role")
        if previous is None:
            ok = role == user
        elif role == user:
            ok = previous == assistant and not previous_called
        elif role == assistant:
            ok = previous in (user, tool)
        elif tool is not None and role == tool:
            ok = (previous == assistant and previous_called) or previous == tool
        else:
            ok = False
        if not ok:
            expected = "a user message" if previous is None else f"the turn after {previous!r}"
            raise writer.refuse("order", f"message {index + 1} ({role!r}) breaks the strict user/assistant "
                                f"alternation {writer.name} requires (expected {expected})", example)
        previous = role
        previous_called = bool(message.get("tool_calls"))
    if previous != assistant:
        raise writer.refuse("order", f"the last message must be an assistant message for {writer.name}", example)
