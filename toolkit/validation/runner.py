"""Validate whole inputs: files (streamed, in parallel over chunks) and iterables of records.

Files are read in blocks of whole lines; each block is parsed and checked in a worker process
(both cores on a 2-core machine) and results are yielded in file order, so output is the same
whatever the number of jobs. At most ``2 x jobs`` blocks are in flight, so memory stays flat
however large the file. Small inputs are checked in-process (starting workers costs more).
"""

from __future__ import annotations

import collections
import gc
import multiprocessing
import os
import sys
from dataclasses import dataclass, field
from typing import IO, Any, Iterable, Iterator, Mapping

import orjson

from toolkit.diagnostics import Diagnostic, Severity
from toolkit.io.jsonl import J_BOM, J_CRLF, JsonlLine, LineError, display_name, open_binary, parse_line
from toolkit.validation.checker import Figures, RecordChecker
from toolkit.validation.codes import CHECKS
from toolkit.validation.detect import detect_target
from toolkit.validation.targets import TARGETS, get_target

BOM = b"\xef\xbb\xbf"
CHUNK_BYTES = 1 << 20  # 1 MiB of whole lines per worker task
DETECT_LINES = 200  # lines looked at to detect the format for --format auto
PARALLEL_MIN_BLOCKS = 4  # inputs shorter than this many blocks are checked in-process


@dataclass
class TokenTotals:
    """Token figures of a file or record stream. Every figure is an estimate made with ``encoding``."""

    encoding: str
    examples: int = 0
    total: int = 0
    prompt: int = 0
    trainable: int = 0
    longest: int = 0
    longest_line: int | None = None

    def add(self, figures: Figures, line: int | None) -> None:
        self.examples += 1
        self.total += figures.total
        self.prompt += figures.prompt
        self.trainable += figures.trainable
        if figures.total > self.longest:
            self.longest = figures.total
            self.longest_line = line

    def merge(self, other: "TokenTotals") -> None:
        self.examples += other.examples
        self.total += other.total
        self.prompt += other.prompt
        self.trainable += other.trainable
        if other.longest > self.longest:
            self.longest, self.longest_line = other.longest, other.longest_line

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimate": True,
            "encoding": self.encoding,
            "examples": self.examples,
            "total": self.total,
            "prompt": self.prompt,
            "trainable": self.trainable,
            "longest_example": self.longest,
            "longest_line": self.longest_line,
        }


@dataclass
class Report:
    """What one validated input held: counts per code and severity, examples and tokens."""

    file: str
    target: str
    detected: bool = False  # the target came from --format auto
    detected_line: int | None = None
    lines: int = 0  # non-blank lines read
    examples: int = 0  # lines (records) that are JSON objects
    bytes: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    severities: dict[str, int] = field(default_factory=lambda: {"error": 0, "warning": 0, "info": 0})
    tokens: TokenTotals | None = None

    def note(self, diagnostic: Diagnostic) -> None:
        self.counts[diagnostic.code] = self.counts.get(diagnostic.code, 0) + 1
        self.severities[diagnostic.severity.value] += 1

    @property
    def errors(self) -> int:
        return self.severities["error"]

    @property
    def warnings(self) -> int:
        return self.severities["warning"]

    @property
    def valid(self) -> bool:
        """No errors, and at least one example (an empty or unreadable input is never valid)."""
        return self.errors == 0 and self.examples > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "target": self.target,
            "detected": self.detected,
            "valid": self.valid,
            "lines": self.lines,
            "examples": self.examples,
            "bytes": self.bytes,
            "errors": self.errors,
            "warnings": self.warnings,
            "infos": self.severities["info"],
            "counts": dict(sorted(self.counts.items())),
            "tokens": self.tokens.to_dict() if self.tokens else None,
        }


def _line_diagnostic(error: LineError, file: str, line: int) -> Diagnostic:
    doc = CHECKS.get(error.code)
    return Diagnostic(code=error.code, message=error.message, severity=Severity.ERROR, file=file, line=line,
                      column=error.column, hint=error.hint, name=doc.name if doc else None)


def _dataset_diagnostic(code: str, message: str, file: str, *, line: int | None = None) -> Diagnostic:
    doc = CHECKS[code]
    return Diagnostic(code=code, message=message, severity=doc.severity, file=file, line=line, hint=doc.hint, name=doc.name)


def dataset_problems(target: str, report: Report, *, min_examples: bool = True, file_checks: bool = True,
                     bom: bool = False, crlf: int = 0, crlf_first: int | None = None) -> list[Diagnostic]:
    """Checks on the whole input: example counts, file size, BOM and line endings."""
    t = get_target(target)
    out: list[Diagnostic] = []
    name = report.file
    if file_checks and bom and not t.bom:
        out.append(_dataset_diagnostic(J_BOM, "the file starts with a UTF-8 byte order mark (BOM)", name, line=1))
    if file_checks and crlf:
        out.append(_dataset_diagnostic(J_CRLF, f"{crlf} line(s) end in CRLF (\\r\\n), the first is line {crlf_first}", name,
                                       line=crlf_first))
    if report.examples == 0:
        what = "no lines" if report.lines == 0 else f"{report.lines} line(s) but none is a JSON object"
        out.append(_dataset_diagnostic("S022", f"no examples: the input has {what}", name))
    elif min_examples and report.examples < t.min_examples:
        out.append(_dataset_diagnostic("S022", f"{report.examples} example(s); {t.name} needs at least {t.min_examples}", name))
    if t.max_examples is not None and report.examples > t.max_examples:
        out.append(_dataset_diagnostic("S023", f"{report.examples:,} examples; {t.name} accepts at most {t.max_examples:,}", name))
    if file_checks and t.max_file_bytes is not None and report.bytes > t.max_file_bytes:
        out.append(_dataset_diagnostic("S024", f"the file is {report.bytes / 2**20:,.0f} MiB; {t.name} accepts files up to "
                                               f"{t.max_file_bytes / 2**20:,.0f} MiB", name))
    if file_checks and t.bom and not bom and report.examples:
        out.append(_dataset_diagnostic("S025", "the file has no UTF-8 BOM; Azure OpenAI documents training files as UTF-8 with a BOM", name))
    return out


# ---------------------------------------------------------------------- chunks (run in workers)


@dataclass
class ChunkResult:
    diagnostics: list[Diagnostic]
    lines: int = 0
    examples: int = 0
    tokens: TokenTotals | None = None
    crlf: int = 0
    crlf_first: int | None = None


_WORKER: RecordChecker | None = None


def _init_worker(options: dict[str, Any]) -> None:
    global _WORKER
    _WORKER = RecordChecker(**options)
    if _WORKER.count_tokens:
        encoding = _WORKER.encoding  # load once per worker, before the first chunk
        # The Python copy of the 200k-entry rank table (~27 MB) serves only pickling and
        # byte-level helpers; a worker only calls encode_ordinary (the Rust core keeps its own
        # table), so drop it to keep the process tree's memory flat.
        if isinstance(getattr(encoding, "_mergeable_ranks", None), dict):
            encoding._mergeable_ranks = {}
        gc.collect()
        _malloc_trim()


def _malloc_trim() -> None:
    """Return freed heap pages to the OS (glibc only; a no-op elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _worker_chunk(args: tuple[str, int, bytes, bool]) -> ChunkResult:
    assert _WORKER is not None
    return check_chunk(_WORKER, *args)


def check_chunk(checker: RecordChecker, file: str, first_line: int, data: bytes, final: bool) -> ChunkResult:
    """Parse and check a block of whole lines that starts at ``first_line``."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    result = ChunkResult([], tokens=TokenTotals(checker.encoding_name) if checker.count_tokens else None)
    diags = result.diagnostics
    count = checker.count_tokens
    last_index = len(lines) - 1
    for k, raw in enumerate(lines):
        number = first_line + k
        if raw.endswith(b"\r"):
            result.crlf += 1
            if result.crlf_first is None:
                result.crlf_first = number
        parsed = parse_line(raw, file, number, last=final and k == last_index)
        if parsed is None:
            continue
        result.lines += 1
        if parsed.error is not None:
            diags.append(_line_diagnostic(parsed.error, file, number))
            continue
        result.examples += 1
        found, figures = checker.check(parsed.value, file, number)
        if found:
            diags.extend(found)
        if count and figures is not None:
            result.tokens.add(figures, number)  # type: ignore[union-attr]
    return result


def _blocks(stream: IO[bytes], size: int) -> Iterator[tuple[int, bytes, bool]]:
    """``(first_line, whole_lines, is_final)`` blocks of a binary stream, one block of lookahead."""
    line = 1
    carry = b""
    pending: tuple[int, bytes] | None = None
    while True:
        block = stream.read(size)
        if not block:
            break
        buffer = carry + block if carry else block
        cut = buffer.rfind(b"\n")
        if cut == -1:
            carry = buffer  # one line longer than the block: keep reading
            continue
        data, carry = buffer[: cut + 1], buffer[cut + 1 :]
        if pending is not None:
            yield pending[0], pending[1], False
        pending = (line, data)
        line += data.count(b"\n")
    if pending is not None:
        yield pending[0], pending[1], not carry
    if carry:
        yield line, carry, True


# ---------------------------------------------------------------------- files


def _detect_in(data: bytes) -> tuple[str | None, int | None]:
    for number, raw in enumerate(data.split(b"\n")[:DETECT_LINES], start=1):
        raw = raw.strip()
        if number == 1 and raw.startswith(BOM):
            raw = raw[3:]
        if not raw:
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        guess = detect_target(value)
        if guess:
            return guess, number
    return None, None


class FileValidation:
    """Validate one file (path, ``-`` for stdin, or a binary stream); iterate for diagnostics in order.

    After iteration, :attr:`report` holds counts and token totals. ``target="auto"`` detects
    the format from the first records; :attr:`report` says what was chosen.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | IO[bytes],
        target: str = "openai",
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        encoding: str | None = None,
        jobs: int | None = None,
        min_examples: bool = True,
        count_tokens: bool = True,
        chunk_bytes: int = CHUNK_BYTES,
        file_name: str | None = None,
    ) -> None:
        if target != "auto":
            get_target(target)
        self.source = source
        self.name = file_name or display_name(source)
        self.target = target
        self.options = {"model": model, "max_tokens": max_tokens, "encoding": encoding, "count_tokens": count_tokens}
        self.jobs = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
        self.min_examples = min_examples
        self.chunk_bytes = chunk_bytes
        self.report: Report | None = None
        #: (target, detected, line it was detected from) once iteration has started
        self.chosen: tuple[str, bool, int | None] | None = None

    def __iter__(self) -> Iterator[Diagnostic]:
        with open_binary(self.source) as stream:
            yield from self._run(stream)

    def _run(self, stream: IO[bytes]) -> Iterator[Diagnostic]:
        blocks = _blocks(stream, self.chunk_bytes)
        # Look a few blocks ahead: a small input is checked in this process (starting workers,
        # each loading the tokenizer, costs more than checking a few MiB).
        head: list[tuple[int, bytes, bool]] = []
        for block in blocks:
            head.append(block)
            if block[2] or len(head) >= PARALLEL_MIN_BLOCKS:
                break
        first = head[0] if head else None
        target, detected, detected_line = self.target, False, None
        if target == "auto":
            guess, detected_line = _detect_in(first[1]) if first else (None, None)
            target, detected = (guess or "openai"), guess is not None
        self.chosen = (target, detected, detected_line)
        checker_options = {"target": target, **self.options}
        checker = RecordChecker(**checker_options)
        report = Report(self.name, target, detected=detected, detected_line=detected_line,
                        tokens=TokenTotals(checker.encoding_name) if checker.count_tokens else None)
        bom = bool(first and first[1].startswith(BOM))
        crlf, crlf_first = 0, None

        def chained() -> Iterator[tuple[int, bytes, bool]]:
            yield from head
            yield from blocks

        def absorb(result: ChunkResult) -> Iterator[Diagnostic]:
            nonlocal crlf, crlf_first
            report.lines += result.lines
            report.examples += result.examples
            if result.tokens is not None and report.tokens is not None:
                report.tokens.merge(result.tokens)
            if result.crlf:
                crlf += result.crlf
                crlf_first = crlf_first or result.crlf_first
            for diagnostic in result.diagnostics:
                report.note(diagnostic)
                yield diagnostic

        parallel = self.jobs > 1 and len(head) >= PARALLEL_MIN_BLOCKS and not head[-1][2]
        if not parallel:
            for first_line, data, final in chained():
                report.bytes += len(data)
                yield from absorb(check_chunk(checker, self.name, first_line, data, final))
        else:
            context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
            pool = context.Pool(self.jobs, initializer=_init_worker, initargs=(checker_options,))
            try:
                window: collections.deque = collections.deque()
                for first_line, data, final in chained():
                    report.bytes += len(data)
                    window.append(pool.apply_async(_worker_chunk, ((self.name, first_line, data, final),)))
                    if len(window) >= 2 * self.jobs:
                        yield from absorb(window.popleft().get())
                while window:
                    yield from absorb(window.popleft().get())
                pool.close()
            finally:
                pool.terminate()
                pool.join()
        for diagnostic in dataset_problems(target, report, min_examples=self.min_examples, bom=bom, crlf=crlf, crlf_first=crlf_first):
            report.note(diagnostic)
            yield diagnostic
        self.report = report


def validate_file(source: str | os.PathLike[str] | IO[bytes], target: str = "openai", **options: Any) -> FileValidation:
    """Validate one file; iterate the result for diagnostics, then read ``.report``. See :class:`FileValidation`."""
    return FileValidation(source, target, **options)


# ---------------------------------------------------------------------- records (library API)


def _is_dataset(records: Any) -> bool:
    return hasattr(records, "column_names") and hasattr(records, "features") and hasattr(records, "__getitem__")


def _drop_nulls(value: Any) -> Any:
    """Arrow tables give every struct all keys of the column (absent ones as None): drop those."""
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


class Validation:
    """Validate an iterable of records; iterate for diagnostics, then read :attr:`report`."""

    def __init__(
        self,
        records: Iterable[Any],
        target: str = "openai",
        *,
        model: str | None = None,
        max_tokens: int | None = None,
        encoding: str | None = None,
        file: str | None = None,
        min_examples: bool = True,
        count_tokens: bool = True,
    ) -> None:
        if target != "auto":
            get_target(target)
        self.records = records
        self.target = target
        self.file = file
        self.options = {"model": model, "max_tokens": max_tokens, "encoding": encoding, "count_tokens": count_tokens}
        self.min_examples = min_examples
        self.report: Report | None = None

    def _items(self) -> Iterator[tuple[str | None, int, Any, LineError | None]]:
        dataset = _is_dataset(self.records)
        for index, item in enumerate(self.records):
            if isinstance(item, JsonlLine):
                yield item.file, item.line, item.value, item.error
            elif dataset:
                yield self.file, index + 1, _drop_nulls(dict(item)), None
            elif hasattr(item, "to_dict") and not isinstance(item, Mapping):
                yield self.file, index + 1, item.to_dict(), None
            elif isinstance(item, Mapping) and not isinstance(item, dict):
                yield self.file, index + 1, dict(item), None
            else:
                yield self.file, index + 1, item, None

    def __iter__(self) -> Iterator[Diagnostic]:
        checker: RecordChecker | None = None
        report: Report | None = None
        name = self.file or ("<dataset>" if _is_dataset(self.records) else "<input>")
        target = self.target
        pending: list[tuple[str | None, int, Any, LineError | None]] = []
        items = self._items()
        if target == "auto":
            # look ahead (bounded) for the first record that tells the format
            for item in items:
                pending.append(item)
                guess = detect_target(item[2]) if item[3] is None else None
                if guess or len(pending) >= DETECT_LINES:
                    break
            guesses = [detect_target(i[2]) for i in pending if i[3] is None]
            found = next((g for g in guesses if g), None)
            target = found or "openai"
        checker = RecordChecker(target, **self.options)
        report = Report(name, target, detected=self.target == "auto",
                        tokens=TokenTotals(checker.encoding_name) if checker.count_tokens else None)

        def all_items():
            yield from pending
            yield from items

        for file, line, value, error in all_items():
            where = file or name
            report.lines += 1
            if error is not None:
                diagnostic = _line_diagnostic(error, where, line)
                report.note(diagnostic)
                yield diagnostic
                continue
            if isinstance(value, dict):
                report.examples += 1
            found, figures = checker.check(value, where, line)
            for diagnostic in found:
                report.note(diagnostic)
                yield diagnostic
            if figures is not None and report.tokens is not None:
                report.tokens.add(figures, line)
        for diagnostic in dataset_problems(target, report, min_examples=self.min_examples, file_checks=False):
            report.note(diagnostic)
            yield diagnostic
        self.report = report


def validate(
    records: Iterable[Any],
    target: str = "openai",
    *,
    model: str | None = None,
    max_tokens: int | None = None,
    file: str | None = None,
    min_examples: bool = True,
    encoding: str | None = None,
) -> Iterator[Diagnostic]:
    """Check records against a target format; yield every problem as a :class:`Diagnostic`.

    ``records`` may be a list or generator of dicts, of :class:`~toolkit.io.jsonl.JsonlLine`
    objects (``toolkit.read_jsonl(path)``: keeps line numbers and reports unreadable lines),
    of :class:`~toolkit.model.Example` objects, or a ``datasets.Dataset`` (rows are numbered
    from 1; keys that Arrow filled with null because other rows have them are dropped).
    ``target`` is one of :data:`~toolkit.validation.targets.TARGETS` or ``"auto"``.
    ``min_examples=False`` skips the provider's minimum-count check (for partial streams).
    Diagnostics come in input order; dataset-level ones (counts) come last.
    """
    yield from Validation(records, target, model=model, max_tokens=max_tokens, file=file,
                          min_examples=min_examples, encoding=encoding)


__all__ = ["FileValidation", "Report", "TARGETS", "TokenTotals", "Validation", "validate", "validate_file"]
