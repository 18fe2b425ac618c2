"""Suppressions that survive edits: ignore lists inside records, and a sidecar baseline file.

JSONL holds no comments and line numbers move, so suppressions are keyed by content:

* **In-record**: ``{"metadata": {"ftkit": {"ignore": ["P001", "pii-phone", "Q"], "reason": "..."}}}``
  silences those rules (codes, kebab-case names or family prefixes) for that example only.
  An entry that silences nothing is reported as X002 (unused-suppression); a malformed
  block as X003 (invalid-suppression).
* **Baseline**: a JSON file keyed by each example's fingerprint (``metadata.id`` when
  present, else a hash of its content without ``metadata``; see
  :func:`toolkit.linter.rule.fingerprint_of`) storing, per rule code, how many problems
  that example had when the baseline was written. Those problems no longer fail the run;
  new ones (another code, or more of the same code) still do. Entries that match nothing
  any more are reported as X001 (stale-baseline-entry) so the baseline shrinks over time.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from toolkit.diagnostics import Diagnostic

SUPPRESSION_KEYS = ("ignore", "reason")
BASELINE_VERSION = 1


class BaselineError(ValueError):
    """The baseline file cannot be read or has the wrong shape (exit status 2)."""


def parse_selector(item: str) -> frozenset[str]:
    """The rule codes an in-record ignore entry names (empty when it names no rule)."""
    from toolkit.linter.settings import LintConfigError, expand_selectors

    try:
        return frozenset(expand_selectors([item], where="metadata.ftkit.ignore"))
    except LintConfigError:
        return frozenset()


@dataclass
class RecordSuppression:
    """The ignore list of one example, and which of its entries silenced something."""

    entries: list[tuple[str, frozenset[str]]]  # (as written, codes it covers)
    reason: str | None = None
    positions: list[int] = field(default_factory=list)  # each entry's index in the written list
    used: set[int] = field(default_factory=set)  # indexes into entries

    def suppresses(self, code: str) -> bool:
        hit = False
        for position, (_, codes) in enumerate(self.entries):
            if code in codes:
                self.used.add(position)
                hit = True
        return hit

    def unused(self) -> list[tuple[int, str]]:
        return [(position, text) for position, (text, codes) in enumerate(self.entries) if position not in self.used and codes]


_CACHE: dict[str, frozenset[str]] = {}


def record_suppression(record: Mapping[str, Any]) -> RecordSuppression | None:
    """Read ``metadata.ftkit`` of a record; ``None`` when it has no usable ignore list.

    Malformed blocks are not an error here (X003 reports them); their valid entries still apply.
    """
    meta = record.get("metadata")
    # (dict checks first: this runs on every example and typing.Mapping checks are slow)
    if meta is None or not (type(meta) is dict or isinstance(meta, Mapping)):
        return None
    block = meta.get("ftkit")
    if block is None or not (type(block) is dict or isinstance(block, Mapping)):
        return None
    ignore = block.get("ignore")
    if not isinstance(ignore, list) or not ignore:
        return None
    entries = []
    positions = []
    for position, item in enumerate(ignore):
        if not isinstance(item, str):
            continue
        positions.append(position)
        codes = _CACHE.get(item)
        if codes is None:
            codes = parse_selector(item)
            _CACHE[item] = codes
        entries.append((item, codes))
    if not entries:
        return None
    reason = block.get("reason")
    return RecordSuppression(entries, reason if isinstance(reason, str) else None, positions)


# --------------------------------------------------------------------------- baseline


@dataclass
class BaselineEntry:
    fingerprint: str
    codes: dict[str, int]
    files: list[str]
    line: int | None = None  # where the entry sits in the baseline file (for X001 reports)
    used: dict[str, int] = field(default_factory=dict)


class Baseline:
    """Known problems keyed by example fingerprint, with counts per rule code."""

    def __init__(self, entries: dict[str, BaselineEntry] | None = None, path: Path | None = None) -> None:
        self.entries = entries or {}
        self.path = path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "Baseline":
        target = Path(path)
        try:
            text = target.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise BaselineError(f"{target}: baseline file not found (create it with --write-baseline)") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise BaselineError(f"{target}: cannot read baseline: {exc}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BaselineError(f"{target}:{exc.lineno}: baseline is not valid JSON: {exc.msg}") from None
        if not isinstance(data, dict) or not isinstance(data.get("examples"), dict):
            raise BaselineError(f"{target}: not an ftkit baseline (expected an object with an \"examples\" table)")
        version = data.get("version")
        if version != BASELINE_VERSION:
            raise BaselineError(f"{target}: unsupported baseline version {version!r} (this ftkit writes {BASELINE_VERSION})")
        lines = _key_lines(text)
        entries: dict[str, BaselineEntry] = {}
        for fingerprint, body in data["examples"].items():
            where = f"{target}: examples.{fingerprint}"
            if not isinstance(body, dict) or not isinstance(body.get("codes"), dict):
                raise BaselineError(f"{where}: expected {{\"codes\": {{CODE: count}}, \"files\": [...]}}")
            codes = {}
            for code, count in body["codes"].items():
                if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                    raise BaselineError(f"{where}.codes.{code}: count must be a positive integer")
                codes[str(code)] = count
            files = body.get("files") or []
            if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
                raise BaselineError(f"{where}.files: must be a list of paths")
            entries[fingerprint] = BaselineEntry(fingerprint, codes, files, lines.get(fingerprint))
        return cls(entries, target)

    def absorbs(self, diagnostic: Diagnostic) -> bool:
        """Whether the baseline covers this problem (consumes one count if so)."""
        if diagnostic.fingerprint is None:
            return False
        entry = self.entries.get(diagnostic.fingerprint)
        if entry is None:
            return False
        allowed = entry.codes.get(diagnostic.code, 0)
        used = entry.used.get(diagnostic.code, 0)
        if used >= allowed:
            return False
        entry.used[diagnostic.code] = used + 1
        return True

    def stale(self, linted_files: Iterable[str]) -> list[tuple[BaselineEntry, str, int]]:
        """``(entry, code, unmatched count)`` for entries of files linted in this run that matched less.

        Entries whose files were not part of the run are left alone: linting one file must not
        call the rest of the baseline stale.
        """
        linted = {self._relative(f) for f in linted_files}
        out = []
        for fingerprint in sorted(self.entries):
            entry = self.entries[fingerprint]
            if entry.files and not linted.intersection(entry.files):
                continue
            for code in sorted(entry.codes):
                missing = entry.codes[code] - entry.used.get(code, 0)
                if missing > 0:
                    out.append((entry, code, missing))
        return out

    def _relative(self, file: str) -> str:
        return relative_to_baseline(file, self.path)


def relative_to_baseline(file: str, baseline_path: Path | None) -> str:
    """A linted file's path as the baseline stores it: relative to the baseline's folder, POSIX."""
    if baseline_path is None:
        return Path(file).as_posix()
    try:
        return Path(os.path.relpath(Path(file).resolve(), Path(baseline_path).resolve().parent)).as_posix()
    except ValueError:  # another drive on Windows
        return Path(file).resolve().as_posix()


_KEY_LINE = re.compile(r'^    "((?:[^"\\]|\\.)*)": \{')


def _key_lines(text: str) -> dict[str, int]:
    """1-based line of each example entry in a baseline written by :func:`write_baseline`."""
    out: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _KEY_LINE.match(line)
        if match:
            try:
                out[json.loads(f'"{match.group(1)}"')] = number
            except json.JSONDecodeError:  # pragma: no cover - hand-edited file
                continue
    return out


def baseline_document(diagnostics: Iterable[Diagnostic], baseline_path: Path | None) -> dict[str, Any]:
    """The baseline for a set of diagnostics (X001 and problems without a fingerprint are left out)."""
    examples: dict[str, dict[str, Any]] = {}
    for diagnostic in diagnostics:
        if diagnostic.fingerprint is None or diagnostic.code == "X001":
            continue
        body = examples.setdefault(diagnostic.fingerprint, {"codes": {}, "files": set()})
        body["codes"][diagnostic.code] = body["codes"].get(diagnostic.code, 0) + 1
        if diagnostic.file:
            body["files"].add(relative_to_baseline(diagnostic.file, baseline_path))
    return {
        "version": BASELINE_VERSION,
        "tool": "ftkit lint",
        "about": "Known lint problems keyed by example fingerprint (metadata.id, else a content hash). "
        "Regenerate with `ftkit lint --write-baseline`.",
        "examples": {
            fingerprint: {"codes": dict(sorted(body["codes"].items())), "files": sorted(body["files"])}
            for fingerprint, body in sorted(examples.items())
        },
    }


def write_baseline(path: str | os.PathLike[str], diagnostics: Iterable[Diagnostic]) -> int:
    """Write a baseline atomically (sorted, 2-space JSON: byte-identical for the same problems).

    Returns the number of problems recorded.
    """
    from toolkit.io.jsonl import atomic_writer

    target = Path(path)
    document = baseline_document(diagnostics, target)
    count = sum(sum(body["codes"].values()) for body in document["examples"].values())
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    with atomic_writer(target, gzip_output=False) as out:
        out.write(text.encode("utf-8"))
    return count
