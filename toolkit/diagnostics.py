"""Problems found in a dataset: one type shared by ``validate``, ``lint`` and every reporter."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Iterable


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 2, "warning": 1, "info": 0}[self.value]

    def __str__(self) -> str:  # pragma: no cover - convenience
        return self.value


@dataclass(frozen=True)
class Span:
    """A character range ``[start, end)`` inside the string at ``pointer`` (RFC 6901)."""

    start: int
    end: int
    text: str
    pointer: str = ""
    label: str | None = None  # what was found: "money", "url", "policy", ...
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"pointer": self.pointer, "start": self.start, "end": self.end, "text": self.text}
        if self.label is not None:
            out["label"] = self.label
        if self.score is not None:
            out["score"] = round(self.score, 4)
        return out


@dataclass
class Diagnostic:
    """One problem, located by file, 1-based line and a JSON pointer inside the record."""

    code: str
    message: str
    severity: Severity = Severity.ERROR
    file: str | None = None
    line: int | None = None
    pointer: str = ""
    hint: str | None = None
    name: str | None = None  # the rule's kebab-case name
    fingerprint: str | None = None  # the example's stable identity (metadata.id or content hash)
    score: float | None = None  # heuristic rules: confidence in [0, 1]
    spans: list[Span] = field(default_factory=list)
    fixable: bool = False
    column: int | None = None  # for syntax errors: 1-based column in the line
    extra: dict[str, Any] = field(default_factory=dict)

    def location(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def format_text(self) -> str:
        """``path:line: CODE [*] message (pointer) hint`` - the one-line human format."""
        text = f"{self.location()}: {self.code}"
        if self.fixable:
            text += " [*]"
        text += f" {self.message}"
        if self.pointer:
            text += f" ({self.pointer})"
        if self.hint:
            text += f" hint: {self.hint}"
        return text

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "file": self.file,
            "line": self.line,
            "code": self.code,
            "name": self.name,
            "severity": self.severity.value,
            "message": self.message,
            "pointer": self.pointer,
            "hint": self.hint,
        }
        if self.column is not None:
            out["column"] = self.column
        if self.fingerprint is not None:
            out["fingerprint"] = self.fingerprint
        if self.score is not None:
            out["score"] = round(self.score, 4)
        if self.spans:
            out["spans"] = [s.to_dict() for s in self.spans]
        if self.fixable:
            out["fixable"] = True
        out.update(self.extra)
        return out


def pointer_escape(token: str | int) -> str:
    """Escape one reference token for an RFC 6901 JSON pointer."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str | int) -> str:
    """Build an RFC 6901 JSON pointer: ``pointer("messages", 2, "content")`` -> ``/messages/2/content``."""
    return "".join("/" + pointer_escape(t) for t in tokens)


def count_by_code(diagnostics: Iterable[Diagnostic]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for diagnostic in diagnostics:
        counts[diagnostic.code] = counts.get(diagnostic.code, 0) + 1
    return dict(sorted(counts.items()))
