"""``ftkit split``: train / validation / test files without leakage, stratified and stable.

Reads the input twice (streaming): once to group and assign, once to copy every example
to its split's file. Records are copied byte for byte (``FILE.jsonl`` in, ``train.jsonl``
out; ``.jsonl.gz`` in, ``.jsonl.gz`` out), or re-encoded for ``--to TARGET``.
``split_manifest.json`` records the counts, groups, strata, token estimates, options,
seed and the sha256 of every input, so a split can be audited and reproduced.

Exit status: 0 done, 2 usage, configuration, input or I/O error (nothing is written).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import click

from toolkit.cli.common import EXIT_OK, err_console, fail

MANIFEST = "split_manifest.json"
_MAX_LISTED_ERRORS = 10


def _floats(text: str, what: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        fail(f"{what} must be comma-separated numbers, got {text!r}")


def _counts(text: str) -> tuple[int | None, ...]:
    out: list[int | None] = []
    for part in (p.strip() for p in text.split(",")):
        if part.lower() in ("rest", "*"):
            out.append(None)
            continue
        try:
            out.append(int(part))
        except ValueError:
            fail(f"--counts must be comma-separated whole numbers or 'rest', got {text!r}")
    return tuple(out)


def _config_section() -> tuple[dict[str, Any], dict[str, Any]]:
    from toolkit.config import ConfigError, load_config

    try:
        loaded = load_config()
    except ConfigError as exc:
        fail(str(exc))
    return loaded.section("split"), loaded.data


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _spool_stdin(stack: contextlib.ExitStack) -> str:
    """The splitter reads its input twice: keep standard input in a temporary file."""
    tmp = tempfile.NamedTemporaryFile(prefix="ftkit-split-", suffix=".jsonl", delete=False)
    stack.callback(lambda: os.path.exists(tmp.name) and os.unlink(tmp.name))
    with tmp:
        shutil.copyfileobj(sys.stdin.buffer, tmp, 1 << 20)
    return tmp.name


def _is_parquet(name: str) -> bool:
    return name.lower().endswith((".parquet", ".pq"))


def _parquet_rows(paths: list[tuple[str, str]]) -> Iterator[tuple[int, str, int, Any]]:
    """``(index, file, row, record)`` of every row of Parquet inputs (rows count from 1)."""
    from toolkit.splitting.leakage import iter_split_file

    index = 0
    for display, path in paths:
        for row, record, _error in iter_split_file(path):
            yield index, display, row, record
            index += 1


def _records(paths: list[tuple[str, str]], where: list[tuple[str, int]], parquet: bool = False) -> Iterator[tuple[int, str, int, Any]]:
    """``(index, file, line, record)`` of every example, in order (second pass)."""
    import orjson

    from toolkit.splitting.scan import iter_example_lines

    if parquet:
        yield from _parquet_rows(paths)
        return
    for index, raw in iter_example_lines(paths, where):
        file, line = where[index]
        yield index, file, line, orjson.loads(raw)


def _write_parquet(out_dir: Path, paths: list[tuple[str, str]], result: Any) -> dict[str, str]:
    """Parquet in, Parquet out: each split gets the input's rows and schema (atomic files)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from toolkit.io.jsonl import atomic_writer

    schema = pq.ParquetFile(paths[0][1]).schema_arrow
    for display, path in paths[1:]:
        other = pq.ParquetFile(path).schema_arrow
        if not other.equals(schema):
            raise _WriteError(f"{display}: its Parquet schema differs from {paths[0][0]}'s; split the files separately")
    names = result.options.names
    file_names = {name: f"{name}.parquet" for name in names}
    assignment = result.assignment
    with contextlib.ExitStack() as stack:
        writers = {}
        for name in names:
            handle = stack.enter_context(atomic_writer(out_dir / file_names[name]))
            writer = pq.ParquetWriter(handle, schema)
            stack.callback(writer.close)  # closed before its atomic file is renamed (LIFO)
            writers[name] = writer
        index = 0
        for _display, path in paths:
            for batch in pq.ParquetFile(path).iter_batches(batch_size=4096):
                table = pa.Table.from_batches([batch], schema=schema)
                labels = assignment[index : index + batch.num_rows]
                index += batch.num_rows
                for name in names:
                    rows = [i for i, label in enumerate(labels) if label == name]
                    if rows:
                        writers[name].write_table(table.take(rows))
        if index != len(assignment):
            raise _WriteError(f"the input changed while splitting: {index} rows now, {len(assignment)} before")
    return file_names


@click.command(name="split")
@click.argument("files", nargs=-1, required=True)
@click.option("--output-dir", "-o", "output_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the split files and split_manifest.json (created if missing).")
@click.option("--ratios", default=None, help="Fractions per split, e.g. 0.8,0.1,0.1 (default; percentages work too).")
@click.option("--counts", default=None, help="Examples per split instead of ratios, e.g. rest,500,500.")
@click.option("--names", default=None, help="Split names, comma-separated (default train,validation,test).")
@click.option("--group-by", "group_by", multiple=True,
              help="Field that keeps examples together (metadata name, dotted path or JSON pointer); repeatable. "
                   "Default: conversation_id and customer_id (a field an example lacks is skipped).")
@click.option("--stratify-by", default=None, help="Field whose values keep their proportions in every split (intent, channel ...).")
@click.option("--seed", type=int, default=None, help="Seed of the hash-based assignment (default 0).")
@click.option("--near-duplicates/--no-near-duplicates", "near_duplicates", default=None,
              help="Join near-duplicate examples (MinHash over user+assistant text) into one group (default on).")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=None,
              help="Near-duplicate similarity threshold (estimated Jaccard, default 0.85).")
@click.option("--max-examples-per-group", type=click.IntRange(min=1), default=None,
              help="Keep at most N examples of one group (the rest are dropped and counted).")
@click.option("--by-time", default=None, help="Time field for a past/future split (ISO 8601 or epoch).")
@click.option("--cutoff", "cutoffs", multiple=True,
              help="Boundary date(s) for --by-time: examples before the first cutoff train, and so on.")
@click.option("--assignment", type=click.Choice(["balanced", "hash"]), default=None,
              help="balanced (default): within one group of the ratios, appending data keeps assignments; "
                   "hash: a pure function of group key and seed, stable for any superset, ratios on average.")
@click.option("--to", "target", default=None, help="Write the splits in this target format (through ftkit's writers).")
@click.option("--hf", "hf_dir", default=None, type=click.Path(file_okay=False),
              help="Also save a Hugging Face DatasetDict here (save_to_disk).")
@click.option("--encoding", type=click.Choice(["o200k_base", "cl100k_base"]), default=None,
              help="Tokenizer for the token estimates (default o200k_base).")
@click.option("--no-tokens", is_flag=True, help="Skip token estimates in the manifest (faster).")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Summary on stdout: a table, or the manifest as JSON.")
@click.option("--dry-run", is_flag=True, help="Group and assign, print the summary, write nothing.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), default=None,
              help="Worker processes for the first pass (default: one per CPU for inputs over 8 MB).")
def command(files: tuple[str, ...], output_dir: str, ratios: str | None, counts: str | None, names: str | None,
            group_by: tuple[str, ...], stratify_by: str | None, seed: int | None, near_duplicates: bool | None,
            threshold: float | None, max_examples_per_group: int | None, by_time: str | None,
            cutoffs: tuple[str, ...], assignment: str | None, target: str | None, hf_dir: str | None,
            encoding: str | None, no_tokens: bool, output_format: str, dry_run: bool, jobs: int | None) -> None:
    """Split FILE... into train/validation/test files in OUTPUT_DIR without leakage.

    Examples of one conversation or customer (metadata conversation_id, customer_id),
    exact duplicates and near-duplicates always land in the same split. Re-running on
    the same data with more appended keeps every earlier example where it was.

    \b
      ftkit split data.jsonl -o splits/
      ftkit split data.jsonl -o splits/ --ratios 0.9,0.1 --names train,test --stratify-by intent
      ftkit split data.jsonl -o splits/ --group-by conversation_id      # customers may span splits
      ftkit split data.jsonl -o splits/ --by-time created_at --cutoff 2025-06-01 --cutoff 2025-09-01
    """
    from toolkit import __version__
    from toolkit.splitting import DEFAULT_GROUP_BY, SplitError, SplitOptions, Splitter

    section, top = _config_section()
    if ratios is not None and counts is not None:
        fail("give --ratios or --counts, not both")
    if sum(1 for f in files if f == "-") > 1:
        fail("stdin ('-') can be read only once")
    for name in files:
        if name != "-" and not os.path.isfile(name):
            fail(f"{name}: no such file" if not os.path.exists(name) else f"{name}: not a file")

    def pick(cli_value: Any, key: str, default: Any) -> Any:
        return cli_value if cli_value is not None else section.get(key, default)

    ratio_values = _floats(ratios, "--ratios") if ratios else None
    if ratio_values is None and counts is None and "ratios" in section:
        ratio_values = tuple(float(r) for r in section["ratios"])
    name_values = tuple(n.strip() for n in names.split(",")) if names else tuple(section.get("names", ("train", "validation", "test")))
    if ratio_values is None and counts is None and not by_time and not section.get("by-time"):
        ratio_values = (0.8, 0.1, 0.1) if len(name_values) == 3 else None
        if ratio_values is None:
            fail(f"{len(name_values)} split names need --ratios or --counts")
    group_fields = group_by or section.get("group-by", DEFAULT_GROUP_BY)
    if isinstance(group_fields, str):
        group_fields = (group_fields,)
    time_field = pick(by_time, "by-time", None)
    cutoff_values = cutoffs or tuple(section.get("cutoffs", ()))
    cutoff_values = tuple(c.strip() for value in cutoff_values for c in str(value).split(",") if c.strip())
    if cutoff_values and not time_field:
        fail("--cutoff needs --by-time FIELD")
    enc_name = None if no_tokens else pick(encoding, "encoding", top.get("encoding", "o200k_base"))
    try:
        options = SplitOptions(
            names=name_values,
            ratios=ratio_values,
            counts=_counts(counts) if counts else None,
            group_by=tuple(group_fields),
            stratify_by=pick(stratify_by, "stratify-by", None),
            seed=int(pick(seed, "seed", 0)),
            near_duplicates=bool(pick(near_duplicates, "near-duplicates", True)),
            threshold=float(pick(threshold, "threshold", 0.85)),
            max_examples_per_group=pick(max_examples_per_group, "max-examples-per-group", None),
            by_time=time_field,
            cutoffs=cutoff_values,
            assignment=pick(assignment, "assignment", "balanced"),
            encoding=enc_name,
        ).check()
    except SplitError as exc:
        fail(str(exc))

    writer = None
    if target:
        from toolkit.writers import TARGETS, get_writer

        if target not in TARGETS:
            fail(f"unknown --to target {target!r}; choose one of {', '.join(TARGETS)}")
        writer = get_writer(target)

    out_dir = Path(output_dir)
    with contextlib.ExitStack() as stack:
        paths = [("<stdin>", _spool_stdin(stack)) if f == "-" else (f, f) for f in files]
        # ---------------------------------------------------------------- pass 1
        from toolkit.splitting.scan import ScanResult, scan

        parquet = [_is_parquet(display) for display, _ in paths]
        if any(parquet) and not all(parquet):
            fail("the inputs mix Parquet and JSON Lines: split each kind separately (or convert one)")
        is_parquet = bool(parquet) and all(parquet)
        splitter = Splitter(options)
        try:
            if is_parquet:
                scanned = ScanResult({display: 0 for display, _ in paths})
                for index, display, row, record in _parquet_rows(paths):
                    splitter.add(record, display, row)
                    scanned.examples_per_file[display] += 1
            else:
                scanned = scan(paths, splitter, jobs=jobs)
        except SplitError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot read input: {exc}")
        except Exception as exc:  # pyarrow: not a Parquet file, corrupt pages
            if not is_parquet:
                raise
            fail(f"cannot read Parquet input: {type(exc).__name__}: {exc}")
        per_file = scanned.examples_per_file
        if scanned.error_count:
            errors = scanned.errors
            more = f"\n  ... and {scanned.error_count - len(errors)} more" if scanned.error_count > len(errors) else ""
            fail(f"{scanned.error_count} line(s) cannot be read, nothing was written (fix them or drop them first, "
                 f"e.g. with `ftkit lint --fix`):\n  " + "\n  ".join(errors) + more)
        if len(splitter) == 0:
            fail("no examples in the input")
        try:
            result = splitter.finish()
        except SplitError as exc:
            fail(str(exc))

        if dry_run:
            names = result.options.names
            manifest = _manifest(__version__, paths, per_file, result, {name: None for name in names},
                                 writer.name if writer else None)
            manifest["dry_run"] = True
            for warning in result.warnings:
                err_console.print(f"ftkit: warning: {warning}", markup=False)
            if output_format == "json":
                click.echo(json.dumps(manifest, indent=2, ensure_ascii=False))
            else:
                _print_summary(manifest, out_dir, written=False)
            sys.exit(EXIT_OK)

        # ---------------------------------------------------------------- pass 2
        gz = all(display.endswith(".gz") for display, _ in paths if display != "<stdin>") and any(
            display.endswith(".gz") for display, _ in paths)
        file_names: dict[str, str] = {}
        try:
            if writer is None and is_parquet:
                file_names = _write_parquet(out_dir, paths, result)
            elif writer is None:
                file_names = _write_raw(out_dir, paths, splitter.where, result, gz)
            else:
                file_names = _write_target(out_dir, paths, splitter.where, result, writer, is_parquet)
        except (_WriteError, SplitError) as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"cannot write to {out_dir}: {exc}")

        manifest = _manifest(__version__, paths, per_file, result, file_names, writer.name if writer else None)
        if hf_dir:
            _save_hf(Path(hf_dir), out_dir, file_names, result, writer)
            manifest["hf_dataset_dict"] = os.fspath(hf_dir)
        from toolkit.io.jsonl import atomic_writer

        with atomic_writer(out_dir / MANIFEST) as fh:
            fh.write(json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8") + b"\n")

    for warning in result.warnings:
        err_console.print(f"ftkit: warning: {warning}", markup=False)
    if output_format == "json":
        click.echo(json.dumps(manifest, indent=2, ensure_ascii=False))
    else:
        _print_summary(manifest, out_dir)
    sys.exit(EXIT_OK)


class _WriteError(Exception):
    pass


def _write_raw(out_dir: Path, paths: list[tuple[str, str]], where: list[tuple[str, int]], result: Any,
               gz: bool) -> dict[str, str]:
    """Copy every example's line, byte for byte, to its split's file (one pass, atomic)."""
    from toolkit.io.jsonl import atomic_writer
    from toolkit.splitting.scan import iter_example_lines

    names = result.options.names
    suffix = ".jsonl.gz" if gz else ".jsonl"
    file_names = {name: f"{name}{suffix}" for name in names}
    assignment = result.assignment
    with contextlib.ExitStack() as stack:
        handles = {name: stack.enter_context(atomic_writer(out_dir / file_names[name])) for name in names}
        for index, raw in iter_example_lines(paths, where):
            name = assignment[index]
            if name is not None:
                handles[name].write(raw + b"\n")
    return file_names


def _write_target(out_dir: Path, paths: list[tuple[str, str]], where: list[tuple[str, int]], result: Any,
                  writer: Any, parquet: bool = False) -> dict[str, str]:
    """Re-encode each split through a target writer (one streaming pass per split)."""
    from toolkit.model import Example
    from toolkit.writers import CannotExpress, get_writer

    file_names: dict[str, str] = {}
    for name in result.options.names:
        target_writer = get_writer(writer.name)
        file_name = name if target_writer.directory_output else f"{name}{target_writer.suffix}"
        file_names[name] = file_name

        def encoded(split_name: str = name, w: Any = target_writer) -> Iterator[Any]:
            for index, display, line, record in _records(paths, where, parquet):
                if result.assignment[index] != split_name:
                    continue
                try:
                    yield w.encode(Example.from_dict(record))
                except CannotExpress as exc:
                    raise _WriteError(f"{display}:{line}: cannot write as {w.name}: {exc}") from None

        count = target_writer.write(out_dir / file_name, encoded())
        target_writer.finish(out_dir / file_name, count)
    return file_names


def _save_hf(hf_dir: Path, out_dir: Path, file_names: dict[str, str], result: Any, writer: Any) -> None:
    """A ``datasets.DatasetDict`` of the written splits, saved with ``save_to_disk``."""
    import datasets
    import orjson

    if writer is not None and writer.directory_output:
        fail("--hf cannot be combined with a --to target that already writes a dataset folder")
    if not sys.stderr.isatty():
        datasets.disable_progress_bars()
    splits = {}
    for name, file_name in file_names.items():
        from toolkit.io.jsonl import read_records

        rows = list(read_records(out_dir / file_name))  # one split in memory: Arrow needs the rows
        try:
            splits[name] = datasets.Dataset.from_list(rows) if rows else datasets.Dataset.from_dict({})
        except Exception as exc:  # pyarrow type inference: one field with mixed types
            fail(f"--hf: cannot build the {name!r} split as an Arrow table: {exc} "
                 f"(a field has values of different types; first row: {orjson.dumps(rows[0])[:200].decode()})")
    datasets.DatasetDict(splits).save_to_disk(os.fspath(hf_dir))


def _manifest(version: str, paths: list[tuple[str, str]], per_file: dict[str, int], result: Any,
              file_names: dict[str, str], target: str | None) -> dict[str, Any]:
    stats = result.stats
    splits = {}
    for name in result.options.names:
        entry = dict(stats["splits"][name])
        splits[name] = {"file": file_names.get(name), **entry}
    options = result.options.to_dict()
    return {
        "tool": "ftkit split",
        "ftkit_version": version,
        "inputs": [{"path": display, "sha256": _sha256(path), "examples": per_file[display]} for display, path in paths],
        "options": options,
        "seed": result.options.seed,
        "format": target or "input",
        "splits": splits,
        "totals": {k: v for k, v in stats.items() if k != "splits"},
        "warnings": list(result.warnings),
        "notes": {
            "assignment": (
                "balanced: groups are assigned in input order, each to the split furthest below its target in "
                "its stratum (ties broken by a hash of seed and group key): within one group of the ratios, "
                "and appending data keeps earlier assignments"
                if result.options.assignment == "balanced" and not result.options.by_time
                else "hash: a group's split is a function of its key and the seed; any superset keeps assignments"
                if not result.options.by_time
                else "by time: a group goes to the period of its earliest example"
            ),
            "tokens": "estimates (chat framing per OpenAI's counting method) with the named encoding",
        },
    }


def _print_summary(manifest: dict[str, Any], out_dir: Path, written: bool = True) -> None:
    totals = manifest["totals"]
    rows = [["split", "file", "examples", "groups", "share", "target", "tokens (estimate)"]]
    encoding = None
    for name, entry in manifest["splits"].items():
        tokens = entry.get("tokens")
        if tokens:
            encoding = tokens["encoding"]
        rows.append([name, entry.get("file") or "", str(entry["examples"]), str(entry["groups"]),
                     f"{entry['fraction']:.3f}", f"{entry['target']:.3f}" if "target" in entry else "-",
                     f"{tokens['total']:,}" if tokens else "-"])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        click.echo("  ".join(cells).rstrip())
    line = (f"{totals['kept']} examples in {totals['groups']} groups (largest {totals['largest_group']}); "
            f"{totals['groups_joined_by_near_duplicates']} groups joined by near-duplicates")
    if totals["dropped_by_cap"]:
        line += f"; {totals['dropped_by_cap']} dropped by --max-examples-per-group"
    click.echo(line)
    if encoding:
        click.echo(f"token counts are estimates with {encoding}")
    click.echo(f"manifest: {out_dir / MANIFEST}" if written else "dry run: nothing was written")
