"""The K rules through the real engine and CLI: per-example rules, dataset rules, KB overlap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.linter import lint
from toolkit.linter.rule import ExampleContext, load_all_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = load_all_rules()
K_EXAMPLE = [c for c in RULES if c.startswith("K0")]


def write(tmp_path: Path, records: list[dict], name: str = "data.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def chat(user: str, assistant: str, system: str | None = None, **meta) -> dict:
    messages = ([{"role": "system", "content": system}] if system else []) + [
        {"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    record: dict = {"messages": messages}
    if meta:
        record["metadata"] = meta
    return record


@pytest.mark.parametrize("code", K_EXAMPLE)
def test_each_example_rule_fires_only_on_its_own_kind(code):
    cls = RULES[code]
    bad = json.loads(cls.bad)
    findings = list(cls().check(ExampleContext(bad)))
    assert findings, f"{code} bad example"
    finding = findings[0]
    assert finding.score is not None and 0.5 <= finding.score <= 1.0
    assert finding.pointer.startswith("/messages/") and finding.pointer.endswith("/content")
    text = bad["messages"][int(finding.pointer.split("/")[2])]["content"]
    for span in finding.spans:
        assert text[span.start:span.end] == span.text and span.label and span.score is not None
    assert not list(cls().check(ExampleContext(json.loads(cls.good))))


def test_lint_cli_json_reports_spans_scores_and_severity(tmp_path, cli_run):
    path = write(tmp_path, [
        chat("How much is the Pro plan?", "The Pro plan is $49 a month, or $470 a year if you pay annually."),
        chat("Thanks!", "You're welcome! Have a great day."),
        chat("Where's my order?", "Your order has shipped and arrives on March 14. Call 1-800-555-0199 with questions."),
    ])
    result = cli_run(["lint", "--isolated", "--select", "K", "--output-format", "json", str(path)])
    data = json.loads(result.output)
    diagnostics = data["diagnostics"] if isinstance(data, dict) else data
    by_line: dict[int, set[str]] = {}
    for d in diagnostics:
        by_line.setdefault(d["line"], set()).add(d["code"])
    # the user named the Pro plan (an echo, no K003); the prices are not in the context
    assert by_line == {1: {"K001"}, 3: {"K001", "K002", "K006"}}
    k001 = next(d for d in diagnostics if d["line"] == 1 and d["code"] == "K001")
    assert k001["name"] == "ungrounded-quantity" and k001["pointer"] == "/messages/1/content"
    assert [(s["text"], s["label"]) for s in k001["spans"]] == [("$49 a month", "money"), ("$470 a year", "money")]
    assert k001["severity"] == "error" and k001["score"] >= 0.85


def test_threshold_and_allow_options_through_config(tmp_path, cli_run):
    path = write(tmp_path, [chat("How do I reach you?", "Email help@brightline.example or visit brightline.example/help.")])
    result = cli_run(["lint", "--isolated", "--select", "K002", "--output-format", "json", str(path)])
    assert "K002" in result.output
    config = tmp_path / "ftkit.toml"
    config.write_text('[lint.options.K002]\nallow = ["help@brightline.example", "brightline.example/help"]\n', encoding="utf-8")
    result = cli_run(["lint", "--config", str(config), "--select", "K002", "--output-format", "json", str(path)])
    assert "K002" not in result.output
    config.write_text("[lint.options.K002]\nthreshold = 0.999\n", encoding="utf-8")
    result = cli_run(["lint", "--config", str(config), "--select", "K002", "--output-format", "json", str(path)])
    assert "K002" not in result.output


def test_unknown_option_is_a_usage_error(tmp_path, cli_run):
    path = write(tmp_path, [chat("hi", "hello")])
    config = tmp_path / "ftkit.toml"
    config.write_text("[lint.options.K001]\nthreshhold = 0.7\n", encoding="utf-8")
    result = cli_run(["lint", "--config", str(config), "--select", "K", str(path)])
    assert result.exit_code == 2 and "threshhold" in result.output


def test_every_turn_option_reports_earlier_turns(tmp_path):
    record = {"messages": [
        {"role": "user", "content": "How long is the trial?"},
        {"role": "assistant", "content": "The free trial lasts 14 days."},
        {"role": "user", "content": "Great, thanks"},
        {"role": "assistant", "content": "You're welcome!"}]}
    path = write(tmp_path, [record])
    assert [d.code for d in lint(str(path), select=["K001"])] == []
    found = list(lint(str(path), select=["K001"], options={"K001": {"every-turn": True}}))
    assert [(d.code, d.pointer) for d in found] == [("K001", "/messages/1/content")]


# --------------------------------------------------------------------------- dataset rules


def test_repeated_fact_across_paraphrased_questions(tmp_path):
    records = [
        chat("How long is the return window?", "You have 30 days to return it."),
        chat("Thanks, bye", "Bye! Have a great day."),
        chat("What's the return window for shoes?", "Shoes can be returned within 30 days."),
        chat("How long is your return window for jackets?", "Jackets have a 30-day return window."),
        chat("How long does shipping to Canada take?", "Shipping to Canada takes 30 days."),
    ]
    found = [(d.line, d.code) for d in lint(str(write(tmp_path, records)), select=["K101"])]
    assert found == [(3, "K101"), (4, "K101")]
    message = next(d.message for d in lint(str(write(tmp_path, records)), select=["K101"]))
    assert "3 answers" in message and "first at line 1" in message


def test_conflicting_facts_unless_a_condition_explains_them(tmp_path):
    records = [
        chat("How long is the return window?", "You have 30 days to return it."),
        chat("How long is the return window?", "You have 14 days to return it."),
    ]
    found = list(lint(str(write(tmp_path, records)), select=["K102"]))
    assert [(d.line, d.code) for d in found] == [(2, "K102")]
    assert "'14 days'" in found[0].message and "line 1" in found[0].message and "'30 days'" in found[0].message
    explained = [
        chat("How long is the return window? I'm a gold member.", "You have 30 days to return it."),
        chat("How long is the return window? I'm a bronze member.", "You have 14 days to return it."),
    ]
    assert list(lint(str(write(tmp_path, explained, "explained.jsonl")), select=["K102"])) == []


# --------------------------------------------------------------------------- knowledge base


def test_kb_overlap_with_a_markdown_folder_and_unverifiable_specifics(tmp_path):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "returns.md").write_text("# Returns\n\nUnworn items can be returned within 30 days of delivery.\n", encoding="utf-8")
    (kb / "faq.html").write_text("<h2>Promos</h2><p>All promo codes expire after 7 days.</p>", encoding="utf-8")
    records = [
        chat("Can I return these boots?", "Yes, unworn items can be returned within 30 days of delivery."),
        chat("When do promo codes expire?", "Promo codes expire after 7 days, so use yours soon."),
        chat("When do promo codes expire?", "Promo codes expire after 45 days."),
        chat("Can I return these boots?", "Yes, unworn items can be returned within 30 days of delivery.",
             system="Returns: unworn items can be returned within 30 days of delivery."),
    ]
    path = write(tmp_path, records)
    found = list(lint(str(path), select=["K201", "K202"], kb=str(kb)))
    # line 3 copies the FAQ's wording with a value the FAQ does not have: overlap and unverifiable
    assert [(d.line, d.code) for d in found] == [(1, "K201"), (2, "K201"), (3, "K201"), (3, "K202")]
    assert found[0].extra["source"] == "returns.md#Returns"
    assert found[1].extra["source"] == "faq.html#Promos"
    assert "'45 days'" in found[3].message


def test_kb_jsonl_documents_and_clear_errors(tmp_path, cli_run):
    from toolkit.linter.settings import LintConfigError

    kb = tmp_path / "kb.jsonl"
    kb.write_text('{"id": "shipping-1", "title": "Shipping", "text": "We do not ship to PO boxes."}\nnot json\n', encoding="utf-8")
    data = write(tmp_path, [chat("PO box?", "We do not ship to PO boxes, sorry.")])
    with pytest.raises(LintConfigError, match=rf"{kb}:2: invalid JSON in knowledge base"):
        list(lint(str(data), select=["K201"], kb=str(kb)))
    kb.write_text('{"id": "shipping-1", "title": "Shipping", "text": "We do not ship to PO boxes."}\n{"id": 2}\n', encoding="utf-8")
    with pytest.raises(LintConfigError, match=rf"{kb}:2: document has no text field"):
        list(lint(str(data), select=["K201"], kb=str(kb)))
    kb.write_text('{"id": "shipping-1", "title": "Shipping", "text": "We do not ship to PO boxes; a street address is required."}\n',
                  encoding="utf-8")
    data = write(tmp_path, [chat("PO box?", "We do not ship to PO boxes, so a street address is required.")])
    result = cli_run(["lint", "--isolated", "--select", "K201", "--kb", str(kb), "--output-format", "json", str(data)])
    data_out = json.loads(result.output)
    diagnostics = data_out["diagnostics"] if isinstance(data_out, dict) else data_out
    assert [(d["code"], d["source"]) for d in diagnostics] == [("K201", "shipping-1")]


def test_abcd_guidelines_json_is_a_knowledge_base(corpora, tmp_path):
    from toolkit.knowledge.kb import load_kb

    kb = load_kb(corpora / "abcd" / "guidelines.json")
    assert len(kb) > 100
    assert any(p.source.startswith("guidelines.json: Purchase Dispute > Promo Code Invalid") for p in kb.passages)
    records = [chat("How long do promo codes last?", "Ok, all promo codes expire after 7 days without fail."),
               chat("Hi", "good afternoon, how can I help you?")]
    found = list(lint(str(write(tmp_path, records)), select=["K201"], kb=str(corpora / "abcd" / "guidelines.json")))
    assert [(d.line, d.code) for d in found] == [(1, "K201")]
    assert "Promo Code" in found[0].extra["source"]


def test_worker_processes_give_the_same_k_diagnostics(tmp_path):
    """K101/K102 compute their facts in prepare() inside the workers; results must not depend on --jobs."""
    base = [
        chat("How long is the return window?", "You have 30 days to return it."),
        chat("What's the return window for shoes?", "Shoes can be returned within 30 days."),
        chat("How long is the return window?", "You have 14 days to return it."),
        chat("Thanks!", "You're welcome! Have a great day."),
        chat("Do you ship to PO boxes?", "Sorry, we don't ship to PO boxes."),
    ]
    records = [dict(r, metadata={"id": f"r{i}"}) for i, r in enumerate(base * 220)]  # 1100 > the parallel minimum
    path = write(tmp_path, records)

    def run(jobs: int) -> list[tuple]:
        return [(d.line, d.code, d.message) for d in lint(str(path), select=["K"], jobs=jobs)]

    single = run(1)
    assert single == run(2)
    assert {code for _, code, _ in single} >= {"K001", "K004", "K101", "K102"}


def test_fact_rules_prepare_the_same_with_or_without_a_cached_analysis():
    """K101/K102 test the value hint after the spans when K001-K006 already analysed the example: same facts."""
    from toolkit.linter.rules.knowledge import cached_analysis

    # the committed, hand-written support examples (many with facts, many hard negatives)
    lines = (ROOT / "benchmarks" / "knowledge_eval" / "own_examples.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines] + [
        chat("How long is the return window?", "You have 30 days to return it."),
        chat("Is it free?", "Yes, Shipping Plus is free for members."),
        chat("How many?", "There are three."),
        {"messages": [{"role": "user", "content": "Price?"}, {"role": "assistant", "content": "It is $5."},
                      {"role": "assistant", "content": ""}]},
    ]
    rule = RULES["K101"]()
    with_facts = 0
    for record in records:
        cold, warm = ExampleContext(record), ExampleContext(record)
        cached_analysis(warm, rule.kopts)
        assert rule.prepare(cold) == rule.prepare(warm)
        with_facts += bool(rule.prepare(cold))
    assert with_facts >= 50  # the comparison covers examples that do yield facts
