"""Streaming JSON Lines: read with line numbers and per-line errors, write atomically.

Reading never stops at a bad line: every line comes out as a :class:`JsonlLine` that holds
either the parsed ``value`` or a :class:`LineError` (invalid JSON with its column, not an
object, a truncated last line, bytes that are not UTF-8, a Git LFS pointer instead of data).
Blank lines are skipped. A UTF-8 BOM and CRLF line ends are tolerated.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO, Iterable, Iterator

import orjson

STDIN_NAMES = {"-", "/dev/stdin"}
_LFS_POINTER = b"version https://git-lfs.github.com/spec/"


@dataclass(frozen=True)
class LineError:
    """Why a line could not be read. ``code`` is a J-family rule code."""

    code: str
    message: str
    column: int | None = None
    hint: str | None = None


@dataclass
class JsonlLine:
    """One line of a JSONL file: its 1-based number and its value, or the error reading it."""

    file: str
    line: int
    value: Any = None
    error: LineError | None = None
    raw: bytes = b""

    @property
    def ok(self) -> bool:
        return self.error is None


# Error codes for the syntax family (shared with the linter's J rules).
J_INVALID_JSON = "J001"
J_NOT_OBJECT = "J002"
J_TRUNCATED = "J003"
J_NOT_UTF8 = "J004"
J_LFS_POINTER = "J005"
J_BOM = "J006"
J_CRLF = "J007"


def display_name(source: str | os.PathLike[str] | IO[bytes]) -> str:
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        return "<stdin>" if text in STDIN_NAMES else text
    return getattr(source, "name", "<stream>") if isinstance(getattr(source, "name", None), str) else "<stream>"


@contextlib.contextmanager
def open_binary(source: str | os.PathLike[str] | IO[bytes]) -> Iterator[BinaryIO]:
    """Open a path, ``-`` (stdin) or a binary stream for reading; ``.gz`` is decompressed.

    Gzip is detected by its magic bytes, not only by the name, so a mis-named file still reads.
    """
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if text in STDIN_NAMES:
            raw: BinaryIO = sys.stdin.buffer
            close = False
        else:
            # a 1 MiB buffer: one read system call per ~400 lines, not per 8 KiB (the linter reads
            # while its pool threads pickle and send, and every call gives up the GIL)
            raw = open(text, "rb", buffering=1 << 20)  # noqa: SIM115 - closed below
            close = True
    else:
        raw = source  # type: ignore[assignment]
        close = False
    try:
        buffered = raw if hasattr(raw, "peek") else io.BufferedReader(raw)  # type: ignore[arg-type]
        head = buffered.peek(2)[:2]  # type: ignore[union-attr]
        if head == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=buffered, mode="rb") as gz:
                yield io.BufferedReader(gz, buffer_size=1 << 20)  # type: ignore[arg-type]
        else:
            yield buffered  # type: ignore[misc]
    finally:
        if close:
            raw.close()


def parse_line(raw: bytes, file: str, number: int, *, last: bool = False) -> JsonlLine | None:
    """Parse one raw line (without its ``\\n``). Returns ``None`` for a blank line."""
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if not raw.strip():
        return None
    return parse_body(raw, file, number, last=last)


def parse_body(raw: bytes, file: str, number: int, *, last: bool = False) -> JsonlLine:
    """Parse one non-blank line whose BOM and CR are already removed (``parse_line`` without the stripping).

    The lint engine strips lines in its main process (it reports BOM and CRLF itself) and
    parses them in worker processes with this.
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return JsonlLine(file, number, error=_classify_error(raw, exc, last), raw=raw)
    if not isinstance(value, dict):
        kind = type(value).__name__ if not isinstance(value, list) else "array"
        kind = {"str": "string", "int": "number", "float": "number", "NoneType": "null", "bool": "boolean"}.get(kind, kind)
        return JsonlLine(
            file,
            number,
            value=value,
            error=LineError(J_NOT_OBJECT, f"line is a JSON {kind}, not an object", hint="each line must be one JSON object"),
            raw=raw,
        )
    return JsonlLine(file, number, value=value, raw=raw)


def _classify_error(raw: bytes, exc: orjson.JSONDecodeError, last: bool) -> LineError:
    if raw.startswith(_LFS_POINTER):
        return LineError(
            J_LFS_POINTER,
            "this is a Git LFS pointer, not the data",
            column=1,
            hint="run `git lfs pull` to fetch the real file",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return LineError(
            J_NOT_UTF8,
            f"bytes that are not UTF-8 at byte {err.start + 1} ({raw[err.start:err.start + 4]!r})",
            column=err.start + 1,
            hint="re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)",
        )
    char = exc.pos if isinstance(exc.pos, int) else None
    column = char + 1 if char is not None else None  # orjson counts characters, not bytes
    reason = exc.msg or "invalid JSON"
    at_end = char is not None and char >= len(text.rstrip()) - 1
    if last and at_end and text.lstrip().startswith("{") and not text.rstrip().endswith("}"):
        return LineError(J_TRUNCATED, "the last line ends before its JSON is complete (truncated file?)", column=column,
                         hint="the file was cut off; re-export it or delete the partial line")
    return LineError(J_INVALID_JSON, f"invalid JSON: {reason}", column=column, hint="fix the JSON syntax at the column shown")


def iter_raw_lines(stream: BinaryIO) -> Iterator[tuple[int, bytes, bool]]:
    """Yield ``(line_number, bytes_without_newline, is_last)`` from a binary stream, streaming."""
    number = 0
    previous: bytes | None = None
    for chunk in stream:
        if previous is not None:
            number += 1
            yield number, previous, False
        previous = chunk[:-1] if chunk.endswith(b"\n") else chunk
        if not chunk.endswith(b"\n"):
            # Only the final chunk can lack a newline: it is the last line.
            number += 1
            yield number, previous, True
            previous = None
    if previous is not None:
        number += 1
        yield number, previous, True


def read_jsonl(source: str | os.PathLike[str] | IO[bytes], *, file_name: str | None = None) -> Iterator[JsonlLine]:
    """Stream a ``.jsonl`` / ``.jsonl.gz`` file, ``-`` for stdin, or a binary stream.

    Yields one :class:`JsonlLine` per non-blank line, in order, with its 1-based line
    number. Bad lines come out with ``error`` set; reading continues after them.
    Raises ``OSError`` only when the file cannot be opened at all.
    """
    name = file_name or display_name(source)
    with open_binary(source) as stream:
        for number, raw, last in iter_raw_lines(stream):
            parsed = parse_line(raw, name, number, last=last)
            if parsed is not None:
                yield parsed


def read_records(source: str | os.PathLike[str] | IO[bytes]) -> Iterator[dict[str, Any]]:
    """Stream only the valid JSON objects of a JSONL file (bad lines are skipped)."""
    for item in read_jsonl(source):
        if item.ok:
            yield item.value


def dumps(record: Any) -> bytes:
    """Serialise one record deterministically as a JSONL line (no trailing newline).

    Keys keep their insertion order (so a fix keeps the author's key order); non-ASCII
    text is written as UTF-8, not escaped.
    """
    return orjson.dumps(record)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], *, mode: str = "wb", gzip_output: bool | None = None) -> Iterator[BinaryIO]:
    """Write to a temp file beside ``path`` and rename it into place only on success.

    A crash or an exception leaves the old file (or no file) and never a half-written one.
    ``gzip_output`` defaults to whether ``path`` ends in ``.gz``; gzip output has a zero
    mtime so it is byte-deterministic.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    if gzip_output is None:
        gzip_output = target.name.endswith(".gz")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        # mkstemp creates the file 0600; give the result the mode a plain open() would (umask applied).
        os.chmod(tmp_name, 0o666 & ~_current_umask())
        with os.fdopen(fd, "wb") as raw:
            if gzip_output:
                with gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz:
                    yield gz  # type: ignore[misc]
            else:
                yield raw
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def write_jsonl(
    path: str | os.PathLike[str],
    records: Iterable[Any],
    *,
    bom: bool = False,
    newline: bytes = b"\n",
) -> int:
    """Write records as JSONL atomically; returns how many were written.

    ``records`` may be dicts or objects with ``to_dict()`` (``Example``, ``Conversation``).
    ``bom`` writes a UTF-8 BOM first (Azure OpenAI wants one).
    """
    count = 0
    with atomic_writer(path) as out:
        if bom:
            out.write(b"\xef\xbb\xbf")
        for record in records:
            if hasattr(record, "to_dict"):
                record = record.to_dict()
            out.write(dumps(record))
            out.write(newline)
            count += 1
    return count
