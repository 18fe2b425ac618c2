"""``ftkit lint``: lint chat fine-tuning datasets (duplicates, PII, artifacts, behavior, knowledge)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from toolkit.cli.common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, fail, in_github_actions

DATA_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")
DEFAULT_BASELINE = "ftkit-baseline.json"


def _split(values: tuple[str, ...]) -> list[str] | None:
    if not values:
        return None
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in value.split(",") if part.strip())
    return out


def _expand_files(files: tuple[str, ...]) -> list[str]:
    """Files as given; folders expand to the JSONL files inside them (sorted, hidden folders skipped)."""
    out: list[str] = []
    for name in files:
        if name == "-":
            out.append(name)
            continue
        path = Path(name)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.name.lower().endswith(DATA_SUFFIXES)
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                fail(f"{name}: folder has no .jsonl / .ndjson files")
            out.extend(str(p) for p in found)
        elif not path.exists():
            fail(f"{name}: no such file")
        elif not path.is_file():
            fail(f"{name}: not a regular file")
        else:
            out.append(name)
    return out


def _severity_pairs(values: tuple[str, ...]) -> dict[str, str] | None:
    if not values:
        return None
    out = {}
    for value in values:
        for item in value.split(","):
            if not item.strip():
                continue
            if "=" not in item:
                fail(f"--severity {item!r}: expected CODE=error|warning|info")
            key, level = item.split("=", 1)
            out[key.strip()] = level.strip()
    return out


@click.command(name="lint", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("files", nargs=-1, type=str)
@click.option("--select", multiple=True, metavar="RULES", help="Rules to run (codes, names or prefixes, comma-separated); replaces the configured set.")
@click.option("--extend-select", multiple=True, metavar="RULES", help="Rules to add to the selection.")
@click.option("--ignore", multiple=True, metavar="RULES", help="Rules to switch off.")
@click.option("--extend-ignore", multiple=True, metavar="RULES", help="More rules to switch off.")
@click.option("--severity", "severity", multiple=True, metavar="RULE=LEVEL", help="Override a rule's severity (error, warning, info).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="Use this ftkit.toml / pyproject.toml instead of discovering one.")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option("--fix", is_flag=True, help="Apply safe fixes to the files (atomically), then report what is left.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff, also apply fixes that change content (drop duplicates, redact PII).")
@click.option("--diff", is_flag=True, help="Show a unified diff of what --fix would change, without writing; exit 1 if anything would change.")
@click.option("--output-format", type=click.Choice(["text", "json", "sarif", "github", "junit"]), default=None,
              help="Report format (default: text, or github under GitHub Actions).")
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False), help="Write the report to a file instead of stdout.")
@click.option("--statistics", is_flag=True, help="Show a table of problems per rule.")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False), help="Problems listed in this baseline file do not fail the run.")
@click.option("--write-baseline", is_flag=True, help=f"Write the current problems to the baseline (--baseline, the configured one, or {DEFAULT_BASELINE}) and exit 0.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems are found.")
@click.option("--max-warnings", type=click.IntRange(min=0), default=None, help="Fail (exit 1) when there are more warnings than this.")
@click.option("--target", default=None, help="Target format (forwarded to rules that take it, e.g. token limits).")
@click.option("--model", default=None, help="Model name (chooses the tokenizer and per-example token limit).")
@click.option("--kb", "kb", type=click.Path(exists=True), default=None, help="Knowledge base (folder or JSONL) for the K rules' overlap check.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes for per-example rules (default: CPU count).")
@click.option("--stdin-filename", default=None, help="Name to use for data read from stdin (for messages and per-file-ignores).")
@click.option("-q", "--quiet", is_flag=True, help="Text output: print only problems, no summary line.")
@click.option("--timing", is_flag=True, help="Print the CPU time each rule took (all processes) to stderr.")
def command(files, select, extend_select, ignore, extend_ignore, severity, config_path, isolated, fix, unsafe_fixes, diff,
            output_format, output_file, statistics, baseline_path, write_baseline, exit_zero, max_warnings, target, model,
            kb, jobs, stdin_filename, quiet, timing):
    """Lint JSONL chat datasets. FILES may be files, folders (searched for *.jsonl) or - for stdin.

    Exit status: 0 no errors (warnings allowed), 1 errors (or more warnings than
    --max-warnings, or changes shown by --diff), 2 usage, configuration or internal error.
    """
    from toolkit.config import ConfigError, LoadedConfig, load_config
    from toolkit.linter.engine import Linter, RuleCrash
    from toolkit.linter.reporters import ReportContext, counts, render
    from toolkit.linter.settings import LintConfigError, build_settings
    from toolkit.linter.suppression import Baseline, BaselineError, write_baseline as write_baseline_file

    if not files:
        fail("no input: give JSONL files or folders, or - to read stdin (see `ftkit lint --help`)")
    if unsafe_fixes and not (fix or diff):
        fail("--unsafe-fixes needs --fix or --diff")
    if write_baseline and (fix or diff):
        fail("--write-baseline cannot be combined with --fix or --diff")
    paths = _expand_files(files)
    if "-" in paths and (fix or diff):
        fail("--fix and --diff need files, not stdin")
    if paths.count("-") > 1:
        fail("stdin (-) can be given only once")

    try:
        loaded = LoadedConfig() if isolated else load_config(config_path) if config_path else load_config()
    except ConfigError as exc:
        fail(str(exc))
    try:
        settings = build_settings(
            loaded.data,
            config_path=loaded.path,
            select=_split(select),
            ignore=_split(ignore),
            extend_select=_split(extend_select),
            extend_ignore=_split(extend_ignore),
            severity=_severity_pairs(severity),
            max_warnings=max_warnings,
            baseline=baseline_path,
            target=target,
            model=model,
            kb=kb,
        )
    except LintConfigError as exc:
        fail(str(exc))

    fmt = output_format or ("github" if in_github_actions() else "text")
    sources: list = list(paths)  # "-" is read from stdin and shown as <stdin>
    if stdin_filename and "-" in paths:
        sources = [_NamedStream(sys.stdin.buffer, stdin_filename) if p == "-" else p for p in paths]

    def run(linter: Linter) -> list:
        try:
            return linter.run(sources)
        except RuleCrash as exc:
            fail(str(exc))
        except OSError as exc:
            name = getattr(exc, "filename", None) or "input"
            fail(f"{name}: cannot read: {exc.strerror or exc}")
        except LintConfigError as exc:
            fail(str(exc))

    try:
        if write_baseline:
            target_path = Path(baseline_path) if baseline_path else settings.baseline or Path(DEFAULT_BASELINE)
            linter = Linter(settings, jobs=jobs)
            diagnostics = run(linter)
            recorded = write_baseline_file(target_path, diagnostics)
            examples = len({d.fingerprint for d in diagnostics if d.fingerprint and d.code != "X001"})
            click.echo(f"Wrote {recorded} problem(s) in {examples} example(s) to {target_path}.", err=True)
            sys.exit(EXIT_OK)

        baseline = None
        if settings.baseline is not None:
            try:
                baseline = Baseline.load(settings.baseline)
            except BaselineError as exc:
                fail(str(exc))

        if fix or diff:
            sys.exit(_fix_or_diff(settings, sources, paths, baseline, fix=fix, diff=diff, unsafe=unsafe_fixes,
                                  fmt=fmt, output_file=output_file, statistics=statistics, exit_zero=exit_zero,
                                  quiet=quiet, run=run))

        linter = Linter(settings, jobs=jobs, baseline=baseline, timing=timing)
        diagnostics = run(linter)
        if timing:
            _print_timings(linter)
        # Baseline: a fresh object per run, so stale detection is per run.
        ctx = _context(linter, statistics)
        _emit(render(fmt, diagnostics, ctx), output_file, quiet and fmt == "text")
        sys.exit(_exit_status(diagnostics, settings.max_warnings, exit_zero, counts))
    except LintConfigError as exc:  # a rule rejected its options when built
        fail(str(exc))
    except BrokenPipeError:  # `ftkit lint ... | head`
        sys.stderr.close()
        sys.exit(EXIT_OK)


def _print_timings(linter) -> None:
    """Per-rule CPU seconds, slowest first, to stderr (so reports on stdout stay clean)."""
    from toolkit.linter.rule import load_all_rules

    registry = load_all_rules()
    total = sum(linter.timings.values()) or 1.0
    examples = max(1, linter.stats.examples)
    click.echo(f"rule timings (CPU seconds over all processes, {examples} examples):", err=True)
    for code, seconds in sorted(linter.timings.items(), key=lambda item: (-item[1], item[0])):
        name = registry[code].name if code in registry else ""
        click.echo(f"  {code:<5} {name:<28} {seconds:8.3f}s  {100 * seconds / total:5.1f}%  "
                   f"{1e6 * seconds / examples:8.0f} us/example", err=True)


class _NamedStream:
    """A binary stream with a display name (``--stdin-filename``)."""

    def __init__(self, stream, name: str) -> None:
        self._stream = stream
        self.name = name

    def __getattr__(self, item):
        return getattr(self._stream, item)

    def __iter__(self):
        return iter(self._stream)


def _context(linter, statistics: bool, fixed: int = 0):
    from toolkit.linter.reporters import ReportContext

    stats = linter.stats
    return ReportContext(files=stats.files, examples=stats.examples + stats.unreadable, fixed=fixed,
                         hidden_unsafe_fixes=stats.hidden_unsafe_fixes, baselined=stats.baselined,
                         suppressed=stats.suppressed, statistics=statistics)


def _emit(text: str, output_file: str | None, quiet_text: bool) -> None:
    if quiet_text:
        # Drop the trailing summary block (it starts at "All checks passed" / "Found").
        lines = text.splitlines()
        cut = next((i for i, line in enumerate(lines) if line.startswith(("All checks passed", "Found "))), len(lines))
        text = "\n".join(lines[:cut]) + ("\n" if cut else "")
    if output_file:
        from toolkit.io.jsonl import atomic_writer

        with atomic_writer(output_file, gzip_output=False) as out:
            out.write(text.encode("utf-8"))
    else:
        click.echo(text, nl=False)


def _exit_status(diagnostics, max_warnings, exit_zero, counts) -> int:
    c = counts(diagnostics)
    status = EXIT_OK
    if c["error"]:
        status = EXIT_PROBLEMS
    if max_warnings is not None and c["warning"] > max_warnings:
        click.echo(f"ftkit: {c['warning']} warning(s) exceed --max-warnings {max_warnings}", err=True)
        status = EXIT_PROBLEMS
    return EXIT_OK if exit_zero else status


def _fix_or_diff(settings, sources, paths, baseline, *, fix, diff, unsafe, fmt, output_file, statistics, exit_zero, quiet, run) -> int:
    from toolkit.linter.engine import Linter
    from toolkit.linter.fixes import FixError, apply_file_fixes, unified_diff
    from toolkit.linter.reporters import counts, render
    from toolkit.linter.suppression import Baseline

    linter = Linter(settings, jobs=1, unsafe_fixes=unsafe, collect_fixes=True, baseline=baseline)
    run(linter)
    changes = []
    try:
        for path in paths:
            plan = linter.fixes.get(path)
            if plan is None:
                continue
            changes.append(apply_file_fixes(path, plan, write=not diff, keep_text=diff))
    except FixError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{getattr(exc, 'filename', None) or 'output'}: cannot write: {exc.strerror or exc}")
    applied = sum(c.fixes_applied for c in changes if c.changed)
    if diff:
        text = "".join(unified_diff(c) for c in changes)
        changed_files = sum(1 for c in changes if c.changed)
        if output_file:
            _emit(text, output_file, False)
        else:
            click.echo(text, nl=False)
        if changed_files:
            click.echo(f"Would fix {applied} problem(s) in {changed_files} file(s).", err=True)
        else:
            click.echo("No fixes available.", err=True)
        return EXIT_OK if exit_zero or not changed_files else EXIT_PROBLEMS
    # Re-lint the fixed files so the report shows exactly what is left.
    fresh_baseline = Baseline.load(settings.baseline) if baseline is not None else None
    relint = Linter(settings, jobs=None, unsafe_fixes=unsafe, baseline=fresh_baseline)
    diagnostics = run(relint)
    ctx = _context(relint, statistics, fixed=applied)
    _emit(render(fmt, diagnostics, ctx), output_file, quiet and fmt == "text")
    return _exit_status(diagnostics, settings.max_warnings, exit_zero, counts)
