"""``ftkit stats``: examples, turns, token distributions and training cost per provider."""

from __future__ import annotations

import sys
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from toolkit.cli.common import EXIT_OK, console, err_console, fail


def report_config() -> dict[str, Any]:
    """The ``[tool.ftkit.report]`` section plus top-level ``model`` / ``encoding`` (may be empty)."""
    from toolkit.config import ConfigError, load_config

    try:
        loaded = load_config()
    except ConfigError as exc:
        fail(str(exc))
    section = dict(loaded.section("report"))
    for key in ("model", "encoding"):
        if key in loaded.data and key not in section:
            section[key] = loaded.data[key]
    return section


def _print_table(table: Table) -> None:
    """Print a table at the terminal's width, or at its natural width (up to 160 columns) into a file or pipe."""
    if console.is_terminal:
        console.print(table)
    else:
        Console(highlight=False, width=160).print(table)


def _fmt_int(value: Any) -> str:
    return "-" if value is None else f"{int(value):,}"


def _fmt_num(value: Any) -> str:
    if value is None:
        return "-"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def _usd(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 0.01 and value > 0:
        return f"${value:.4f}"
    return f"${value:,.2f}"


def print_stats(stats: dict[str, Any]) -> None:
    enc = stats["encoding"]
    console.print(f"[bold]Dataset[/bold]  {', '.join(stats['files'])}")
    overview = Table(show_header=False, box=None, padding=(0, 2))
    overview.add_row("examples", _fmt_int(stats["examples"]))
    overview.add_row("conversations", _fmt_int(stats["conversations"]))
    overview.add_row("messages", _fmt_int(stats["messages"]["total"]))
    for role, count in stats["messages"]["per_role"].items():
        overview.add_row(f"  {role}", _fmt_int(count))
    tok = stats["tokens"]
    overview.add_row(f"tokens (estimate, {enc})", _fmt_int(tok["total"]))
    overview.add_row("  prompt", _fmt_int(tok["prompt"]))
    overview.add_row("  trainable (assistant, weight != 0)", _fmt_int(tok["trainable"]))
    if stats["weight0_assistant_messages"]:
        overview.add_row("assistant messages with weight 0", _fmt_int(stats["weight0_assistant_messages"]))
    if stats["examples_without_trainable_tokens"]:
        overview.add_row("[yellow]examples with nothing to learn[/yellow]", _fmt_int(stats["examples_without_trainable_tokens"]))
    limit = stats["over_limit"]["limit"]
    if limit is None and stats.get("model"):
        overview.add_row("over the model's limit", f"- (no documented per-example limit for {stats['model']})")
    if limit is not None:
        label = f"over the model's {limit:,}-token limit"
        overview.add_row(f"[red]{label}[/red]" if stats["over_limit"]["count"] else label, _fmt_int(stats["over_limit"]["count"]))
    sysp = stats["system_prompts"]
    overview.add_row("distinct system prompts", f"{_fmt_int(sysp['distinct'])} (in {_fmt_int(sysp['examples_with_system_prompt'])} examples)")
    if stats["problems"]["count"]:
        overview.add_row("[red]unusable lines (not counted)[/red]", _fmt_int(stats["problems"]["count"]))
    console.print(overview)

    dist = Table(title=f"Token distributions (estimate, {enc})", title_justify="left")
    dist.add_column("what")
    for col in ("count", "min", "p50", "p90", "p95", "p99", "max", "mean"):
        dist.add_column(col, justify="right")

    def add(name: str, d: dict[str, Any]) -> None:
        dist.add_row(name, *[_fmt_num(d.get(k)) for k in ("count", "min", "p50", "p90", "p95", "p99", "max", "mean")])

    add("per example", tok["per_example"])
    add("trainable per example", tok["trainable_per_example"])
    for role, d in tok["per_message_by_role"].items():
        add(f"{role} message", d)
    _print_table(dist)

    if sysp["top"] and sysp["distinct"] > 1:
        console.print(f"[bold]Most common system prompts[/bold] ({sysp['distinct']} distinct)")
        for entry in sysp["top"]:
            console.print(f"  {entry['examples']:>6,} ({entry['share']:.0%})  {entry['preview'][:90]!r}")
    for where in stats["over_limit"]["examples"]:
        err_console.print(f"{where['file']}:{where['line']}: {where['tokens']:,} tokens, over the {limit:,}-token limit")
    for problem in stats["problems"]["first"]:
        err_console.print(f"{problem['file']}:{problem['line']}: skipped: {problem['reason']}")
    if stats["problems"]["count"] > len(stats["problems"]["first"]):
        err_console.print(f"... and {stats['problems']['count'] - len(stats['problems']['first'])} more unusable lines")


def print_cost(cost: dict[str, Any]) -> None:
    lines = cost["lines"]
    if not lines:
        console.print("No price entry matches; see --provider / --model or pass --prices FILE.")
        return
    encoding = lines[0]["encoding"]
    table = Table(
        title=f"Training cost (estimate: tokens by {encoding}; prices as of {cost['as_of']}, verify before relying)",
        title_justify="left",
    )
    table.add_column("provider", no_wrap=True)
    table.add_column("model", no_wrap=True)
    for col in ("epochs", "billed tokens", "$/1M", "training", "ft $/1M in/out"):
        table.add_column(col, justify="right", no_wrap=True)
    for line in lines:
        epochs = f"{line['epochs']}"
        if line["epochs_source"] == "assumed":
            epochs += "?"
        elif line["epochs_source"] == "provider-auto":
            epochs += "*"
        training = _usd(line["training_cost_usd"])
        if line["minimum_applied"]:
            training += " (min)"
        inference = "-" if line["inference_input_per_1m"] is None else f"{line['inference_input_per_1m']:g} / {line['inference_output_per_1m']:g}"
        table.add_row(line["provider"], line["model"], epochs, _fmt_int(line["billed_tokens"]),
                      f"{line['training_price_per_1m']:g}", training, inference)
    _print_table(table)
    notes = ["epochs: '*' = the provider's documented auto rule for this dataset size, '?' = not documented by the provider, assumed"]
    if any(line["capped_examples"] for line in lines):
        notes.append("examples longer than the model's limit are billed at the limit (OpenAI's counting)")
    if any(line["minimum_applied"] for line in lines):
        notes.append("(min) = the provider's minimum charge per job applies")
    if any(line["hosting_per_hour_usd"] for line in lines):
        notes.append("Azure OpenAI also bills hosting per hour for a deployed fine-tuned model")
    for note in notes:
        console.print(f"[dim]{note}[/dim]")


@click.command("stats")
@click.argument("files", nargs=-1, required=True, type=click.Path(allow_dash=True, dir_okay=False))
@click.option("--model", help="Model name: chooses the tokenizer and the per-example token limit.")
@click.option("--encoding", type=click.Choice(["o200k_base", "cl100k_base"]), help="Force a tiktoken encoding.")
@click.option("--epochs", type=click.IntRange(min=1), help="Epochs for the cost estimate (default: each provider's own rule).")
@click.option("--prices", "prices_file", type=click.Path(dir_okay=False), help="Your own price file (merged over the bundled table).")
@click.option("--provider", "providers", multiple=True, help="Only these providers in the cost table (repeatable).")
@click.option("--no-cost", is_flag=True, help="Skip the cost table.")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def command(files, model, encoding, epochs, prices_file, providers, no_cost, output_format) -> None:
    """Statistics of a chat dataset and what training on it would cost.

    Examples, conversations, messages per role, token distributions per role (exact
    percentiles), trainable tokens given `weight`, examples over the model's limit,
    system-prompt variety, and an estimated training cost per provider and model.
    All token and cost figures are estimates and name the encoding.
    """
    from toolkit.report.cost import PriceTableError, cost_summary, cost_table, load_prices
    from toolkit.report.stats import compute_stats

    config = report_config()
    model = model or config.get("model")
    encoding = encoding or config.get("encoding")
    epochs = epochs or config.get("epochs")
    prices_file = prices_file or config.get("prices")
    providers = list(providers) or list(config.get("providers", []))

    table = None
    if not no_cost:
        try:
            table = load_prices(prices_file)
        except PriceTableError as exc:
            fail(str(exc))
        unknown = [p for p in providers if p not in table.providers()]
        if unknown:
            fail(f"unknown provider {', '.join(unknown)}; known: {', '.join(table.providers())}")
    try:
        stats = compute_stats(list(files), model=model, encoding=encoding)
    except OSError as exc:
        fail(f"{exc.filename or files[0]}: cannot read: {exc.strerror}")
    except KeyError as exc:
        fail(f"unknown encoding {exc}")
    result = stats.to_dict()
    if table is not None:
        lines = cost_table(table, stats.totals(), epochs=epochs, providers=providers or None)
        result["cost"] = cost_summary(table, lines)
    if output_format == "json":
        sys.stdout.buffer.write(orjson.dumps(result, option=orjson.OPT_INDENT_2) + b"\n")
    else:
        print_stats(result)
        if "cost" in result:
            print_cost(result["cost"])
    sys.exit(EXIT_OK)
