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
        # Stored as Int32 to save memory; summed as Int64 (an Int32 sum wraps past 2**31).
        series = series.drop_nulls().cast(pl.Int64)
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


def _bins(series: pl.Series, bins: int) -> tuple[int, int]:
    """``(start, width)`` of round, equal bins covering the series' min..max."""
    low = int(series.min())  # type: ignore[arg-type]
    top = int(series.max())  # type: ignore[arg-type]
    width = _nice_width(top - low + 1, bins)
    start = low // width * width
    if start <= 2 * width:
        start = 0  # data that start near zero: keep the axis at 0
        width = _nice_width(top + 1, bins)
    return start, width


MIN_BINS = 8
OUTLIER_FACTOR = 3  # lengths above 3 x p95 go to one overflow bin ...
OUTLIER_SHARE = 0.05  # ... when they are at most 5% of the values


def histogram(series: pl.Series, bins: int = 20) -> dict[str, Any]:
    """Counts in about ``bins`` equal bins ``[edge_i, edge_i+1)`` with round edges.

    The first edge is the minimum rounded down to the bin width (0 when the data start
    near 0), so a narrow range far from 0 (system prompts of 24-26 tokens) still gets
    readable bins. A few far outliers (above 3 x p95, at most 5% of the values) go to one
    ``overflow`` bin ``[edges[-1], max]`` instead of squeezing every other bar into one.
    """
    series = series.drop_nulls().cast(pl.Int64).rename("v")
    n = series.len()
    if n == 0:
        return {"edges": [], "counts": []}
    main = series
    cut = float(series.quantile(0.95, interpolation="linear")) * OUTLIER_FACTOR  # type: ignore[arg-type]
    outliers = int((series > cut).sum())
    if n >= 20 and 0 < outliers <= OUTLIER_SHARE * n:
        main = series.filter(series <= cut)
    start, width = _bins(main, bins)
    n_bins = (int(main.max()) - start) // width + 1  # type: ignore[arg-type]
    if n_bins < MIN_BINS:
        # A handful of distinct lengths: pad with empty bins so one bar does not fill the chart.
        pad = MIN_BINS - n_bins
        before = min(pad // 2, start // width)
        start -= before * width
        n_bins = MIN_BINS
    end = start + n_bins * width
    inside = series.filter(series < end)
    counts = ((inside - start) // width).value_counts().sort("v")
    by_bin = dict(zip(counts["v"].to_list(), counts["count"].to_list()))
    out: dict[str, Any] = {"edges": [start + i * width for i in range(n_bins + 1)], "counts": [int(by_bin.get(i, 0)) for i in range(n_bins)]}
    rest = n - inside.len()
    if rest:
        out["overflow"] = {"from": end, "count": rest, "max": int(series.max())}  # type: ignore[arg-type]
    return out


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

        tokens = self.frame["tokens"].cast(pl.Int64)

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
    """Accumulate statistics from a stream of :class:`JsonlLine` (or records) in polars batches.

    Sums and counts are kept as running totals. Only what exact percentiles, distinct
    counts and the cost caps need is kept per example, as compact numeric columns: the
    example's total and trainable tokens (Int32), 64-bit hashes of its conversation id and
    system prompt; and per message its role code (UInt8) and tokens (Int32): about 50 bytes
    per example in all.
    """

    def __init__(self, *, model: str | None = None, encoding: str | None = None, batch_size: int = BATCH_SIZE) -> None:
        self.model = model
        self.enc = resolve_encoding(model, encoding)
        self.limit = max_example_tokens(model) if model else None
        self.batch_size = batch_size
        # The current batch, as plain lists (column-wise).
        self._tokens: list[int] = []
        self._trainable: list[int] = []
        self._conversation: list[str | None] = []
        self._system: list[int | None] = []
        self._roles: list[int] = []
        self._message_tokens: list[int] = []
        # Flushed batches.
        self._frames: list[pl.DataFrame] = []
        self._message_frames: list[pl.DataFrame] = []
        # Running totals.
        self._role_codes: dict[str, int] = {role: i for i, role in enumerate(ROLES)}
        self._sums = Counter()
        self._per_file: Counter[str] = Counter()
        self._over: list[dict[str, Any]] = []
        self._system_previews: dict[int, str] = {}
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

    def _role_code(self, role: str) -> int:
        code = self._role_codes.get(role)
        if code is None:
            if len(self._role_codes) >= 255:
                return self._role_code("(other)")
            code = self._role_codes[role] = len(self._role_codes)
        return code

    def add_record(self, record: Mapping[str, Any], *, file: str = "<input>", line: int = 0) -> None:
        messages = record.get("messages") if isinstance(record, Mapping) else None
        if not isinstance(messages, list) or not messages:
            reason = "no 'messages' list" if not isinstance(messages, list) else "'messages' is empty"
            self.add_problem(file, line, f"{reason}: not counted as an example (field /messages)")
            return
        row, message_rows = token_row(record, self.enc, limit=self.limit)
        sums = self._sums
        sums["examples"] += 1
        sums["tokens"] += row["tokens"]
        sums["prompt"] += row["prompt_tokens"]
        sums["trainable"] += row["trainable_tokens"]
        sums["tools"] += row["tool_definition_tokens"]
        sums["weight0"] += row["weight0"]
        sums["no_trainable"] += row["trainable_tokens"] == 0
        self._per_file[file] += 1
        if row["over_limit"]:
            sums["over_limit"] += 1
            if len(self._over) < MAX_LISTED:
                self._over.append({"file": file, "line": line, "tokens": row["tokens"]})
        system_key = None
        if row["system_key"] is not None:
            system_key = int(row["system_key"], 16)
            if system_key not in self._system_previews and len(self._system_previews) < 10_000:
                system = next((m.get("content") for m in messages if isinstance(m, Mapping) and m.get("role") in ("system", "developer")), "")
                self._system_previews[system_key] = content_text(system)[:160]
        self._tokens.append(row["tokens"])
        self._trainable.append(row["trainable_tokens"])
        self._conversation.append(row["conversation_id"])
        self._system.append(system_key)
        for role, tokens in message_rows:
            self._roles.append(self._role_code(role))
            self._message_tokens.append(tokens)
        if len(self._tokens) >= self.batch_size:
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
        if self._tokens:
            conversation = pl.Series("conversation", self._conversation, dtype=pl.Utf8)
            self._frames.append(
                pl.DataFrame(
                    {
                        "tokens": pl.Series(self._tokens, dtype=pl.Int32),
                        "trainable_tokens": pl.Series(self._trainable, dtype=pl.Int32),
                        # A deterministic 64-bit hash stands for the id: n_unique needs no strings.
                        "conversation": pl.select(
                            pl.when(conversation.is_null()).then(None).otherwise(conversation.hash(seed=0))
                        ).to_series(),
                        "system": pl.Series(self._system, dtype=pl.UInt64),
                    }
                )
            )
            self._tokens, self._trainable, self._conversation, self._system = [], [], [], []
        if self._roles:
            self._message_frames.append(
                pl.DataFrame({"role": pl.Series(self._roles, dtype=pl.UInt8), "tokens": pl.Series(self._message_tokens, dtype=pl.Int32)})
            )
            self._roles, self._message_tokens = [], []

    # -- result

    def finish(self) -> DatasetStats:
        self._flush()
        empty = pl.DataFrame(schema={"tokens": pl.Int32, "trainable_tokens": pl.Int32, "conversation": pl.UInt64, "system": pl.UInt64})
        frame = pl.concat(self._frames, rechunk=True) if self._frames else empty
        self._frames = []
        messages = (pl.concat(self._message_frames, rechunk=True) if self._message_frames
                    else pl.DataFrame(schema={"role": pl.UInt8, "tokens": pl.Int32}))
        self._message_frames = []
        n = frame.height
        sums = self._sums
        role_names = {code: role for role, code in self._role_codes.items()}

        per_role: dict[str, int] = {}
        role_tokens: dict[str, Distribution] = {}
        histograms = {"example": histogram(frame["tokens"].rename("tokens"))}
        if messages.height:
            for code in sorted(messages["role"].unique().to_list(), key=lambda c: role_names[c]):
                series = messages.filter(pl.col("role") == code)["tokens"].rename("tokens")
                role = role_names[code]
                per_role[role] = series.len()
                role_tokens[role] = Distribution.of(series)
                histograms[role] = histogram(series)

        conversations = 0
        if n:
            # A conversation is metadata.conversation_id; examples without one count as their own.
            with_id = frame["conversation"].drop_nulls()
            conversations = with_id.n_unique() + (n - with_id.len())

        systems = frame["system"].drop_nulls()
        top_systems: list[dict[str, Any]] = []
        if systems.len():
            counts = systems.value_counts().sort(["count", "system"], descending=[True, False])
            for key, count in counts.head(5).iter_rows():
                top_systems.append(
                    {"key": f"{key:016x}", "examples": count, "share": round(count / n, 4), "preview": self._system_previews.get(key, "")}
                )

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
            total_tokens=sums["tokens"],
            prompt_tokens=sums["prompt"],
            trainable_tokens=sums["trainable"],
            tool_definition_tokens=sums["tools"],
            weight0_messages=sums["weight0"],
            no_trainable_examples=sums["no_trainable"],
            over_limit=sums["over_limit"],
            over_limit_examples=list(self._over),
            system_prompts_distinct=int(systems.n_unique()) if systems.len() else 0,
            examples_with_system=systems.len(),
            top_system_prompts=top_systems,
            per_file=dict(self._per_file),
            histograms=histograms,
            problems=list(self.problems),
            problem_count=self.problem_count,
            frame=frame.select("tokens", "trainable_tokens"),
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
