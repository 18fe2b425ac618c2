"""Shared plumbing for commands: exit codes, output formats, error reporting."""

from __future__ import annotations

import os
import sys
from typing import NoReturn

import click
from rich.console import Console

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2

# Human output goes to stdout; progress bars and warnings go to stderr so that
# `ftkit lint --output-format json > out.json` stays clean.
console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

OUTPUT_FORMATS_BASIC = ["text", "json"]


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print ``ftkit: error: message`` to stderr and exit (2 = usage, config or I/O error)."""
    click.echo(f"ftkit: error: {message}", err=True)
    sys.exit(code)


def in_github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def show_progress(total_hint: int | None = None) -> bool:
    """Progress bars only on an interactive terminal and outside CI."""
    return sys.stderr.isatty() and not os.environ.get("CI")
