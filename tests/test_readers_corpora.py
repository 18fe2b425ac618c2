"""Readers on the real public corpora in ../shared/corpora: roles, order and text match the source turn by turn."""

from __future__ import annotations

import json

import pytest

from toolkit.model import Speaker
from toolkit.readers import ReadReport, detect_format, read
from toolkit.readers.html import html_to_text


def _audit_comments(path):
    """The source's Comment events per ticket, in audit order (the ground truth)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    per_ticket: dict[str, list[dict]] = {}
    for audit in sorted(data["audits"], key=lambda a: (a["created_at"], a["id"])):
        for event in audit["events"]:
            if event["type"] == "Comment":
                per_ticket.setdefault(str(audit["ticket_id"]), []).append(event)
    return per_ticket


def test_zendesk_audits_match_source_turn_by_turn(corpora):
    path = corpora / "zendesk" / "ticket_audits_resp0.json"
    assert detect_format(path) == "zendesk"
    report = ReadReport()
    conversations = {c.id: c for c in read(path, "zendesk", report=report)}
    expected = _audit_comments(path)
    assert set(conversations) == set(expected)
    private = 0
    for tid, comments in expected.items():
        turns = conversations[tid].turns
        assert [t.text for t in turns] == [c["body"].strip() for c in comments]
        assert [t.id for t in turns] == [str(c["id"]) for c in comments]
        for turn, comment in zip(turns, comments):
            if not comment["public"]:
                private += 1
                assert turn.speaker is Speaker.NOTE
            else:
                assert turn.speaker is not Speaker.NOTE
    assert private == 1  # the sample ticket's "Hmm this customer has been here before"
    sample = conversations["1"]
    assert sample.channel == "sample_ticket"
    assert sample.subject == "Sample ticket: Meet the ticket"
    assert sample.tags == ["sample", "support", "zendesk"]
    n_audits = sum(1 for a in json.loads(path.read_text(encoding="utf-8"))["audits"] if a["ticket_id"] == 1)
    assert sample.source == {"file": str(path), "record": 1, "format": "zendesk", "records": n_audits}
    # The requester (a Create event after the comment) wrote the first comment.
    assert sample.customer_id == "6130869168922"
    assert sample.turns[0].speaker is Speaker.CUSTOMER
    assert report.counts_by_reason() == {}


def test_zendesk_users_resolve_roles(corpora, tmp_path):
    users = corpora / "zendesk" / "incremental_users_resp2.json"  # the end-user "The Customer"
    audits = corpora / "zendesk" / "ticket_audits_resp0.json"
    report = ReadReport()
    conversations = {c.id: c for c in read([audits, users], report=report)}
    assert report.formats == {str(audits): "zendesk", str(users): "zendesk"}
    first = conversations["1"].turns[0]
    assert first.speaker is Speaker.CUSTOMER and first.author == "The Customer"
    customer = next(p for p in conversations["1"].participants if p.id == "6130869168922")
    assert (customer.name, customer.email, customer.kind) == ("The Customer", "customer@example.com", Speaker.CUSTOMER)


def test_zendesk_incremental_tickets(corpora):
    path = corpora / "zendesk" / "incremental_tickets_resp0.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    report = ReadReport()
    conversations = list(read(path, report=report))
    with_description = [t for t in data["tickets"] if (t.get("description") or "").strip()]
    assert [c.id for c in conversations] == [str(t["id"]) for t in with_description]
    for conversation, ticket in zip(conversations, with_description):
        assert conversation.turns[0].text == ticket["description"].strip()
        assert conversation.status == ticket["status"]
        assert conversation.channel == ticket["via"]["channel"]
        assert conversation.customer_id == str(ticket["requester_id"])
    assert report.read == len(conversations)


def test_zendesk_streaming_path_gives_the_same_result(corpora):
    """Force the ijson path (stream_threshold=0) and the disk-spilling grouping: same output."""
    path = corpora / "zendesk" / "ticket_audits_resp0.json"
    whole = [c.to_dict() for c in read(path, "zendesk")]
    streamed = [c.to_dict() for c in read(path, "zendesk", stream_threshold=0)]
    assert streamed == whole


def test_intercom_example_conversation(corpora):
    path = corpora / "intercom" / "intercom_2.14_conversation_example.json"
    source = json.loads(path.read_text(encoding="utf-8"))["value"]
    assert detect_format(path) == "intercom"
    report = ReadReport()
    [conversation] = list(read(path, report=report))
    assert conversation.id == "503"
    assert conversation.status == "closed"
    assert conversation.tags == ["Test tag"]
    expected = [html_to_text(source["source"]["body"])] + [
        html_to_text(p["body"]) for p in source["conversation_parts"]["conversation_parts"] if p["body"]]
    assert [t.text for t in conversation.turns] == expected == ["this is the message body", "Okay!"]
    assert [t.speaker for t in conversation.turns] == [Speaker.AGENT, Speaker.AGENT]
    # The three event parts without a body are reported, not silently dropped.
    skipped = [(s.reason, s.part) for s in report.skipped]
    assert skipped == [("event without a message body", "part 2"), ("event without a message body", "part 3"),
                       ("event without a message body", "part 4")]


def test_abcd_actions_become_tool_calls(corpora):
    path = corpora / "abcd" / "abcd_sample.json"
    source = json.loads(path.read_text(encoding="utf-8"))
    conversations = list(read(path))
    assert [c.id for c in conversations] == [str(c["convo_id"]) for c in source]
    for conversation, convo in zip(conversations, source):
        expected = []
        for index, (speaker, text) in enumerate(convo["original"]):
            if speaker == "action":
                target = convo["delexed"][index]["targets"]
                expected.append(("agent", "", target[2].replace("-", "_")))
                expected.append(("tool", text, None))
            else:
                expected.append((speaker, text, None))
        got = [(t.speaker.value, t.text, t.tool_calls[0].name if t.tool_calls else None) for t in conversation.turns]
        assert got == expected
        for call_turn, result in zip(conversation.turns, conversation.turns[1:]):
            if call_turn.tool_calls:
                assert result.speaker is Speaker.TOOL and result.tool_call_id == call_turn.tool_calls[0].id
    first = conversations[0]
    customer = first.participants[0]
    assert (customer.name, customer.email, customer.phone) == ("Crystal Minh", "cminh730@email.com", "(977) 625-2661")


def test_taskmaster_api_calls(corpora):
    path = corpora / "taskmaster" / "TM-4-2024_data_07.json"
    source = json.loads(path.read_text(encoding="utf-8"))
    conversations = list(read(path))
    assert len(conversations) == len(source) == 210
    for conversation, dialog in zip(conversations, source):
        spoken = [t for t in conversation.turns if not t.tool_calls and t.speaker is not Speaker.TOOL]
        assert [(t.speaker.value, t.text) for t in spoken] == [
            ("customer" if u["speaker"] == "user" else "agent", u["text"]) for u in dialog["utterances"]]
        calls = [t for t in conversation.turns if t.tool_calls]
        results = [t for t in conversation.turns if t.speaker is Speaker.TOOL]
        n_calls = sum(1 for u in dialog["utterances"] for a in u["annotations"] if a["name"] == "api_call")
        assert len(calls) == n_calls
        assert len(results) == sum(1 for u in dialog["utterances"] for a in u["annotations"] if a["name"] == "api_response")
    first = conversations[0]
    # The user's order comes first, then the lookups it triggered.
    assert first.turns[1].tool_calls[0].name == "get_menu_items"
    assert first.turns[1].tool_calls[0].arguments == {"query": "Mocha"}
    assert first.turns[2].speaker is Speaker.TOOL and "mocha-3095" in first.turns[2].text


@pytest.mark.parametrize("shard", ["dev_dialogues_001.json", "dev_dialogues_002.json"])
def test_sgd_turns_and_service_calls(corpora, shard):
    path = corpora / "sgd" / shard
    source = json.loads(path.read_text(encoding="utf-8"))
    conversations = list(read(path))
    assert len(conversations) == len(source)
    for conversation, dialog in zip(conversations, source):
        spoken = [t for t in conversation.turns if not t.tool_calls and t.speaker is not Speaker.TOOL]
        assert [(t.speaker.value, t.text) for t in spoken] == [
            ("customer" if t["speaker"] == "USER" else "agent", t["utterance"]) for t in dialog["turns"]]
        n_calls = sum(1 for t in dialog["turns"] for f in t["frames"] if f.get("service_call"))
        assert sum(len(t.tool_calls) for t in conversation.turns) == n_calls
