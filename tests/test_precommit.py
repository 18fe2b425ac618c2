"""The pre-commit hooks, run for real: a temporary git repository uses this checkout as its hook repo.

pre-commit clones the checkout at its current commit and pip-installs it into a fresh
virtualenv (``language: python``). That works offline as long as pip can find the build
backend and the dependencies locally (a wheel cache or local index); the first run takes
tens of seconds, so one module-scoped pre-commit home is shared by the tests here.
A commit that stages a bad dataset must fail with the diagnostics; once the problems are
in a baseline referenced from ``pyproject.toml``, the same commit passes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=check, timeout=600)


@pytest.fixture(scope="module")
def hook_rev() -> str:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    try:
        import pre_commit  # noqa: F401
    except ImportError:
        pytest.skip("pre-commit is not installed (pip install -e .[test])")
    proc = _git(ROOT, "rev-parse", "HEAD", check=False)
    if proc.returncode != 0:
        pytest.skip("this checkout is not a git repository")
    # pre-commit installs the hook repo at a commit: the hooks file must be part of it.
    listed = _git(ROOT, "ls-tree", "--name-only", "HEAD", ".pre-commit-hooks.yaml", check=False)
    if ".pre-commit-hooks.yaml" not in listed.stdout:
        pytest.fail(".pre-commit-hooks.yaml is not committed at HEAD")
    return proc.stdout.strip()


@pytest.fixture(scope="module")
def precommit_home(tmp_path_factory) -> Path:
    # One pre-commit store for the whole run, shared by pytest-xdist workers (the base temp
    # folder's parent is common to them): pre-commit locks its store while installing, so
    # the hook environment is built once and reused.
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if base.name.startswith("popen-gw") else base) / "pre-commit-home"
    shared.mkdir(exist_ok=True)
    return shared


def test_hooks_manifest_matches_the_issue():
    hooks = {hook["id"]: hook for hook in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"ftkit-lint", "ftkit-lint-fix"}
    import re

    for hook in hooks.values():
        assert hook["language"] == "python"
        assert hook["files"] == r"\.(jsonl|ndjson)(\.gz)?$"
        assert hook["require_serial"] is True  # dataset rules need every file in one run
        pattern = re.compile(hook["files"])
        assert pattern.search("data/train.jsonl") and pattern.search("x.ndjson.gz") and not pattern.search("x.json")
    assert hooks["ftkit-lint"]["entry"] == "ftkit lint"
    assert hooks["ftkit-lint-fix"]["entry"] == "ftkit lint --fix"


def test_commit_fails_on_a_bad_dataset_and_passes_with_a_baseline(tmp_path, hook_rev, precommit_home):
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "dev@example.invalid")
    _git(repo, "config", "user.name", "dev")
    _git(repo, "config", "commit.gpgsign", "false")
    (repo / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {ROOT.as_posix()}\n"
        f"    rev: {hook_rev}\n"
        "    hooks:\n"
        "      - id: ftkit-lint\n",
        encoding="utf-8",
    )
    good = {"messages": [{"role": "user", "content": "Can you help me reset my password?"},
                         {"role": "assistant", "content": "Of course. Open the sign-in page and choose 'Forgot password'."}],
            "metadata": {"id": "ex-1"}}
    data = repo / "data" / "train.jsonl"
    data.parent.mkdir()
    data.write_bytes(orjson.dumps(good) + b"\n" + b'{"messages": oops}\n')
    (repo / "notes.json").write_text("{not checked: not a .jsonl file", encoding="utf-8")

    env = {**os.environ, "PRE_COMMIT_HOME": str(precommit_home), "PRE_COMMIT_COLOR": "never"}
    env.pop("GITHUB_ACTIONS", None)
    install = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env,
                             capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout + install.stderr

    _git(repo, "add", ".")
    commit = subprocess.run(["git", "commit", "-m", "add data"], cwd=repo, env=env, capture_output=True,
                            text=True, timeout=900)
    output = commit.stdout + commit.stderr
    assert commit.returncode != 0, output
    assert "ftkit lint" in output and "Failed" in output
    assert "data/train.jsonl:2:" in output and "J001" in output  # the diagnostics, located
    assert "notes.json" not in output

    # Adopt the linter with a baseline: known problems stop failing the commit.
    written = subprocess.run([sys.executable, "-m", "toolkit", "lint", "data/train.jsonl", "--write-baseline",
                              "--baseline", "ftkit-baseline.json"], cwd=repo, env=env, capture_output=True, text=True,
                             timeout=300)
    assert written.returncode == 0, written.stderr
    (repo / "pyproject.toml").write_text('[tool.ftkit.lint]\nbaseline = "ftkit-baseline.json"\n', encoding="utf-8")
    _git(repo, "add", ".")
    commit = subprocess.run(["git", "commit", "-m", "add data with baseline"], cwd=repo, env=env,
                            capture_output=True, text=True, timeout=900)
    assert commit.returncode == 0, commit.stdout + commit.stderr
    assert "Passed" in commit.stdout + commit.stderr

    # A new problem in a later commit still fails.
    with open(data, "ab") as fh:
        fh.write(b"[1, 2]\n")
    _git(repo, "add", ".")
    commit = subprocess.run(["git", "commit", "-m", "more data"], cwd=repo, env=env, capture_output=True,
                            text=True, timeout=900)
    output = commit.stdout + commit.stderr
    assert commit.returncode != 0 and "data/train.jsonl:3: J002" in output


def test_fix_hook_repairs_the_file_and_the_next_commit_passes(tmp_path, hook_rev, precommit_home):
    repo = tmp_path / "project"
    repo.mkdir()
    _git(repo, "init", "-q")
    _git(repo, "config", "user.email", "dev@example.invalid")
    _git(repo, "config", "user.name", "dev")
    _git(repo, "config", "commit.gpgsign", "false")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT.as_posix()}\n    rev: {hook_rev}\n    hooks:\n      - id: ftkit-lint-fix\n",
        encoding="utf-8",
    )
    (repo / "pyproject.toml").write_text('[tool.ftkit.lint]\nselect = ["J"]\n', encoding="utf-8")
    record = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello! How can I help?"}]}
    data = repo / "train.jsonl"
    data.write_bytes(b"\xef\xbb\xbf" + orjson.dumps(record) + b"\r\n")
    env = {**os.environ, "PRE_COMMIT_HOME": str(precommit_home), "PRE_COMMIT_COLOR": "never"}
    env.pop("GITHUB_ACTIONS", None)
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=repo, env=env, check=True,
                   capture_output=True, timeout=300)
    _git(repo, "add", ".")
    commit = subprocess.run(["git", "commit", "-m", "data"], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    output = commit.stdout + commit.stderr
    assert commit.returncode != 0 and "files were modified by this hook" in output, output
    assert data.read_bytes() == orjson.dumps(record) + b"\n"  # BOM and CRLF fixed in the work tree
    _git(repo, "add", ".")
    commit = subprocess.run(["git", "commit", "-m", "data"], cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert commit.returncode == 0, commit.stdout + commit.stderr
