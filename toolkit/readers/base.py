"""What every reader shares: the skip report, reader errors, options, and JSON sources.

A reader turns one raw export format into canonical :class:`~toolkit.model.Conversation`
objects. Readers stream: JSON Lines are read line by line, large JSON documents are walked
with ``ijson`` instead of being loaded whole, and nothing is ever dropped silently: a record
that cannot become a conversation goes to the :class:`ReadReport` with its reason, file and
1-based record number (the line of a JSONL file, the index in a JSON array, the row of a table).

Errors that concern the whole input (not JSON at all, an unknown shape, a bad option) raise
:class:`ReaderError`, whose message names the file, the record and the field.
"""

from __future__ import annotations

import io
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, ClassVar, Iterable, Iterator, Mapping

import orjson

from toolkit.io.jsonl import display_name, open_binary, read_jsonl
from toolkit.model import Conversation, Participant, Speaker

# JSON documents up to this size are parsed in one go (fast); larger ones are walked with
# ijson so memory does not grow with the file. Readers accept ``stream_threshold`` to change it.
DEFAULT_STREAM_THRESHOLD = 32 * 1024 * 1024


# --------------------------------------------------------------------------- report


@dataclass
class SkippedRecord:
    """A record (or a part of one) that did not become (part of) a conversation, and why.

    ``record`` is the 1-based line (JSONL), index (JSON array) or row (table), or a
    conversation id where the source has no position. ``part`` names the piece of the record
    that was left out (``"part 3"``) when the record itself was read.
    """

    file: str
    record: int | str
    reason: str
    detail: str = ""
    part: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "record": self.record, "reason": self.reason}
        if self.part:
            out["part"] = self.part
        if self.detail:
            out["detail"] = self.detail
        return out

    def __str__(self) -> str:
        where = f"{self.file}:{self.record}" + (f" ({self.part})" if self.part else "")
        return f"{where}: {self.reason}" + (f": {self.detail}" if self.detail else "")


class ReadReport:
    """Counts what was read and keeps every skipped record with its reason.

    ``read`` counts the conversations yielded; ``skipped`` lists records left out (whole
    records and left-out parts such as Intercom event parts without a body); ``formats``
    maps each input file to the reader that read it (``--from auto`` says which).
    """

    def __init__(self) -> None:
        self.skipped: list[SkippedRecord] = []
        self.read: int = 0
        self.formats: dict[str, str] = {}
        self.warnings: list[str] = []

    def skip(self, file: str, record: int | str, reason: str, detail: str = "", *, part: str = "") -> SkippedRecord:
        item = SkippedRecord(file=file, record=record, reason=reason, detail=detail, part=part)
        self.skipped.append(item)
        return item

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def counts_by_reason(self) -> dict[str, int]:
        """``{reason: count}``, most frequent first (ties by reason, so output is stable)."""
        counts = Counter(item.reason for item in self.skipped)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    @property
    def skipped_records(self) -> int:
        """Whole records skipped (left-out parts not counted)."""
        return sum(1 for item in self.skipped if not item.part)

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"ReadReport(read={self.read}, skipped={len(self.skipped)})"


# Skip reasons (stable strings: the CLI summary and --skipped FILE show them).
R_INVALID_JSON = "invalid JSON"
R_NOT_OBJECT = "record is not an object"
R_MISSING_FIELD = "missing required field"
R_BAD_FIELD = "field has the wrong type"
R_NO_MESSAGES = "no messages"
R_UNKNOWN_SHAPE = "not a record of this format"
R_EVENT_PART = "event without a message body"
R_UNPARSED_LINE = "line not understood"
R_ORPHAN = "reply to an unknown message"


# --------------------------------------------------------------------------- errors


class ReaderError(ValueError):
    """A problem with the input as a whole (or any problem, with ``strict=True``).

    The message reads ``file:record: field: message`` so users can find the spot.
    """

    def __init__(self, message: str, *, file: str | None = None, record: int | str | None = None, field: str | None = None, hint: str | None = None) -> None:
        self.file = file
        self.record = record
        self.field = field
        self.hint = hint
        self.reason = message
        where = ""
        if file is not None:
            where = file + (f":{record}" if record is not None else "") + ": "
        text = where + (f"{field}: " if field else "") + message
        if hint:
            text += f" ({hint})"
        super().__init__(text)


# --------------------------------------------------------------------------- options


@dataclass(frozen=True)
class ReaderOption:
    """An option a reader accepts: name, type (``str``, ``int``, ``bool``, ``list[str]``, ``dict``), default, help."""

    name: str
    type: str
    default: Any
    help: str

    def coerce(self, value: Any, reader: str) -> Any:
        if value is None:
            return self.default
        if self.type == "list[str]":
            if isinstance(value, str):
                return [value]
            if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
                return list(value)
        elif self.type == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in {"true", "false", "1", "0", "yes", "no"}:
                return value.lower() in {"true", "1", "yes"}
        elif self.type == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lstrip("-").isdigit():
                return int(value)
        elif self.type == "str":
            if isinstance(value, str):
                return value
        elif self.type == "dict":
            if isinstance(value, Mapping):
                return dict(value)
        elif self.type == "any":
            return value
        raise ReaderError(f"option {self.name!r} of the {reader} reader must be {self.type}, got {value!r}")


COMMON_OPTIONS = (
    ReaderOption("strict", "bool", False, "raise on the first bad record instead of reporting it as skipped"),
    ReaderOption("stream_threshold", "int", DEFAULT_STREAM_THRESHOLD,
                 "JSON documents larger than this many bytes are streamed with ijson instead of loaded whole"),
)


class Reader:
    """Base class: one raw format -> canonical conversations.

    Subclasses set ``name``, ``description`` and ``options``, implement :meth:`read_file`
    (or :meth:`read` when files must be read together) and :meth:`sniff` for ``--from auto``.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    options: ClassVar[tuple[ReaderOption, ...]] = ()

    def __init__(self, **options: Any) -> None:
        declared = {opt.name: opt for opt in (*COMMON_OPTIONS, *self.options)}
        unknown = sorted(set(options) - set(declared))
        if unknown:
            known = ", ".join(sorted(declared))
            raise ReaderError(f"unknown option(s) {', '.join(map(repr, unknown))} for the {self.name} reader; options: {known}")
        self.opts: dict[str, Any] = {name: opt.default for name, opt in declared.items()}
        for key, value in options.items():
            self.opts[key] = declared[key].coerce(value, self.name)
        self.report = ReadReport()

    # -- interface

    def read(self, paths: Iterable[str | os.PathLike[str]], report: ReadReport | None = None) -> Iterator[Conversation]:
        """Read every path in order and yield conversations; skips go to ``report``."""
        if report is not None:
            self.report = report
        for path in paths:
            name = source_name(path)
            self.report.formats.setdefault(name, self.name)
            for conversation in self.read_file(path, name):
                self.report.read += 1
                yield conversation

    def read_file(self, path: str | os.PathLike[str], name: str) -> Iterator[Conversation]:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def sniff(cls, sample: "Sample") -> int:
        """How sure (0-100) this reader is that ``sample`` is its format; 0 means not at all."""
        return 0

    # -- helpers for subclasses

    def skip(self, file: str, record: int | str, reason: str, detail: str = "", *, part: str = "", field: str | None = None) -> None:
        """Report a skipped record, or raise it with ``strict=True``."""
        if self.opts.get("strict"):
            raise ReaderError(f"{reason}" + (f": {detail}" if detail else ""), file=file, record=record if not part else f"{record} {part}", field=field)
        self.report.skip(file, record, reason, detail, part=part)

    def json_source(self, path: str | os.PathLike[str], name: str) -> "JsonSource":
        return JsonSource(path, name, stream_threshold=self.opts["stream_threshold"])


# --------------------------------------------------------------------------- JSON sources


class JsonSource:
    """A JSON document or a JSON Lines file, read with positions and without loading big files.

    ``kind`` is ``"jsonl"`` (one value per line), ``"array"`` (a top-level JSON array) or
    ``"object"`` (a top-level JSON object). :meth:`records` yields ``(number, value)`` for
    the top-level items (lines or array elements); :meth:`array` yields the items of an
    array under a key of a top-level object; :meth:`document` loads a small document whole.
    """

    def __init__(self, path: str | os.PathLike[str], name: str | None = None, *, stream_threshold: int = DEFAULT_STREAM_THRESHOLD) -> None:
        self.path = path
        self.name = name or source_name(path)
        self.stream_threshold = stream_threshold
        self._doc: Any = _UNSET
        self._keys: list[str] | None = None
        self.kind = self._detect_kind()

    # A file is JSONL when its first non-blank line is a complete JSON value and more
    # content follows; a JSON document otherwise.
    def _detect_kind(self) -> str:
        lower = self.name.lower()
        jsonl_name = lower.endswith((".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz"))
        try:
            with open_binary(self.path) as stream:
                head = stream.read(1 << 16)
                while True:
                    # Keep reading until the first line is complete (long single-line records).
                    if b"\n" in head or len(head) == 0:
                        break
                    more = stream.read(1 << 20)
                    if not more:
                        break
                    head += more
                    if len(head) > 16 << 20:  # a huge first line: a one-line document, not JSON Lines
                        break
                lines = head.split(b"\n")
        except OSError as exc:
            raise ReaderError(f"cannot read: {exc.strerror or exc}", file=self.name) from exc
        first_index = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first_index is None:
            return "empty"
        first_line = lines[first_index].lstrip(b"\xef\xbb\xbf").strip()
        stripped = first_line.lstrip()
        if stripped[:1] not in (b"{", b"["):
            raise ReaderError(
                "not JSON: the file does not start with '{' or '['",
                file=self.name,
                record=first_index + 1,
                hint="pass --from to choose a reader for this file",
            )
        try:
            value = orjson.loads(first_line)
        except orjson.JSONDecodeError:
            value = _UNSET
        if jsonl_name:
            if value is not _UNSET:
                return "jsonl"  # a .jsonl file whose first line is a complete value
            following = next((line.strip() for line in lines[first_index + 1:-1] if line.strip()), None)
            try:
                second = orjson.loads(following) if following is not None else _UNSET
            except orjson.JSONDecodeError:
                second = _UNSET
            if isinstance(second, dict):
                return "jsonl"  # a bad first line in JSON Lines: reported as a skipped line
            # otherwise a pretty-printed JSON document that was named .jsonl
        if any(line.strip() for line in lines[first_index + 1:]) and isinstance(value, dict):
            return "jsonl"
        return "array" if stripped.startswith(b"[") else "object"

    @property
    def size(self) -> int:
        try:
            return os.path.getsize(self.path)  # type: ignore[arg-type]
        except (OSError, TypeError):
            return 0

    @property
    def small(self) -> bool:
        return self.size <= self.stream_threshold

    def document(self) -> Any:
        """The whole document (small files only; big ones raise)."""
        if self._doc is _UNSET:
            with open_binary(self.path) as stream:
                data = stream.read()
            if data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            try:
                self._doc = orjson.loads(data)
            except orjson.JSONDecodeError as exc:
                line, col = _line_col(data, exc.pos)
                raise ReaderError(f"invalid JSON: {exc.msg} (column {col})", file=self.name, record=line,
                                  hint="the file must be one JSON document, or JSON Lines with one record per line") from exc
        return self._doc

    def top_keys(self) -> list[str]:
        """Top-level keys of an object document (streamed for big files, in file order)."""
        if self.kind != "object":
            return []
        if self._keys is not None:
            return list(self._keys)
        if self.small:
            doc = self.document()
            return list(doc) if isinstance(doc, dict) else []
        import ijson

        keys: list[str] = []
        with open_binary(self.path) as stream:
            try:
                for prefix, event, value in ijson.parse(stream):
                    if prefix == "" and event == "map_key":
                        keys.append(value)
            except ijson.JSONError as exc:
                raise ReaderError(f"invalid JSON: {exc}", file=self.name) from exc
        self._keys = keys
        return list(keys)

    def records(self) -> Iterator[tuple[int, Any, str | None]]:
        """Yield ``(number, value, error)`` for each line (JSONL) or element (top-level array).

        For a top-level object the whole object is one record, numbered 1. ``error`` is a
        message when a JSONL line is not valid JSON (``value`` is then ``None``).
        """
        if self.kind == "empty":
            return
        if self.kind == "jsonl":
            for line in read_jsonl(self.path, file_name=self.name):
                if line.error is not None and line.error.code != "J002":
                    col = f" (column {line.error.column})" if line.error.column else ""
                    yield line.line, None, line.error.message + col
                else:
                    yield line.line, line.value, None
            return
        if self.kind == "object":
            # One object is one record. Readers walk the arrays of big objects with array()
            # before they get here; a big object that reaches this point is loaded.
            yield 1, self.document(), None
            return
        yield from self._array_items("item")

    def array(self, key: str) -> Iterator[tuple[int, Any]]:
        """Yield ``(index, item)`` (1-based) of the array under top-level ``key`` of an object document."""
        if self.small:
            doc = self.document()
            items = doc.get(key) if isinstance(doc, dict) else None
            if isinstance(items, list):
                yield from enumerate(items, start=1)
            return
        for number, value, _ in self._array_items(f"{key}.item"):
            yield number, value

    def _array_items(self, prefix: str) -> Iterator[tuple[int, Any, str | None]]:
        if self.small:
            doc = self.document()
            if prefix == "item":
                if isinstance(doc, list):
                    for number, value in enumerate(doc, start=1):
                        yield number, value, None
                return
            key = prefix[: -len(".item")]
            items = doc.get(key) if isinstance(doc, dict) else None
            if isinstance(items, list):
                for number, value in enumerate(items, start=1):
                    yield number, value, None
            return
        import ijson

        number = 0
        with open_binary(self.path) as stream:
            try:
                for value in ijson.items(stream, prefix, use_float=True):
                    number += 1
                    yield number, value, None
            except ijson.JSONError as exc:
                raise ReaderError(f"invalid JSON after record {number}: {exc}", file=self.name, record=number + 1) from exc


_UNSET: Any = object()


def _line_col(data: bytes, pos: int | None) -> tuple[int, int]:
    if not isinstance(pos, int):
        return 1, 1
    text = data.decode("utf-8", errors="replace")[:pos]
    line = text.count("\n") + 1
    col = pos - (text.rfind("\n") + 1) + 1
    return line, col


# --------------------------------------------------------------------------- detection sample


@dataclass
class Sample:
    """What ``--from auto`` looks at: the file name, its first bytes and its first records."""

    name: str
    head: bytes
    kind: str  # jsonl, array, object, text, html, csv, parquet, binary, empty
    top_keys: list[str] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)  # first few records (JSON) / rows (tables)
    columns: list[str] = field(default_factory=list)
    note: str = ""  # why detection may fail (shown in the error)

    @property
    def text(self) -> str:
        return self.head.decode("utf-8", errors="replace")


# --------------------------------------------------------------------------- small helpers


def source_name(path: Any) -> str:
    """How reports name an input: its path, or ``<stdin>`` for a temporary copy of stdin."""
    shown = getattr(path, "display_name", None)
    return shown if isinstance(shown, str) else display_name(path)


def as_str(value: Any) -> str | None:
    """An id-like value as a string (``None`` stays ``None``; floats like ``12.0`` lose the ``.0``)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def iso_time(value: Any) -> str | None:
    """Normalise a time to ISO 8601: epoch seconds/milliseconds become UTC ``...Z``; strings stay."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
        if seconds > 1e11:  # milliseconds
            seconds /= 1000.0
        try:
            moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return str(value)
        text = moment.strftime("%Y-%m-%dT%H:%M:%S")
        if moment.microsecond:
            text += f".{moment.microsecond // 1000:03d}"
        return text + "Z"
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat()
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    text = str(value).strip()
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return iso_time(float(text))
    if re.match(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text):
        text = text.replace(" ", "T", 1)  # "2024-09-01 08:00:00" -> ISO 8601
    return text or None


def add_participant(conversation: Conversation, participant: Participant) -> None:
    """Add a participant unless one with the same id (or same name and email) is already there."""
    for existing in conversation.participants:
        same_id = participant.id is not None and existing.id == participant.id
        same_person = participant.id is None and existing.id is None and (existing.name, existing.email) == (participant.name, participant.email)
        if same_id or same_person:
            for key in ("name", "email", "phone"):
                if getattr(existing, key) is None and getattr(participant, key) is not None:
                    setattr(existing, key, getattr(participant, key))
            if existing.kind is None:
                existing.kind = participant.kind
            return
    if any(getattr(participant, key) for key in ("id", "name", "email", "phone")):
        conversation.participants.append(participant)


def type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}.get(type(value), type(value).__name__)


SpeakerResolver = Callable[[Mapping[str, Any]], Speaker]


def read_head(path: str | os.PathLike[str], size: int = 1 << 16) -> bytes:
    with open_binary(path) as stream:
        return stream.read(size)


def text_lines(path: str | os.PathLike[str], name: str) -> Iterator[tuple[int, str]]:
    """Stream ``(line_number, text)`` of a text file (UTF-8 with BOM tolerated; bad bytes replaced and warned)."""
    with open_binary(path) as stream:
        reader = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline=None)
        for number, line in enumerate(reader, start=1):
            yield number, line.rstrip("\n")


# --------------------------------------------------------------------------- grouping


class GroupBuffer:
    """Collect items under a key (Zendesk audits by ticket, table rows by conversation) and
    give them back grouped, keys in first-seen order, items in ``(sort_key, arrival)`` order.

    Grouping an unsorted input needs every item before the first group is complete, so this
    is the one place readers must hold data: up to ``spill_after`` items stay in memory,
    beyond that everything moves to a temporary SQLite file so memory stays flat however
    big the input is.
    """

    def __init__(self, spill_after: int = 20_000) -> None:
        self.spill_after = spill_after
        self._memory: dict[str, list[tuple[Any, int, Any, Any]]] = {}
        self._count = 0
        self._db: Any = None
        self._tmpdir: Any = None
        self._pending: list[tuple[Any, ...]] = []

    def add(self, key: str, sort_key: Any, record: Any, value: Any) -> None:
        self._count += 1
        if self._db is None:
            self._memory.setdefault(key, []).append((sort_key, self._count, record, value))
            if self._count > self.spill_after:
                self._spill()
            return
        self._insert(key, sort_key, self._count, record, value)

    def __len__(self) -> int:
        return self._count

    def _spill(self) -> None:
        import sqlite3
        import tempfile

        self._tmpdir = tempfile.TemporaryDirectory(prefix="ftkit-group-")
        self._db = sqlite3.connect(os.path.join(self._tmpdir.name, "groups.db"))
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE keys (key TEXT PRIMARY KEY, first INTEGER)")
        self._db.execute("CREATE TABLE items (key TEXT, sort TEXT, arrival INTEGER, record BLOB, value BLOB)")
        memory, self._memory = self._memory, {}
        for key, items in memory.items():
            for sort_key, arrival, record, value in items:
                self._insert(key, sort_key, arrival, record, value)

    def _insert(self, key: str, sort_key: Any, arrival: int, record: Any, value: Any) -> None:
        self._pending.append((key, orjson.dumps(sort_key), arrival, orjson.dumps(record), orjson.dumps(value)))
        if len(self._pending) >= 5000:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        self._db.executemany("INSERT OR IGNORE INTO keys VALUES (?, ?)", ((row[0], row[2]) for row in self._pending))
        self._db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?)", self._pending)
        self._pending = []

    def groups(self) -> Iterator[tuple[str, list[tuple[Any, Any]]]]:
        """Yield ``(key, [(record, value), ...])`` per key; the buffer is emptied."""
        if self._db is None:
            memory, self._memory = self._memory, {}
            for key, items in memory.items():
                items.sort(key=lambda item: (_sortable(item[0]), item[1]))
                yield key, [(record, value) for _, _, record, value in items]
            return
        try:
            self._flush()
            self._db.execute("CREATE INDEX items_key ON items (key)")
            keys = [row[0] for row in self._db.execute("SELECT key FROM keys ORDER BY first")]
            for key in keys:
                rows = self._db.execute("SELECT sort, arrival, record, value FROM items WHERE key = ?", (key,)).fetchall()
                decoded = [(orjson.loads(s), a, orjson.loads(r), orjson.loads(v)) for s, a, r, v in rows]
                decoded.sort(key=lambda item: (_sortable(item[0]), item[1]))
                yield key, [(record, value) for _, _, record, value in decoded]
        finally:
            self.close()

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None


def _sortable(value: Any) -> tuple:
    # None sorts first; mixed types compare by type name so sorting never raises.
    if value is None:
        return (0, "", 0)
    if isinstance(value, (list, tuple)):
        return (1, "tuple", tuple(_sortable(v) for v in value))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (1, "number", value)
    return (1, type(value).__name__, str(value))
