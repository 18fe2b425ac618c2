"""``ftkit leakage``: overlap between existing split files, from ftkit or any other tool.

Reports, for each example of a later file, the example of an earlier file that it
duplicates exactly, nearly duplicates (MinHash), or shares a group with (conversation or
customer id), as ``later.jsonl:LINE ~ earlier.jsonl:LINE``, plus counts per file pair.

Exit status: 0 no leakage, 1 leakage found, 2 usage or I/O error (or unreadable lines).
"""

from __future__ import annotations

import json
import os
import sys

import click

from toolkit.cli.common import EXIT_OK, EXIT_PROBLEMS, fail

_MAX_LISTED_ERRORS = 10


@click.command(name="leakage")
@click.argument("files", nargs=-1, required=True)
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=None,
              help="Near-duplicate similarity threshold (estimated Jaccard, default 0.85).")
@click.option("--near-duplicates/--no-near-duplicates", "near_duplicates", default=True,
              help="Look for near-duplicates, not only exact ones (default on).")
@click.option("--group-by", "group_by", multiple=True,
              help="Group field shared across splits counts as leakage (metadata name, dotted path or JSON pointer); "
                   "repeatable. Default: conversation_id and customer_id.")
@click.option("--no-groups", is_flag=True, help="Do not compare group fields, only the text.")
@click.option("--split-field", default=None,
              help="Take each example's split from this field (e.g. split) instead of its file: one file with a split column works.")
@click.option("--roles", default="user,assistant", show_default=True,
              help="Message roles whose text is compared (chat formats).")
@click.option("--max-pairs", type=click.IntRange(min=0), default=50, show_default=True,
              help="Pairs to list (0: all). Counts always cover every pair.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(files: tuple[str, ...], threshold: float | None, near_duplicates: bool, group_by: tuple[str, ...],
            no_groups: bool, split_field: str | None, roles: str, max_pairs: int, output_format: str) -> None:
    """Find examples shared between split FILES (train, validation, test ...).

    \b
      ftkit leakage splits/train.jsonl splits/validation.jsonl splits/test.jsonl
      ftkit leakage train.parquet test.parquet --group-by /metadata/ticket_id
      ftkit leakage all.jsonl --split-field split --output-format json
    """
    from toolkit.splitting.fields import key_string, resolve_field
    from toolkit.splitting.leakage import DEFAULT_LEAKAGE_GROUPS, LeakageDetector, iter_split_file

    if len(set(files)) != len(files):
        fail("a file is given twice")
    if len(files) < 2 and not split_field:
        fail("give at least two split files, or one file and --split-field")
    for name in files:
        if not os.path.isfile(name):
            fail(f"{name}: no such file" if not os.path.exists(name) else f"{name}: not a file")
    if no_groups and group_by:
        fail("--no-groups and --group-by exclude each other")
    role_list = tuple(r.strip() for r in roles.split(",") if r.strip())
    if not role_list:
        fail("--roles needs at least one role")
    detector = LeakageDetector(
        threshold=threshold if threshold is not None else 0.85,
        near_duplicates=near_duplicates,
        group_by=() if no_groups else (group_by or DEFAULT_LEAKAGE_GROUPS),
        roles=role_list,
    )
    errors: list[str] = []
    error_count = 0
    missing_split = 0
    for name in files:
        try:
            for line, record, error in iter_split_file(name):
                if error is not None:
                    error_count += 1
                    if len(errors) < _MAX_LISTED_ERRORS:
                        errors.append(f"{name}:{line}: {error}")
                    continue
                split = name
                if split_field:
                    value = key_string(resolve_field(record, split_field))
                    if value is None:
                        missing_split += 1
                    else:
                        split = value
                detector.add(record, split, name, line)
        except OSError as exc:
            fail(f"{name}: cannot read: {exc.strerror or exc}")
        except Exception as exc:  # a Parquet / CSV reader error names the problem
            fail(f"{name}: cannot read: {type(exc).__name__}: {exc}")
    if error_count:
        more = f"\n  ... and {error_count - len(errors)} more" if error_count > len(errors) else ""
        fail(f"{error_count} record(s) cannot be read, so leakage cannot be ruled out:\n  " + "\n  ".join(errors) + more)
    if missing_split:
        click.echo(f"ftkit: warning: {missing_split} examples have no {split_field!r} field: their file is their split", err=True)
    report = detector.finish()
    if len(report.splits) < 2:
        click.echo(f"ftkit: warning: only one split ({report.splits[0] if report.splits else 'none'}): nothing to compare", err=True)

    shown = None if max_pairs == 0 else max_pairs
    if output_format == "json":
        click.echo(json.dumps(report.to_dict(shown), indent=2, ensure_ascii=False))
    else:
        _print_text(report, shown)
    sys.exit(EXIT_PROBLEMS if report.found else EXIT_OK)


def _print_text(report, shown: int | None) -> None:
    sizes = ", ".join(f"{name} ({report.examples[name]})" for name in report.splits)
    click.echo(f"splits: {sizes}")
    if not report.found:
        click.echo("no leakage: no exact or near-duplicates and no shared groups between the splits")
        return
    leaks = report.leaks if shown is None else report.leaks[:shown]
    for leak in leaks:
        click.echo(leak.describe())
    if len(leaks) < len(report.leaks):
        click.echo(f"... {len(report.leaks) - len(leaks)} more pairs (--max-pairs 0 lists all)")
    for row in report.summary():
        groups = ", ".join(f"{count} {name} value(s)" for name, count in row["shared_groups"].items())
        click.echo(
            f"{row['split']} ~ {row['other_split']}: {row['leaked_examples']} leaked examples "
            f"({row['exact_duplicates']} exact, {row['near_duplicates']} near-duplicates, "
            f"{row['shared_group_examples']} sharing a group{': ' + groups if groups else ''})"
        )
    click.echo(f"leakage found: {report.leaked_examples()} examples, {len(report.leaks)} pairs")
