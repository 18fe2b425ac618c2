"""Applying fixes: ``ftkit lint --fix`` / ``--unsafe-fixes`` / ``--diff``.

Two kinds of fixes:

* **Record fixes** come from rules: a :class:`~toolkit.linter.rule.Fix` on a finding, whose
  ``apply(record) -> record`` returns the changed record, or ``None`` to drop the example
  (e.g. an exact duplicate). ``safety="safe"`` fixes keep the meaning (whitespace, Unicode
  normalisation, mojibake repair); ``"unsafe"`` ones change content (drop duplicates,
  redact PII, remove leaked template tokens) and run only with ``--unsafe-fixes``.
  Helpers below build the common safe text fixes so rules share one implementation.
* **File fixes** the engine owns, because only it sees raw bytes: remove a UTF-8 BOM
  (J006), turn CRLF line ends into LF (J007), re-decode lines that are not UTF-8 as
  Windows-1252 (J004) when that decodes to a valid JSON object.

Rewriting keeps every line that has no fix byte for byte; a fixed record is re-serialised
with its key order intact (orjson keeps insertion order). Files are written atomically
(temp file, then rename); gzip files stay gzip.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson

from toolkit.io.jsonl import atomic_writer, dumps, open_binary
from toolkit.linter.rule import Fix

# --------------------------------------------------------------------------- record fix helpers


def map_texts(record: dict[str, Any], transform: Callable[[str], str], *, roles: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A copy of ``record`` with ``transform`` applied to every message's text (string or text parts).

    Keys keep their order; only ``content`` strings (and ``text`` of text parts) change.
    ``roles`` limits the change to messages of those roles.
    """
    out = dict(record)
    messages = record.get("messages")
    if not isinstance(messages, list):
        return out
    new_messages = []
    for message in messages:
        if not isinstance(message, dict) or (roles is not None and message.get("role") not in roles):
            new_messages.append(message)
            continue
        message = dict(message)
        content = message.get("content")
        if isinstance(content, str):
            message["content"] = transform(content)
        elif isinstance(content, list):
            parts = []
            for part in content:
                if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                    part = {**part, "text": transform(part["text"])}
                parts.append(part)
            message["content"] = parts
        new_messages.append(message)
    out["messages"] = new_messages
    return out


def set_at_pointer(record: dict[str, Any], pointer: str, value: Any) -> dict[str, Any]:
    """A copy of ``record`` with the string at an RFC 6901 ``pointer`` replaced (containers copied on the way)."""
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
    if not tokens:
        return value

    def _set(node: Any, rest: list[str]) -> Any:
        key = rest[0]
        if isinstance(node, list):
            position = int(key)
            copy = list(node)
            copy[position] = value if len(rest) == 1 else _set(node[position], rest[1:])
            return copy
        copy = dict(node)
        copy[key] = value if len(rest) == 1 else _set(node[key], rest[1:])
        return copy

    return _set(record, tokens)


def text_fix(description: str, transform: Callable[[str], str], *, safety: str = "safe",
             roles: tuple[str, ...] | None = None) -> Fix:
    """A fix applying ``transform`` to every message text (of ``roles``, or all).

    ``transform`` must be a pure function of the text: fixes may be applied to a record
    that other fixes changed first.
    """
    return Fix(description, safety, lambda record: map_texts(record, transform, roles=roles))  # type: ignore[arg-type]


def normalize_unicode(text: str, form: str = "NFC") -> str:
    return unicodedata.normalize(form, text)


def clean_whitespace(text: str) -> str:
    """Strip leading/trailing white space, turn CRLF/CR into LF, and non-breaking/odd spaces into spaces.

    Zero-width characters (U+200B..U+200D, U+2060, U+FEFF) are removed. Runs of spaces
    inside lines are kept: they can be deliberate (code, tables).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = text.translate(_WHITESPACE_TABLE)
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return text.strip()


_WHITESPACE_TABLE = {
    0x00A0: " ", 0x2007: " ", 0x202F: " ", 0x2000: " ", 0x2001: " ", 0x2002: " ", 0x2003: " ", 0x2004: " ",
    0x2005: " ", 0x2006: " ", 0x2008: " ", 0x2009: " ", 0x200A: " ", 0x3000: " ",
    0x200B: None, 0x200C: None, 0x200D: None, 0x2060: None, 0xFEFF: None,
}


def repair_mojibake(text: str) -> str:
    """Repair mis-decoded text (``Ã©`` -> ``é``) with ftfy, changing nothing else."""
    import ftfy

    return ftfy.fix_text(
        text,
        unescape_html=False,
        remove_terminal_escapes=False,
        fix_latin_ligatures=False,
        fix_character_width=False,
        uncurl_quotes=False,
        fix_line_breaks=False,
        normalization=None,
    )


def unicode_fix(form: str = "NFC") -> Fix:
    return text_fix(f"normalise Unicode to {form}", lambda text: normalize_unicode(text, form))


def whitespace_fix() -> Fix:
    return text_fix("trim white space and remove zero-width characters", clean_whitespace)


def mojibake_fix() -> Fix:
    return text_fix("repair mojibake (ftfy)", repair_mojibake)


def drop_record_fix(description: str = "drop this example") -> Fix:
    """An unsafe fix that removes the example from the file (e.g. an exact duplicate)."""
    return Fix(description, "unsafe", lambda record: None)


# --------------------------------------------------------------------------- file fixes


def reencode_line(raw: bytes) -> bytes | None:
    """A line that is not UTF-8, re-decoded as Windows-1252 and encoded as UTF-8, when that yields a JSON object."""
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        return None
    encoded = text.encode("utf-8")
    try:
        value = orjson.loads(encoded)
    except orjson.JSONDecodeError:
        return None
    return encoded if isinstance(value, dict) else None


class FixError(RuntimeError):
    """A rule's fix raised; names the file, line and the fix (exit status 2)."""


@dataclass
class FileChange:
    """What fixing did (or would do) to one file."""

    path: str
    fixes_applied: int
    dropped: int
    before: bytes | None = None  # kept only when a diff is wanted
    after: bytes | None = None
    changed: bool = False


def apply_file_fixes(path: str, plan: Any, *, write: bool = True, keep_text: bool = False) -> FileChange:
    """Rewrite ``path`` applying a :class:`toolkit.linter.engine.FileFixes` plan.

    ``write=False`` computes the result without touching the file (for ``--diff``).
    """
    applied = 0
    dropped = 0
    before_parts: list[bytes] = []
    after_parts: list[bytes] = []
    is_gzip = _is_gzip(path)

    crlf_fixed = False

    def produce() -> Iterator[bytes]:
        nonlocal applied, dropped, crlf_fixed
        with open_binary(path) as stream:
            # Iterating a binary stream yields lines with their b"\n" (the last may lack one).
            for number, chunk in enumerate(stream, start=1):
                if keep_text:
                    before_parts.append(chunk)
                body, end = (chunk[:-1], b"\n") if chunk.endswith(b"\n") else (chunk, b"")
                if body.endswith(b"\r"):
                    body = body[:-1]
                    if plan.crlf_to_lf:
                        crlf_fixed = True
                    else:
                        end = b"\r" + end
                if number == 1 and body.startswith(b"\xef\xbb\xbf") and plan.strip_bom:
                    body = body[3:]
                    applied += 1
                if number in plan.reencode_lines:
                    fixed = reencode_line(body)
                    if fixed is not None:
                        body = fixed
                        applied += 1
                fixes = plan.records.get(number)
                if fixes:
                    has_bom = number == 1 and body.startswith(b"\xef\xbb\xbf")
                    bom, text = (body[:3], body[3:]) if has_bom else (b"", body)
                    record: Any = orjson.loads(text)
                    for fix in fixes:
                        try:
                            record = fix.apply(record)
                        except Exception as exc:
                            raise FixError(f"{path}:{number}: fix {fix.description!r} failed: {type(exc).__name__}: {exc}") from exc
                        applied += 1
                        if record is None:
                            break
                    if record is None:
                        dropped += 1
                        continue
                    body = bom + dumps(record)
                out = body + end
                if keep_text:
                    after_parts.append(out)
                yield out

    if write:
        with atomic_writer(path, gzip_output=is_gzip) as out:
            for piece in produce():
                out.write(piece)
    else:
        for _ in produce():
            pass
    if crlf_fixed:
        applied += 1  # one fix for the whole file
    change = FileChange(path, applied, dropped)
    if keep_text:
        change.before = b"".join(before_parts)
        change.after = b"".join(after_parts)
        change.changed = change.before != change.after
    else:
        change.changed = applied > 0
    return change


def _is_gzip(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except OSError:
        return path.endswith(".gz")


def unified_diff(change: FileChange) -> str:
    """A unified diff of one file's change (decoded as UTF-8, undecodable bytes shown escaped)."""
    if not change.changed or change.before is None or change.after is None:
        return ""
    before = change.before.decode("utf-8", errors="backslashreplace").splitlines(keepends=True)
    after = change.after.decode("utf-8", errors="backslashreplace").splitlines(keepends=True)
    path = Path(change.path)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            pass
    name = path.as_posix()
    # git-style a/ b/ prefixes for relative paths (so `git apply -p1` / `patch -p1` work).
    old, new = (name, name) if path.is_absolute() else (f"a/{name}", f"b/{name}")
    lines = list(difflib.unified_diff(before, after, fromfile=old, tofile=new, n=0))
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


__all__ = [
    "FileChange",
    "FixError",
    "apply_file_fixes",
    "clean_whitespace",
    "drop_record_fix",
    "map_texts",
    "mojibake_fix",
    "normalize_unicode",
    "reencode_line",
    "repair_mojibake",
    "set_at_pointer",
    "text_fix",
    "unicode_fix",
    "unified_diff",
    "whitespace_fix",
]
