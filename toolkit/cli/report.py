"""``ftkit report``: one self-contained HTML report of a dataset (charts, cost, verdict)."""

from __future__ import annotations

import sys

import click
import orjson

from toolkit.cli.common import EXIT_OK, console, err_console, fail
from toolkit.cli.stats import report_config


def _progress(stage: str) -> None:
    """Say which pass is running, on an interactive terminal only (stderr; CI logs stay clean)."""
    from toolkit.cli.common import show_progress

    if show_progress():
        err_console.print(f"[dim]ftkit report: {stage}...[/dim]")


@click.command("report")
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=False, dir_okay=False))
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False), help="HTML file to write.")
@click.option("--model", help="Model name: tokenizer, per-example limit, and the model priced in the break-even.")
@click.option("--encoding", type=click.Choice(["o200k_base", "cl100k_base"]), help="Force a tiktoken encoding.")
@click.option("--provider", help="Provider for the break-even (openai, azure, together, fireworks, mistral, vertex, bedrock).")
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs for the cost estimate (default: each provider's rule).")
@click.option("--prices", "prices_file", type=click.Path(dir_okay=False), help="Your own price file (merged over the bundled table).")
@click.option("--manifest", type=click.Path(dir_okay=False), help="split_manifest.json from `ftkit split`: split sizes and strata.")
@click.option("--kb", type=click.Path(), help="Knowledge base (folder of docs or JSONL): measures the tokens a RAG prompt adds.")
@click.option("--prompt-tokens-saved", type=click.FloatRange(min=0), help="Prompt tokens per request a fine-tuned model no longer needs.")
@click.option("--requests-per-day", type=click.FloatRange(min=0), help="Requests per day for the break-even (default 1,000).")
@click.option("--prompt-tokens", type=click.FloatRange(min=0), help="Prompt tokens per request that remain (default: the dataset's mean).")
@click.option("--output-tokens", type=click.FloatRange(min=0), help="Output tokens per request (default: mean assistant message).")
@click.option("--rag-tokens", type=click.FloatRange(min=0), help="Tokens a RAG prompt adds per request (default: from --kb, else assumed).")
@click.option("--title", help="Title shown at the top of the page.")
@click.option("--no-lint", is_flag=True, help="Skip the lint section (and behavior consistency).")
@click.option("--no-knowledge", is_flag=True, help="Skip the behavior-vs-knowledge analysis.")
@click.option("--data-json", type=click.Path(dir_okay=False), help="Also write the report's data as JSON.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Worker processes for the knowledge and lint passes (default: one per CPU).")
def command(files, output, model, encoding, provider, epochs, prices_file, manifest, kb, prompt_tokens_saved,
            requests_per_day, prompt_tokens, output_tokens, rag_tokens, title, no_lint, no_knowledge, data_json, jobs) -> None:
    """Write a self-contained HTML report of a chat dataset.

    Token-length histograms per role, examples over the limit, lint findings by rule and
    severity, behavior vs knowledge and the most repeated facts, split sizes and strata
    (with --manifest), training cost per provider, the break-even of fine-tuning against a
    long prompt, and a plain recommendation: RAG, fine-tune, or both. The page needs no
    network to open. All token and cost figures are estimates.
    """
    from toolkit.io.jsonl import atomic_writer
    from toolkit.report.build import ReportInputError, build_report
    from toolkit.report.cost import PriceTableError
    from toolkit.report.html import render_html

    config = report_config()
    provider = provider or config.get("provider")
    if provider is not None:
        from toolkit.report.cost import load_prices

        try:
            known = load_prices(prices_file or config.get("prices")).providers()
        except PriceTableError as exc:
            fail(str(exc))
        if provider not in known:
            fail(f"unknown provider {provider!r}; known: {', '.join(known)}")
    thresholds = {k: v for k, v in config.items() if k in (
        "knowledge_share_rag", "knowledge_share_both", "consistency_min", "break_even_max_days", "min_examples",
        "rag_passages", "rag_passage_tokens", "top_facts")}
    try:
        data = build_report(
            list(files),
            model=model or config.get("model"),
            encoding=encoding or config.get("encoding"),
            epochs=epochs or config.get("epochs"),
            prices=prices_file or config.get("prices"),
            provider=provider,
            providers=config.get("providers"),
            manifest=manifest,
            kb=kb,
            prompt_tokens_saved=prompt_tokens_saved if prompt_tokens_saved is not None else config.get("prompt_tokens_saved"),
            requests_per_day=requests_per_day if requests_per_day is not None else config.get("requests_per_day"),
            prompt_tokens=prompt_tokens,
            output_tokens=output_tokens,
            rag_tokens=rag_tokens,
            thresholds=thresholds,
            with_lint=not no_lint,
            with_knowledge=not no_knowledge,
            title=title,
            jobs=jobs,
            progress=_progress,
        )
    except (ReportInputError, PriceTableError) as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or files[0]}: cannot read: {exc.strerror}")
    page = render_html(data)
    try:
        with atomic_writer(output) as fh:
            fh.write(page.encode("utf-8"))
        if data_json:
            with atomic_writer(data_json) as fh:
                fh.write(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as exc:
        fail(f"{exc.filename or output}: cannot write: {exc.strerror}")
    verdict = data["verdict"]
    console.print(f"wrote {output} ({len(page):,} bytes): {verdict['headline']}")
    for caution in verdict["cautions"]:
        err_console.print(f"note: {caution}")
    sys.exit(EXIT_OK)
