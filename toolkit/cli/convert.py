"""``ftkit convert``: helpdesk exports and chat datasets in, any provider's training format out.

    ftkit convert --from zendesk --to openai -o out/train.jsonl tickets.json --users users.json

Options can also live in ``[tool.ftkit.convert]`` (pyproject.toml) or ``[convert]``
(ftkit.toml), under the long option names (``system-prompt-file = "voice.txt"``,
``min-turns = 3``, ``agent = ["Eric", "Dana"]``); the command line wins. The run ends
with a summary (conversations read, examples written, every skip reason with its count);
``--skipped FILE`` writes each skipped record with its reason as JSONL.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Iterable, Iterator

import click

from toolkit.cli.common import EXIT_OK, EXIT_PROBLEMS, err_console, fail, show_progress

TARGETS = ("openai", "azure", "together", "fireworks", "mistral", "vertex", "bedrock", "sharegpt", "trl", "parquet", "hf")
FROM_FORMATS = ("auto", "zendesk", "intercom", "freshdesk", "transcript", "table", "openai", "sharegpt", "alpaca",
                "abcd", "taskmaster", "sgd")

# CLI parameter name -> (config key, pipeline/reader option name, kind)
# kind: "pipeline" | "reader" | "writer" | "cli"
_SETTINGS: dict[str, tuple[str, str, str]] = {
    "agent": ("agent", "agents", "reader"),
    "agent_pattern": ("agent-pattern", "agent_pattern", "reader"),
    "bot": ("bot", "bot_names", "reader"),
    "column": ("column", "columns", "reader"),
    "agent_value": ("agent-value", "agent_values", "reader"),
    "users": ("users", "users", "reader"),
    "reader_strict": ("reader-strict", "strict", "reader"),
    "keep_bots": ("keep-bots", "keep_bots", "pipeline"),
    "drop_author": ("drop-author", "drop_authors", "pipeline"),
    "drop_pattern": ("drop-pattern", "drop_pattern", "pipeline"),
    "strip_quotes": ("strip-quotes", "strip_quotes", "pipeline"),
    "strip_signatures": ("strip-signatures", "strip_signatures", "pipeline"),
    "strip_signoffs": ("strip-signoffs", "strip_signoffs", "pipeline"),
    "merge": ("merge", "merge", "pipeline"),
    "redact": ("redact", "redact", "pipeline"),
    "pii_kinds": ("pii-kinds", "pii_kinds", "pipeline"),
    "redact_name": ("redact-name", "redact_names", "pipeline"),
    "system_prompt": ("system-prompt", "system_prompt", "pipeline"),
    "system_prompt_file": ("system-prompt-file", "system_prompt_file", "pipeline"),
    "system_prompt_mode": ("system-prompt-mode", "system_prompt_mode", "pipeline"),
    "min_turns": ("min-turns", "min_turns", "pipeline"),
    "end_with_agent": ("end-with-agent", "end_with_agent", "pipeline"),
    "leading_agent": ("leading-agent", "leading_agent", "pipeline"),
    "csat": ("csat", "csat", "pipeline"),
    "min_csat": ("min-csat", "min_csat", "pipeline"),
    "missing_csat": ("missing-csat", "missing_csat", "pipeline"),
    "status": ("status", "status", "pipeline"),
    "channel": ("channel", "channel", "pipeline"),
    "language": ("language", "language", "pipeline"),
    "tag": ("tag", "tags", "pipeline"),
    "exclude_tag": ("exclude-tag", "exclude_tags", "pipeline"),
    "since": ("since", "since", "pipeline"),
    "until": ("until", "until", "pipeline"),
    "examples": ("examples", "examples", "pipeline"),
    "max_tokens": ("max-tokens", "max_tokens", "pipeline"),
    "overflow": ("overflow", "overflow", "pipeline"),
    "tools": ("tools", "tools", "pipeline"),
    "infer_tools": ("infer-tools", "infer_tools", "pipeline"),
    "model": ("model", "model", "cli"),
    "encoding": ("encoding", "encoding", "cli"),
    "trl_style": ("trl-style", "style", "writer"),
    "dataset_name": ("dataset-name", "dataset_name", "writer"),
    "split_name": ("split-name", "split", "writer"),
    "strip_metadata": ("strip-metadata", "strip_metadata", "cli"),
    "jobs": ("jobs", "jobs", "cli"),
    "skipped": ("skipped", "skipped", "cli"),
    "fail_on_skip": ("fail-on-skip", "fail_on_skip", "cli"),
    "source_format": ("from", "from", "cli"),
    "target": ("to", "to", "cli"),
}
# Settings whose config value is a path, resolved against the config file's folder.
_PATH_SETTINGS = {"users", "system_prompt_file", "skipped", "tools"}
# Settings that take several values (repeatable options; lists in the config).
_MULTI = {"agent", "bot", "column", "agent_value", "users", "drop_author", "redact_name", "csat", "status", "channel",
          "language", "tag", "exclude_tag", "pii_kinds"}
# Settings whose values may also be comma-separated on the command line.
_COMMA_SPLIT = {"csat", "status", "channel", "language", "tag", "exclude_tag", "pii_kinds"}

PROGRESS_EVERY = 200


def _choice(values: Iterable[str]) -> click.Choice:
    return click.Choice(list(values), case_sensitive=False)


@click.command(name="convert", context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.argument("inputs", nargs=-1, type=str)
@click.option("--from", "source_format", type=_choice(FROM_FORMATS), default=None,
              help="Input format (default: auto, which detects it from the content and says which).")
@click.option("--to", "target", type=_choice(TARGETS), default=None, help="Target format (default: the config's target, else openai).")
@click.option("-o", "--output", "output", type=str, default=None,
              help="Output file (a folder for --to hf). '-' writes JSONL to stdout.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, help="Use this ftkit.toml / pyproject.toml.")
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
# reader options
@click.option("--agent", multiple=True, metavar="NAME", help="Transcripts: a name that is an agent (repeatable).")
@click.option("--agent-pattern", metavar="REGEX", default=None, help="Transcripts: names matching this regex are agents.")
@click.option("--bot", multiple=True, metavar="NAME", help="Transcripts: a name that is a bot (repeatable).")
@click.option("--column", multiple=True, metavar="KEY=COL",
              help="Tables: map a field to a column: conversation, role, text, time, id, reply_to, customer, channel (repeatable).")
@click.option("--agent-value", multiple=True, metavar="VALUE", help="Tables: a role-column value that means an agent (repeatable).")
@click.option("--users", multiple=True, metavar="FILE", help="Zendesk: users file(s) resolving author_id to end-user / agent / admin.")
@click.option("--reader-option", "reader_option", multiple=True, metavar="KEY=VALUE", help="Any other reader option.")
@click.option("--reader-strict", is_flag=True, default=None, help="Stop at the first unreadable record instead of skipping it.")
# roles and cleaning
@click.option("--keep-bots/--drop-bots", default=None, help="Keep bot turns as assistant turns (default: drop them).")
@click.option("--drop-author", multiple=True, metavar="NAME", help="Drop the turns of this author name or id (repeatable).")
@click.option("--drop-pattern", metavar="REGEX", default=None, help="Drop turns whose whole text matches this regex.")
@click.option("--strip-quotes/--keep-quotes", default=None, help="Remove quoted email history (default: on).")
@click.option("--strip-signatures/--keep-signatures", default=None, help="Remove signatures and mobile footers (default: on).")
@click.option("--strip-signoffs/--keep-signoffs", default=None, help="Remove closing sign-off blocks ('Best regards,\\nJane') (default: on).")
@click.option("--merge/--no-merge", default=None, help="Merge consecutive turns of one speaker (default: on).")
@click.option("--redact/--no-redact", default=None, help="Replace personal data with typed placeholders (default: on).")
@click.option("--pii-kinds", multiple=True, metavar="KINDS", help="Only redact these kinds (comma-separated: email,phone,card,...).")
@click.option("--redact-name", multiple=True, metavar="NAME", help="Also redact this name in every conversation (repeatable).")
@click.option("--system-prompt", metavar="TEXT", default=None, help="System prompt for every example.")
@click.option("--system-prompt-file", metavar="FILE", default=None, help="Read the system prompt from a UTF-8 file.")
@click.option("--system-prompt-mode", type=_choice(["replace", "keep", "remove"]), default=None,
              help="replace the source's system prompt (default), keep it where present, or remove it.")
# filters
@click.option("--min-turns", type=click.IntRange(0), default=None, help="Skip conversations with fewer customer+agent messages (default 2).")
@click.option("--end-with-agent", type=_choice(["trim", "require", "off"]), default=None,
              help="trim trailing unanswered turns (default), require an agent reply last, or leave as is.")
@click.option("--leading-agent", type=_choice(["drop", "keep"]), default=None, help="Agent turns before the customer's first message (default: drop).")
@click.option("--csat", multiple=True, metavar="VALUES", help="Keep only these ratings (e.g. good, or 4,5).")
@click.option("--min-csat", type=float, default=None, help="Keep only numeric ratings >= this.")
@click.option("--missing-csat", type=_choice(["skip", "keep"]), default=None, help="With a CSAT filter: skip (default) or keep unrated conversations.")
@click.option("--status", multiple=True, metavar="VALUES", help="Keep only these statuses (e.g. solved,closed).")
@click.option("--channel", multiple=True, metavar="VALUES", help="Keep only these channels (e.g. email,chat).")
@click.option("--language", multiple=True, metavar="CODES", help="Keep only these languages (prefix match: en keeps en-GB).")
@click.option("--tag", multiple=True, metavar="TAGS", help="Keep only conversations with one of these tags.")
@click.option("--exclude-tag", multiple=True, metavar="TAGS", help="Skip conversations with any of these tags.")
@click.option("--since", metavar="DATE", default=None, help="Keep conversations created on or after this ISO date.")
@click.option("--until", metavar="DATE", default=None, help="Keep conversations created on or before this ISO date.")
# examples
@click.option("--examples", type=_choice(["conversation", "per-reply"]), default=None,
              help="One example per conversation (default) or per agent reply (earlier replies weight 0).")
@click.option("--max-tokens", type=click.IntRange(1), default=None, help="Token budget per example (estimate; default: the --model's limit).")
@click.option("--overflow", type=_choice(["split", "truncate", "skip"]), default=None,
              help="A conversation over the budget: split it (default), keep the first part, or skip it.")
@click.option("--tools", metavar="FILE", default=None,
              help="JSON file with the OpenAI tool definitions to declare in examples that call tools.")
@click.option("--infer-tools/--no-infer-tools", default=None,
              help="Declare called functions with parameters inferred from their arguments when no --tools (default: on).")
@click.option("--model", default=None, help="Target model: picks the tokenizer and the default token budget.")
@click.option("--encoding", type=_choice(["o200k_base", "cl100k_base"]), default=None, help="Force a tiktoken encoding for the budget.")
# target options
@click.option("--trl-style", type=_choice(["messages", "prompt-completion"]), default=None,
              help="TRL: conversational messages (default) or prompt/completion (implies --examples per-reply).")
@click.option("--dataset-name", default=None, help="ShareGPT: the dataset_info.json entry name (default: the output's stem).")
@click.option("--split-name", default=None, help="hf: the DatasetDict split name (default: train).")
# output
@click.option("--strip-metadata", is_flag=True, default=None, help="Leave the provenance metadata out of the output.")
@click.option("--skipped", metavar="FILE", default=None, help="Write every skipped record with its reason to this JSONL file.")
@click.option("--fail-on-skip", is_flag=True, default=None, help="Exit 1 when any record was skipped or refused.")
@click.option("-j", "--jobs", type=click.IntRange(0), default=None,
              help="Worker processes for cleaning, redaction and encoding (0: one per CPU; default 1). Output is identical.")
@click.option("--output-format", type=_choice(["text", "json"]), default="text", help="Summary format (json goes to stdout).")
@click.option("-q", "--quiet", is_flag=True, help="No summary unless something went wrong.")
@click.pass_context
def command(ctx: click.Context, inputs: tuple[str, ...], output: str | None, config_path: str | None, isolated: bool,
            reader_option: tuple[str, ...], output_format: str, quiet: bool, **params: Any) -> None:
    """Convert helpdesk exports or chat datasets to a fine-tuning format.

    INPUTS are export files (Zendesk, Intercom, Freshdesk JSON/JSONL, chat transcripts,
    CSV/Parquet/JSONL tables, OpenAI/ShareGPT/Alpaca files). Internal notes, bot turns and
    system events are dropped, quoted email history and signatures stripped, personal data
    redacted, and each conversation becomes one example (or one per agent reply).
    """
    settings = _resolve_settings(ctx, params, config_path, isolated)
    if not inputs:
        fail("no input files given (usage: ftkit convert --from FORMAT --to TARGET -o OUT INPUT...)")
    if not output:
        fail("no output given: pass -o OUT (a file, a folder for --to hf, or '-' for stdout)")
    for name in inputs:
        if name != "-" and not Path(name).is_file():
            fail(f"{name}: no such file" if not Path(name).exists() else f"{name}: not a regular file")

    target = (settings.pop("target", None) or "openai").lower()
    source_format = (settings.pop("source_format", None) or "auto").lower()
    reader_kwargs, pipeline_kwargs, writer_kwargs, cli = _split_settings(settings)
    for item in reader_option:
        key, value = _key_value(item, "--reader-option")
        reader_kwargs[key.replace("-", "_")] = value

    # Model -> tokenizer and default budget; TRL prompt/completion implies per-reply examples.
    from toolkit.tokens import encoding_for_model, max_example_tokens

    model = cli.get("model")
    if cli.get("encoding"):
        pipeline_kwargs["encoding"] = cli["encoding"]
    elif model:
        pipeline_kwargs["encoding"] = encoding_for_model(model)
    if model and pipeline_kwargs.get("max_tokens") is None:
        limit = max_example_tokens(model)
        if limit:
            pipeline_kwargs["max_tokens"] = limit
    if target == "trl" and writer_kwargs.get("style") == "prompt-completion" and pipeline_kwargs.get("examples") is None:
        pipeline_kwargs["examples"] = "per-reply"
    writer_kwargs = _writer_kwargs_for(target, writer_kwargs)
    if pipeline_kwargs.get("tools") is not None:
        pipeline_kwargs["tools"] = _load_tools(pipeline_kwargs["tools"])

    from toolkit.conversion import ConvertReport, convert
    from toolkit.transforms import build_pipeline
    from toolkit.writers import get_writer

    try:
        writer = get_writer(target, **writer_kwargs)
        pipeline = build_pipeline(**pipeline_kwargs)
    except (ValueError, TypeError) as exc:
        fail(str(exc))
    if pipeline_kwargs.get("examples") == "per-reply" and not writer.supports_weight:
        fail(f"--examples per-reply needs a target that can mask earlier replies (weight 0); {target} cannot"
             + (" (use --trl-style prompt-completion)" if target == "trl" else "") + "; use --examples conversation")
    to_stdout = output == "-"
    if to_stdout and (writer.directory_output or target == "parquet"):
        fail(f"--to {target} cannot write to stdout; give a file name with -o")
    if to_stdout and not writer.metadata_inline and not cli.get("strip_metadata"):
        fail(f"--to {target} keeps provenance in a sidecar file, which stdout cannot hold; add --strip-metadata or write to a file")
    if to_stdout and output_format == "json":
        fail("--output-format json prints the summary on stdout, where -o - writes the data; write the data to a file")
    if not to_stdout:
        _check_output_path(output, writer, inputs)
    skipped_target = cli.get("skipped")
    if skipped_target:
        resolved = Path(skipped_target).resolve()
        if (not to_stdout and resolved == Path(output).resolve()) or any(
                n != "-" and Path(n).resolve() == resolved for n in inputs):
            fail(f"--skipped {skipped_target}: must not be the output or an input file")

    report = ConvertReport()
    with ExitStack() as stack:
        skipped_path = cli.get("skipped")
        if skipped_path:
            from toolkit.io.jsonl import atomic_writer, dumps

            sink_file = stack.enter_context(atomic_writer(skipped_path))

            def sink(item: Any) -> None:
                sink_file.write(dumps(item.to_dict()))
                sink_file.write(b"\n")

            report.sink = sink
        read_report = _make_read_report(report)
        report.read_report = read_report
        conversations = _read(inputs, source_format, reader_kwargs, read_report)
        progress = _Progress(report, enabled=show_progress() and not quiet)
        stack.enter_context(progress)
        records = convert(progress.wrap(conversations), pipeline, to=writer, report=report,
                          strip_metadata=bool(cli.get("strip_metadata")), jobs=int(cli.get("jobs", 1)))
        try:
            if to_stdout:
                count = _write_stdout(records, writer)
                extra_paths: list[Path] = []
            else:
                count = writer.write(output, records)
                extra_paths = writer.finish(output, count)
        except _ReadFailure as exc:
            fail(str(exc))
        except BrokenPipeError:
            if not to_stdout:
                raise
            # The reader of our stdout went away (`... -o - | head`): stop quietly, like cat.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except OSError as exc:
            fail(f"{getattr(exc, 'filename', None) or output}: cannot write: {exc.strerror or exc}")
        except ValueError as exc:
            fail(str(exc))
    _summary(report, read_report, target, output, writer, extra_paths, count, output_format, quiet or to_stdout and output_format == "text",
             skipped_path=cli.get("skipped"), encoding=pipeline_kwargs.get("encoding", "o200k_base"),
             budget=pipeline_kwargs.get("max_tokens"))
    if report.conversations_read and count == 0:
        err_console.print("ftkit: no examples were written: every conversation was skipped (see the reasons above)")
        sys.exit(EXIT_PROBLEMS)
    if cli.get("fail_on_skip") and (report.skipped_total or (read_report is not None and read_report.skipped)):
        sys.exit(EXIT_PROBLEMS)
    sys.exit(EXIT_OK)


# --------------------------------------------------------------------------- settings


def _resolve_settings(ctx: click.Context, params: dict[str, Any], config_path: str | None, isolated: bool) -> dict[str, Any]:
    """Command-line values over ``[tool.ftkit.convert]`` values over the defaults."""
    from toolkit.config import ConfigError, load_config

    section: dict[str, Any] = {}
    top: dict[str, Any] = {}
    root = Path.cwd()
    if not isolated:
        try:
            loaded = load_config(config_path)
        except ConfigError as exc:
            fail(str(exc))
        section = loaded.section("convert")
        top = loaded.data
        root = loaded.root
        known = {entry[0] for entry in _SETTINGS.values()}
        unknown = sorted(set(section) - known)
        if unknown:
            fail(f"{loaded.path}: [convert] has unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    settings: dict[str, Any] = {}
    # A prompt given on the command line (as text or file) replaces the configured one, whichever form.
    exclusive = [{"system_prompt", "system_prompt_file"}]
    for group in exclusive:
        if any(params.get(n) is not None for n in group):
            section = {k: v for k, v in section.items() if k not in {_SETTINGS[n][0] for n in group}}
    for name, (config_key, option, _kind) in _SETTINGS.items():
        value = params.get(name)
        source = ctx.get_parameter_source(name) if name in params else None
        from_cli = source is not None and source.name not in ("DEFAULT", "DEFAULT_MAP")
        if name in _MULTI:
            from_cli = from_cli and bool(value)
        if from_cli:
            if name in _MULTI:
                value = list(value)
                if name in _COMMA_SPLIT:
                    value = [part.strip() for v in value for part in str(v).split(",") if part.strip()]
            settings[name] = value
            continue
        if config_key in section:
            value = section[config_key]
            if name in _MULTI and isinstance(value, (str, int, float)) and not isinstance(value, bool):
                value = [value]
            if name in _PATH_SETTINGS and value is not None:
                value = [str(root / v) for v in value] if isinstance(value, list) else str(root / value)
            settings[name] = value
        elif name == "target" and top.get("target") not in (None, "auto") and top.get("target") in TARGETS:
            settings[name] = top["target"]
        elif name in ("model", "encoding") and top.get(name):
            settings[name] = top[name]
    return settings


def _split_settings(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    reader: dict[str, Any] = {}
    pipeline: dict[str, Any] = {}
    writer: dict[str, Any] = {}
    cli: dict[str, Any] = {}
    for name, value in settings.items():
        if value is None:
            continue
        _config_key, option, kind = _SETTINGS[name]
        if kind == "reader":
            if name == "column":
                value = dict(_key_value(v, "--column") if isinstance(v, str) else v for v in value) \
                    if not isinstance(value, dict) else value
            reader[option] = value
        elif kind == "pipeline":
            pipeline[option] = value
        elif kind == "writer":
            writer[option] = value
        else:
            cli[option] = value
    return reader, pipeline, writer, cli


def _writer_kwargs_for(target: str, options: dict[str, Any]) -> dict[str, Any]:
    allowed = {"trl": {"style"}, "sharegpt": {"dataset_name"}, "hf": {"split"}}.get(target, set())
    ignored = sorted(set(options) - allowed)
    names = {"style": "--trl-style", "dataset_name": "--dataset-name", "split": "--split-name"}
    if ignored:
        fail(f"{', '.join(names[i] for i in ignored)} does not apply to --to {target}")
    return {k: v for k, v in options.items() if k in allowed}


def _load_tools(path: str) -> list[dict[str, Any]]:
    """Read ``--tools FILE``: a JSON list of OpenAI tool definitions (or ``{"tools": [...]}``)."""
    import json

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        fail(f"{path}: tools file not found")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read tools file: {exc}")
    except ValueError as exc:
        fail(f"{path}: tools file is not valid JSON: {exc}")
    if isinstance(data, dict) and isinstance(data.get("tools"), list):
        data = data["tools"]
    if not isinstance(data, list):
        fail(f"{path}: expected a JSON list of tool definitions")
    for index, tool in enumerate(data):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            fail(f"{path}: tools[{index}]: expected {{\"type\": \"function\", \"function\": {{\"name\": ...}}}}")
    return data


def _key_value(item: str, option: str) -> tuple[str, str]:
    if "=" not in item:
        fail(f"{option} {item!r}: expected KEY=VALUE")
    key, value = item.split("=", 1)
    key, value = key.strip(), value.strip()
    if not key:
        fail(f"{option} {item!r}: the key is empty")
    return key, value


def _check_output_path(output: str, writer: Any, inputs: tuple[str, ...]) -> None:
    out = Path(output)
    resolved = out.resolve()
    for name in inputs:
        if name != "-" and Path(name).resolve() == resolved:
            fail(f"{output}: the output would overwrite an input file")
    if writer.directory_output:
        from toolkit.writers.hf import check_output_folder

        try:
            check_output_folder(out)
        except ValueError as exc:
            fail(str(exc))
    elif out.is_dir():
        fail(f"{output}: is a folder; give a file name (e.g. {output.rstrip('/')}/train{writer.suffix})")


# --------------------------------------------------------------------------- reading


class _ReadFailure(Exception):
    """A reader error that stops the run (a file in an unknown format, a bad option)."""


def _make_read_report(report: Any) -> Any:
    try:
        from toolkit.readers.base import ReadReport
    except ImportError:  # pragma: no cover - readers missing
        return None

    class StreamingReadReport(ReadReport):
        """A ReadReport that also streams each skipped record to ``--skipped FILE``."""

        def skip(self, file: str, record: Any, reason: str, detail: str = "", *, part: str = "") -> Any:
            item = super().skip(file, record, reason, detail, part=part)
            if report.sink is not None:
                from toolkit.transforms.base import SkipRecord

                report.sink(SkipRecord(reason=reason, detail=detail + (f" ({part})" if part else ""), stage="read",
                                       file=file, record=record))
            return item

    return StreamingReadReport()


def _read(inputs: tuple[str, ...], source_format: str, reader_kwargs: dict[str, Any], read_report: Any) -> Iterator[Any]:
    from toolkit.readers import ReaderError, read

    try:
        iterator = read(list(inputs), format=source_format, report=read_report, **reader_kwargs)
        yield from iterator
    except ReaderError as exc:
        raise _ReadFailure(str(exc)) from None
    except TypeError as exc:
        raise _ReadFailure(f"reader options: {exc}") from None


# --------------------------------------------------------------------------- output


def _write_stdout(records: Iterable[dict[str, Any]], writer: Any) -> int:
    from toolkit.io.jsonl import dumps

    out = sys.stdout.buffer
    if writer.bom:
        out.write(b"\xef\xbb\xbf")
    count = 0
    for record in records:
        record.pop("metadata", None) if not writer.metadata_inline else None
        out.write(dumps(record))
        out.write(b"\n")
        count += 1
    out.flush()
    return count


class _Progress:
    """A rich progress line on stderr (TTY only): conversations read, examples written, rate."""

    def __init__(self, report: Any, *, enabled: bool):
        self.report = report
        self.enabled = enabled
        self._progress: Any = None
        self._task: Any = None
        self._start = time.monotonic()

    def __enter__(self) -> "_Progress":
        if self.enabled:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                      console=err_console, transient=True)
            self._progress.__enter__()
            self._task = self._progress.add_task("converting", total=None)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def wrap(self, items: Iterable[Any]) -> Iterator[Any]:
        for count, item in enumerate(items, 1):
            if self._progress is not None and count % PROGRESS_EVERY == 0:
                rate = count / max(time.monotonic() - self._start, 1e-9)
                self._progress.update(self._task, description=(
                    f"{count:,} conversations read, {self.report.examples_written:,} examples written "
                    f"({rate:,.0f}/s), {self.report.skipped_total:,} skipped"))
            yield item


def _summary(report: Any, read_report: Any, target: str, output: str, writer: Any, extra_paths: list[Path], count: int,
             output_format: str, quiet: bool, *, skipped_path: str | None, encoding: str, budget: int | None) -> None:
    read_skips: dict[str, int] = read_report.counts_by_reason() if read_report is not None else {}
    formats = dict(getattr(read_report, "formats", {}) or {})
    warnings = list(getattr(read_report, "warnings", []) or [])
    files = [output] if output != "-" else []
    if output != "-" and not writer.metadata_inline:
        from toolkit.writers import sidecar_path

        side = sidecar_path(output)
        if side.exists():
            files.append(str(side))
    files.extend(str(p) for p in extra_paths)
    if output_format == "json":
        import json

        data = {
            "target": target,
            "output": files,
            **report.to_dict(),
            "read_skip_reasons": read_skips,
            "formats": formats,
            "token_budget": None if budget is None else {"max_tokens": budget, "encoding": encoding, "estimate": True},
        }
        data["examples_written"] = count
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for warning in warnings:
        err_console.print(f"ftkit: warning: {warning}", markup=False)
    minimum = getattr(writer, "min_examples", None) or {"openai": 10, "azure": 10}.get(target)
    if minimum and 0 < count < minimum:
        err_console.print(f"ftkit: warning: {count} example(s) written; {target} needs at least {minimum} to start a "
                          "fine-tuning job", markup=False)
    if quiet:
        return
    echo = (lambda line: err_console.print(line, markup=False, highlight=False)) if output == "-" else \
        (lambda line: click.echo(line))
    for name, fmt in formats.items():
        echo(f"read {name} as {fmt}")
    echo(f"conversations read: {report.conversations_read:,}")
    echo(f"examples written:   {count:,} ({target})" + (f" -> {', '.join(files)}" if files else ""))
    total_read_skips = sum(read_skips.values())
    if total_read_skips:
        echo(f"records skipped while reading: {total_read_skips:,}")
        for reason, n in read_skips.items():
            echo(f"  {n:>7,}  {reason}")
    if report.skipped_total:
        echo(f"conversations/examples skipped: {report.skipped_total:,}")
        for reason, n in report.counts_by_reason().items():
            echo(f"  {n:>7,}  {reason}")
        shown = [s for s in report.skipped if s.stage == "write"][:5]
        for item in shown:
            echo(f"    e.g. {item.describe()}")
    if report.turn_drops:
        echo("turns dropped: " + ", ".join(f"{k} {v:,}" for k, v in sorted(report.turn_drops.items())))
    if report.adjustments:
        echo("adjustments:   " + ", ".join(f"{k} {v:,}" for k, v in sorted(report.adjustments.items())))
    if budget is not None:
        echo(f"token budget:  {budget:,} per example ({encoding}, estimate)")
    if skipped_path:
        echo(f"skipped records written to {skipped_path}")
