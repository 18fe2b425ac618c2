"""``ftkit validate``: check files against a target's schema, structure rules and token limits.

Prints every problem as ``path:line: CODE message (pointer) hint``, then a summary per file
(examples, counts per code, token totals labelled as an estimate with the encoding). Exit
status: 0 when every file is valid, 1 when a problem was found (an error; a warning too with
``--strict``; a file with no examples is never valid), 2 for usage, configuration or I/O errors.
"""

from __future__ import annotations

import os
import sys
import zlib
from typing import Any

import click
import orjson

from toolkit.cli.common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, fail
from toolkit.validation.targets import TARGET_NAMES

FORMATS = ["auto", *TARGET_NAMES]


def _config_defaults() -> dict[str, Any]:
    from toolkit.config import ConfigError, load_config

    try:
        loaded = load_config()
    except ConfigError as exc:
        fail(str(exc))
    return {key: loaded.data[key] for key in ("target", "model", "encoding") if key in loaded.data}


def _check_inputs(files: tuple[str, ...]) -> None:
    if sum(1 for f in files if f == "-") > 1:
        fail("stdin ('-') can be read only once")
    for name in files:
        if name == "-":
            continue
        if not os.path.exists(name):
            fail(f"{name}: no such file")
        if os.path.isdir(name):
            fail(f"{name}: is a directory (pass the .jsonl files inside it)")
        if not os.access(name, os.R_OK):
            fail(f"{name}: permission denied")


def _closed_stdout() -> None:
    """The reader of our output went away (``ftkit validate ... | head``): stop quietly."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    sys.exit(EXIT_PROBLEMS)


def _read_error(exc: BaseException) -> str:
    """A reading error as a user sees it (a cut-off .gz raises EOFError, a corrupt one zlib.error)."""
    if isinstance(exc, EOFError):
        return "the gzip stream ends early (truncated .gz file?)"
    if isinstance(exc, zlib.error):
        return f"corrupt gzip data ({exc})"
    return str(exc.strerror or exc) if isinstance(exc, OSError) else str(exc)


def _summary_lines(report, target_label: str, strict: bool) -> list[str]:
    from toolkit.validation.codes import CHECKS

    lines = []
    problems = report.errors + report.warnings
    head = (f"{report.file}: {report.examples:,} example(s) as {target_label}; "
            f"{report.errors:,} error(s), {report.warnings:,} warning(s)")
    if report.severities["info"]:
        head += f", {report.severities['info']:,} note(s)"
    lines.append(head)
    for code, count in sorted(report.counts.items()):
        name = CHECKS[code].name if code in CHECKS else ""
        lines.append(f"  {code} {name:<26} {count:>9,}")
    tokens = report.tokens
    if tokens is not None and tokens.examples:
        longest = f"; longest example {tokens.longest:,}" + (f" (line {tokens.longest_line})" if tokens.longest_line else "")
        lines.append(f"  tokens (estimate, {tokens.encoding}): {tokens.total:,} total = {tokens.prompt:,} prompt + "
                     f"{tokens.trainable:,} trainable{longest}")
    if report.valid and not (strict and problems):
        lines.append(f"{report.file}: passed")
    else:
        lines.append(f"{report.file}: FAILED")
    return lines


@click.command("validate")
@click.argument("files", nargs=-1, type=str)
@click.option("--format", "-f", "target", type=click.Choice(FORMATS), default=None,
              help="Target format (default: `target` from the config, else auto = detect from the content).")
@click.option("--model", "-m", default=None, help="Model to train (chooses the tokenizer and the per-example token limit).")
@click.option("--max-tokens", type=click.IntRange(min=1), default=None, help="Per-example token limit (overrides the model's).")
@click.option("--encoding", type=click.Choice(["o200k_base", "cl100k_base"]), default=None,
              help="Force a tiktoken encoding for the token estimates.")
@click.option("--output-format", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Warnings fail too (exit 1).")
@click.option("--no-min-examples", is_flag=True, help="Skip the provider's minimum example count (e.g. for a validation split).")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes (default: one per CPU).")
@click.option("--list-codes", is_flag=True, help="Print the documented J/S/T codes (text or json) and exit.")
def command(files: tuple[str, ...], target: str | None, model: str | None, max_tokens: int | None, encoding: str | None,
            output_format: str, strict: bool, no_min_examples: bool, jobs: int | None, list_codes: bool) -> None:
    """Check FILE... (JSONL, .jsonl.gz, or - for stdin) for a fine-tuning target.

    Reports every problem with its line and JSON pointer: schema violations, role order,
    tool calls and results, weights, empty messages, chat-template tokens, examples over
    the token limit, and the provider's minimum example count. Token figures are
    estimates and name the encoding that made them. Everything runs offline.

    \b
    Examples:
      ftkit validate --format openai train.jsonl
      ftkit validate --format auto --model gpt-4o-mini data/*.jsonl
      cat train.jsonl | ftkit validate -f mistral -
    """
    from toolkit.validation.runner import FileValidation

    if list_codes:
        _print_codes(output_format)
        sys.exit(EXIT_OK)
    if not files:
        fail("no input: pass one or more FILEs (or - for stdin); see `ftkit validate --help`")
    defaults = _config_defaults()
    target = target or defaults.get("target") or "auto"
    model = model or defaults.get("model")
    encoding = encoding or defaults.get("encoding")
    _check_inputs(files)
    json_out = output_format == "json"
    out = sys.stdout
    write = out.write
    if json_out:
        write('{"diagnostics": [')
    first = True
    reports = []
    failed = False
    try:
        for name in files:
            validation = FileValidation(name, target, model=model, max_tokens=max_tokens, encoding=encoding, jobs=jobs,
                                        min_examples=not no_min_examples)
            announced = False
            try:
                for diagnostic in validation:
                    if json_out:
                        write(("\n  " if first else ",\n  ") + orjson.dumps(diagnostic.to_dict()).decode())
                        first = False
                    else:
                        if not announced and target == "auto":
                            announced = True
                            _announce(validation)
                        write(diagnostic.format_text() + "\n")
            except (OSError, EOFError, zlib.error) as exc:
                if isinstance(exc, BrokenPipeError):
                    raise
                if json_out:
                    write("\n]}\n")
                out.flush()
                fail(f"{name}: {_read_error(exc)}")
            report = validation.report
            assert report is not None
            reports.append(report)
            problems = report.errors + (report.warnings if strict else 0)
            if problems or not report.valid:
                failed = True
            if not json_out:
                if target == "auto" and not announced:
                    _announce(validation)
                label = report.target + (" (detected)" if report.detected else "")
                for line in _summary_lines(report, label, strict):
                    write(line + "\n")
        if json_out:
            files_out = [r.to_dict() for r in reports]
            for entry, report in zip(files_out, reports):
                entry["passed"] = report.valid and not (strict and report.warnings)
            summary = {
                "files": len(reports),
                "examples": sum(r.examples for r in reports),
                "errors": sum(r.errors for r in reports),
                "warnings": sum(r.warnings for r in reports),
                "passed": not failed,
                "counts": _merged_counts(reports),
            }
            write("\n],\n" if not first else "],\n")
            write('"files": ' + orjson.dumps(files_out).decode() + ",\n")
            write('"summary": ' + orjson.dumps(summary).decode() + "}\n")
        elif len(reports) > 1:
            total = sum(r.examples for r in reports)
            write(f"{len(reports)} files, {total:,} example(s): {'FAILED' if failed else 'passed'}\n")
        out.flush()
        sys.exit(EXIT_PROBLEMS if failed else EXIT_OK)
    except BrokenPipeError:
        _closed_stdout()


def _announce(validation) -> None:
    """Say which format ``--format auto`` chose (stdout, before the file's diagnostics)."""
    if validation.chosen is None:
        return
    target, detected, line = validation.chosen
    if detected:
        click.echo(f"{validation.name}: --format auto: detected {target} (from line {line})")
    else:
        click.echo(f"{validation.name}: --format auto: no record tells the format; validating as {target}")


def _print_codes(output_format: str) -> None:
    from toolkit.validation.codes import CHECKS

    if output_format == "json":
        sys.stdout.write(orjson.dumps([c.to_dict() for c in CHECKS.values()], option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    for check in CHECKS.values():
        click.echo(f"{check.code} {check.name} ({check.severity.value}, {check.scope})")
        click.echo(f"    {check.summary}")
        click.echo(f"    why: {check.why}")
        click.echo(f"    fix: {check.hint}")


def _merged_counts(reports) -> dict[str, int]:
    counts: dict[str, int] = {}
    for report in reports:
        for code, n in report.counts.items():
            counts[code] = counts.get(code, 0) + n
    return dict(sorted(counts.items()))


__all__ = ["command", "EXIT_USAGE"]
