"""Reading split inputs: the first pass over JSONL files, in worker processes when it pays.

The first pass turns every line into :class:`~toolkit.splitting.core.Facts` (group keys,
stratum, time, exact-text key, token estimate) plus its MinHash signature. That is nearly
all of the splitter's work, and it is independent per line, so chunks of raw lines go to
worker processes (``jobs``); results come back in input order, at most ``2 * jobs``
chunks in flight, so memory stays flat whatever the file size.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Iterator, Sequence

import numpy as np

from toolkit.io.jsonl import iter_raw_lines, open_binary, parse_line
from toolkit.splitting.core import Facts, SplitError, SplitOptions, Splitter, extract_facts

CHUNK = 1024  # lines per worker task
PARALLEL_MIN_BYTES = 8 << 20  # smaller inputs are not worth starting workers


@dataclass
class ScanResult:
    """What the first pass saw besides the facts: per-file counts and unreadable lines."""

    examples_per_file: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0


_STATE: dict[str, Any] = {}


def _init(options: SplitOptions) -> None:
    from toolkit.dedup import get_hasher

    _STATE["options"] = options
    _STATE["hasher"] = get_hasher(options.num_perm, options.shingle)
    encoding = None
    if options.encoding:
        from toolkit.tokens import get_encoding

        encoding = get_encoding(options.encoding)
    _STATE["encoding"] = encoding


def _process(chunk: list[tuple[str, int, bytes, bool]]) -> tuple[list[tuple[str, int, Any]], np.ndarray | None]:
    """Parse and extract a chunk of raw lines: ``[(file, line, Facts | error text)]`` and the signatures."""
    options: SplitOptions = _STATE["options"]
    out: list[tuple[str, int, Any]] = []
    texts: list[list[str]] = []
    for file, number, raw, last in chunk:
        parsed = parse_line(raw, file, number, last=last)
        if parsed is None:
            continue
        if parsed.error is not None:
            column = f":{parsed.error.column}" if parsed.error.column else ""
            out.append((file, number, f"{file}:{number}{column}: {parsed.error.code} {parsed.error.message}"))
            continue
        try:
            facts = extract_facts(parsed.value, options, _STATE["encoding"], file, number)
        except SplitError as exc:
            out.append((file, number, SplitError(str(exc))))
            continue
        if options.near_duplicates:
            texts.append(facts.words)
        facts.words = []
        out.append((file, number, facts))
    sigs = _STATE["hasher"].signatures_of_words(texts) if options.near_duplicates else None
    return out, sigs


def _chunks(paths: Sequence[tuple[str, str]]) -> Iterator[list[tuple[str, int, bytes, bool]]]:
    chunk: list[tuple[str, int, bytes, bool]] = []
    for display, path in paths:
        with open_binary(path) as stream:
            for number, raw, last in iter_raw_lines(stream):
                chunk.append((display, number, raw, last))
                if len(chunk) >= CHUNK:
                    yield chunk
                    chunk = []
    if chunk:
        yield chunk


def scan(paths: Sequence[tuple[str, str]], splitter: Splitter, *, jobs: int | None = None,
         max_listed_errors: int = 10) -> ScanResult:
    """Feed every example of ``paths`` (``(display name, real path)``) to ``splitter``, in order.

    ``jobs``: worker processes (default: one per CPU, only for inputs over 8 MB).
    Unreadable lines are counted and listed in the result, not fed; a field error for
    ``--by-time`` raises :class:`SplitError` at once.
    """
    result = ScanResult({display: 0 for display, _ in paths})
    if jobs is None:
        size = sum(os.path.getsize(p) for _, p in paths if os.path.isfile(p))
        jobs = (os.cpu_count() or 1) if size >= PARALLEL_MIN_BYTES else 1
    options = splitter.options

    def consume(out: list[tuple[str, int, Any]], sigs: np.ndarray | None) -> None:
        last_ok = max((i for i, item in enumerate(out) if isinstance(item[2], Facts)), default=-1)
        for i, (file, number, item) in enumerate(out):
            if isinstance(item, Facts):
                splitter.add_facts(item, file, number, sigs if (i == last_ok and sigs is not None) else None)
                result.examples_per_file[file] += 1
            elif isinstance(item, SplitError):
                raise item
            else:
                result.error_count += 1
                if len(result.errors) < max_listed_errors:
                    result.errors.append(item)

    if jobs <= 1:
        _init(options)
        for chunk in _chunks(paths):
            consume(*_process(chunk))
        return result
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    pool = multiprocessing.get_context(method).Pool(jobs, initializer=_init, initargs=(options,))
    try:
        pending: collections.deque = collections.deque()
        for chunk in _chunks(paths):
            pending.append(pool.apply_async(_process, (chunk,)))
            while len(pending) > 2 * jobs:
                consume(*pending.popleft().get())
        while pending:
            consume(*pending.popleft().get())
    finally:
        pool.terminate()
        pool.join()
    return result


def iter_example_lines(paths: Sequence[tuple[str, str]], where: Sequence[tuple[str, int]]) -> Iterator[tuple[int, bytes]]:
    """Second pass: ``(example index, raw line without BOM / CR)`` for the lines the first pass used."""
    position = 0
    total = len(where)
    for display, path in paths:
        with open_binary(path) as stream:
            for number, raw, _last in iter_raw_lines(stream):
                if position >= total:
                    return
                if where[position] != (display, number):
                    continue
                if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                    raw = raw[3:]
                if raw.endswith(b"\r"):
                    raw = raw[:-1]
                yield position, raw
                position += 1
    if position != total:
        raise SplitError(f"the input changed while splitting: {position} examples now, {total} before")
