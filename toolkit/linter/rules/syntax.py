"""J: syntax and encoding - lines that cannot be read as one JSON object.

The lint engine reads the raw bytes and reports these codes itself (the reader classifies
every bad line, and only the engine sees a BOM or CRLF line ends); these classes carry each
code's documentation and default severity, and let ``--select`` / ``--ignore`` name them.
"""

from __future__ import annotations

from typing import Iterable

from toolkit.diagnostics import Severity
from toolkit.linter.rule import DatasetRule, ExampleContext, Finding, register
from toolkit.validation.codes import CHECKS

_GOOD = '{"messages": [{"role": "user", "content": "Where is my order?"}, {"role": "assistant", "content": "Let me check that for you."}]}'


class _EngineReported(DatasetRule):
    """A J code: produced by the engine from the reader's line errors, never by ``observe``."""

    engine_reported = True

    def observe(self, ctx: ExampleContext) -> Iterable[Finding]:
        return ()

    @classmethod
    def documentation(cls) -> dict:
        """As :meth:`Rule.documentation`, with undecodable bytes (surrogate escapes) shown as ``\\xNN``.

        ``bad`` keeps the real surrogate so the docs test writes the real byte; printed
        documentation (JSON, terminal) must stay encodable as UTF-8.
        """
        doc = super().documentation()
        for key in ("bad", "good"):
            doc[key] = "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else c for c in doc[key])
        return doc


def _j(code: str, bad: str, good: str = _GOOD, severity: Severity = Severity.ERROR) -> type:
    doc = CHECKS[code]
    cls = type(
        f"Rule{code}",
        (_EngineReported,),
        {
            "__doc__": doc.summary,
            "__module__": __name__,
            "code": code,
            "name": doc.name,
            "summary": doc.summary,
            "why": doc.why,
            "bad": bad,
            "good": good,
            "default_severity": severity,
            "fix_safety": "safe" if code in ("J004", "J006", "J007") else None,  # the engine fixes these with --fix
        },
    )
    return register(cls)


InvalidJson = _j("J001", '{"messages": [{"role": "user", "content": "Hi" "there"}]}')
NotAnObject = _j("J002", '[{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}]')
TruncatedLine = _j("J003", '{"messages": [{"role": "user", "content": "Where is my ord')
NotUtf8 = _j("J004", '{"messages": [{"role": "user", "content": "caf\udce9 au lait?"}, {"role": "assistant", "content": "Sure."}]}',
             '{"messages": [{"role": "user", "content": "café au lait?"}, {"role": "assistant", "content": "Sure."}]}')
GitLfsPointer = _j("J005", "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345")
Utf8Bom = _j("J006", "\ufeff" + _GOOD, severity=Severity.WARNING)
CrlfLineEndings = _j("J007", _GOOD + "\r\n", severity=Severity.INFO)
