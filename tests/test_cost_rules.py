"""Cost figures reproduce each provider's documented formula, worked by hand in the test."""

from __future__ import annotations

import json

import pytest

from report_helpers import make_records, reference_counts, write_jsonl
from toolkit.report.cost import (
    PriceTableError,
    TokenTotals,
    choose_epochs,
    cost_table,
    load_prices,
    openai_auto_epochs,
    training_cost,
)


@pytest.mark.parametrize(
    ("n", "epochs"),
    [
        (1, 25),  # 1 x 3 < 100 -> min(25, 100 // 1)
        (3, 25),  # min(25, 33)
        (10, 10),  # 100 // 10
        (20, 5),
        (33, 3),  # 99 < 100 -> 100 // 33 = 3
        (34, 3),  # 102 >= 100 -> the target
        (8333, 3),  # 24,999 <= 25,000
        (8334, 2),  # 25,002 > 25,000 -> 25,000 // 8,334
        (12_500, 2),
        (12_501, 1),
        (100_000, 1),  # never below 1
    ],
)
def test_openai_auto_epochs_rule(n, epochs):
    assert openai_auto_epochs(n) == epochs


def test_bundled_table_is_dated_and_cites_sources():
    table = load_prices()
    assert table.as_of == "2025-06-30"
    assert "verify before relying" in table.notice.lower()
    assert set(table.providers()) == {"openai", "azure", "together", "fireworks", "mistral", "vertex", "bedrock"}
    for name in table.providers():
        provider = table.provider(name)
        assert provider["sources"] and all(u.startswith("https://") for u in provider["sources"])
        assert provider["billing"]["rule"] == "tokens_x_epochs"
        assert provider["epochs"]["rule"] in ("openai-auto", "fixed", "assumed")
        assert table.models(name)


def _totals(lengths, encoding="o200k_base"):
    return TokenTotals.from_lengths(lengths, encoding)


def test_openai_bills_file_tokens_times_auto_epochs_with_per_example_cap():
    table = load_prices()
    # gpt-3.5-turbo-0125 allows 16,385 tokens per example: the 20,000-token one is billed as 16,385.
    lengths = [1_000] * 49 + [20_000]
    price = table.find("gpt-3.5-turbo", "openai")[0]
    line = training_cost(table, price, _totals(lengths))
    file_tokens = 49 * 1_000 + 16_385
    assert line.per_example_cap == 16_385 and line.capped_examples == 1
    assert line.file_tokens == file_tokens
    assert line.epochs == 3 and line.epochs_source == "provider-auto"  # 50 x 3 = 150 >= 100
    assert line.billed_tokens == file_tokens * 3
    assert line.training_cost == pytest.approx(file_tokens * 3 * 8.00 / 1_000_000)
    # OpenAI's own worked example: 100,000 tokens x 3 epochs on gpt-3.5-turbo = $2.40 at $8/1M.
    line = training_cost(table, price, _totals([1_000] * 100), epochs=3)
    assert line.training_cost == pytest.approx(2.40)


def test_epochs_override_and_documented_defaults():
    table = load_prices()
    totals = _totals([500] * 10)
    mini = table.find("gpt-4o-mini", "openai")[0]
    assert training_cost(table, mini, totals).epochs == 10  # auto: 100 // 10
    forced = training_cost(table, mini, totals, epochs=2)
    assert (forced.epochs, forced.epochs_source, forced.billed_tokens) == (2, "user", 10_000)
    assert forced.training_cost == pytest.approx(10_000 * 3.00 / 1e6)

    haiku = table.find("claude-3-haiku", "bedrock")[0]
    line = training_cost(table, haiku, totals)
    assert (line.epochs, line.epochs_source) == (2, "provider-default")  # Bedrock's documented default for Claude 3
    assert line.training_cost == pytest.approx(5_000 * 2 * 4.00 / 1e6)
    llama = table.find("meta.llama3-1-8b-instruct-v1:0", "bedrock")[0]
    assert training_cost(table, llama, totals).epochs == 5  # Bedrock's documented default for Llama 3.1

    together = table.find("llama-3.1-8b", "together")[0]
    line = training_cost(table, together, totals)
    assert (line.epochs, line.billed_tokens) == (1, 5_000)
    assert line.training_cost == pytest.approx(5_000 * 0.48 / 1e6)

    vertex = table.find("gemini-2.0-flash", "vertex")[0]
    assert choose_epochs(table, vertex, 10).source == "assumed"


def test_minimum_job_fee_and_fixed_costs():
    table = load_prices()
    nemo = table.find("mistral-nemo", "mistral")[0]
    small = training_cost(table, nemo, _totals([1_000] * 10))
    assert small.minimum_applied and small.training_cost == 4.00  # Mistral's minimum per job
    big = training_cost(table, nemo, _totals([1_000_000] * 10))
    assert not big.minimum_applied and big.training_cost == pytest.approx(10_000_000 * 1 * 1.00 / 1e6)
    assert big.storage_per_month == 2.00
    azure = table.find("gpt-4o-mini", "azure")[0]
    assert training_cost(table, azure, _totals([100])).hosting_per_hour == 1.70


def test_model_lookup_does_not_confuse_families():
    table = load_prices()
    assert {p.model for p in table.find("gpt-4o-mini")} == {"gpt-4o-mini-2024-07-18"}
    assert {p.model for p in table.find("gpt-4o")} == {"gpt-4o-2024-08-06"}
    assert {p.model for p in table.find("gpt-4o-2024-11-20")} == {"gpt-4o-2024-08-06"}
    assert {p.model for p in table.find("ft:gpt-4o-mini-2024-07-18:acme::abc")} == {"gpt-4o-mini-2024-07-18"}
    assert table.find("no-such-model") == []


def test_user_price_file_overrides_and_extends(tmp_path):
    own = tmp_path / "prices.json"
    own.write_text(json.dumps({
        "as_of": "2026-11-01",
        "providers": {
            "openai": {"models": {"gpt-4o-mini-2024-07-18": {"training": 1.5}}},
            "acme": {"name": "Acme GPUs", "billing": {"rule": "tokens_x_epochs"}, "epochs": {"rule": "fixed", "value": 4},
                     "models": {"acme-7b": {"training": 0.25, "input": 0.1, "output": 0.1}}},
        },
    }))
    table = load_prices(own)
    assert table.as_of == "2026-11-01"
    mini = table.find("gpt-4o-mini", "openai")[0]
    assert mini.training == 1.5 and mini.input == 0.30  # merged: other fields kept
    acme = table.find("acme-7b")[0]
    line = training_cost(table, acme, _totals([250] * 8))
    assert (line.epochs, line.billed_tokens) == (4, 8_000)
    assert line.training_cost == pytest.approx(8_000 * 0.25 / 1e6)
    only = load_prices(own, replace=True)
    assert only.providers() == ["acme", "openai"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"providers": []}', "'providers' must be an object"),
        ('{"providers": {"x": {"models": {"m": {"input": 1}}}}}', "providers.x.models.m.training: missing"),
        ('{"providers": {"x": {"models": {"m": {"training": -1}}}}}', "providers.x.models.m.training: must be a number >= 0"),
        ('{"providers": {"x": {"epochs": {"rule": "magic"}}}}', "providers.x.epochs.rule"),
    ],
)
def test_bad_price_file_is_a_clear_error(tmp_path, cli_run, content, message):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(PriceTableError, match="bad.json"):
        load_prices(bad)
    data = write_jsonl(tmp_path / "d.jsonl", make_records(3, long_example=False))
    result = cli_run(["stats", data, "--prices", bad])
    assert result.exit_code == 2
    assert str(bad) in result.stderr and message in result.stderr


def test_cli_cost_lines_reproduce_the_formula(tmp_path, cli_run):
    records = make_records(40, seed=5)
    path = write_jsonl(tmp_path / "train.jsonl", records)
    out = json.loads(cli_run(["stats", path, "--output-format", "json"]).stdout)
    totals = [r["total"] for r in reference_counts(records)]
    file_tokens = sum(totals)
    cost = out["cost"]
    assert cost["estimate"] is True and cost["as_of"] == "2025-06-30"
    by_key = {(line["provider"], line["model"]): line for line in cost["lines"]}
    assert len(by_key) == len(cost["lines"]) >= 20

    expected = {
        # provider, model: (epochs, $/1M)  - epochs by each provider's rule for 40 examples
        ("openai", "gpt-4o-mini-2024-07-18"): (3, 3.00),
        ("openai", "gpt-4.1-2025-04-14"): (3, 25.00),
        ("azure", "gpt-4o-2024-08-06"): (3, 27.50),
        ("together", "meta-llama/Meta-Llama-3.1-8B-Instruct-Reference"): (1, 0.48),
        ("fireworks", "accounts/fireworks/models/llama-v3p1-70b-instruct"): (1, 3.00),
        ("vertex", "gemini-2.5-flash"): (3, 5.00),
        ("bedrock", "anthropic.claude-3-haiku-20240307-v1:0"): (2, 4.00),
        ("bedrock", "meta.llama3-1-70b-instruct-v1:0"): (5, 7.99),
    }
    for key, (epochs, per_million) in expected.items():
        line = by_key[key]
        assert line["file_tokens"] == file_tokens
        assert line["epochs"] == epochs
        assert line["billed_tokens"] == file_tokens * epochs
        assert line["training_cost_usd"] == round(file_tokens * epochs * per_million / 1_000_000, 4)
        assert line["encoding"] == "o200k_base" and line["estimate"] is True
    mistral = by_key[("mistral", "mistral-large-latest")]
    assert mistral["minimum_applied"] and mistral["training_cost_usd"] == 4.0

    forced = json.loads(cli_run(["stats", path, "--output-format", "json", "--epochs", "7", "--provider", "openai"]).stdout)
    assert {line["provider"] for line in forced["cost"]["lines"]} == {"openai"}
    assert all(line["epochs"] == 7 and line["billed_tokens"] == file_tokens * 7 for line in forced["cost"]["lines"])


def test_cost_table_filters():
    table = load_prices()
    totals = _totals([100] * 5)
    assert {line.provider for line in cost_table(table, totals, providers=["mistral"])} == {"mistral"}
    assert [(line.provider, line.model) for line in cost_table(table, totals, model="gpt-4o-mini")] == [
        ("azure", "gpt-4o-mini-2024-07-18"), ("openai", "gpt-4o-mini-2024-07-18")]


def test_unknown_provider_is_a_usage_error(tmp_path, cli_run):
    path = write_jsonl(tmp_path / "d.jsonl", make_records(2, long_example=False))
    result = cli_run(["stats", path, "--provider", "nope"])
    assert result.exit_code == 2 and "unknown provider nope" in result.stderr
