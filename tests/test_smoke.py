"""The package imports, the CLI starts, and the version is reported."""

import subprocess
import sys

import toolkit


def test_version_via_cli(cli_run):
    result = cli_run(["--version"])
    assert result.exit_code == 0
    assert toolkit.__version__ in result.output


def test_console_script_runs_as_module():
    proc = subprocess.run([sys.executable, "-m", "toolkit", "--help"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert "fine-tuning" in proc.stdout
