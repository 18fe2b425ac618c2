"""`ftkit report`: a self-contained HTML page whose charts show the fixture's numbers, and the verdict."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from report_helpers import make_records, reference_counts, write_jsonl

CHROMIUM = Path("/usr/bin/chromium")

MANIFEST = {
    "splits": {
        "train": {"examples": 48, "groups": 24, "tokens": 5000, "strata": {"channel": {"chat": 0.75, "email": 0.25}}},
        "validation": {"examples": 6, "groups": 3, "tokens": 600, "strata": {"channel": {"chat": 0.5, "email": 0.5}}},
        "test": {"examples": 6, "groups": 3, "tokens": 640, "strata": {"channel": {"chat": 0.67, "email": 0.33}}},
    },
    "options": {"seed": 13, "ratios": "0.8,0.1,0.1"},
}


def _svg(page: str, title: str) -> str:
    match = re.search(r'<svg[^>]*data-title="%s"[^>]*>(.*?)</svg>' % re.escape(title), page, re.S)
    assert match, f"no chart titled {title!r}"
    return match.group(1)


def _bins(svg: str) -> list[tuple[int, int, int]]:
    return [(int(a), int(b), int(v)) for v, a, b in re.findall(r'data-value="(\d+)" data-bin="(\d+)-(\d+)"', svg)]


def _overflow(svg: str) -> tuple[int, int] | None:
    """``(from, count)`` of the outlier bin, if the chart has one."""
    match = re.search(r'data-value="(\d+)" data-bin="(\d+)\+"', svg)
    return (int(match.group(2)), int(match.group(1))) if match else None


def _run(args):
    from click.testing import CliRunner

    from toolkit.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    # Built once for the module: a full report (stats, knowledge, lint) is the slow part.
    tmp_path = tmp_path_factory.mktemp("report")
    records = make_records(60)
    data = write_jsonl(tmp_path / "train.jsonl", records)
    manifest = tmp_path / "split_manifest.json"
    manifest.write_text(json.dumps(MANIFEST))
    out = tmp_path / "report.html"
    data_json = tmp_path / "report.json"
    result = _run(["report", data, "-o", out, "--model", "gpt-3.5-turbo-0613", "--manifest", manifest,
                   "--prompt-tokens-saved", "1200", "--requests-per-day", "20000", "--data-json", data_json])
    assert result.exit_code == 0, result.output
    return {"records": records, "data": data, "html": out.read_text(encoding="utf-8"), "json": json.loads(data_json.read_text()),
            "out": out, "tmp": tmp_path, "stdout": result.stdout}


def test_report_is_self_contained(report):
    page = report["html"]
    assert page.startswith("<!DOCTYPE html>")
    lowered = page.lower()
    for forbidden in ("http://", "https://", "<script", "<link", "<img", "@import", "url(", "<iframe", "src="):
        assert forbidden not in lowered, forbidden
    assert "<style>" in page and "<svg" in page


def test_histograms_show_the_fixture_token_lengths(report):
    page, records = report["html"], report["records"]
    ref = reference_counts(records, "cl100k_base")
    by_role = {"example": [r["total"] for r in ref]}
    for r in ref:
        for role, n in r["per_message"]:
            by_role.setdefault(role, []).append(n)
    for role, values in by_role.items():
        title = "tokens per example" if role == "example" else f"tokens per {role} message"
        svg = _svg(page, title)
        bins = _bins(svg)
        edges = [a for a, _, _ in bins] + [bins[-1][1]]
        inside = [v for v in values if v < edges[-1]]
        expected, _ = np.histogram(inside, bins=edges)
        assert [v for _, _, v in bins] == expected.tolist(), role
        overflow = _overflow(svg)
        if overflow:
            assert overflow == (edges[-1], len(values) - len(inside))
        else:
            assert len(inside) == len(values)


def test_over_limit_and_split_and_tiles(report):
    page = report["html"]
    totals = [r["total"] for r in reference_counts(report["records"], "cl100k_base")]
    assert "1 examples exceed the 4,096-token limit" in page
    assert f"train.jsonl</code>" not in page or f":31</code> {totals[30]:,} tokens" in page
    split_svg = _svg(page, "examples per split")
    assert re.findall(r'data-value="(\d+)" data-label="([a-z]+)"', split_svg) == [("48", "train"), ("6", "validation"), ("6", "test")]
    assert "channel=chat" in page and "75%" in page
    assert f">{sum(totals):,}<" in page  # the token tile


def test_lint_chart_matches_ftkit_lint(report, cli_run):
    lint = json.loads(cli_run(["lint", report["data"], "--output-format", "json", "--exit-zero"]).stdout)
    counts = Counter((d["code"], d["severity"]) for d in lint)
    svg = _svg(report["html"], "lint findings by rule")
    drawn = Counter()
    for value, label, severity in re.findall(r'data-value="(\d+)" data-label="([^"]+)" data-segment="(\w+)"', svg):
        drawn[(label.split()[0], severity)] += int(value)
    assert drawn == counts
    assert report["json"]["verdict"]["lint"]["available"] is True


def test_knowledge_share_and_repeated_facts(report):
    from toolkit.knowledge import analyze

    labels = Counter(analyze(r).label for r in report["records"])
    svg = _svg(report["html"], "behavior vs knowledge examples")
    segments = dict((s, int(v)) for v, s in re.findall(r'data-value="(\d+)" data-segment="(\w+)"', svg))
    assert segments == {"behavior": labels["behavior"], "knowledge": labels["knowledge"]}
    assert labels["knowledge"] >= 15  # every 4th example teaches prices and policies
    facts = report["json"]["verdict"]["knowledge"]["top_facts"]
    assert facts and facts[0]["examples"] >= 2
    assert f"<code>{facts[0]['value']}</code>" in report["html"]


def test_verdict_numbers_follow_the_formula(report):
    verdict = report["json"]["verdict"]
    econ = verdict["economics"]
    stats = report["json"]["stats"]
    assert econ["provider"] == "openai" and econ["model"] == "gpt-3.5-turbo-0125"
    P = stats["tokens"]["prompt"] / stats["examples"]
    O = stats["tokens"]["per_message_by_role"]["assistant"]["mean"]
    assert econ["prompt_tokens_per_request"] == round(P, 2)
    assert econ["output_tokens_per_request"] == pytest.approx(O, abs=0.01)
    O = econ["output_tokens_per_request"]
    base = ((P + 1200) * 0.50 + O * 1.50) / 1e6  # gpt-3.5-turbo base prices
    tuned = (P * 3.00 + O * 6.00) / 1e6  # fine-tuned prices
    assert econ["base_cost_per_request_usd"] == pytest.approx(base, rel=1e-3)
    assert econ["tuned_cost_per_request_usd"] == pytest.approx(tuned, rel=1e-3)
    saving = 20000 * (base - tuned)
    if saving > 0:
        assert econ["break_even_days"] == pytest.approx(econ["training_cost_usd"] / saving, rel=1e-2)
    else:
        assert econ["break_even_days"] is None
    share = verdict["knowledge"]["knowledge_share"]
    assert share >= 0.15 and verdict["recommendation"] == "both"
    assert verdict["headline"] in report["html"]
    assert 'data-recommendation="both"' in report["html"]
    assert report["stdout"].startswith(f"wrote {report['out']}")


def test_behavior_dataset_recommends_fine_tuning(tmp_path, cli_run):
    records = make_records(80, knowledge_every=0, long_example=False)
    data = write_jsonl(tmp_path / "behavior.jsonl", records)
    out = tmp_path / "r.html"
    result = cli_run(["report", data, "-o", out, "--model", "gpt-4o-mini", "--prompt-tokens-saved", "1500",
                      "--requests-per-day", "10000", "--data-json", tmp_path / "r.json"])
    assert result.exit_code == 0, result.output
    verdict = json.loads((tmp_path / "r.json").read_text())["verdict"]
    assert verdict["knowledge"]["knowledge"] == 0
    assert verdict["recommendation"] == "fine-tune"
    econ = verdict["economics"]
    assert econ["break_even_days"] is not None and econ["daily_saving_usd"] > 0
    assert "pays back" in verdict["headline"]


def test_knowledge_dataset_recommends_rag(tmp_path, cli_run):
    records = make_records(40, knowledge_every=1, long_example=False)
    data = write_jsonl(tmp_path / "facts.jsonl", records)
    result = cli_run(["report", data, "-o", tmp_path / "r.html", "--no-lint", "--data-json", tmp_path / "r.json"])
    assert result.exit_code == 0, result.output
    verdict = json.loads((tmp_path / "r.json").read_text())["verdict"]
    assert verdict["recommendation"] == "rag"
    assert verdict["knowledge"]["knowledge_share"] >= 0.85
    assert any("no --prompt-tokens-saved" in c for c in verdict["cautions"])
    assert "note: no --prompt-tokens-saved" in result.stderr


def test_kb_measures_rag_tokens(tmp_path, cli_run):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "refunds.md").write_text("# Refunds\n\nRefunds are possible within 30 days of purchase.\n\nContact billing for help.\n")
    (kb / "plans.html").write_text("<h1>Plans</h1><p>The Pro plan costs $49 per month.</p>")
    data = write_jsonl(tmp_path / "d.jsonl", make_records(12, long_example=False))
    result = cli_run(["report", data, "-o", tmp_path / "r.html", "--kb", kb, "--no-lint", "--data-json", tmp_path / "r.json"])
    assert result.exit_code == 0, result.output
    econ = json.loads((tmp_path / "r.json").read_text())["verdict"]["economics"]
    assert "mean of 2 KB passages" in econ["rag_tokens_source"]
    assert 10 < econ["rag_tokens_per_request"] < 100


def test_report_is_byte_identical_across_runs(report, cli_run):
    again = report["tmp"] / "again.html"
    manifest = report["tmp"] / "split_manifest.json"
    result = cli_run(["report", report["data"], "-o", again, "--model", "gpt-3.5-turbo-0613", "--manifest", manifest,
                      "--prompt-tokens-saved", "1200", "--requests-per-day", "20000"])
    assert result.exit_code == 0
    assert again.read_text(encoding="utf-8") == report["html"]


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("missing-manifest", "no such split manifest"),
        ("bad-manifest", "invalid JSON"),
        ("missing-data", "cannot read"),
        ("missing-kb", "no such knowledge base"),
    ],
)
def test_report_input_errors(tmp_path, cli_run, setup, message):
    data = write_jsonl(tmp_path / "d.jsonl", make_records(3, long_example=False))
    args = ["report", data, "-o", tmp_path / "r.html", "--no-lint"]
    if setup == "missing-manifest":
        args += ["--manifest", tmp_path / "nope.json"]
    elif setup == "bad-manifest":
        (tmp_path / "m.json").write_text("{oops")
        args += ["--manifest", tmp_path / "m.json"]
    elif setup == "missing-data":
        args[1] = tmp_path / "gone.jsonl"
    else:
        args += ["--kb", tmp_path / "no-kb"]
    result = cli_run(args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert not (tmp_path / "r.html").exists()


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed: apt-get install -y chromium (see benchmarks/render_report.sh)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    png = tmp_path / "report.png"
    cmd = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--allow-file-access-from-files",
           "--window-size=1366,2200", f"--screenshot={png}", report["out"].as_uri()]
    proc = subprocess.run(cmd, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    assert _png_size(png) == (1366, 2200)
    assert png.stat().st_size > 50_000  # a blank page compresses to a few KB
    # The rendered DOM holds the verdict and the chart numbers.
    dom = subprocess.run([str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", report["out"].as_uri()],
                         capture_output=True, timeout=120)
    text = dom.stdout.decode("utf-8")
    assert report["json"]["verdict"]["headline"].split(":")[0] in text
    assert 'data-title="tokens per assistant message"' in text


def test_render_script_exists_and_is_executable():
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "render_report.sh"
    assert script.exists() and script.stat().st_mode & 0o111
    assert shutil.which("bash")


def test_report_on_real_corpora_with_a_kb(tmp_path, corpora, cli_run):
    """ABCD and Taskmaster conversations, converted by ftkit, reported with ABCD's guidelines as the KB."""
    pytest.importorskip("toolkit.cli.convert")
    abcd = tmp_path / "abcd.jsonl"
    tm = tmp_path / "taskmaster.jsonl"
    assert cli_run(["convert", corpora / "abcd" / "abcd_sample.json", "--from", "abcd", "-o", abcd, "--isolated"]).exit_code == 0
    assert cli_run(["convert", corpora / "taskmaster" / "TM-4-2024_data_07.json", "--from", "taskmaster", "-o", tm,
                    "--isolated"]).exit_code == 0
    n = sum(1 for _ in open(abcd)) + sum(1 for _ in open(tm))
    result = cli_run(["report", abcd, tm, "-o", tmp_path / "r.html", "--kb", corpora / "abcd" / "guidelines.json",
                      "--data-json", tmp_path / "r.json", "--prompt-tokens-saved", "800", "--requests-per-day", "5000"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["stats"]["examples"] == n > 100
    assert data["stats"]["per_file_examples"] == {str(abcd): 3, str(tm): n - 3}
    assert "tool" in data["histograms"]  # Taskmaster's API responses become tool messages
    econ = data["verdict"]["economics"]
    assert "KB passages" in econ["rag_tokens_source"] and econ["rag_tokens_per_request"] > 0
    assert data["verdict"]["recommendation"] in ("rag", "fine-tune", "both")
    page = (tmp_path / "r.html").read_text()
    assert "https://" not in page and 'data-title="tokens per tool message"' in page


def test_report_provider_choice(tmp_path, cli_run):
    data = write_jsonl(tmp_path / "d.jsonl", make_records(20, long_example=False))
    bad = cli_run(["report", data, "-o", tmp_path / "r.html", "--provider", "nope"])
    assert bad.exit_code == 2 and "unknown provider 'nope'" in bad.stderr
    ok = cli_run(["report", data, "-o", tmp_path / "r.html", "--provider", "together", "--model", "llama-3.1-8b",
                  "--no-lint", "--no-knowledge", "--data-json", tmp_path / "r.json"])
    assert ok.exit_code == 0, ok.output
    econ = json.loads((tmp_path / "r.json").read_text())["verdict"]["economics"]
    assert (econ["provider"], econ["model"]) == ("together", "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference")
    # Together serves LoRA adapters at the base model's price and no prompt tokens were saved: no saving, no break-even.
    assert econ["tuned_cost_per_request_usd"] == econ["base_cost_per_request_usd"]
    assert econ["break_even_days"] is None


def test_example_histogram_puts_the_outlier_apart_and_flags_the_limit(report):
    svg = _svg(report["html"], "tokens per example")
    # The planted 6,000-token example is a far outlier: it gets its own bin, outlined red
    # because the 4,096-token limit falls inside it, and the other bars keep a readable scale.
    start, count = _overflow(svg)
    assert count == 1 and start <= 4096
    assert re.search(r'data-over-limit="true" data-value="1" data-bin="\d+\+"', svg)


def test_histogram_limit_line_and_red_bins():
    from toolkit.report.html import svg_histogram

    svg = svg_histogram("t", {"edges": [0, 100, 200, 300, 400], "counts": [5, 3, 2, 1]}, "#000", limit=150)
    assert 'data-limit="150"' in svg and "limit 150" in svg
    red = re.findall(r'fill="#c53030" data-value="(\d+)" data-bin="(\d+)-(\d+)"', svg)
    assert red == [("2", "200", "300"), ("1", "300", "400")]  # bins wholly over the limit


def test_report_reads_the_manifest_ftkit_split_writes(tmp_path, cli_run):
    pytest.importorskip("toolkit.cli.split")
    sys_path = Path(__file__).resolve().parent.parent / "benchmarks"
    import random
    import sys

    sys.path.insert(0, str(sys_path))
    from gen_support_data import example

    rng = random.Random(2)
    data = write_jsonl(tmp_path / "d.jsonl", (example(rng, i) for i in range(120)))
    result = cli_run(["split", data, "-o", tmp_path / "splits", "--stratify-by", "channel"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "splits" / "split_manifest.json").read_text())
    out = tmp_path / "r.html"
    result = cli_run(["report", data, "-o", out, "--manifest", tmp_path / "splits" / "split_manifest.json", "--no-lint", "--no-knowledge"])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    drawn = dict((label, int(v)) for v, label in re.findall(r'data-value="(\d+)" data-label="([a-z]+)"', _svg(page, "examples per split")))
    assert drawn == {name: entry["examples"] for name, entry in manifest["splits"].items()}
    for name, entry in manifest["splits"].items():
        for stratum, figures in entry["strata"].items():
            share = figures["examples"] / entry["examples"]
            assert f"{figures['examples']:,} ({share:.0%})" in page, (name, stratum)
    assert "stratify-by=channel" in page


def test_written_files_get_the_usual_mode(report):
    # atomic_writer's temp file is 0600; the report must end up readable like any file the user writes.
    import os

    umask = os.umask(0)
    os.umask(umask)
    assert report["out"].stat().st_mode & 0o777 == 0o666 & ~umask
