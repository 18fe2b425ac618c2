"""Readers on every bundled sample in samples/raw: detection, speakers, text and metadata."""

from __future__ import annotations

import pytest

from toolkit.model import Speaker
from toolkit.readers import ReadReport, ReaderError, detect_format, read

C, A, N, B, S, T = Speaker.CUSTOMER, Speaker.AGENT, Speaker.NOTE, Speaker.BOT, Speaker.SYSTEM, Speaker.TOOL

DETECTED = {
    "zendesk_ticket_4521_comments.json": "zendesk",
    "zendesk_audits.json": "zendesk",
    "zendesk_users.json": "zendesk",
    "zendesk_incremental.jsonl": "zendesk",
    "zendesk_tickets.json": "zendesk",
    "intercom_conversations.json": "intercom",
    "freshdesk_tickets.json": "freshdesk",
    "freshdesk_conversations_3302.json": "freshdesk",
    "freshdesk_satisfaction_ratings.json": "freshdesk",
    "chat_transcripts.txt": "transcript",
    "chat_transcript.html": "transcript",
    "messages.csv": "table",
    "messages.parquet": "table",
    "messages_threads.csv": "table",
    "openai_chat.jsonl": "openai",
    "sharegpt.json": "sharegpt",
    "alpaca.json": "alpaca",
}


def test_every_sample_is_covered(samples):
    assert sorted(p.name for p in (samples / "raw").iterdir() if p.is_file()) == sorted(DETECTED)


@pytest.mark.parametrize("name,expected", sorted(DETECTED.items()))
def test_detect_format(samples, name, expected):
    assert detect_format(samples / "raw" / name) == expected


def _speakers(conversation):
    return [t.speaker for t in conversation.turns]


def test_zendesk_comments(samples):
    [conv] = list(read(samples / "raw" / "zendesk_ticket_4521_comments.json"))
    assert conv.id == "4521"
    assert _speakers(conv) == [C, N, A, C, A, C]
    assert conv.customer_id == "9001"
    names = {(p.name, p.email, p.phone, p.kind) for p in conv.participants}
    assert ("Maria Gonzalez", "maria.gonzalez@example.com", "+1 415-555-0134", C) in names
    assert conv.turns[2].author == "Sam Ortiz"


def test_zendesk_audits_with_users_file(samples):
    report = ReadReport()
    convs = list(read([samples / "raw" / "zendesk_audits.json", samples / "raw" / "zendesk_users.json"], report=report))
    assert [c.id for c in convs] == ["812", "813"]
    desk, plan = convs
    assert _speakers(desk) == [C, N, A, C, A]
    assert [t.author for t in desk.turns] == ["Tom Becker", "Lena Fischer", "Lena Fischer", "Tom Becker", "Lena Fischer"]
    assert (desk.status, desk.csat, desk.channel, desk.tags) == ("solved", "good", "email", ["shipping", "order_status"])
    assert desk.metadata["csat_comment"] == "Lena was great"
    assert desk.subject == "Standing desk order still processing"
    assert _speakers(plan) == [C, A]
    assert "https://app.example.com/billing/plan?token=8f3a9c2e71" in plan.turns[1].text
    assert report.warnings == [] and report.counts_by_reason() == {}


def test_zendesk_audits_without_users_warns(samples):
    report = ReadReport()
    convs = list(read(samples / "raw" / "zendesk_audits.json", report=report))
    assert _speakers(convs[0]) == [C, N, A, C, A]  # requester = customer, other authors = agents
    assert any("author roles unknown" in w for w in report.warnings)


def test_zendesk_incremental_jsonl(samples):
    convs = list(read(samples / "raw" / "zendesk_incremental.jsonl"))
    assert [c.id for c in convs] == ["901", "902", "903"]
    assert _speakers(convs[0]) == [C, A, N, C]
    assert convs[0].csat == "good" and convs[0].metadata["csat_comment"] == "Fast and kind"
    assert convs[0].source == {"file": str(samples / "raw" / "zendesk_incremental.jsonl"), "record": 1, "format": "zendesk"}
    assert _speakers(convs[1]) == [C] and convs[1].turns[0].metadata == {"from_description": True}
    assert _speakers(convs[2]) == [C, B, C, A]
    assert convs[2].turns[1].author == "Answer Bot"
    assert convs[2].csat == "bad"


def test_zendesk_tickets_html_comment(samples):
    convs = list(read(samples / "raw" / "zendesk_tickets.json"))
    reply = convs[0].turns[1].text
    assert reply.startswith("Hi Keiko,\n\nSorry about the mix-up!")
    assert "keiko.tanaka@example.jp" in reply and "<p>" not in reply
    assert convs[0].csat is None  # "offered" is not a rating
    assert convs[1].csat == "good"


def test_intercom(samples):
    report = ReadReport()
    outage, sales = list(read(samples / "raw" / "intercom_conversations.json", report=report))
    assert _speakers(outage) == [C, B, C, N, A, A, C]
    assert outage.csat == 5 and outage.metadata["csat_remark"] == "Quick fix"
    assert outage.tags == ["outage", "business-plan"] and outage.status == "closed"
    assert outage.turns[0].text.startswith("Hi! Our website has been down since this morning, we get a 502 Bad Gateway")
    assert _speakers(sales) == [C, B, C, A]
    assert "our pricing page (https://cloudnest.example/pricing)" in sales.turns[1].text
    assert report.counts_by_reason() == {"event without a message body": 4}
    assert sorted((s.record, s.part) for s in report.skipped) == [(1, "part 3"), (1, "part 8"), (2, "part 2"), (2, "part 5")]


def test_freshdesk_with_conversations_and_ratings(samples):
    raw = samples / "raw"
    convs = list(read([raw / "freshdesk_tickets.json", raw / "freshdesk_conversations_3302.json",
                       raw / "freshdesk_satisfaction_ratings.json"]))
    double, bank = convs
    assert _speakers(double) == [C, N, A, C]
    assert double.turns[0].metadata == {"from_description": True}
    assert (double.status, double.channel, double.csat) == ("closed", "email", "extremely happy")
    assert _speakers(bank) == [C, A, C]
    assert bank.channel == "chat" and bank.status == "open"
    assert bank.turns[1].text.startswith("Hi Diego, thanks for reaching out.")


AGENTS = ["Eric", "Priya", "Sarah", "Noor", "Agent Tom"]


def test_transcripts_text(samples):
    report = ReadReport()
    convs = list(read(samples / "raw" / "chat_transcripts.txt", agents=AGENTS, bot_names=["HomeNet Bot"], report=report))
    assert [c.id for c in convs] == ["LC-20931", "LC-20932", "3"]
    first = convs[0]
    assert _speakers(first) == [S, C, B, S, A, C, A, C, A, C, S]
    assert first.turns[4].text == ("Hi Giulia, I'm sorry about the connection drops - that's really frustrating, especially if you work "
                                   "from home.\nLet me run a line test on your connection. Could you confirm the account holder's name "
                                   "and the phone number on the account?")
    assert first.turns[1].time == "2024-04-18T10:02:00"
    assert first.metadata["header"]["department"] == "Internet support"
    assert any(p.email == "g.rossi@example.it" for p in first.participants)
    assert _speakers(convs[1]) == [C, A, C, A, C]
    assert convs[1].turns[0].time == "2024-04-18T13:51:14"
    assert _speakers(convs[2]) == [A, C, A, C, A, C]
    assert convs[2].turns[2].metadata["offset_seconds"] == 73
    assert report.warnings == []


def test_transcripts_guessed_roles_agree_and_warn(samples):
    report = ReadReport()
    convs = list(read(samples / "raw" / "chat_transcripts.txt", report=report))
    assert _speakers(convs[0]) == [S, C, B, S, A, C, A, C, A, C, S]
    assert _speakers(convs[1]) == [C, A, C, A, C]
    assert _speakers(convs[2]) == [A, C, A, C, A, C]
    assert report.warnings and "--agent" in report.warnings[0]


def test_transcript_html(samples):
    convs = list(read(samples / "raw" / "chat_transcript.html", agents=AGENTS))
    assert [c.id for c in convs] == ["88120", "88121"]
    assert _speakers(convs[0]) == [S, A, C, A, C, S]
    assert convs[0].subject == "Prescription refill delay"
    assert "\n" in convs[0].turns[3].text and "—" in convs[0].turns[3].text
    assert _speakers(convs[1]) == [C, A, C]
    assert convs[1].turns[1].author == "Agent Tom"


@pytest.mark.parametrize("name", ["messages.csv", "messages.parquet"])
def test_table(samples, name):
    convs = list(read(samples / "raw" / name))
    assert [c.id for c in convs] == ["T-1001", "T-1002"]
    assert _speakers(convs[0]) == [C, A, N, C, A]
    assert _speakers(convs[1]) == [C, B, C, A]
    assert (convs[0].customer_id, convs[0].channel) == ("C-551", "sms")
    assert convs[0].turns[0].time == "2024-08-01T09:00:00Z"
    assert convs[0].source["record"] == 1 and convs[1].source["record"] == 6


def test_table_threads_from_reply_to(samples):
    convs = list(read(samples / "raw" / "messages_threads.csv"))
    assert [(c.id, [t.id for t in c.turns]) for c in convs] == [("p1", ["p1", "p3", "p5", "p6"]), ("p2", ["p2", "p4"])]
    assert convs[0].turns[0].time == "2024-09-01T08:00:00"


def test_table_agent_values_and_columns(samples, tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("chat,who,msg\n1,Kunde,Hallo\n1,Mitarbeiter,Guten Tag\n", encoding="utf-8")
    [conv] = list(read(path, "table", columns={"conversation": "chat", "role": "who", "text": "msg"},
                       agent_values=["Mitarbeiter"]))
    assert _speakers(conv) == [C, A]


def test_openai(samples):
    convs = list(read(samples / "raw" / "openai_chat.jsonl"))
    assert [c.id for c in convs] == ["LT-5512", "LT-5513"]
    assert convs[0].metadata["system_prompt"].startswith("You are a friendly support agent for Lumen Telecom.")
    assert _speakers(convs[1]) == [C, A, C, A, T, A]
    assert convs[1].turns[1].metadata["weight"] == 0
    call = convs[1].turns[3].tool_calls[0]
    assert (call.name, call.arguments, call.id) == ("lookup_account", {"phone": "555-0142"}, "call_1")
    assert convs[1].turns[4].tool_call_id == "call_1"
    assert convs[1].metadata["tools"][0]["function"]["name"] == "lookup_account"


def test_sharegpt_and_alpaca(samples):
    share = list(read(samples / "raw" / "sharegpt.json"))
    assert [c.id for c in share] == ["sg-1", "sg-2", "sg-3"]
    assert share[0].metadata["system_prompt"] == "You are a patient IT helpdesk agent at Northwind University."
    assert _speakers(share[2]) == [C, A, T, A]
    assert share[2].turns[2].tool_call_id == share[2].turns[1].tool_calls[0].id
    alpaca = list(read(samples / "raw" / "alpaca.json"))
    assert [c.id for c in alpaca] == ["alpaca-1", "alpaca-2", "alpaca-3"]
    assert alpaca[0].turns[0].text.startswith("Reply to the customer as a support agent.\n\nCustomer: I was charged twice")
    assert _speakers(alpaca[2]) == [C, A, C, A]


def test_reading_is_deterministic(samples):
    raw = samples / "raw"
    files = sorted(p for p in raw.iterdir() if p.suffix in (".json", ".jsonl", ".csv", ".txt", ".html", ".parquet"))
    first = [c.to_dict() for c in read(files)]
    second = [c.to_dict() for c in read(files)]
    assert first == second and len(first) > 20


def test_unknown_option_for_auto_is_an_error(samples):
    with pytest.raises(ReaderError, match="not understood"):
        list(read(samples / "raw" / "alpaca.json", agent_values=["x"]))
