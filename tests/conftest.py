"""Shared test fixtures: paths to samples and corpora, and ways to run the real CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
SCHEMAS = ROOT / "schemas"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# Real public corpora live beside the project (../shared/corpora); tests may read them.
CORPORA = ROOT.parent / "shared" / "corpora"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def corpora() -> Path:
    if not CORPORA.is_dir():
        pytest.skip("../shared/corpora is not present beside the project")
    return CORPORA


def _invoke(args: list[str], input: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
    from toolkit.cli import cli

    runner = CliRunner()
    return runner.invoke(cli, [str(a) for a in args], input=input, env=env, catch_exceptions=False)


@pytest.fixture
def cli_run():
    """Run ``ftkit ARGS`` in-process (fast): returns click's ``Result`` (exit_code, output, stdout, stderr)."""
    return _invoke


@pytest.fixture
def ftkit_subprocess(tmp_path):
    """Run the installed ``ftkit`` console script as a real process (as a user would)."""

    def run(args: list[str], *, input: bytes | None = None, cwd: Path | None = None, env: dict[str, str] | None = None):
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [sys.executable, "-m", "toolkit", *[str(a) for a in args]],
            input=input,
            capture_output=True,
            cwd=cwd or tmp_path,
            env=full_env,
            timeout=300,
        )

    return run
