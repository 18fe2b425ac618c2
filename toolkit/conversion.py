"""Conversations in, target records out: the library form of ``ftkit convert``.

>>> import toolkit
>>> report = toolkit.conversion.ConvertReport()
>>> conversations = toolkit.read("samples/raw/zendesk_tickets.json", format="zendesk")   # doctest: +SKIP
>>> for record in toolkit.convert(conversations, to="openai", report=report): ...       # doctest: +SKIP
>>> report.to_dict()                                                                     # doctest: +SKIP

:func:`convert` streams: it pulls one conversation at a time through the pipeline and the
target writer's encoder, so it can sit inside any data pipeline (a generator, a
``datasets`` map, a loop writing to a queue). Every conversation that does not become
output is counted in the :class:`ConvertReport` with its reason: filtered, too short, over
the token budget, or refused by the target ("bedrock cannot express tool calls").
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Iterator, Mapping

from toolkit.model import Conversation, Example
from toolkit.transforms import PIPELINE_DEFAULTS, ConvertReport, Pipeline, SkipRecord, ToExamples, build_pipeline
from toolkit.writers import CannotExpress, Writer, get_writer

__all__ = ["ConvertReport", "SkipRecord", "convert", "convert_examples", "convert_files", "make_writer"]


def make_writer(to: str | Writer, **writer_options: Any) -> Writer:
    """A writer for a target name (or the writer itself)."""
    return to if isinstance(to, Writer) else get_writer(to, **writer_options)


def convert(
    conversations: Iterable[Conversation | Mapping[str, Any]],
    pipeline: Pipeline | Iterable[Any] | None = None,
    to: str | Writer = "openai",
    *,
    report: ConvertReport | None = None,
    strip_metadata: bool = False,
    writer_options: Mapping[str, Any] | None = None,
    jobs: int = 1,
    **options: Any,
) -> Iterator[dict[str, Any]]:
    """Convert conversations to records of target ``to``, lazily.

    ``conversations``: :class:`Conversation` objects (or their dicts, as
    ``Conversation.to_dict()`` writes them). ``pipeline``: a :class:`Pipeline` (or a list
    of steps); by default :func:`~toolkit.transforms.build_pipeline` with ``**options``
    (``redact=False``, ``examples="per-reply"``, ``max_tokens=4096``, ``system_prompt=...``
    ...). A pipeline that ends with conversations gets a default :class:`ToExamples` step.
    ``to``: a target name (``openai``, ``azure``, ``together``, ``fireworks``, ``mistral``,
    ``vertex``, ``bedrock``, ``sharegpt``, ``trl``, ``parquet``, ``hf``) or a writer.
    ``report``: filled in as the stream is consumed. ``strip_metadata``: drop the
    provenance ``metadata`` block from every record. ``jobs``: worker processes for the
    pipeline and the encoding (``0``: one per CPU); reading and writing stay in this
    process, batches are bounded (memory stays flat) and results come back in input order,
    so the output is identical to ``jobs=1``.

    Yields the target's records (dicts). Write them with the writer's ``write()`` (atomic;
    Parquet and ``hf`` need it) or any JSONL writer.
    """
    report = report if report is not None else ConvertReport()
    writer = make_writer(to, **(writer_options or {}))
    if pipeline is None:
        pipeline = build_pipeline(**options)
    elif options:
        raise TypeError(f"pipeline options {sorted(options)} given together with a pipeline; configure the pipeline instead")
    elif not isinstance(pipeline, Pipeline):
        pipeline = Pipeline(pipeline)
    if pipeline.produces != "example":
        pipeline = Pipeline([*pipeline.steps, ToExamples()])
    jobs = resolve_jobs(jobs)
    if jobs > 1:
        return _convert_parallel(conversations, pipeline, writer, report, strip_metadata, jobs)
    return _convert(conversations, pipeline, writer, report, strip_metadata)


def resolve_jobs(jobs: int | None) -> int:
    """``0`` or ``None`` -> one per CPU; parallel work needs the ``fork`` start method (else 1)."""
    import multiprocessing

    if jobs is None or jobs <= 0:
        jobs = os.cpu_count() or 1
    if jobs > 1 and "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return jobs


def _count_read(items: Iterable[Conversation | Mapping[str, Any]], report: ConvertReport) -> Iterator[Conversation]:
    for item in items:
        report.conversations_read += 1
        yield item if isinstance(item, Conversation) else Conversation.from_dict(item)


def _convert(conversations: Iterable[Any], pipeline: Pipeline, writer: Writer, report: ConvertReport,
             strip_metadata: bool) -> Iterator[dict[str, Any]]:
    writer.on_adjust = report.adjust
    examples = pipeline(_count_read(conversations, report), report)
    yield from convert_examples(examples, writer, report=report, strip_metadata=strip_metadata)


# ----------------------------------------------------------------------------- parallel

BATCH = 64
_WORKER_STATE: tuple[Pipeline, Writer, bool] | None = None


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _work(batch: list[Conversation]) -> tuple[list[tuple[list[dict[str, Any]], list[SkipRecord]]], dict[str, Any]]:
    """In a worker: run each conversation of a batch through the pipeline and the encoder.

    Returns, per conversation, its records and its skip records (so the parent can replay
    them in exactly the order a single process would), plus the batch's counters.
    """
    assert _WORKER_STATE is not None
    pipeline, writer, strip_metadata = _WORKER_STATE
    skips: list[SkipRecord] = []
    local = ConvertReport(sink=skips.append)
    writer.on_adjust = local.adjust
    results = []
    for conversation in batch:
        records = list(convert_examples(pipeline(iter([conversation]), local), writer, report=local,
                                        strip_metadata=strip_metadata))
        results.append((records, list(skips)))
        skips.clear()
    counts = {"turn_drops": dict(local.turn_drops), "adjustments": dict(local.adjustments)}
    return results, counts


def _convert_parallel(conversations: Iterable[Any], pipeline: Pipeline, writer: Writer, report: ConvertReport,
                      strip_metadata: bool, jobs: int) -> Iterator[dict[str, Any]]:
    """Batches of conversations to forked workers; results replayed in input order.

    Every built-in step treats each conversation on its own, which is what makes this
    exact; a custom step that keeps state across conversations needs ``jobs=1``.
    """
    import collections
    import multiprocessing

    global _WORKER_STATE
    _WORKER_STATE = (pipeline, writer, strip_metadata)  # inherited by the forked workers
    context = multiprocessing.get_context("fork")
    pending: collections.deque[Any] = collections.deque()
    # Skips the reader reports (through report.sink) while a conversation is being read are
    # held back with that conversation and replayed just before its own skips, so the skip
    # stream comes out in the same order as with jobs=1.
    sink = report.sink
    held: list[SkipRecord] = []

    def read_with_held_skips() -> Iterator[tuple[Conversation, list[SkipRecord]]]:
        for conversation in _count_read(conversations, report):
            yield conversation, list(held)
            held.clear()

    try:
        with context.Pool(jobs) as pool:
            report.sink = held.append if sink is not None else None
            for batch in _batches(read_with_held_skips(), BATCH):
                before = [b for _, b in batch]
                pending.append((before, pool.apply_async(_work, ([c for c, _ in batch],))))
                # At most two batches per worker in flight: reading never runs far ahead.
                while len(pending) >= 2 * jobs:
                    yield from _collect(pending.popleft(), report, sink)
            while pending:
                yield from _collect(pending.popleft(), report, sink)
        report.sink = sink
        for item in held:  # reported after the last conversation (a bad trailing line ...)
            sink(item)  # type: ignore[misc]
    finally:
        report.sink = sink
        _WORKER_STATE = None


def _collect(entry: tuple[list[list[SkipRecord]], Any], report: ConvertReport, sink: Any) -> Iterator[dict[str, Any]]:
    before, pending = entry
    results, counts = pending.get()
    reading_sink = report.sink
    report.sink = sink
    batch_records: list[dict[str, Any]] = []
    for read_skips, (records, skips) in zip(before, results):
        for item in read_skips:
            sink(item)
        for item in skips:
            report.add_skip(item)
        batch_records.extend(records)
    report.sink = reading_sink
    report.turn_drops.update(counts["turn_drops"])
    report.adjustments.update(counts["adjustments"])
    for record in batch_records:
        report.examples_written += 1
        yield record


def convert_examples(
    examples: Iterable[Example | Mapping[str, Any]],
    to: str | Writer = "openai",
    *,
    report: ConvertReport | None = None,
    strip_metadata: bool = False,
) -> Iterator[dict[str, Any]]:
    """Encode ready-made examples for a target (no cleaning pipeline); refusals go to ``report``."""
    report = report if report is not None else ConvertReport()
    writer = make_writer(to)
    writer.on_adjust = report.adjust
    for example in examples:
        if not isinstance(example, Example):
            example = Example.from_dict(example)
        if strip_metadata:
            stripped = Example(messages=example.messages, tools=example.tools,
                               parallel_tool_calls=example.parallel_tool_calls, metadata=None, extra=example.extra)
            stripped._ftkit_source = {**(getattr(example, "_ftkit_source", None) or {}),  # type: ignore[attr-defined]
                                      **(example.metadata or {})}
            example = stripped
        try:
            record = writer.encode(example)
        except CannotExpress as exc:
            report.skip(exc.code, exc.detail, example=example, stage="write", step=writer.name)
            continue
        report.examples_written += 1
        yield record


def convert_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    format: str = "auto",
    to: str | Writer = "openai",
    *,
    report: ConvertReport | None = None,
    reader_options: Mapping[str, Any] | None = None,
    **options: Any,
) -> Iterator[dict[str, Any]]:
    """Read export files with :func:`toolkit.read` and :func:`convert` them; reader skips go to ``report``."""
    from toolkit.readers import read

    report = report if report is not None else ConvertReport()
    read_report = _new_read_report()
    report.read_report = read_report
    kwargs = dict(reader_options or {})
    if read_report is not None:
        kwargs["report"] = read_report
    conversations = read(paths, format=format, **kwargs)
    return convert(conversations, to=to, report=report, **options)


def _new_read_report() -> Any:
    try:
        from toolkit.readers.base import ReadReport
    except ImportError:  # pragma: no cover - readers not installed
        return None
    return ReadReport()


# Re-exported for ``toolkit.conversion.PIPELINE_DEFAULTS`` users.
PIPELINE_OPTIONS = tuple(PIPELINE_DEFAULTS)
