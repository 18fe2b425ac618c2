"""The ``ftkit`` command line: a thin layer that parses options, calls the library, prints.

Each command lives in its own module ``toolkit.cli.<name>`` exposing a click command
called ``command``; modules load only when their command runs, so ``ftkit lint`` does not
pay for importing ``datasets``.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

import click

from toolkit import __version__

# name -> (module, one-line help shown by `ftkit --help` without importing the module)
COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("toolkit.cli.validate", "Check a dataset against a target's schema and limits."),
    "convert": ("toolkit.cli.convert", "Convert helpdesk exports or chat datasets to a target format."),
    "lint": ("toolkit.cli.lint", "Lint a dataset: duplicates, PII, artifacts, behavior, knowledge."),
    "rule": ("toolkit.cli.rule", "Show the documentation of lint rules."),
    "route": ("toolkit.cli.route", "Separate behavior examples from knowledge for RAG."),
    "split": ("toolkit.cli.split", "Make train/validation/test splits without leakage."),
    "leakage": ("toolkit.cli.leakage", "Find overlap between existing split files."),
    "stats": ("toolkit.cli.stats", "Dataset statistics, token counts and training cost."),
    "report": ("toolkit.cli.report", "Write a self-contained HTML report of a dataset."),
    "tokens": ("toolkit.cli.tokens", "Count tokens of a dataset offline (estimate)."),
}


class LazyGroup(click.Group):
    """A click group that imports a command's module only when that command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name, (module, _) in COMMANDS.items() if _module_exists(module)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None or not _module_exists(entry[0]):
            return None
        return importlib.import_module(entry[0]).command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _module_exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ftkit")
def cli() -> None:
    """ftkit: fine-tuning datasets that teach behavior, not facts.

    Convert support transcripts to chat fine-tuning data, validate it for your
    provider, lint it (above all for knowledge that belongs in RAG), split it
    without leakage, and see what it will cost. Everything runs offline.
    """


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="ftkit")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
