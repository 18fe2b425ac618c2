"""`ftkit stats` figures against an independent computation (tiktoken counts, numpy percentiles)."""

from __future__ import annotations

import gzip
import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from report_helpers import make_records, percentiles, reference_counts, write_jsonl
from toolkit.report.stats import compute_stats, stats_of_records


@pytest.fixture
def dataset(tmp_path):
    records = make_records(60)
    path = write_jsonl(tmp_path / "train.jsonl", records, extra_lines=['{"messages": [', '{"prompt": "no messages here"}', ""])
    return path, records


def test_stats_json_matches_independent_computation(dataset, cli_run):
    path, records = dataset
    result = cli_run(["stats", path, "--model", "gpt-3.5-turbo-0613", "--output-format", "json", "--no-cost"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.stdout)
    ref = reference_counts(records, "cl100k_base")

    assert stats["encoding"] == "cl100k_base" and stats["estimate"] is True
    assert stats["examples"] == 60
    assert stats["conversations"] == 30  # conv0..conv29, two examples each
    roles = Counter(m["role"] for r in records for m in r["messages"])
    assert stats["messages"]["per_role"] == dict(sorted(roles.items()))
    assert stats["messages"]["total"] == sum(roles.values())

    totals = [r["total"] for r in ref]
    trainable = [r["trainable"] for r in ref]
    assert stats["tokens"]["total"] == sum(totals)
    assert stats["tokens"]["trainable"] == sum(trainable)
    assert stats["tokens"]["prompt"] == sum(totals) - sum(trainable)
    per_example = stats["tokens"]["per_example"]
    assert (per_example["min"], per_example["max"], per_example["sum"]) == (min(totals), max(totals), sum(totals))
    assert {k: per_example[k] for k in ("p50", "p90", "p95", "p99")} == percentiles(totals)
    assert {k: stats["tokens"]["trainable_per_example"][k] for k in ("p50", "p90", "p95", "p99")} == percentiles(trainable)

    for role in roles:
        lengths = [n for r in ref for (rl, n) in r["per_message"] if rl == role]
        got = stats["tokens"]["per_message_by_role"][role]
        assert got["count"] == len(lengths)
        assert (got["min"], got["max"], got["sum"]) == (min(lengths), max(lengths), sum(lengths))
        assert {k: got[k] for k in ("p50", "p90", "p95", "p99")} == percentiles(lengths)

    weight0 = sum(1 for r in records for m in r["messages"] if m["role"] == "assistant" and m.get("weight") == 0)
    assert stats["weight0_assistant_messages"] == weight0 > 0

    # gpt-3.5-turbo-0613 allows 4,096 tokens per example: exactly the planted long example exceeds it.
    over = [i for i, t in enumerate(totals) if t > 4096]
    assert over == [30]
    assert stats["over_limit"]["count"] == 1 and stats["over_limit"]["limit"] == 4096
    assert stats["over_limit"]["examples"] == [{"file": str(path), "line": 31, "tokens": totals[30]}]

    systems = Counter(m["content"] for r in records for m in r["messages"] if m["role"] == "system")
    assert stats["system_prompts"]["distinct"] == len(systems) == 2
    assert stats["system_prompts"]["examples_with_system_prompt"] == sum(systems.values())
    assert [t["examples"] for t in stats["system_prompts"]["top"]] == sorted(systems.values(), reverse=True)

    # Unusable lines are counted and located, never silently dropped.
    assert stats["problems"]["count"] == 2
    assert [(p["line"], p["reason"][:4]) for p in stats["problems"]["first"]] == [(61, "J001"), (62, "no '")]
    assert stats["lines_read"] == 62


def test_stats_text_output_names_encoding_and_estimate(dataset, cli_run):
    path, _ = dataset
    result = cli_run(["stats", path, "--model", "gpt-4o-mini", "--provider", "openai"])
    assert result.exit_code == 0
    out = result.stdout
    assert "estimate" in out and "o200k_base" in out
    assert "examples" in out and "60" in out
    assert "Training cost" in out and "gpt-4o-mini-2024-07-18" in out
    assert f"{path}:61: skipped: J001" in result.stderr


def test_stats_is_deterministic_and_reads_gzip_and_stdin(tmp_path, cli_run, ftkit_subprocess):
    records = make_records(25, seed=3)
    plain = write_jsonl(tmp_path / "d.jsonl", records)
    gz = tmp_path / "d.jsonl.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes(), mtime=0))
    a = cli_run(["stats", plain, "--output-format", "json"]).stdout
    b = cli_run(["stats", plain, "--output-format", "json"]).stdout
    assert a == b
    from_gz = json.loads(cli_run(["stats", gz, "--output-format", "json"]).stdout)
    proc = ftkit_subprocess(["stats", "-", "--output-format", "json", "--no-cost"], input=plain.read_bytes())
    assert proc.returncode == 0, proc.stderr
    from_stdin = json.loads(proc.stdout)
    base = json.loads(a)
    for other in (from_gz, from_stdin):
        assert other["tokens"] == base["tokens"] and other["examples"] == base["examples"]


def test_stats_multiple_files_and_per_file_counts(tmp_path, cli_run):
    a = write_jsonl(tmp_path / "a.jsonl", make_records(10, seed=1, long_example=False))
    b = write_jsonl(tmp_path / "b.jsonl", make_records(7, seed=2, long_example=False))
    stats = json.loads(cli_run(["stats", a, b, "--output-format", "json", "--no-cost"]).stdout)
    assert stats["examples"] == 17
    assert stats["per_file_examples"] == {str(a): 10, str(b): 7}
    ref = reference_counts(make_records(10, seed=1, long_example=False) + make_records(7, seed=2, long_example=False))
    assert stats["tokens"]["total"] == sum(r["total"] for r in ref)


def test_stats_errors_are_clear(tmp_path, cli_run):
    result = cli_run(["stats", tmp_path / "missing.jsonl"])
    assert result.exit_code == 2
    assert "missing.jsonl" in result.stderr and "cannot read" in result.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    stats = json.loads(cli_run(["stats", empty, "--output-format", "json"]).stdout)
    assert stats["examples"] == 0 and stats["tokens"]["total"] == 0
    assert stats["tokens"]["per_example"]["min"] is None


def test_tool_definitions_and_calls_count_as_prompt(tmp_path):
    record = {
        "messages": [
            {"role": "user", "content": "Where is order 42?"},
            {"role": "assistant", "content": None, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "lookup_order", "arguments": "{\"id\": 42}"}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "{\"status\": \"shipped\"}"},
            {"role": "assistant", "content": "It shipped yesterday."},
        ],
        "tools": [{"type": "function", "function": {"name": "lookup_order", "parameters": {"type": "object"}}}],
    }
    stats = stats_of_records([record])
    assert stats.tool_definition_tokens > 9
    assert stats.messages_per_role == {"user": 1, "assistant": 2, "tool": 1}
    assert stats.trainable_tokens + stats.prompt_tokens == stats.total_tokens
    assert "tool" in stats.role_tokens


message_strategy = st.fixed_dictionaries(
    {"role": st.sampled_from(["system", "user", "assistant"]), "content": st.text(max_size=60)},
    optional={"weight": st.sampled_from([0, 1])},
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(message_strategy, min_size=1, max_size=5), min_size=1, max_size=12))
def test_stats_property_matches_reference(message_lists):
    records = [{"messages": messages} for messages in message_lists]
    stats = stats_of_records(records)
    ref = reference_counts(records)
    totals = [r["total"] for r in ref]
    assert stats.examples == len(records)
    assert stats.total_tokens == sum(totals)
    assert stats.trainable_tokens == sum(r["trainable"] for r in ref)
    d = stats.to_dict()["tokens"]["per_example"]
    assert (d["min"], d["max"]) == (min(totals), max(totals))
    assert {k: d[k] for k in ("p50", "p90", "p95", "p99")} == percentiles(totals)
    hist = stats.histograms["example"]
    overflow = hist.get("overflow", {"count": 0})
    assert sum(hist["counts"]) + overflow["count"] == len(records)
    assert hist["edges"][0] <= min(totals)
    assert hist["edges"][-1] > max(totals) or overflow["count"]
    widths = {b - a for a, b in zip(hist["edges"], hist["edges"][1:])}
    assert len(widths) == 1  # equal bins
    expected, _ = np.histogram([t for t in totals if t < hist["edges"][-1]], bins=hist["edges"])
    assert hist["counts"] == expected.tolist()
    if overflow["count"]:
        assert overflow["count"] == sum(1 for t in totals if t >= hist["edges"][-1]) <= 0.05 * len(totals)


def test_stats_streams_in_batches(tmp_path):
    # Small batches give the same figures as one batch: the polars accumulation is exact.
    records = make_records(40, seed=11)
    path = write_jsonl(tmp_path / "x.jsonl", records)
    one = compute_stats([path], batch_size=10_000).to_dict()
    many = compute_stats([path], batch_size=3).to_dict()
    assert one == many


def test_examples_with_nothing_to_learn_and_developer_role(tmp_path, cli_run):
    records = [
        {"messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "hi"},
                      {"role": "assistant", "content": "hello", "weight": 0}]},
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]},
    ]
    path = write_jsonl(tmp_path / "w.jsonl", records)
    stats = json.loads(cli_run(["stats", path, "--output-format", "json", "--no-cost"]).stdout)
    assert stats["examples_without_trainable_tokens"] == 1
    assert stats["messages"]["per_role"] == {"assistant": 2, "developer": 1, "user": 2}
    assert stats["system_prompts"]["distinct"] == 1  # a developer message is the system prompt
    text = cli_run(["stats", path, "--no-cost"]).stdout
    assert "examples with nothing to learn" in text


def test_histogram_sets_far_outliers_apart():
    import polars as pl

    from toolkit.report.stats import histogram

    values = list(range(100, 140)) + [9_000]
    hist = histogram(pl.Series(values))
    assert hist["overflow"] == {"from": hist["edges"][-1], "count": 1, "max": 9_000}
    assert hist["edges"][-1] <= 160 and sum(hist["counts"]) == 40
    # Not outliers when they are many: 10 of 30 values far out stay in ordinary bins.
    spread = histogram(pl.Series(list(range(20)) + [5_000] * 10))
    assert "overflow" not in spread and spread["edges"][-1] > 5_000


def test_distribution_sums_do_not_wrap():
    import polars as pl

    from toolkit.report.stats import Distribution

    d = Distribution.of(pl.Series([2**30] * 4, dtype=pl.Int32))
    assert d.total == 2**32 and d.max == 2**30
