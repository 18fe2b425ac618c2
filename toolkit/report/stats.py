"""Dataset statistics computed with polars on streamed records (token figures are estimates).

Records are read one at a time (:func:`toolkit.io.jsonl.read_jsonl`), turned into a small
numeric row each by :func:`toolkit.report.columns.token_row`, and handed to polars in
batches; the Python objects of a batch are dropped as soon as polars holds its columns.
What stays in memory is one narrow numeric row per example and per message (a few dozen
bytes), never the records, so a multi-gigabyte file needs a few hundred MB at most; the
percentiles are exact (polars ``quantile`` with linear interpolation, as numpy's
``percentile`` computes them).

Lines that cannot be read (invalid JSON, not an object) and records without a usable
``messages`` list are not silently skipped: they are counted, and the first ones are
listed with file, line and reason.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any, Iterable, Iterator, Mapping, Sequence

import polars as pl

from toolkit.io.jsonl import JsonlLine, read_jsonl
from toolkit.model import content_text
from toolkit.report.columns import ROLES, token_row
from toolkit.tokens import max_example_tokens, resolve_encoding

PERCENTILES = (50, 90, 95, 99)
MAX_LISTED = 20  # problems and over-limit examples listed by location (all are counted)
BATCH_SIZE = 4096

_EXAMPLE_SCHEMA: dict[str, Any] = {
    "file": pl.Utf8,
    "line": pl.Int64,
    "tokens": pl.Int64,
    "prompt_tokens": pl.Int64,
    "trainable_tokens": pl.Int64,
    "tool_definition_tokens": pl.Int64,
    "messages": pl.Int32,
    "weight0": pl.Int32,
    "over_limit": pl.Boolean,
    "system_key": pl.Utf8,
    "conversation_id": pl.Utf8,
    **{f"n_{role}": pl.Int32 for role in ROLES},
}
_MESSAGE_SCHEMA: dict[str, Any] = {"role": pl.Utf8, "tokens": pl.Int64}


@dataclass
class Problem:
    """A line or record that stats could not use, and why."""

    file: str
    line: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "reason": self.reason}


@dataclass
class Distribution:
    """min / percentiles / max / mean / sum of a set of integers (exact, linear interpolation)."""

    count: int
    min: int | None = None
    max: int | None = None
    mean: float | None = None
    total: int = 0
    percentiles: dict[int, float] = field(default_factory=dict)

    @classmethod
    def of(cls, series: pl.Series) -> "Distribution":
        series = series.drop_nulls()
        if series.len() == 0:
            return cls(count=0)
        return cls(
            count=series.len(),
            min=int(series.min()),  # type: ignore[arg-type]
            max=int(series.max()),  # type: ignore[arg-type]
            mean=float(series.mean()),  # type: ignore[arg-type]
            total=int(series.sum()),
            percentiles={p: float(series.quantile(p / 100, interpolation="linear")) for p in PERCENTILES},  # type: ignore[arg-type]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "min": self.min,
            **{f"p{p}": _round(v) for p, v in sorted(self.percentiles.items())},
            "max": self.max,
            "mean": _round(self.mean),
            "sum": self.total,
        }


def _nice_width(span: float, bins: int) -> int:
    """A bin width of 1, 2 or 5 x 10^k covering ``span`` in about ``bins`` bins."""
    raw = max(span / bins, 1.0)
    magnitude = 10 ** int(f"{raw:e}".split("e")[1])
    for step in (1, 2, 5, 10):
        if step * magnitude >= raw:
            return int(step * magnitude)
    return int(10 * magnitude)  # pragma: no cover


def histogram(series: pl.Series, bins: int = 20) -> dict[str, Any]:
    """Counts in about ``bins`` equal bins ``[edge_i, edge_i+1)`` with round edges covering min..max.

    The first edge is the minimum rounded down to the bin width (0 when the data start
    near 0), so a narrow range far from 0 (system prompts of 24-26 tokens) still gets
    readable bins.
    """
    series = series.drop_nulls()
    if series.len() == 0:
        return {"edges": [], "counts": []}
    low = int(series.min())  # type: ignore[arg-type]
    top = int(series.max())  # type: ignore[arg-type]
    width = _nice_width(top - low + 1, bins)
    start = low // width * width
    if start <= 2 * width:
        start = 0  # data that start near zero: keep the axis at 0
        width = _nice_width(top + 1, bins)
    n_bins = (top - start) // width + 1
    counts = ((series - start) // width).value_counts().sort(series.name)
    by_bin = dict(zip(counts[series.name].to_list(), counts["count"].to_list()))
    return {"edges": [start + i * width for i in range(n_bins + 1)], "counts": [int(by_bin.get(i, 0)) for i in range(n_bins)]}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


@dataclass
class DatasetStats:
    """Everything ``ftkit stats`` reports. ``frame`` holds one numeric row per example."""

    files: list[str]
    encoding: str
    model: str | None
    limit: int | None
    lines_read: int
    examples: int
    conversations: int
    messages_total: int
    messages_per_role: dict[str, int]
    example_tokens: Distribution
    trainable_per_example: Distribution
    role_tokens: dict[str, Distribution]
    total_tokens: int
    prompt_tokens: int
    trainable_tokens: int
    tool_definition_tokens: int
    weight0_messages: int
    no_trainable_examples: int
    over_limit: int
    over_limit_examples: list[dict[str, Any]]
    system_prompts_distinct: int
    examples_with_system: int
    top_system_prompts: list[dict[str, Any]]
    per_file: dict[str, int]
    histograms: dict[str, dict[str, Any]]
    problems: list[Problem]
    problem_count: int
    frame: pl.DataFrame = field(repr=False)

    def token_lengths(self) -> pl.Series:
        return self.frame["tokens"]

    def totals(self):  # -> cost.TokenTotals
        """Token totals in the form the cost model needs (with per-example caps from the frame)."""
        from toolkit.report.cost import TokenTotals

        tokens = self.frame["tokens"]

        def capped(cap: int) -> tuple[int, int]:
            if tokens.len() == 0:
                return 0, 0
            return int(tokens.clip(upper_bound=cap).sum()), int((tokens > cap).sum())

        return TokenTotals(n_examples=self.examples, total_tokens=self.total_tokens, encoding=self.encoding, capped=capped)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "per_file_examples": dict(sorted(self.per_file.items())),
            "encoding": self.encoding,
            "estimate": True,
            "model": self.model,
            "model_max_example_tokens": self.limit,
            "lines_read": self.lines_read,
            "examples": self.examples,
            "conversations": self.conversations,
            "messages": {"total": self.messages_total, "per_role": dict(sorted(self.messages_per_role.items()))},
            "tokens": {
                "total": self.total_tokens,
                "prompt": self.prompt_tokens,
                "trainable": self.trainable_tokens,
                "tool_definitions": self.tool_definition_tokens,
                "per_example": self.example_tokens.to_dict(),
                "trainable_per_example": self.trainable_per_example.to_dict(),
                "per_message_by_role": {role: d.to_dict() for role, d in sorted(self.role_tokens.items())},
            },
            "weight0_assistant_messages": self.weight0_messages,
            "examples_without_trainable_tokens": self.no_trainable_examples,
            "over_limit": {"count": self.over_limit, "limit": self.limit, "examples": self.over_limit_examples},
            "system_prompts": {
                "distinct": self.system_prompts_distinct,
                "examples_with_system_prompt": self.examples_with_system,
                "top": self.top_system_prompts,
            },
            "problems": {"count": self.problem_count, "first": [p.to_dict() for p in self.problems]},
        }

    def histograms_dict(self) -> dict[str, dict[str, Any]]:
        """Token-length histograms: ``example`` (whole examples) and one per message role."""
        return self.histograms


class StatsCollector:
    """Accumulate statistics from a stream of :class:`JsonlLine` (or records) in polars batches."""

    def __init__(self, *, model: str | None = None, encoding: str | None = None, batch_size: int = BATCH_SIZE) -> None:
        self.model = model
        self.enc = resolve_encoding(model, encoding)
        self.limit = max_example_tokens(model) if model else None
        self.batch_size = batch_size
        self._rows: list[dict[str, Any]] = []
        self._message_rows: list[tuple[str, int]] = []
        self._frames: list[pl.DataFrame] = []
        self._message_frames: list[pl.DataFrame] = []
        self._system_previews: dict[str, str] = {}
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.lines_read = 0
        self.files: list[str] = []

    # -- feeding

    def add_problem(self, file: str, line: int, reason: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_LISTED:
            self.problems.append(Problem(file, line, reason))

    def add_line(self, item: JsonlLine) -> None:
        self.lines_read += 1
        if item.error is not None:
            self.add_problem(item.file, item.line, f"{item.error.code} {item.error.message}")
            return
        self.add_record(item.value, file=item.file, line=item.line)

    def add_record(self, record: Mapping[str, Any], *, file: str = "<input>", line: int = 0) -> None:
        messages = record.get("messages") if isinstance(record, Mapping) else None
        if not isinstance(messages, list) or not messages:
            reason = "no 'messages' list" if not isinstance(messages, list) else "'messages' is empty"
            self.add_problem(file, line, f"{reason}: not counted as an example (field /messages)")
            return
        row, message_rows = token_row(record, self.enc, limit=self.limit)
        row["file"] = file
        row["line"] = line
        if row["system_key"] is not None and row["system_key"] not in self._system_previews and len(self._system_previews) < 10_000:
            system = next((m.get("content") for m in messages if isinstance(m, Mapping) and m.get("role") in ("system", "developer")), "")
            self._system_previews[row["system_key"]] = content_text(system)[:160]
        self._rows.append(row)
        self._message_rows.extend(message_rows)
        if len(self._rows) >= self.batch_size:
            self._flush()

    def add_file(self, source: str | os.PathLike[str] | IO[bytes]) -> None:
        """Stream one JSONL file (``-`` for stdin, ``.gz`` decompressed)."""
        first = True
        for item in read_jsonl(source):
            if first:
                self.files.append(item.file)
                first = False
            self.add_line(item)
        if first:  # an empty file still counts as read
            from toolkit.io.jsonl import display_name

            self.files.append(display_name(source))

    def _flush(self) -> None:
        if self._rows:
            self._frames.append(pl.DataFrame(self._rows, schema=_EXAMPLE_SCHEMA))
            self._rows = []
        if self._message_rows:
            self._message_frames.append(pl.DataFrame(self._message_rows, schema=_MESSAGE_SCHEMA, orient="row"))
            self._message_rows = []

    # -- result

    def finish(self) -> DatasetStats:
        self._flush()
        frame = pl.concat(self._frames, rechunk=True) if self._frames else pl.DataFrame(schema=_EXAMPLE_SCHEMA)
        messages = pl.concat(self._message_frames, rechunk=True) if self._message_frames else pl.DataFrame(schema=_MESSAGE_SCHEMA)
        self._frames, self._message_frames = [], []
        n = frame.height

        per_role = {role: int(frame[f"n_{role}"].sum()) for role in ROLES}
        # Messages with roles outside the known set still count (validation reports them).
        other = messages.filter(~pl.col("role").is_in(list(ROLES)))
        for role, count in Counter(other["role"].to_list()).items():
            per_role[role] = count
        per_role = {role: count for role, count in per_role.items() if count}

        role_tokens = {}
        histograms = {"example": histogram(frame["tokens"].rename("tokens"))}
        if messages.height:
            for role in sorted(set(messages["role"].unique().to_list())):
                series = messages.filter(pl.col("role") == role)["tokens"]
                role_tokens[role] = Distribution.of(series)
                histograms[role] = histogram(series)

        if n:
            # A conversation is metadata.conversation_id; examples without one count as their own.
            with_id = frame.filter(pl.col("conversation_id").is_not_null())
            conversations = with_id["conversation_id"].n_unique() + (n - with_id.height)
        else:
            conversations = 0

        over = frame.filter(pl.col("over_limit"))
        over_list = [
            {"file": r["file"], "line": r["line"], "tokens": r["tokens"]}
            for r in over.select("file", "line", "tokens").head(MAX_LISTED).iter_rows(named=True)
        ]

        systems = frame.filter(pl.col("system_key").is_not_null())
        top_systems: list[dict[str, Any]] = []
        if systems.height:
            counts = systems.group_by("system_key").agg(pl.len().alias("examples")).sort(["examples", "system_key"], descending=[True, False])
            for r in counts.head(5).iter_rows(named=True):
                top_systems.append(
                    {
                        "key": r["system_key"],
                        "examples": r["examples"],
                        "share": round(r["examples"] / n, 4),
                        "preview": self._system_previews.get(r["system_key"], ""),
                    }
                )
        per_file = {}
        if n:
            for r in frame.group_by("file").agg(pl.len().alias("n")).iter_rows(named=True):
                per_file[r["file"]] = r["n"]

        return DatasetStats(
            files=list(self.files),
            encoding=self.enc.name,
            model=self.model,
            limit=self.limit,
            lines_read=self.lines_read,
            examples=n,
            conversations=conversations,
            messages_total=int(messages.height),
            messages_per_role=per_role,
            example_tokens=Distribution.of(frame["tokens"]),
            trainable_per_example=Distribution.of(frame["trainable_tokens"]),
            role_tokens=role_tokens,
            total_tokens=int(frame["tokens"].sum()) if n else 0,
            prompt_tokens=int(frame["prompt_tokens"].sum()) if n else 0,
            trainable_tokens=int(frame["trainable_tokens"].sum()) if n else 0,
            tool_definition_tokens=int(frame["tool_definition_tokens"].sum()) if n else 0,
            weight0_messages=int(frame["weight0"].sum()) if n else 0,
            no_trainable_examples=int((frame["trainable_tokens"] == 0).sum()) if n else 0,
            over_limit=over.height,
            over_limit_examples=over_list,
            system_prompts_distinct=int(systems["system_key"].n_unique()) if systems.height else 0,
            examples_with_system=systems.height,
            top_system_prompts=top_systems,
            per_file=per_file,
            histograms=histograms,
            problems=list(self.problems),
            problem_count=self.problem_count,
            frame=frame.select("file", "line", "tokens", "prompt_tokens", "trainable_tokens", "over_limit"),
        )


def compute_stats(
    sources: Sequence[str | os.PathLike[str] | IO[bytes]],
    *,
    model: str | None = None,
    encoding: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> DatasetStats:
    """Statistics over one or more JSONL files, streamed. Raises ``OSError`` for an unreadable file."""
    collector = StatsCollector(model=model, encoding=encoding, batch_size=batch_size)
    for source in sources:
        collector.add_file(source)
    return collector.finish()


def stats_of_records(records: Iterable[Mapping[str, Any]], *, model: str | None = None, encoding: str | None = None) -> DatasetStats:
    """Statistics over in-memory or generated records (each record's line is its 1-based position)."""
    collector = StatsCollector(model=model, encoding=encoding)
    collector.files.append("<records>")
    for index, record in enumerate(records, start=1):
        collector.lines_read += 1
        collector.add_record(record, file="<records>", line=index)
    return collector.finish()


def iter_valid_records(sources: Sequence[str | os.PathLike[str]]) -> Iterator[JsonlLine]:
    """Stream the readable object lines of several files (for analyses that follow stats)."""
    for source in sources:
        for item in read_jsonl(source):
            if item.ok:
                yield item
