"""P rules: personal data and secrets left in dataset text, and their redacting fixes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.linter import lint


def ex(*turns: tuple[str, str], **meta) -> dict:
    record = {"messages": [{"role": role, "content": text} for role, text in turns]}
    if meta:
        record["metadata"] = meta
    return record


def run(records, select=("P",), **kwargs):
    return list(lint(records, select=list(select), **kwargs))


def write(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def test_each_kind_reports_its_own_code_on_its_own_line():
    records = [
        ex(("user", "Mail me at ana.lopez@example.org"), ("assistant", "Done.")),
        ex(("user", "Call me on +44 20 7946 0958"), ("assistant", "Will do.")),
        ex(("user", "Card 5555 5555 5555 4444"), ("assistant", "Charged.")),
        ex(("user", "IBAN GB82 WEST 1234 5698 7654 32"), ("assistant", "Refunded.")),
        ex(("user", "Blocked from 198.51.100.7"), ("assistant", "Unblocked.")),
        ex(("user", "my token ghp_abcdefghijklmnopqrstuvwxyz0123456789"), ("assistant", "Please revoke it.")),
        ex(("user", "https://files.example.com/dl?sig=abc123def456"), ("assistant", "Thanks.")),
        ex(("user", "Send it to 10 Downing Street, London SW1A 2AA"), ("assistant", "Sent.")),
        ex(("user", "Order #4411-2093 cost $129.99 on 2024-05-02, 3 x 2 kg"), ("assistant", "Your order ships at 14:30.")),
    ]
    found = [(d.line, d.code) for d in run(records)]
    assert found == [(1, "P001"), (2, "P002"), (3, "P003"), (4, "P004"), (5, "P005"), (6, "P006"), (7, "P007"), (8, "P008")]


def test_message_masks_value_and_spans_locate_it():
    text = "Reach me at priya.n@example.net or priya.n@example.net"
    (diag,) = run([ex(("user", text), ("assistant", "Noted."))], select=["P001"])
    assert diag.message == "2 e-mail addresses in the user message: pri…net, pri…net"
    assert diag.pointer == "/messages/0/content"
    assert diag.severity.value == "error" and diag.fixable is False  # unsafe fix: hidden without --unsafe-fixes
    assert [(s.start, s.end) for s in diag.spans] == [(12, 31), (35, 54)]
    assert all(text[s.start : s.end] == "priya.n@example.net" for s in diag.spans)
    assert "priya.n@example.net" not in json.dumps(diag.to_dict())


def test_allow_option_keeps_own_support_contacts():
    record = ex(("user", "Who do I call?"), ("assistant", "Call 020 7946 0000 or write to maria@acme.example"))
    assert {d.code for d in run([record], select=["P001", "P002"])} == {"P001", "P002"}
    options = {"P001": {"allow": [r"maria@acme\.example"]}, "P002": {"allow": [r"020 7946 0000"]}}
    assert run([record], select=["P001", "P002"], options=options) == []


def test_roles_option_limits_scanned_messages():
    record = ex(("system", "Escalate to ops@acme.example"), ("user", "Hi"), ("assistant", "Hello!"))
    assert [d.pointer for d in run([record], select=["P001"])] == ["/messages/0/content"]
    assert run([record], select=["P001"], options={"P001": {"roles": ["user", "assistant"]}}) == []


def test_content_parts_are_scanned_with_part_pointer():
    record = {"messages": [
        {"role": "user", "content": [{"type": "text", "text": "my mail: li.wei@example.com"}]},
        {"role": "assistant", "content": "Thanks."},
    ]}
    (diag,) = run([record], select=["P001"])
    assert diag.pointer == "/messages/0/content/0/text"


def test_placeholders_and_business_numbers_are_clean():
    records = [
        ex(("user", "My e-mail is <EMAIL_1> and phone <PHONE_1>"), ("assistant", "Thanks <PERSON_1>, card <CARD_1> noted.")),
        ex(("user", "Invoice INV-2023-004417 for EUR 1.299,00, ticket 5512339"), ("assistant", "Paid on 12/03/2024.")),
    ]
    assert run(records) == []


def test_invalid_allow_regex_is_a_config_error():
    from toolkit.linter.settings import LintConfigError

    with pytest.raises(LintConfigError, match="P001.*allow"):
        run([ex(("user", "x"), ("assistant", "y"))], select=["P001"], options={"P001": {"allow": ["("]}})


def test_unsafe_fix_redacts_consistently_through_cli(tmp_path, cli_run):
    path = write(tmp_path / "data.jsonl", [
        ex(("user", "I'm at ana@example.org, or ana@example.org's twin bo@example.org; call 020 7946 0958"),
           ("assistant", "I wrote to ana@example.org and will call 020 7946 0958.")),
        ex(("user", "Order #55123 for $20"), ("assistant", "Shipped.")),
    ])
    before = path.read_bytes()
    result = cli_run(["lint", "--isolated", "--select", "P", "--fix", str(path)])
    assert result.exit_code == 1
    assert path.read_bytes() == before  # PII fixes are unsafe: --fix alone changes nothing
    result = cli_run(["lint", "--isolated", "--select", "P", "--fix", "--unsafe-fixes", str(path)])
    assert result.exit_code == 0, result.output
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    assert first["messages"][0]["content"] == "I'm at <EMAIL_1>, or <EMAIL_1>'s twin <EMAIL_2>; call <PHONE_1>"
    assert first["messages"][1]["content"] == "I wrote to <EMAIL_1> and will call <PHONE_1>."
    assert lines[1] == json.dumps(ex(("user", "Order #55123 for $20"), ("assistant", "Shipped.")))  # untouched byte for byte


def test_cli_json_output_for_secret(tmp_path, cli_run):
    path = write(tmp_path / "keys.jsonl", [
        ex(("user", "key AKIAIOSFODNN7EXAMPLE and password: Tr0ub4dor&3"), ("assistant", "Rotate both now.")),
    ])
    result = cli_run(["lint", "--isolated", "--select", "secret-leaked", "--output-format", "json", str(path)])
    assert result.exit_code == 1
    (item,) = json.loads(result.output)
    assert item["code"] == "P006" and item["name"] == "secret-leaked" and item["line"] == 1
    assert item["message"] == "2 secrets in the user message: AKI…PLE, Tr…&3"
    assert [s["label"] for s in item["spans"]] == ["secret", "secret"]
    assert "AKIAIOSFODNN7EXAMPLE" not in result.output


def test_all_p_rules_share_one_scan(monkeypatch):
    import toolkit.linter.rules.privacy as privacy

    calls = []
    real = privacy.find_pii

    def counting(text, *args, **kwargs):
        calls.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(privacy, "find_pii", counting)
    run([ex(("user", "a@b.co"), ("assistant", "ok then"))])
    assert len(calls) == 2  # two messages, eight rules, one scan each


def test_tool_call_arguments_are_scanned_and_redacted(tmp_path, cli_run):
    record = {"messages": [
        {"role": "user", "content": "Update my e-mail to kim.lee@example.com please"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
            "name": "update_contact", "arguments": json.dumps({"email": "kim.lee@example.com", "phone": "+44 20 7946 0958"})}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "{\"ok\": true}"},
        {"role": "assistant", "content": "Done!"},
    ]}
    diags = list(lint([record], select=["P001", "P002"]))
    assert [(d.code, d.pointer, d.message) for d in diags] == [
        ("P001", "/messages/0/content", "e-mail address in the user message: kim…com"),
        ("P001", "/messages/1/tool_calls/0/function/arguments", "e-mail address in the arguments of the tool call 'update_contact': kim…com"),
        ("P002", "/messages/1/tool_calls/0/function/arguments", "phone number in the arguments of the tool call 'update_contact': +44…958"),
    ]
    path = write(tmp_path / "tools.jsonl", [record])
    assert cli_run(["lint", "--isolated", "--select", "P", "--fix", "--unsafe-fixes", str(path)]).exit_code == 0
    fixed = json.loads(path.read_text(encoding="utf-8"))
    assert fixed["messages"][0]["content"] == "Update my e-mail to <EMAIL_1> please"
    assert json.loads(fixed["messages"][1]["tool_calls"][0]["function"]["arguments"]) == {"email": "<EMAIL_1>", "phone": "<PHONE_1>"}


def test_role_mailboxes_are_not_personal_data():
    record = ex(("user", "I wrote to support@acme.example and billing-eu@acme.example"), ("assistant", "Please use no-reply@acme.example? No: write to help@acme.example or to anna.schmidt@acme.example."))
    (diag,) = run([record], select=["P001"])
    assert diag.message == "e-mail address in the assistant message: ann…ple"
    strict = run([record], select=["P001"], options={"P001": {"role-addresses": True}})
    assert [d.message for d in strict] == [
        "2 e-mail addresses in the user message: sup…ple, bil…ple",
        "3 e-mail addresses in the assistant message: no-…ple, hel…ple, ann…ple",
    ]
