"""``ftkit route FILE -o DIR``: behavior to fine-tune on, knowledge to a RAG index."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import click

from toolkit.cli.common import EXIT_OK, EXIT_PROBLEMS, console, err_console, fail


@click.command(name="route")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("-o", "--output-dir", "output_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for behavior.jsonl, knowledge.jsonl, kb_candidates.jsonl and summary.json.")
@click.option("--kb", type=click.Path(exists=False), default=None,
              help="Knowledge base: a folder of Markdown/text/HTML docs, a JSONL of documents, or a JSON file "
                   "(e.g. ABCD guidelines.json). Sentences restating a passage are routed as knowledge.")
@click.option("--mask", "mode", flag_value="mask", help="Keep flagged examples; set weight 0 on flagged assistant turns.")
@click.option("--ground", "mode", flag_value="ground",
              help="Keep flagged examples with the matching KB passage added to the system prompt (RAFT); needs --kb.")
@click.option("--template", "mode", flag_value="template",
              help="Keep flagged examples with values replaced by named placeholders ({{refund_window}}).")
@click.option("--threshold", type=click.FloatRange(0.0, 1.0), default=None,
              help="Knowledge score at which an example is routed as knowledge (default 0.5).")
@click.option("--turns", "turns", type=click.Choice(["trainable", "final", "every"]), default=None,
              help="Which assistant turns to judge: every turn a trainer learns from (default: no weight 0), only the "
                   "final one, or every one.")
@click.option("--allow", multiple=True, help="A fact that is part of the voice (company name, support address); repeatable.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="Configuration file (default: discover ftkit.toml / pyproject.toml).")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", help="How to print the summary.")
@click.option("--top", type=click.IntRange(1, 1000), default=10, help="How many recurring facts to show.")
def command(file: str, output_dir: str, kb: str | None, mode: str | None, threshold: float | None,
            turns: str | None, allow: tuple[str, ...], config_path: str | None, output_format: str, top: int) -> None:
    """Route FILE (chat JSONL) into behavior and knowledge.

    \b
    Writes to DIR:
      behavior.jsonl       examples to fine-tune on (plus treated ones with --mask/--ground/--template)
      knowledge.jsonl      flagged examples with spans, scores and KB sources in metadata.knowledge
      kb_candidates.jsonl  the facts as question/answer documents with source ids, for a vector store
      summary.json         how much of the dataset teaches facts, and which facts recur most
    """
    from toolkit.config import ConfigError, load_config
    from toolkit.io.jsonl import atomic_writer, dumps, read_jsonl, write_jsonl
    from toolkit.knowledge.analyze import DEFAULT_THRESHOLD, KnowledgeOptions
    from toolkit.knowledge.route import RouteOptions, Router

    try:
        loaded = load_config(config_path) if config_path else load_config(start=Path.cwd())
    except ConfigError as exc:
        fail(str(exc))
    section: dict[str, Any] = loaded.section("route")
    root = loaded.root
    threshold = threshold if threshold is not None else float(section.get("threshold", DEFAULT_THRESHOLD))
    turns = turns or section.get("turns") or "trainable"
    allow_list = tuple(section.get("allow", ())) + tuple(allow)
    mode = mode or section.get("mode") or "route"
    if kb is None and section.get("kb"):
        kb = str(root / section["kb"]) if not Path(section["kb"]).is_absolute() else section["kb"]
    if mode == "ground" and not kb:
        fail("--ground needs a knowledge base: pass --kb PATH")
    knowledge_base = None
    if kb:
        from toolkit.knowledge.kb import KnowledgeBaseError, load_kb

        try:
            knowledge_base = load_kb(kb)
        except KnowledgeBaseError as exc:
            fail(str(exc))
    if file != "-" and not Path(file).is_file():
        fail(f"{file}: no such file")
    options = RouteOptions(
        mode=mode,  # type: ignore[arg-type]
        knowledge=KnowledgeOptions(threshold=threshold, every_turn=turns == "every", trainable_turns=turns == "trainable",
                                   allow=allow_list),
        kb=knowledge_base,
    )
    router = Router(options)
    out = Path(output_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"{out}: cannot create output folder: {exc.strerror}")
    summary = router.summary
    try:
        with contextlib.ExitStack() as stack:
            behavior_out = stack.enter_context(atomic_writer(out / "behavior.jsonl"))
            knowledge_out = stack.enter_context(atomic_writer(out / "knowledge.jsonl"))
            for item in read_jsonl(file):
                if not item.ok:
                    summary.skipped.append({"file": item.file, "line": item.line, "code": item.error.code,
                                            "reason": item.error.message})
                    err_console.print(f"{item.file}:{item.line}: skipped: {item.error.message}", markup=False)
                    continue
                messages = item.value.get("messages")
                if not isinstance(messages, list) or not messages:
                    summary.skipped.append({"file": item.file, "line": item.line, "code": "S001",
                                            "reason": "record has no 'messages' list"})
                    err_console.print(f"{item.file}:{item.line}: skipped: field 'messages' is missing or not a "
                                      f"non-empty list", markup=False)
                    continue
                decision = router.route(item.value, file=item.file, line=item.line)
                if decision.behavior_record is not None:
                    behavior_out.write(dumps(decision.behavior_record) + b"\n")
                if decision.knowledge_record is not None:
                    knowledge_out.write(dumps(decision.knowledge_record) + b"\n")
        write_jsonl(out / "kb_candidates.jsonl", router.candidates())
        data = summary.to_dict(top=top, threshold=threshold, mode=mode, kb=kb)
        with atomic_writer(out / "summary.json") as fh:
            fh.write(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False).encode("utf-8") + b"\n")
    except OSError as exc:
        fail(f"{exc.filename or out}: cannot write: {exc.strerror}")
    if output_format == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        _print_summary(data, out, top)
    raise SystemExit(EXIT_PROBLEMS if summary.skipped else EXIT_OK)


def _print_summary(data: dict[str, Any], out: Path, top: int) -> None:
    from rich.table import Table

    total = data["examples"]
    console.print(f"routed {total} examples: {data['behavior']} behavior, {data['knowledge']} knowledge "
                  f"({data['knowledge_share']:.1%} of the dataset teaches facts; threshold {data['threshold']})")
    if data["treated"]:
        treated = ", ".join(f"{v} {k}" for k, v in data["treated"].items())
        console.print(f"kept in behavior.jsonl after treatment: {treated}")
    if data["not_groundable"]:
        console.print(f"{data['not_groundable']} flagged examples had no KB passage that grounds them (left out)")
    if data["by_rule"]:
        console.print("spans by rule: " + ", ".join(f"{k} {v}" for k, v in data["by_rule"].items()))
    if data["top_facts"]:
        table = Table(title="most recurring facts", show_lines=False)
        table.add_column("kind")
        table.add_column("fact")
        table.add_column("examples", justify="right")
        for fact in data["top_facts"][:top]:
            table.add_row(fact["kind"], fact["text"], str(fact["examples"]))
        console.print(table)
    if data["top_kb_sources"]:
        console.print("most restated KB passages: " + "; ".join(
            f"{s['source']} ({s['examples']})" for s in data["top_kb_sources"][:top]), markup=False)
    if data["skipped"]:
        console.print(f"{len(data['skipped'])} lines skipped (see stderr)")
    console.print(f"wrote {out}/behavior.jsonl, knowledge.jsonl, kb_candidates.jsonl, summary.json", markup=False)
