"""Lint output formats: text, statistics, json, sarif (GitHub code scanning), github annotations, junit.

Every reporter is a pure function ``(diagnostics, context) -> str`` so output is byte-identical
for the same diagnostics. Diagnostics arrive sorted (file, line, code) from the engine.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from toolkit.diagnostics import Diagnostic, Severity

OUTPUT_FORMATS = ("text", "json", "sarif", "github", "junit")

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://github.com/ftkit/ftkit"


@dataclass
class ReportContext:
    """What reporters may mention beside the diagnostics."""

    files: int = 0
    examples: int = 0
    fixed: int = 0
    hidden_unsafe_fixes: int = 0
    baselined: int = 0
    suppressed: int = 0
    statistics: bool = False
    show_fixes: bool = True
    extra_lines: list[str] = field(default_factory=list)


def counts(diagnostics: Sequence[Diagnostic]) -> dict[str, int]:
    out = {"error": 0, "warning": 0, "info": 0}
    for diagnostic in diagnostics:
        out[diagnostic.severity.value] += 1
    return out


# --------------------------------------------------------------------------- text


def format_text(diagnostics: Sequence[Diagnostic], ctx: ReportContext) -> str:
    """``path:line: CODE [*] message`` lines, optional statistics, then one summary line."""
    lines = [d.format_text() for d in diagnostics]
    if ctx.statistics:
        if lines:
            lines.append("")
        lines.extend(format_statistics(diagnostics).rstrip("\n").splitlines())
    lines.extend(ctx.extra_lines)
    lines.append(summary_line(diagnostics, ctx))
    return "\n".join(lines) + "\n"


def summary_line(diagnostics: Sequence[Diagnostic], ctx: ReportContext) -> str:
    scope = f"{ctx.examples} example{'s' if ctx.examples != 1 else ''} in {ctx.files} file{'s' if ctx.files != 1 else ''}"
    notes = []
    if ctx.fixed:
        notes.append(f"{ctx.fixed} fixed")
    if ctx.baselined:
        notes.append(f"{ctx.baselined} in the baseline")
    if ctx.suppressed:
        notes.append(f"{ctx.suppressed} suppressed in records")
    tail = f" ({', '.join(notes)})" if notes else ""
    if not diagnostics:
        return f"All checks passed: {scope}{tail}."
    c = counts(diagnostics)
    parts = [f"{c['error']} error{'s' if c['error'] != 1 else ''}", f"{c['warning']} warning{'s' if c['warning'] != 1 else ''}"]
    if c["info"]:
        parts.append(f"{c['info']} info")
    text = f"Found {len(diagnostics)} problem{'s' if len(diagnostics) != 1 else ''} ({', '.join(parts)}) in {scope}{tail}."
    fixable = sum(1 for d in diagnostics if d.fixable)
    if fixable and ctx.show_fixes:
        text += f"\n[*] {fixable} fixable with `ftkit lint --fix`."
    if ctx.hidden_unsafe_fixes and ctx.show_fixes:
        text += f"\n{ctx.hidden_unsafe_fixes} more fix{'es' if ctx.hidden_unsafe_fixes != 1 else ''} available with `--unsafe-fixes`."
    return text


def format_statistics(diagnostics: Sequence[Diagnostic]) -> str:
    """A table: count, code, name, severity, fixable count; most frequent first, then by code."""
    from toolkit.linter.engine import _code_key

    table: dict[str, list[Any]] = {}
    for d in diagnostics:
        row = table.setdefault(d.code, [0, d.name or "", d.severity.value, 0])
        row[0] += 1
        row[3] += 1 if d.fixable else 0
        if Severity(d.severity).rank > Severity(row[2]).rank:
            row[2] = d.severity.value
    if not table:
        return "No problems.\n"
    ordered = sorted(table.items(), key=lambda item: (-item[1][0], _code_key(item[0])))
    width_count = max(len(str(row[0])) for _, row in ordered)
    width_code = max(len(code) for code, _ in ordered)
    width_name = max(len(row[1]) for _, row in ordered)
    out = []
    for code, (count, name, severity, fixable) in ordered:
        fix = f"[*] {fixable} fixable" if fixable else ""
        out.append(f"{count:>{width_count}}  {code:<{width_code}}  {name:<{width_name}}  {severity:<7}  {fix}".rstrip())
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- json


def format_json(diagnostics: Sequence[Diagnostic], ctx: ReportContext) -> str:
    """A JSON array of diagnostic objects (the library's ``Diagnostic.to_dict()``), 2-space indented.

    With ``--statistics``: an array of ``{code, name, count, fixable}`` per rule instead.
    """
    if ctx.statistics:
        return json.dumps(statistics_rows(diagnostics), indent=2, ensure_ascii=False) + "\n"
    return json.dumps([d.to_dict() for d in diagnostics], indent=2, ensure_ascii=False) + "\n"


def statistics_rows(diagnostics: Sequence[Diagnostic]) -> list[dict[str, Any]]:
    """Problems per rule, most frequent first (then by code)."""
    from toolkit.linter.engine import _code_key

    table: dict[str, dict[str, Any]] = {}
    for d in diagnostics:
        row = table.setdefault(d.code, {"code": d.code, "name": d.name, "count": 0, "fixable": 0})
        row["count"] += 1
        row["fixable"] += 1 if d.fixable else 0
    return sorted(table.values(), key=lambda row: (-row["count"], _code_key(row["code"])))


# --------------------------------------------------------------------------- github


def _gh_escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _gh_escape_property(text: str) -> str:
    return _gh_escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(diagnostics: Sequence[Diagnostic], ctx: ReportContext) -> str:
    """GitHub Actions workflow commands: ``::error file=F,line=L,title=CODE::message``."""
    level = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}
    lines = []
    for d in diagnostics:
        props = []
        if d.file:
            props.append(f"file={_gh_escape_property(_relpath(d.file))}")
        if d.line:
            props.append(f"line={d.line}")
        if d.column:
            props.append(f"col={d.column}")
        title = f"{d.code} {d.name}" if d.name else d.code
        props.append(f"title={_gh_escape_property(title)}")
        message = f"{d.code}{' [*]' if d.fixable else ''} {d.message}"
        if d.pointer:
            message += f" ({d.pointer})"
        if d.hint:
            message += f"\nhint: {d.hint}"
        lines.append(f"::{level[Severity(d.severity)]} {','.join(props)}::{_gh_escape_data(message)}")
    lines.append(summary_line(diagnostics, ctx).split("\n")[0])
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- sarif


def _relpath(file: str) -> str:
    """A path as SARIF/GitHub want it: relative to the working directory when inside it, POSIX."""
    path = Path(file)
    if path.is_absolute():
        try:
            return path.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix()


def _rule_help(rule_cls: Any) -> tuple[str, str]:
    from toolkit.linter.docs import rule_markdown, rule_text_plain

    return rule_text_plain(rule_cls), rule_markdown(rule_cls, heading_level=2)


def format_sarif(diagnostics: Sequence[Diagnostic], ctx: ReportContext) -> str:
    """SARIF 2.1.0 for GitHub code scanning: one run, rules with help text, results with fingerprints."""
    from toolkit import __version__
    from toolkit.linter.engine import FALLBACK_NAMES, _code_key
    from toolkit.linter.rule import load_all_rules

    registry = load_all_rules()
    codes = sorted({d.code for d in diagnostics}, key=_code_key)
    rules = []
    index_of: dict[str, int] = {}
    level_of = {"error": "error", "warning": "warning", "info": "note"}
    for code in codes:
        index_of[code] = len(rules)
        rule_cls = registry.get(code)
        if rule_cls is None:
            rules.append({
                "id": code,
                "name": FALLBACK_NAMES.get(code, code),
                "shortDescription": {"text": FALLBACK_NAMES.get(code, code).replace("-", " ")},
                "defaultConfiguration": {"level": "error"},
            })
            continue
        text, markdown = _rule_help(rule_cls)
        rules.append({
            "id": code,
            "name": _pascal(rule_cls.name),
            "shortDescription": {"text": rule_cls.summary},
            "fullDescription": {"text": rule_cls.why},
            "help": {"text": text, "markdown": markdown},
            "defaultConfiguration": {"level": level_of[rule_cls.default_severity.value]},
            "properties": {
                "tags": ["ftkit", rule_cls.code.rstrip("0123456789"), *(["heuristic"] if rule_cls.heuristic else [])],
                "kebabName": rule_cls.name,
            },
        })
    results = []
    for d in diagnostics:
        message = d.message + (f" ({d.pointer})" if d.pointer else "") + (f" hint: {d.hint}" if d.hint else "")
        region: dict[str, Any] = {"startLine": max(1, d.line or 1)}
        if d.column:
            region["startColumn"] = d.column
        result: dict[str, Any] = {
            "ruleId": d.code,
            "ruleIndex": index_of[d.code],
            "level": level_of[d.severity.value],
            "message": {"text": message},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(d.file)},
                    "region": region,
                },
                **({"logicalLocations": [{"fullyQualifiedName": d.pointer, "kind": "member"}]} if d.pointer else {}),
            }],
        }
        if d.fingerprint:
            # Stable across line moves: code scanning tracks the alert through edits.
            result["partialFingerprints"] = {"ftkitExample/v1": f"{d.code}:{d.fingerprint}:{d.pointer}"}
        props: dict[str, Any] = {"name": d.name, "pointer": d.pointer}
        if d.score is not None:
            props["score"] = round(d.score, 4)
        if d.spans:
            props["spans"] = [s.to_dict() for s in d.spans]
        if d.fixable:
            props["fixable"] = True
        result["properties"] = props
        results.append(result)
    document = {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "ftkit",
                "semanticVersion": __version__,
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }},
            "results": results,
            "columnKind": "unicodeCodePoints",
        }],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _uri(file: str | None) -> str:
    """A relative URI reference (resolved by code scanning against the repository root)."""
    from urllib.parse import quote

    path = _relpath(file or "<input>")
    return Path(path).as_uri() if Path(path).is_absolute() else quote(path, safe="/")


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


# --------------------------------------------------------------------------- junit


def format_junit(diagnostics: Sequence[Diagnostic], ctx: ReportContext) -> str:
    """JUnit XML: one test suite per file, one failing test case per diagnostic (info ones skipped).

    CI systems (GitLab, Jenkins, Azure) show test cases; a failure per problem makes each
    visible. Files linted without problems get one passing test case so the count is honest.
    """
    from xml.sax.saxutils import escape as xml_escape  # here: ~15 ms to import, and only JUnit needs it
    from xml.sax.saxutils import quoteattr

    by_file: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        by_file.setdefault(d.file or "<input>", []).append(d)
    total = len(diagnostics)
    failures = sum(1 for d in diagnostics if d.severity != Severity.INFO)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="ftkit lint" tests="{max(total, 1)}" failures="{failures}" errors="0">']
    if not by_file:
        out.append('  <testsuite name="ftkit lint" tests="1" failures="0" errors="0" skipped="0">')
        out.append('    <testcase name="all checks passed" classname="ftkit.lint"/>')
        out.append("  </testsuite>")
    for file in sorted(by_file):
        items = by_file[file]
        fails = sum(1 for d in items if d.severity != Severity.INFO)
        skipped = len(items) - fails
        out.append(f'  <testsuite name={quoteattr(file)} tests="{len(items)}" failures="{fails}" errors="0" skipped="{skipped}">')
        for d in items:
            where = f"{file}:{d.line}" if d.line else file
            name = quoteattr(f"{d.code} {d.name or ''} at {where}".replace("  ", " "))
            out.append(f'    <testcase name={name} classname={quoteattr("ftkit.lint." + d.code)} file={quoteattr(file)}'
                       + (f' line="{d.line}"' if d.line else "") + ">")
            body = xml_escape(d.format_text())
            if d.severity == Severity.INFO:
                out.append(f"      <skipped message={quoteattr(d.message)}/>")
            else:
                out.append(f'      <failure message={quoteattr(d.message)} type="{d.severity.value}">{body}</failure>')
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


REPORTERS: dict[str, Callable[[Sequence[Diagnostic], ReportContext], str]] = {
    "text": format_text,
    "json": format_json,
    "sarif": format_sarif,
    "github": format_github,
    "junit": format_junit,
}


def render(fmt: str, diagnostics: Sequence[Diagnostic], ctx: ReportContext | None = None) -> str:
    if fmt not in REPORTERS:
        raise ValueError(f"unknown output format {fmt!r}; choose one of {', '.join(OUTPUT_FORMATS)}")
    return REPORTERS[fmt](diagnostics, ctx or ReportContext())
