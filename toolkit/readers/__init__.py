"""Readers: every raw input format -> canonical :class:`~toolkit.model.Conversation`.

>>> from toolkit.readers import read, ReadReport
>>> report = ReadReport()
>>> for conversation in read("samples/raw/zendesk_tickets.json", report=report):   # doctest: +SKIP
...     print(conversation.id, len(conversation.turns))
>>> report.counts_by_reason()                                                      # doctest: +SKIP

``format="auto"`` picks the reader from each file's content and records the choice in
``report.formats``; it raises :class:`ReaderError` when a file is ambiguous or unknown.
Reader options are keyword arguments (``agents=["Eric"]``, ``columns={...}``, ``users=...``);
an option the chosen reader does not know is an error.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterable, Iterator

from toolkit.model import Conversation
from toolkit.readers.base import (
    JsonSource,
    Reader,
    ReaderError,
    ReaderOption,
    ReadReport,
    Sample,
    SkippedRecord,
    source_name,
)
from toolkit.readers.chat_formats import AlpacaReader, OpenAIChatReader, ShareGPTReader
from toolkit.readers.datasets import AbcdReader, SgdReader, TaskmasterReader
from toolkit.readers.freshdesk import FreshdeskReader
from toolkit.readers.intercom import IntercomReader
from toolkit.readers.table import TableReader
from toolkit.readers.transcript import TranscriptReader
from toolkit.readers.zendesk import ZendeskReader
from toolkit.io.jsonl import STDIN_NAMES, display_name, open_binary

READERS: dict[str, type[Reader]] = {
    "zendesk": ZendeskReader,
    "intercom": IntercomReader,
    "freshdesk": FreshdeskReader,
    "transcript": TranscriptReader,
    "table": TableReader,
    "openai": OpenAIChatReader,
    "sharegpt": ShareGPTReader,
    "alpaca": AlpacaReader,
    "abcd": AbcdReader,
    "taskmaster": TaskmasterReader,
    "sgd": SgdReader,
}

FORMATS = ("auto", *READERS)

__all__ = [
    "FORMATS",
    "READERS",
    "Reader",
    "ReaderError",
    "ReaderOption",
    "ReadReport",
    "SkippedRecord",
    "detect_format",
    "get_reader",
    "make_sample",
    "read",
    "reader_options",
]

# A reader must be at least this sure to be picked by --from auto.
_MIN_SCORE = 30
# Two readers whose scores are this close make a file ambiguous.
_AMBIGUITY_MARGIN = 10


def get_reader(format: str, **options: Any) -> Reader:
    """An instance of the reader called ``format`` with ``options`` (checked)."""
    cls = READERS.get(format)
    if cls is None:
        raise ReaderError(f"unknown input format {format!r}; choose one of: {', '.join(FORMATS)}")
    return cls(**options)


def reader_options(format: str) -> dict[str, ReaderOption]:
    """The options a reader accepts (including the common ones), by name."""
    from toolkit.readers.base import COMMON_OPTIONS

    cls = READERS[format]
    return {opt.name: opt for opt in (*COMMON_OPTIONS, *cls.options)}


def read(path_or_paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], format: str = "auto", *,
         report: ReadReport | None = None, **options: Any) -> Iterator[Conversation]:
    """Stream conversations from one or more files.

    ``format`` is a reader name or ``"auto"``. With ``auto`` each file is detected on its
    own; files of one format are read together, in the order given (a Zendesk users file
    given next to ticket files resolves their authors). Options are passed to the reader(s);
    with ``auto`` an option is given only to the readers that declare it, and an option no
    chosen reader knows is an error. Skips are recorded in ``report`` (pass your own to
    inspect them; reading never stops at a bad record unless ``strict=True``).
    """
    paths = _as_paths(path_or_paths)
    report = report if report is not None else ReadReport()
    if not paths:
        raise ReaderError("no input files given")
    with _stdin_as_file(paths) as paths:
        yield from _read(paths, format, report, options)


def _read(paths: list[Any], format: str, report: ReadReport, options: dict[str, Any]) -> Iterator[Conversation]:
    if format != "auto":
        reader = get_reader(format, **options)
        yield from reader.read(paths, report)
        return
    groups: dict[str, list[str | os.PathLike[str]]] = {}
    for path in paths:
        groups.setdefault(detect_format(path), []).append(path)
    used: set[str] = set()
    readers = []
    for name in groups:
        declared = reader_options(name)
        mine = {k: v for k, v in options.items() if k in declared}
        used.update(mine)
        readers.append((get_reader(name, **mine), groups[name]))
    unknown = sorted(set(options) - used)
    if unknown:
        raise ReaderError(f"option(s) {', '.join(map(repr, unknown))} not understood by the detected reader(s) "
                          f"{', '.join(groups)}")
    for reader, files in readers:
        yield from reader.read(files, report)


@contextlib.contextmanager
def _stdin_as_file(paths: list[Any]) -> Iterator[list[Any]]:
    """Copy ``-`` (stdin) to a temporary file: detection and some readers read a file more than once."""
    if not any(isinstance(p, str) and p in STDIN_NAMES for p in paths):
        yield paths
        return
    with tempfile.TemporaryDirectory(prefix="ftkit-stdin-") as folder:
        copy = Path(folder) / "stdin"
        with open(copy, "wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out, 1 << 20)
        yield [_StdinPath(copy) if isinstance(p, str) and p in STDIN_NAMES else p for p in paths]


class _StdinPath(os.PathLike):
    """A temporary copy of stdin that still calls itself ``<stdin>`` in reports."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.display_name = "<stdin>"

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return "<stdin>"


def _as_paths(value: Any) -> list[str | os.PathLike[str]]:
    if isinstance(value, (str, os.PathLike)):
        return [value]
    return list(value)


def detect_format(path: str | os.PathLike[str]) -> str:
    """The reader name for a file, from its name and content.

    Raises :class:`ReaderError` naming the candidates when the content fits several
    formats equally well, or none.
    """
    sample = make_sample(path)
    scores = sorted(((cls.sniff(sample), name) for name, cls in READERS.items()), key=lambda item: (-item[0], item[1]))
    best_score, best = scores[0]
    if best_score < _MIN_SCORE:
        raise ReaderError(
            "cannot tell the input format from the content" + (f" ({sample.note})" if sample.note else ""),
            file=sample.name,
            hint="pass --from " + "|".join(READERS),
        )
    close = [name for score, name in scores[1:] if score >= _MIN_SCORE and best_score - score < _AMBIGUITY_MARGIN]
    if close:
        raise ReaderError(
            f"ambiguous input format: it could be {best} or {', '.join(close)}",
            file=sample.name,
            hint=f"pass --from {best} (or another) explicitly",
        )
    return best


def make_sample(path: str | os.PathLike[str], max_records: int = 3) -> Sample:
    """Gather what detection looks at: name, first bytes, kind, top-level keys, first records."""
    name = source_name(path)
    lower = name.lower()
    try:
        with open_binary(path) as stream:
            head = stream.read(1 << 16)
    except OSError as exc:
        raise ReaderError(f"cannot read: {exc.strerror or exc}", file=name) from exc
    bare = lower[:-3] if lower.endswith(".gz") else lower
    suffix = Path(bare).suffix
    if head.startswith(b"PAR1") or suffix == ".parquet":
        return Sample(name, head[:4], "parquet", columns=_parquet_columns(path))
    if suffix in (".csv", ".tsv"):
        return Sample(name, head, "csv", columns=_csv_columns(head, suffix))
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        return Sample(name, head, "empty")
    lowered = stripped[:512].lower()
    if suffix in (".html", ".htm") or lowered.startswith((b"<!doctype html", b"<html")) or b"<body" in lowered:
        return Sample(name, head, "html")
    if stripped[:1] in (b"{", b"["):
        try:
            source = JsonSource(path, name)
        except ReaderError:
            return Sample(name, head, "text")
        return _json_sample(source, head, max_records)
    if b"\x00" in head[:1024]:
        return Sample(name, head, "binary")
    return Sample(name, head, "text")


def _json_sample(source: JsonSource, head: bytes, max_records: int) -> Sample:
    sample = Sample(source.name, head, source.kind)
    try:
        if source.kind == "jsonl":
            for _, value, error in itertools.islice(source.records(), max_records):
                if error is None:
                    sample.records.append(value)
        elif source.kind == "array":
            sample.records = [value for _, value, _ in itertools.islice(source.records(), max_records)]
        elif source.kind == "object":
            if source.small:
                doc = source.document()
                sample.top_keys = list(doc) if isinstance(doc, dict) else []
                sample.records = [doc]
            else:
                sample.top_keys, first_array = _stream_top_keys(source)
                if first_array is not None:
                    first = [value for _, value in itertools.islice(source.array(first_array), max_records)]
                    sample.records = [{first_array: first, **{k: None for k in sample.top_keys if k != first_array}}]
    except ReaderError as exc:
        # Starts like JSON but is not (e.g. a transcript whose lines start with "[10:02]"):
        # detect it as text, remembering why in case no reader recognises it.
        return Sample(source.name, head, "text", note=f"it starts like JSON but is not valid JSON: {exc.reason}")
    return sample


def _stream_top_keys(source: JsonSource) -> tuple[list[str], str | None]:
    """Top-level keys up to (and including) the first key holding an array, without reading further."""
    import ijson

    keys: list[str] = []
    with open_binary(source.path) as stream:
        for prefix, event, value in ijson.parse(stream):
            if prefix == "" and event == "map_key":
                keys.append(value)
            elif event == "start_array" and prefix and "." not in prefix:
                return keys, prefix
    return keys, None


def _csv_columns(head: bytes, suffix: str) -> list[str]:
    import csv
    import io

    text = head.decode("utf-8-sig", errors="replace")
    first = text.splitlines()[0] if text.strip() else ""
    try:
        return next(csv.reader(io.StringIO(first), delimiter="\t" if suffix == ".tsv" else ","))
    except StopIteration:
        return []


def _parquet_columns(path: str | os.PathLike[str]) -> list[str]:
    try:
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    except Exception:  # noqa: BLE001 - detection only; the reader reports the real error
        return []
