"""Rule documentation from the registry: markdown, plain text, terminal (rich) and JSON.

``docs/rules.md`` is generated from here (``python scripts/gen_rule_docs.py`` or
``ftkit rule --all --output-format markdown > docs/rules.md``); a test regenerates it and
compares, so the reference cannot drift from the code.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from toolkit.linter.rule import FAMILIES, Rule, load_all_rules

HEADER = """# ftkit lint rules

<!-- Generated from the rule registry by `python scripts/gen_rule_docs.py`. Do not edit by hand. -->

Rules are selected by code (`P001`), kebab-case name (`pii-email`) or family prefix (`P`)
in `[tool.ftkit.lint]` or on the command line (`--select`, `--ignore`, `--extend-select`).
`ftkit rule CODE` prints one rule's documentation; `ftkit rule --all --output-format json`
lists them all as data.

Columns: **default** is whether the rule runs without configuration; **fix** is `safe`
(`--fix`), `unsafe` (`--fix --unsafe-fixes`) or none.
"""


def visible(text: str) -> str:
    """Show characters that would be invisible or lost in docs: BOM, CR, undecodable bytes."""
    out = []
    for char in text:
        code = ord(char)
        if char == "\ufeff":
            out.append("\\ufeff")
        elif char == "\r":
            out.append("\\r")
        elif 0xDC80 <= code <= 0xDCFF:  # surrogate-escaped byte: the example holds non-UTF-8 bytes
            out.append(f"\\x{code - 0xDC00:02x}")
        else:
            out.append(char)
    return "".join(out)


def _family(code: str) -> str:
    return code.rstrip("0123456789")


def rule_markdown(rule_cls: type[Rule], *, heading_level: int = 3) -> str:
    """One rule as Markdown: summary, why, bad/good examples, options, metadata."""
    doc = rule_cls.documentation()
    hashes = "#" * heading_level
    lines = [f"{hashes} {doc['code']} `{doc['name']}`", "", doc["summary"], ""]
    meta = [
        f"default severity: **{doc['default_severity']}**",
        f"on by default: **{'yes' if doc['default_enabled'] else 'no'}**",
        f"scope: {'per example' if doc['scope'] == 'example' else 'whole dataset'}",
        f"fix: {doc['fix'] or 'none'}",
    ]
    if doc["heuristic"]:
        meta.append("heuristic: reports a score in [0, 1] and the spans found")
    lines += ["- " + item for item in meta] + [""]
    lines += ["**Why it hurts fine-tuning.** " + doc["why"], ""]
    if doc.get("example_options"):
        shown = json.dumps(doc["example_options"], ensure_ascii=False, sort_keys=True)
        lines += [f"The examples below are linted with these options: `{shown}`", ""]
    lines += ["**Bad**", "", "```json", visible(doc["bad"]).rstrip("\n"), "```", ""]
    lines += ["**Good**", "", "```json", visible(doc["good"]).rstrip("\n"), "```", ""]
    if doc["options"]:
        lines += ["**Options** (`[tool.ftkit.lint.options." + doc["code"] + "]`)", "",
                  "| option | type | default | description |", "|---|---|---|---|"]
        for option in doc["options"]:
            default = json.dumps(option["default"], ensure_ascii=False)
            desc = str(option["description"]).replace("|", "\\|").replace("\n", " ")
            lines.append(f"| `{option['name']}` | {option['type']} | `{default}` | {desc} |")
        lines.append("")
    return "\n".join(lines)


def rule_text_plain(rule_cls: type[Rule]) -> str:
    """One rule as plain text (SARIF help text, terminals without styling)."""
    doc = rule_cls.documentation()
    lines = [
        f"{doc['code']} {doc['name']}: {doc['summary']}",
        "",
        f"Why it hurts fine-tuning: {doc['why']}",
        "",
        "Bad:",
        "  " + visible(doc["bad"]).rstrip("\n").replace("\n", "\n  "),
        "Good:",
        "  " + visible(doc["good"]).rstrip("\n").replace("\n", "\n  "),
        "",
        f"Default severity: {doc['default_severity']}; on by default: {'yes' if doc['default_enabled'] else 'no'}; "
        f"fix: {doc['fix'] or 'none'}.",
    ]
    for option in doc["options"]:
        lines.append(f"Option {option['name']} ({option['type']}, default {json.dumps(option['default'])}): {option['description']}")
    return "\n".join(lines) + "\n"


def rule_json(rule_cls: type[Rule]) -> dict[str, Any]:
    return rule_cls.documentation()


def all_rules_json(registry: Mapping[str, type[Rule]] | None = None) -> str:
    registry = registry if registry is not None else load_all_rules()
    return json.dumps([rule_json(cls) for cls in registry.values()], indent=2, ensure_ascii=False, default=str) + "\n"


def all_rules_markdown(registry: Mapping[str, type[Rule]] | None = None) -> str:
    """The whole reference: an index table per family, then every rule in full."""
    registry = registry if registry is not None else load_all_rules()
    by_family: dict[str, list[type[Rule]]] = {}
    for code, cls in registry.items():
        by_family.setdefault(_family(code), []).append(cls)
    order = [f for f in FAMILIES if f in by_family] + sorted(f for f in by_family if f not in FAMILIES)
    parts = [HEADER]
    parts.append("## Index\n")
    parts.append("| code | name | summary | severity | default | fix |")
    parts.append("|---|---|---|---|---|---|")
    for family in order:
        for cls in by_family[family]:
            summary = cls.summary.replace("|", "\\|")
            parts.append(f"| [{cls.code}](#{_anchor(cls)}) | `{cls.name}` | {summary} | {cls.default_severity.value} | "
                         f"{'yes' if cls.default_enabled else 'no'} | {cls.fix_safety or ''} |")
    parts.append("")
    for family in order:
        title = FAMILIES.get(family, "other")
        parts.append(f"## {family}: {title}\n")
        for cls in by_family[family]:
            parts.append(rule_markdown(cls, heading_level=3))
    return "\n".join(parts).rstrip("\n") + "\n"


def _anchor(cls: type[Rule]) -> str:
    # GitHub's anchor for "### P001 `pii-email`" is "p001-pii-email".
    return f"{cls.code.lower()}-{cls.name.lower()}"


def render_terminal(rule_cls: type[Rule], console: Any) -> None:
    """Print one rule's documentation with rich styling (examples are never cropped)."""
    from rich.markup import escape

    doc = rule_cls.documentation()
    console.print(f"[bold]{doc['code']}[/bold] [cyan]{escape(doc['name'])}[/cyan]  ({escape(doc['family'])})")
    console.print(escape(doc["summary"]))
    console.print()
    console.print(f"[bold]Why it hurts fine-tuning.[/bold] {escape(doc['why'])}")
    console.print()
    console.print("[bold red]Bad[/bold red]")
    console.print(escape(visible(doc["bad"]).rstrip("\n")), soft_wrap=True)
    console.print("[bold green]Good[/bold green]")
    console.print(escape(visible(doc["good"]).rstrip("\n")), soft_wrap=True)
    console.print()
    console.print(
        f"default severity: [bold]{doc['default_severity']}[/bold]; on by default: "
        f"{'yes' if doc['default_enabled'] else 'no'}; scope: "
        f"{'per example' if doc['scope'] == 'example' else 'whole dataset'}; fix: {doc['fix'] or 'none'}"
        + ("; heuristic (score and spans)" if doc["heuristic"] else "")
    )
    if doc["options"]:
        console.print(f"[bold]Options[/bold] ([tool.ftkit.lint.options.{doc['code']}])".replace("[tool", "\\[tool"))
        for option in doc["options"]:
            default = json.dumps(option["default"], ensure_ascii=False)
            console.print(f"  [cyan]{escape(option['name'])}[/cyan] ({option['type']}, default {escape(default)}): "
                          f"{escape(str(option['description']))}")


def render_index_terminal(registry: Mapping[str, type[Rule]], console: Any) -> None:
    """The rule index: a rich table on a terminal, aligned plain lines otherwise (pipes, files)."""
    rows = [(code, cls.name, cls.default_severity.value, "yes" if cls.default_enabled else "no",
             cls.fix_safety or "-", cls.summary) for code, cls in registry.items()]
    if console.is_terminal:
        from rich.table import Table

        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for column in ("code", "name", "severity", "default", "fix", "summary"):
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    import click

    widths = [max(len(r[i]) for r in rows) for i in range(5)] if rows else [0] * 5
    for row in rows:
        click.echo("  ".join(row[i].ljust(widths[i]) for i in range(5)) + "  " + row[5])
