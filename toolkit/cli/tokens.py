"""``ftkit tokens``: count a dataset's tokens offline - total, prompt and trainable (estimates).

Counting follows OpenAI's documented chat method (per-message framing, names, tool calls,
tool definitions; see :mod:`toolkit.tokens.counting`) for every format ftkit reads. All
figures are estimates made with a named tiktoken encoding; for models that do not use a
tiktoken encoding (Mistral, Gemini, Claude, Llama) they are approximations.
"""

from __future__ import annotations

import os
import sys
import zlib

import click
import orjson

from toolkit.cli.common import EXIT_OK, fail
from toolkit.validation.targets import TARGET_NAMES


@click.command("tokens")
@click.argument("files", nargs=-1, required=True, type=str)
@click.option("--model", "-m", default=None, help="Model whose tokenizer to use (gpt-4o, gpt-4.1, o-series: o200k_base; gpt-3.5/gpt-4: cl100k_base).")
@click.option("--encoding", type=click.Choice(["o200k_base", "cl100k_base"]), default=None, help="Force a tiktoken encoding.")
@click.option("--format", "-f", "target", type=click.Choice(["auto", *TARGET_NAMES]), default="auto", show_default=True,
              help="Record layout (decides which turns are prompt and which are trainable).")
@click.option("--output-format", "-o", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None, help="Worker processes (default: one per CPU).")
def command(files: tuple[str, ...], model: str | None, encoding: str | None, target: str, output_format: str, jobs: int | None) -> None:
    """Count the tokens of FILE... (JSONL, .jsonl.gz, or - for stdin), offline.

    Prints total, prompt and trainable tokens (assistant turns with weight != 0) per file
    and overall, labelled as estimates with the encoding that made them. Unreadable lines
    are not counted and are reported.
    """
    from toolkit.config import ConfigError, load_config
    from toolkit.tokens.encodings import encoding_source
    from toolkit.validation.runner import FileValidation

    try:
        config = load_config().data
    except ConfigError as exc:
        fail(str(exc))
    model = model or config.get("model")
    encoding = encoding or config.get("encoding")
    for name in files:
        if name != "-" and not os.path.isfile(name):
            fail(f"{name}: {'is a directory' if os.path.isdir(name) else 'no such file'}")
    results = []
    for name in files:
        validation = FileValidation(name, target, model=model, encoding=encoding, jobs=jobs, min_examples=False)
        unreadable: list[tuple[int | None, str]] = []
        try:
            for diagnostic in validation:
                if diagnostic.code.startswith("J") and diagnostic.severity.value == "error":
                    unreadable.append((diagnostic.line, diagnostic.code))
        except (OSError, EOFError, zlib.error) as exc:
            from toolkit.cli.validate import _read_error

            fail(f"{name}: {_read_error(exc)}")
        report = validation.report
        assert report is not None and report.tokens is not None
        results.append((report, unreadable))
    enc_name = results[0][0].tokens.encoding
    if output_format == "json":
        out = {"estimate": True, "encoding": enc_name, "encoding_source": encoding_source(enc_name), "model": model, "files": []}
        totals = {"examples": 0, "total": 0, "prompt": 0, "trainable": 0, "unreadable_lines": 0}
        for report, unreadable in results:
            tokens = report.tokens.to_dict()
            tokens["mean"] = round(tokens["total"] / tokens["examples"], 1) if tokens["examples"] else 0
            out["files"].append({"file": report.file, "format": report.target, "examples": report.examples,
                                 "unreadable_lines": len(unreadable), "first_unreadable": unreadable[0][0] if unreadable else None,
                                 "tokens": tokens})
            for key in ("total", "prompt", "trainable"):
                totals[key] += tokens[key]
            totals["examples"] += report.examples
            totals["unreadable_lines"] += len(unreadable)
        out["totals"] = totals
        sys.stdout.write(orjson.dumps(out, option=orjson.OPT_INDENT_2).decode() + "\n")
        sys.exit(EXIT_OK)
    for report, unreadable in results:
        t = report.tokens
        mean = t.total / t.examples if t.examples else 0
        click.echo(f"{report.file} ({report.target}): {report.examples:,} example(s)")
        click.echo(f"  tokens (estimate, {t.encoding})")
        click.echo(f"    total      {t.total:>14,}")
        click.echo(f"    prompt     {t.prompt:>14,}")
        click.echo(f"    trainable  {t.trainable:>14,}   (assistant turns with weight != 0)")
        if t.examples:
            where = f" (line {t.longest_line})" if t.longest_line else ""
            click.echo(f"    per example: mean {mean:,.1f}, longest {t.longest:,}{where}")
        if unreadable:
            codes = sorted({code for _, code in unreadable})
            click.echo(f"  {len(unreadable):,} unreadable line(s) not counted (first: line {unreadable[0][0]}; {', '.join(codes)}); "
                       "run `ftkit validate` for details", err=True)
    if len(results) > 1:
        total = sum(r.tokens.total for r, _ in results)
        prompt = sum(r.tokens.prompt for r, _ in results)
        trainable = sum(r.tokens.trainable for r, _ in results)
        examples = sum(r.examples for r, _ in results)
        click.echo(f"all {len(results)} files: {examples:,} example(s); tokens (estimate, {enc_name}): "
                   f"{total:,} total = {prompt:,} prompt + {trainable:,} trainable")
    click.echo(f"(estimates: {enc_name} from {encoding_source(enc_name)}; OpenAI's chat counting method)")
    sys.exit(EXIT_OK)
