"""V rules: the behavior spec ([tool.ftkit.lint.behavior]) and dataset-level consistency."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.linter import lint
from toolkit.linter.rules.behavior import MARKDOWN_ELEMENTS, markdown_elements
from toolkit.linter.settings import LintConfigError


def ex(*replies: str, user: str = "Where is my order?", weight0_first: bool = False) -> dict:
    messages = []
    for n, reply in enumerate(replies):
        messages.append({"role": "user", "content": user})
        message = {"role": "assistant", "content": reply}
        if weight0_first and n == 0 and len(replies) > 1:
            message["weight"] = 0
        messages.append(message)
    return {"messages": messages}


def found(records, select, **kwargs):
    return [(d.line, d.code, d.message) for d in lint(records, select=list(select), **kwargs)]


# --------------------------------------------------------------------------- nothing configured


def test_spec_rules_check_nothing_without_a_spec():
    records = [ex("Hi!\n\n## Done\n- **yes**\n\nBest regards,\nAnna")]
    assert found(records, ["V001", "V002", "V003", "V004", "V005", "V006", "V007"]) == []


# --------------------------------------------------------------------------- V001

SCHEMA = {
    "type": "object",
    "required": ["intent", "reply"],
    "properties": {"intent": {"enum": ["order_status", "refund"]}, "reply": {"type": "string", "maxLength": 40}},
    "additionalProperties": False,
}


def test_reply_schema_inline():
    records = [
        ex('{"intent": "order_status", "reply": "On its way"}'),
        ex("On its way"),
        ex('{"intent": "chitchat", "reply": "On its way", "mood": "happy"}'),
        ex('```json\n{"intent": "refund", "reply": "Done"}\n```'),
    ]
    result = found(records, ["V001"], behavior={"reply-schema": SCHEMA})
    assert [line for line, *_ in result] == [2, 3, 4]
    assert result[0][2].startswith("the assistant reply is not JSON")
    assert result[1][2] == (
        "the assistant reply does not match the reply schema: Additional properties are not allowed ('mood' was unexpected); "
        "/intent: 'chitchat' is not one of ['order_status', 'refund']"
    )
    fenced = found(records, ["V001"], behavior={"reply-schema": SCHEMA, "allow-code-fence": True})
    assert [line for line, *_ in fenced] == [2, 3]


def test_reply_schema_file_and_errors(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("reply.schema.json").write_text(json.dumps(SCHEMA), encoding="utf-8")
    assert [line for line, *_ in found([ex("nope")], ["V001"], behavior={"reply-schema-file": "reply.schema.json"})] == [1]
    with pytest.raises(LintConfigError, match="cannot read missing.json"):
        found([ex("x")], ["V001"], options={"V001": {"reply-schema-file": "missing.json"}})
    with pytest.raises(LintConfigError, match="not a valid JSON Schema"):
        found([ex("x")], ["V001"], options={"V001": {"reply-schema": {"type": "nonsense"}}})


# --------------------------------------------------------------------------- V002 / V003

CLOSING = "Anything else I can help with?"


def test_required_phrases_modes():
    records = [
        ex("Shipped today. Anything else I can help with?"),
        ex("Shipped today."),
        ex("Let me look.", "Found it, shipped today. anything  ELSE i can help with?"),
    ]
    spec = {"required-phrases": [CLOSING]}
    assert [(line, msg) for line, _, msg in found(records, ["V002"], behavior=spec)] == [
        (2, "the assistant reply lacks 'Anything else I can help with?'"),
        (3, "the assistant reply lacks 'Anything else I can help with?'"),
    ]
    assert [line for line, *_ in found(records, ["V002"], behavior={**spec, "required-in": "last-reply"})] == [2]
    pattern = {"required-patterns": [r"#\d{5}\b"], "required-in": "any-reply"}
    assert [line for line, *_ in found([ex("Ticket #12345 opened."), ex("Opened.")], ["V002"], behavior=pattern)] == [2]
    with pytest.raises(LintConfigError, match="required-in"):
        found(records, ["V002"], behavior={**spec, "required-in": "sometimes"})


def test_banned_phrases_whole_words_with_spans():
    spec = {"banned-phrases": ["unfortunately", "per our policy"], "banned-patterns": [r"\bASAP\b"]}
    records = [ex("Unfortunately, per  our policy we reply ASAP."), ex("Fortunately it is fixed."), ex("Asap is fine.")]
    diags = list(lint(records, select=["V003"], behavior=spec))
    assert [(d.line, d.message) for d in diags] == [
        (1, "the assistant reply uses banned 'unfortunately', 'per our policy', '\\\\bASAP\\\\b'"),
    ]
    assert [s.text for s in diags[0].spans] == ["Unfortunately", "per  our policy", "ASAP"]
    with pytest.raises(LintConfigError, match="invalid regular expression"):
        found(records, ["V003"], behavior={"banned-patterns": ["(unclosed"]})


# --------------------------------------------------------------------------- V004


def test_reply_length_bounds_in_chars_words_tokens():
    records = [ex("Yes."), ex("Your order shipped today and will arrive on Friday."), ex("word " * 120)]
    spec = {"min-chars": 10, "max-words": 100, "max-tokens": 100}
    result = found(records, ["V004"], behavior=spec)
    assert [(line, msg) for line, _, msg in result] == [
        (1, "the assistant reply has 4 characters (minimum 10)"),
        (3, "the assistant reply has 120 words (maximum 100); ~121 tokens, estimate with o200k_base (maximum 100)"),
    ]
    with pytest.raises(LintConfigError, match="greater than"):
        found(records, ["V004"], behavior={"min-chars": 10, "max-chars": 5})


# --------------------------------------------------------------------------- V005 / V006


def test_greeting_convention_checks_the_opening_reply_only():
    records = [ex("Hi Sam! Shipped today."), ex("Shipped today."), ex("Checking now.", "Hello again!"),
               ex("Earlier context", "Shipped today.", weight0_first=True)]
    assert [line for line, *_ in found(records, ["V005"], behavior={"greeting": "required"})] == [2, 3]
    assert [line for line, *_ in found(records, ["V005"], behavior={"greeting": "forbidden"})] == [1]
    with pytest.raises(LintConfigError, match="greeting"):
        found(records, ["V005"], behavior={"greeting": "sometimes"})


def test_sign_off_convention_checks_the_closing_reply():
    records = [
        ex("Done!\n\nBest regards,\nAnna"),
        ex("Done! Have a great day!"),
        ex("Done. Thanks for your patience."),  # a sentence, not a sign-off
        ex("Best regards are sent with every parcel we ship to you."),
    ]
    result = found(records, ["V006"], behavior={"sign-off": "forbidden"})
    assert [(line, msg) for line, _, msg in result] == [
        (1, "the reply has a sign-off: 'Best regards, Anna'"),
        (2, "the reply has a sign-off: 'Have a great day!'"),
    ]
    assert [line for line, *_ in found(records, ["V006"], behavior={"sign-off": "required"})] == [3, 4]


# --------------------------------------------------------------------------- V007


@pytest.mark.parametrize(
    ("text", "element"),
    [
        ("## Shipping\nIt ships today.", "headings"),
        ("Options:\n- refund\n- replacement", "bullet-lists"),
        ("Steps:\n1. Open Orders\n2. Click Return", "numbered-lists"),
        ("| plan | seats |\n| --- | --- |\n| Pro | 10 |", "tables"),
        ("Run:\n```\nftkit lint\n```", "code-blocks"),
        ("Run `ftkit lint` now.", "inline-code"),
        ("This is **important**.", "bold"),
        ("This is *really* important.", "italic"),
        ("See [the guide](https://acme.example/guide).", "links"),
        ("![screenshot](https://acme.example/s.png)", "images"),
        ("> quoted customer text\nreply", "blockquotes"),
        ("Above\n\n---\n\nBelow", "horizontal-rules"),
    ],
)
def test_markdown_elements_are_recognised(text: str, element: str):
    assert set(markdown_elements(text)) == {element}
    diags = list(lint([ex(text)], select=["V007"], behavior={"markdown": []}))
    assert [d.message for d in diags] == [f"the assistant reply uses markdown the spec does not allow: {element}"]
    allowed = list(lint([ex(text)], select=["V007"], behavior={"markdown": [element]}))
    assert allowed == []


def test_plain_text_is_not_markdown():
    plain = "Yes - it ships today (2-3 days), costs $5 * 2 = $10, and snake_case_names are fine. 3.5 stars!"
    assert markdown_elements(plain) == {}
    with pytest.raises(LintConfigError, match="unknown element"):
        found([ex(plain)], ["V007"], behavior={"markdown": ["tables", "emoji"]})
    assert len(MARKDOWN_ELEMENTS) == 12


# --------------------------------------------------------------------------- V008 - V010


LONG = (
    " Our team checks every order by hand before it leaves, so small delays can happen in busy weeks of the year."
    " If anything looks wrong when the parcel arrives, reply to this message and we will sort it out."
)


def test_inconsistent_formatting_reports_minority_once():
    bullets = [ex("Here is how:\n- Open Orders\n- Choose Return\n- Print the label" + LONG) for _ in range(6)]
    prose = [ex("Open Orders, choose Return and print the label." + LONG) for _ in range(4)]
    records = bullets[:3] + prose + bullets[3:]
    (diag,) = lint(records, select=["V008"], options={"V008": {"min-examples": 10}})
    assert diag.line == 4 and diag.code == "V008"
    assert diag.message == (
        "bullet lists are used in 60% (6 of 10) of comparable replies; this example is the first of the minority without them"
    )
    assert diag.score == pytest.approx(0.8)
    assert found(records, ["V008"]) == []  # default min-examples 20
    assert found(bullets + prose[:1], ["V008"], options={"V008": {"min-examples": 5}}) == []  # 86% agree


def test_inconsistent_greeting_and_sign_off_via_config_file(tmp_path: Path, cli_run):
    rows = []
    for n in range(10):
        greet = "Hi! " if n % 2 == 0 else ""
        sign = ["\n\nBest regards,\nAnna", "\n\nCheers,\nTom", "\n\nBest regards,\nAnna", "", "\n\nKind regards,\nLea"][n % 5]
        rows.append(ex(f"{greet}Order {n} ships today.{sign}", user=f"Where is order {n}?"))
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "ftkit.toml").write_text(
        '[lint]\nselect = ["V009", "V010"]\n[lint.behavior]\nmin-examples = 10\nmin-share = 0.25\n', encoding="utf-8"
    )
    result = cli_run(["lint", "--config", str(tmp_path / "ftkit.toml"), "--output-format", "json", str(data)])
    assert result.exit_code == 0, result.output  # info severity does not fail the run
    items = [(i["line"], i["code"], i["message"]) for i in json.loads(result.output)]
    assert items == [
        (2, "V009", "opening replies greet in 50% (5 of 10) of examples; this example is the first of the minority that does not greet"),
        (2, "V010", "3 different sign-offs are used ('Best regards' 50%, 'Cheers' 25%, 'Kind regards' 25%); this example is the first with 'Cheers'"),
    ]


def test_unknown_behavior_key_is_a_config_error(tmp_path: Path, cli_run):
    (tmp_path / "ftkit.toml").write_text('[lint.behavior]\ngreetings = "required"\n', encoding="utf-8")
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps(ex("Hi")) + "\n", encoding="utf-8")
    result = cli_run(["lint", "--config", str(tmp_path / "ftkit.toml"), str(data)])
    assert result.exit_code == 2
    assert "greetings" in result.output
