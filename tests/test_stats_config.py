"""[tool.ftkit.report] configuration drives stats and report defaults; the CLI overrides it."""

from __future__ import annotations

import json

from report_helpers import make_records, write_jsonl


def test_report_config_sets_defaults_and_cli_overrides(tmp_path, ftkit_subprocess):
    data = write_jsonl(tmp_path / "d.jsonl", make_records(20, long_example=False))
    (tmp_path / "ftkit.toml").write_text('model = "gpt-3.5-turbo"\n[report]\nepochs = 2\nproviders = ["openai"]\n')
    proc = ftkit_subprocess(["stats", data.name, "--output-format", "json"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["encoding"] == "cl100k_base"  # the top-level model
    assert {line["provider"] for line in out["cost"]["lines"]} == {"openai"}
    assert all(line["epochs"] == 2 and line["epochs_source"] == "user" for line in out["cost"]["lines"])
    proc = ftkit_subprocess(["stats", data.name, "--output-format", "json", "--epochs", "4", "--model", "gpt-4o"], cwd=tmp_path)
    out = json.loads(proc.stdout)
    assert out["encoding"] == "o200k_base"
    assert all(line["epochs"] == 4 for line in out["cost"]["lines"])


def test_report_thresholds_from_config(tmp_path, ftkit_subprocess):
    data = write_jsonl(tmp_path / "d.jsonl", make_records(40, long_example=False))  # about a quarter teach facts
    (tmp_path / "ftkit.toml").write_text("[report]\nknowledge_share_both = 0.9\nknowledge_share_rag = 0.95\n")
    proc = ftkit_subprocess(["report", data.name, "-o", "r.html", "--no-lint", "--data-json", "r.json"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    verdict = json.loads((tmp_path / "r.json").read_text())["verdict"]
    assert verdict["thresholds"]["knowledge_share_both"] == 0.9
    assert verdict["recommendation"] == "fine-tune"  # 25% < the configured 90%


def test_bad_report_config_is_a_usage_error(tmp_path, ftkit_subprocess):
    data = write_jsonl(tmp_path / "d.jsonl", make_records(3, long_example=False))
    (tmp_path / "ftkit.toml").write_text("[report]\nepochs = 0\n")
    proc = ftkit_subprocess(["stats", data.name], cwd=tmp_path)
    assert proc.returncode == 2
    assert b"ftkit.toml" in proc.stderr and b"report.epochs" in proc.stderr
