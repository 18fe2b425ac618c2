"""The step protocol shared by every transform, the :class:`Pipeline` that chains them,
and the :class:`ConvertReport` every step reports skips and drops to.

A step is a callable that takes an iterable and yields (the datatrove style): most steps
take :class:`~toolkit.model.Conversation` objects and yield conversations; the
:class:`~toolkit.transforms.examples.ToExamples` step turns conversations into
:class:`~toolkit.model.Example` objects, and later steps work on examples. Steps never
hold more than the item in hand, so a pipeline streams.

Nothing is dropped silently: a step that removes a whole conversation calls
``report.skip(...)`` with a reason (counted, and streamed to ``--skipped FILE``), and a
step that removes turns inside a conversation counts them with ``report.drop_turns(...)``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from toolkit.model import Conversation, Example

# How many skipped records the report keeps in memory (counts are always complete; the
# full list streams to the ``sink`` so memory does not grow with the input).
KEEP_SKIPPED = 1000


@dataclass
class SkipRecord:
    """One conversation (or raw record) that did not become output, and why."""

    reason: str  # short kebab-case code: "too-few-turns", "no-agent-reply", "target:bedrock" ...
    detail: str = ""
    stage: str = "transform"  # read | transform | examples | write
    file: str | None = None
    record: int | str | None = None
    conversation_id: str | None = None
    step: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "stage": self.stage,
            "reason": self.reason,
            "detail": self.detail,
            "file": self.file,
            "record": self.record,
            "conversation_id": self.conversation_id,
        }
        if self.step:
            out["step"] = self.step
        return out

    def describe(self) -> str:
        where = self.file or "<input>"
        if self.record is not None:
            where += f":{self.record}"
        who = f" conversation {self.conversation_id}" if self.conversation_id is not None else ""
        detail = f": {self.detail}" if self.detail else ""
        return f"{where}{who}: {self.reason}{detail}"


@dataclass
class ConvertReport:
    """What a conversion did: conversations read, examples written, every skip with its reason.

    ``skip_counts`` counts skipped records by reason; ``turn_drops`` counts turns removed
    inside kept conversations (internal notes, bot turns, system events, empty turns ...);
    ``adjustments`` counts changes a step or writer made to fit a target (merged turns,
    truncated context). ``sink`` (optional) receives every :class:`SkipRecord` as it
    happens, so a caller can stream them to a file.
    """

    conversations_read: int = 0
    examples_written: int = 0
    skip_counts: Counter = field(default_factory=Counter)
    turn_drops: Counter = field(default_factory=Counter)
    adjustments: Counter = field(default_factory=Counter)
    skipped: list[SkipRecord] = field(default_factory=list)
    sink: Callable[[SkipRecord], None] | None = None
    read_report: Any = None  # the reader's ReadReport, when conversion read the files itself

    @property
    def skipped_total(self) -> int:
        return sum(self.skip_counts.values())

    def skip(
        self,
        reason: str,
        detail: str = "",
        *,
        conversation: Conversation | None = None,
        example: Example | None = None,
        stage: str = "transform",
        step: str | None = None,
        file: str | None = None,
        record: int | str | None = None,
    ) -> SkipRecord:
        """Record one skipped conversation / example / raw record."""
        conversation_id = None
        if conversation is not None:
            conversation_id = conversation.id
            file = file or _str_or_none(conversation.source.get("file"))
            record = record if record is not None else conversation.source.get("record")
        elif example is not None:
            meta = {**(getattr(example, "_ftkit_source", None) or {}),
                    **{k: v for k, v in (example.metadata or {}).items() if v is not None}}
            conversation_id = _str_or_none(meta.get("conversation_id"))
            file = file or _str_or_none(meta.get("source_file"))
            record = record if record is not None else meta.get("source_record")
        item = SkipRecord(reason=reason, detail=detail, stage=stage, file=file, record=record,
                          conversation_id=conversation_id, step=step)
        return self.add_skip(item)

    def add_skip(self, item: SkipRecord) -> SkipRecord:
        """Count an already-made skip record (from a worker process, say) and pass it to the sink."""
        self.skip_counts[item.reason] += 1
        if len(self.skipped) < KEEP_SKIPPED:
            self.skipped.append(item)
        if self.sink is not None:
            self.sink(item)
        return item

    def drop_turns(self, reason: str, count: int = 1) -> None:
        if count:
            self.turn_drops[reason] += count

    def adjust(self, what: str, count: int = 1) -> None:
        if count:
            self.adjustments[what] += count

    def counts_by_reason(self) -> dict[str, int]:
        return dict(sorted(self.skip_counts.items()))

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversations_read": self.conversations_read,
            "examples_written": self.examples_written,
            "skipped": self.skipped_total,
            "skip_reasons": self.counts_by_reason(),
            "turns_dropped": dict(sorted(self.turn_drops.items())),
            "adjustments": dict(sorted(self.adjustments.items())),
        }


def evolve(obj: Any, **changes: Any) -> Any:
    """A shallow copy of a model dataclass with some fields changed (``dataclasses.replace``
    semantics, about three times faster: steps copy every conversation they change, and the
    caller's objects are never modified)."""
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    new.__dict__.update(changes)
    return new


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


class Step:
    """Base class of a pipeline step: ``step(items, report) -> iterator``.

    Subclasses implement :meth:`process` for one item (returning an item, ``None`` to drop
    it after reporting, or an iterable of items), or override :meth:`__call__` for steps
    that need the stream. ``name`` appears in skip records.
    """

    name = "step"
    # What the step consumes: "conversation" or "example"; the pipeline checks the order.
    accepts = "conversation"
    produces = "conversation"

    def __call__(self, items: Iterable[Any], report: ConvertReport | None = None) -> Iterator[Any]:
        report = report if report is not None else ConvertReport()
        for item in items:
            result = self.process(item, report)
            if result is None:
                continue
            if isinstance(result, (Conversation, Example)):
                yield result
            else:
                yield from result

    def process(self, item: Any, report: ConvertReport) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Pipeline:
    """A chain of steps applied lazily: ``Pipeline([A(), B()])(conversations, report)``.

    Steps must be ordered so that each consumes what the previous one produces
    (conversation steps, then :class:`ToExamples`, then example steps); the constructor
    checks this so a mis-ordered pipeline fails at once with a clear message instead of
    deep inside a run.
    """

    def __init__(self, steps: Iterable[Callable[..., Iterable[Any]]]):
        self.steps = list(steps)
        current = "conversation"
        for step in self.steps:
            accepts = getattr(step, "accepts", None)
            if accepts is not None and accepts != current:
                raise ValueError(
                    f"pipeline step {type(step).__name__} takes {accepts}s but comes after a step that yields "
                    f"{current}s; put conversation steps before ToExamples and example steps after it"
                )
            current = getattr(step, "produces", current)
        self.produces = current

    def __call__(self, items: Iterable[Any], report: ConvertReport | None = None) -> Iterator[Any]:
        report = report if report is not None else ConvertReport()
        stream: Iterable[Any] = items
        for step in self.steps:
            stream = _apply(step, stream, report)
        return iter(stream)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"Pipeline({self.steps!r})"


def _apply(step: Callable[..., Iterable[Any]], stream: Iterable[Any], report: ConvertReport) -> Iterable[Any]:
    if isinstance(step, (Step, Pipeline)):
        return step(stream, report)
    # A plain generator function written by a user: ``def my_step(items): ...``.
    return step(stream)
