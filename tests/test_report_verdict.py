"""The verdict's decision rules and break-even economics, case by case."""

from __future__ import annotations

import json

import pytest

from report_helpers import make_records
from toolkit.diagnostics import Diagnostic, Severity
from toolkit.report.cost import TokenTotals, load_prices, training_cost
from toolkit.report.verdict import (
    KnowledgeSummary,
    LintSummary,
    decide,
    economics,
    summarize_knowledge,
    summarize_lint,
)


def _line(provider: str, model: str, n_tokens: int = 100_000, epochs: int | None = 3):
    table = load_prices()
    price = table.find(model, provider)[0]
    return training_cost(table, price, TokenTotals.from_lengths([n_tokens // 100] * 100, "o200k_base"), epochs=epochs)


def _econ(line, **kw):
    args = {"prompt_tokens": 400, "output_tokens": 120, "prompt_tokens_saved": 1500, "requests_per_day": 10_000,
            "rag_tokens": 768, "rag_tokens_source": "test"}
    args.update(kw)
    return economics(line, **args)


def test_break_even_formula_by_hand():
    line = _line("openai", "gpt-4o-mini")  # train $3/1M; tuned 0.30/1.20; base 0.15/0.60
    assert line.training_cost == pytest.approx(300_000 * 3 / 1e6)
    econ = _econ(line)
    base = ((400 + 1500) * 0.15 + 120 * 0.60) / 1e6
    tuned = (400 * 0.30 + 120 * 1.20) / 1e6
    assert econ.base_per_request == pytest.approx(base)
    assert econ.tuned_per_request == pytest.approx(tuned)
    assert econ.daily_saving == pytest.approx(10_000 * (base - tuned))
    assert econ.break_even_days == pytest.approx(line.training_cost / (10_000 * (base - tuned)))
    assert econ.rag_per_day_base == pytest.approx(10_000 * 768 * 0.15 / 1e6)
    assert econ.rag_per_day_tuned == pytest.approx(10_000 * 768 * 0.30 / 1e6)


def test_hosting_fee_can_make_fine_tuning_never_pay_back():
    line = _line("azure", "gpt-4o-mini")  # $1.70/hour hosting
    econ = _econ(line, requests_per_day=1_000)
    base = ((400 + 1500) * 0.15 + 120 * 0.60) / 1e6
    tuned = (400 * 0.165 + 120 * 0.66) / 1e6
    assert econ.hosting_per_day == pytest.approx(40.8)
    assert econ.daily_saving == pytest.approx(1_000 * (base - tuned) - 40.8)
    assert econ.break_even_days is None
    assert any("hosting" in n for n in econ.notes)
    verdict = decide(n_examples=500, knowledge=KnowledgeSummary(True, analysed=500, knowledge=5, behavior=495),
                     lint=LintSummary(True, examples=500), econ=econ)
    assert verdict.recommendation == "fine-tune"
    assert "not cost" in verdict.headline
    assert any("never pays back" in r for r in verdict.reasons)


@pytest.mark.parametrize(
    ("knowledge", "expected"),
    [(0, "fine-tune"), (10, "fine-tune"), (15, "both"), (60, "both"), (84, "both"), (86, "rag"), (90, "rag"), (100, "rag")],
)
def test_decision_thresholds(knowledge, expected):
    summary = KnowledgeSummary(True, analysed=100, knowledge=knowledge, behavior=100 - knowledge)
    verdict = decide(n_examples=100, knowledge=summary, lint=LintSummary(True, examples=100), econ=None)
    assert verdict.recommendation == expected
    assert f"{knowledge} of 100 examples ({knowledge}%)" in verdict.reasons[0]


def test_thresholds_are_configurable_and_cautions_name_numbers():
    summary = KnowledgeSummary(True, analysed=40, knowledge=20, behavior=20)
    lint = summarize_lint(
        [Diagnostic("V001", "x", Severity.WARNING, file="f", line=i) for i in range(1, 13)]
        + [Diagnostic("Q003", "y", Severity.WARNING, file="f", line=1), Diagnostic("P001", "z", Severity.ERROR, file="f", line=2)],
        40,
    )
    assert lint.examples_with_vq == 12 and lint.consistency == pytest.approx(0.7)
    assert lint.by_code["V001"]["warning"] == 12 and lint.by_code["P001"]["error"] == 1
    verdict = decide(n_examples=40, knowledge=summary, lint=lint, econ=None, thresholds={"knowledge_share_both": 0.6})
    assert verdict.recommendation == "fine-tune"
    assert any("70%" in c and "80%" in c for c in verdict.cautions)  # consistency below the minimum
    assert any("only 40 examples" in c for c in verdict.cautions)


def test_unavailable_inputs_are_stated_not_guessed():
    verdict = decide(n_examples=100, knowledge=KnowledgeSummary(False, reason="module missing"),
                     lint=LintSummary(False, reason="skipped"), econ=None)
    assert any("knowledge share unknown: module missing" in c for c in verdict.cautions)
    assert any("consistency unknown: skipped" in c for c in verdict.cautions)


def test_knowledge_summary_is_the_same_in_parallel():
    records = make_records(700, long_example=False)  # several chunks
    one = summarize_knowledge(iter(records), jobs=1)
    two = summarize_knowledge(iter(records), jobs=2)
    assert one.to_dict() == two.to_dict()
    assert one.analysed == 700 and one.knowledge == 175  # every 4th example teaches facts
    assert one.top_facts[0]["examples"] > 1
    values = [f["value"] for f in one.top_facts]
    assert "49" in values or "30 days" in values


def test_kb_passages_from_jsonl_json_and_folders(tmp_path):
    from toolkit.report.verdict import kb_passage_tokens
    from toolkit.tokens import get_encoding

    enc = get_encoding("o200k_base")
    paragraph = "Refunds are possible within 30 days of purchase for annual plans."
    n = len(enc.encode_ordinary(paragraph))
    docs = tmp_path / "kb.jsonl"
    docs.write_text("\n".join(json.dumps({"id": i, "text": "\n\n".join([paragraph] * 3)}) for i in range(4)) + "\n")
    mean, count = kb_passage_tokens(docs, enc, target=2 * n)
    assert (mean, count) == (1.5 * n, 8)  # each document packs into passages of 2 and 1 paragraphs
    guidelines = tmp_path / "g.json"
    guidelines.write_text(json.dumps({"refund": {"policy": [paragraph, "ok"]}}))
    assert kb_passage_tokens(guidelines, enc) == (n, 1)  # short strings are not passages
    with pytest.raises(FileNotFoundError, match="no such knowledge base"):
        kb_passage_tokens(tmp_path / "missing", enc)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="no text found"):
        kb_passage_tokens(empty, enc)


def test_empty_input_gets_no_verdict(tmp_path, cli_run):
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"not": "an example"}\n')
    result = cli_run(["report", empty, "-o", tmp_path / "r.html", "--data-json", tmp_path / "r.json"])
    assert result.exit_code == 0, result.output
    verdict = json.loads((tmp_path / "r.json").read_text())["verdict"]
    assert verdict["recommendation"] == "none" and "no usable examples" in verdict["headline"]
    page = (tmp_path / "r.html").read_text()
    assert "No verdict" in page and "unusable lines" in page
