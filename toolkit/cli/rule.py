"""``ftkit rule``: show the documentation of lint rules."""

from __future__ import annotations

import click

from toolkit.cli.common import console, fail


@click.command(name="rule", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("rule", required=False)
@click.option("--all", "show_all", is_flag=True, help="Every rule (an index in text; everything in json/markdown).")
@click.option("--output-format", type=click.Choice(["text", "json", "markdown"]), default="text", show_default=True)
def command(rule: str | None, show_all: bool, output_format: str) -> None:
    """Show what a rule checks, why it hurts fine-tuning, a bad and a good example, its options.

    RULE is a code (P001) or a kebab-case name (pii-email).
    """
    import json

    from toolkit.linter import docs
    from toolkit.linter.rule import load_all_rules
    from toolkit.linter.settings import LintConfigError, resolve_one

    registry = load_all_rules()
    if show_all == bool(rule):
        fail("give one RULE (code or name) or --all")
    if show_all:
        if output_format == "json":
            click.echo(docs.all_rules_json(registry), nl=False)
        elif output_format == "markdown":
            click.echo(docs.all_rules_markdown(registry), nl=False)
        else:
            docs.render_index_terminal(registry, console)
        return
    try:
        code = resolve_one(rule, where="ftkit rule")
    except LintConfigError as exc:
        fail(str(exc))
    cls = registry[code]
    if output_format == "json":
        click.echo(json.dumps(docs.rule_json(cls), indent=2, ensure_ascii=False, default=str))
    elif output_format == "markdown":
        click.echo(docs.rule_markdown(cls, heading_level=1), nl=False)
    else:
        docs.render_terminal(cls, console)
