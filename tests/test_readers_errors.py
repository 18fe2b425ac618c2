"""Reader errors and skips name the file, the record and the field; nothing is dropped silently."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolkit.model import Speaker
from toolkit.readers import ReadReport, ReaderError, detect_format, read
from toolkit.readers.transcript import _NOT_NAMES, _parse_line


def test_bad_jsonl_lines_are_reported_with_line_numbers(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text(
        '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}\n'
        '{"messages": [{"role": "user", "content": "oops"\n'
        '[1, 2]\n'
        '{"messages": "not a list"}\n'
        '{"messages": [{"role": "wizard", "content": "x"}, {"role": "user", "content": "ok"}]}\n',
        encoding="utf-8",
    )
    report = ReadReport()
    conversations = list(read(path, "openai", report=report))
    assert [c.source["record"] for c in conversations] == [1, 5]
    got = [(s.record, s.reason, s.part) for s in report.skipped]
    assert got == [
        (2, "invalid JSON", ""),
        (3, "record is not an object", ""),
        (4, "field has the wrong type", ""),
        (5, "field has the wrong type", "messages[0]"),
    ]
    assert all(s.file == str(path) for s in report.skipped)
    assert "'messages' is a JSON string" in report.skipped[2].detail


def test_strict_raises_naming_file_record_and_field(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"instruction": "q", "output": "a"}, {"instruction": "q2", "output": 3}]), encoding="utf-8")
    with pytest.raises(ReaderError) as info:
        list(read(path, "alpaca", strict=True))
    assert str(info.value).startswith(f"{path}:2: output: field has the wrong type")


def test_not_json_names_the_file(tmp_path):
    path = tmp_path / "tickets.json"
    path.write_text("hello, this is not json\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"tickets\.json:1: not JSON"):
        list(read(path, "zendesk"))


def test_invalid_json_document_names_line(tmp_path):
    path = tmp_path / "tickets.json"
    path.write_text('{\n  "tickets": [\n    {"id": 1,}\n  ]\n}\n', encoding="utf-8")
    with pytest.raises(ReaderError, match=r"tickets\.json:3: invalid JSON"):
        list(read(path, "zendesk"))


def test_unknown_zendesk_shape(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"widgets": []}', encoding="utf-8")
    with pytest.raises(ReaderError, match="no Zendesk tickets, comments, audits or users here"):
        list(read(path, "zendesk"))


def test_ambiguous_and_unknown_detection(tmp_path):
    both = tmp_path / "both.jsonl"
    both.write_text(json.dumps({"messages": [{"role": "user", "content": "x"}], "conversations": [{"from": "human", "value": "y"}]}) + "\n",
                    encoding="utf-8")
    with pytest.raises(ReaderError, match="ambiguous input format: it could be openai or sharegpt"):
        detect_format(both)
    unknown = tmp_path / "numbers.json"
    unknown.write_text("[1, 2, 3]", encoding="utf-8")
    with pytest.raises(ReaderError, match="cannot tell the input format"):
        detect_format(unknown)


def test_table_missing_column_and_unknown_role(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("conversation_id,sender,body\n1,customer,hi\n1,martian,??\n1,agent,hello\n", encoding="utf-8")
    report = ReadReport()
    [conv] = list(read(path, "table", report=report))
    assert [t.speaker for t in conv.turns] == [Speaker.CUSTOMER, Speaker.AGENT]
    [skip] = report.skipped
    assert (skip.record, skip.reason) == (2, "field has the wrong type") and "'martian'" in skip.detail
    bad = tmp_path / "n.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ReaderError, match=r"n\.csv: text: no text column found; columns: a, b \(pass --column text=COLUMN\)"):
        list(read(bad, "table"))
    with pytest.raises(ReaderError, match="column 'nope' \\(for text\\) is not in the table"):
        list(read(path, "table", columns={"text": "nope"}))


def test_zendesk_ticket_without_id_and_empty_ticket(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"tickets": [{"subject": "x", "requester_id": 1, "description": "d"},
                                            {"id": 2, "requester_id": 1, "subject": "empty", "description": ""}]}), encoding="utf-8")
    report = ReadReport()
    assert list(read(path, "zendesk", report=report)) == []
    assert [(s.record, s.reason) for s in report.skipped] == [(1, "missing required field"), (2, "no messages")]


def test_unknown_option_is_an_error():
    with pytest.raises(ReaderError, match="unknown option"):
        list(read("x.jsonl", "openai", agents=["x"]))


def test_transcript_bad_regex():
    with pytest.raises(ReaderError, match="agent_pattern: invalid regular expression"):
        list(read("x.txt", "transcript", agent_pattern="(unclosed"))


# --------------------------------------------------------------------------- transcript parser properties

# Words such as "Re", "Fw" or "PS" before a colon are email/prose prefixes, never speaker names.
_names = st.from_regex(r"[A-Z][a-z]{1,10}( [A-Z][a-z]{1,10})?", fullmatch=True).filter(lambda n: not _NOT_NAMES.match(n))
_texts = st.from_regex(r"[A-Za-z][A-Za-z0-9 ,.!?'$-]{0,60}[A-Za-z0-9.!?]", fullmatch=True)
_stamps = st.sampled_from(["[{h}:{m}] ", "({h}:{m}:05 PM) ", "( {m}m 5s ) ", "", "[2024-03-01 {h}:{m}] ", "{h}:{m} - ",
                           "3/1/24, {h}:{m} AM - ", "[3/1/24, {h}:{m}:33 AM] ", "2024-03-01T{h:02d}:{m}:00Z ", "{h}:{m} "])


@settings(max_examples=80, deadline=None)
@given(name=_names, text=_texts, stamp=_stamps, h=st.integers(1, 12), m=st.integers(10, 59))
def test_message_line_round_trip(name, text, stamp, h, m):
    line = stamp.format(h=h, m=m) + f"{name}: {text}"
    parsed = _parse_line(line)
    assert parsed is not None
    got_name, got_text, got_stamp, system = parsed
    assert (got_name, got_text, system) == (name, text, False)
    assert (got_stamp is None) == (stamp == "")


@settings(max_examples=30, deadline=None)
@given(
    chats=st.lists(
        st.lists(st.tuples(st.sampled_from(["Agent Kim", "Customer"]), st.lists(_texts, min_size=1, max_size=3)), min_size=1, max_size=6),
        min_size=1, max_size=4,
    )
)
def test_transcript_file_round_trip(tmp_path_factory, chats):
    """Any file of transcripts separated by '---' reads back as the same speakers and (multi-line) texts."""
    lines = []
    for index, chat in enumerate(chats):
        if index:
            lines.append("---")
        for position, (name, paragraphs) in enumerate(chat):
            lines.append(f"[10:{position % 60:02d}] {name}: {paragraphs[0]}")
            lines.extend(paragraphs[1:])  # continuation lines
    path = tmp_path_factory.mktemp("t") / "chats.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ReadReport()
    conversations = list(read(path, "transcript", agents=["Agent Kim"], report=report))
    assert report.skipped == []
    assert len(conversations) == len(chats)
    for conversation, chat in zip(conversations, chats):
        expected = [(Speaker.AGENT if name == "Agent Kim" else Speaker.CUSTOMER, "\n".join(paragraphs)) for name, paragraphs in chat]
        assert [(t.speaker, t.text) for t in conversation.turns] == expected


# --------------------------------------------------------------------------- more input shapes


def test_zendesk_incremental_ticket_events_with_comment_events(tmp_path):
    """GET /api/v2/incremental/ticket_events?include=comment_events, as Zendesk documents it."""
    page = {
        "ticket_events": [
            {"id": 1, "ticket_id": 155, "timestamp": 1601357279, "created_at": "2020-09-29T05:27:59Z", "updater_id": 7,
             "via": "Web form", "event_type": "Audit",
             "child_events": [
                 {"id": 11, "via": "Web form", "type": "Comment", "event_type": "Comment", "author_id": 7, "body": "My order never came",
                  "html_body": "<p>My order never came</p>", "public": True, "attachments": [], "audit_id": 1},
                 {"id": 12, "via": "Web form", "event_type": "Create", "requester_id": 7},
                 {"id": 13, "via": "Web form", "event_type": "Create", "status": "new"}]},
            {"id": 2, "ticket_id": 155, "timestamp": 1601357400, "created_at": "2020-09-29T05:30:00Z", "updater_id": 8,
             "via": "Web form", "event_type": "Audit",
             "child_events": [
                 {"id": 21, "event_type": "Comment", "author_id": 8, "body": "Checked with courier", "public": False},
                 {"id": 22, "event_type": "Comment", "author_id": 8, "body": "Sorry! A replacement ships today.", "public": True},
                 {"id": 23, "event_type": "Change", "status": "solved", "previous_value": "new"}]},
        ],
        "end_of_stream": True, "count": 2,
    }
    path = tmp_path / "events.json"
    path.write_text(json.dumps(page), encoding="utf-8")
    [conversation] = list(read(path))
    assert conversation.id == "155" and conversation.customer_id == "7" and conversation.status == "solved"
    assert [(t.speaker, t.text) for t in conversation.turns] == [
        (Speaker.CUSTOMER, "My order never came"), (Speaker.NOTE, "Checked with courier"),
        (Speaker.AGENT, "Sorry! A replacement ships today.")]
    assert conversation.channel == "web form"


def test_gzip_and_stdin(tmp_path, monkeypatch, samples):
    import gzip
    import io
    import sys

    raw = (samples / "raw" / "openai_chat.jsonl").read_bytes()
    gz = tmp_path / "chat.jsonl.gz"
    gz.write_bytes(gzip.compress(raw, mtime=0))
    assert [c.id for c in read(gz)] == ["LT-5512", "LT-5513"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    report = ReadReport()
    conversations = list(read("-", report=report))
    assert [c.source["file"] for c in conversations] == ["<stdin>", "<stdin>"]
    assert report.formats == {"<stdin>": "openai"}


def test_big_json_documents_stream(tmp_path, samples):
    """Documents above stream_threshold are walked with ijson: same conversations as loading them whole."""
    for name in ("intercom_conversations.json", "zendesk_tickets.json", "sharegpt.json", "freshdesk_tickets.json"):
        path = samples / "raw" / name
        whole = [c.to_dict() for c in read(path)]
        streamed = [c.to_dict() for c in read(path, stream_threshold=0)]
        assert streamed == whole, name


def test_group_buffer_spills_to_disk_in_order():
    from toolkit.readers.base import GroupBuffer

    buffer = GroupBuffer(spill_after=5)
    for index in range(40):
        buffer.add(f"k{index % 7}", [None if index % 2 else f"t{40 - index:03d}"], index, {"i": index})
    groups = list(buffer.groups())
    assert [key for key, _ in groups] == [f"k{i}" for i in range(7)]
    for key, items in groups:
        indexes = [value["i"] for _, value in items]
        assert sorted(indexes) == [i for i in range(40) if f"k{i % 7}" == key]


@pytest.mark.parametrize("line,expected", [
    ("Eric (10:02 AM): Hello", ("Eric", "Hello", "10:02 AM", False)),
    ("Eric [10:02]: Hello", ("Eric", "Hello", "10:02", False)),
    ("[10:02] Eric: a: b", ("Eric", "a: b", "10:02", False)),
    ("(10:05) *** Eric left the chat ***", (None, "Eric left the chat", "10:05", True)),
    ("*** Chat started ***", (None, "Chat started", None, True)),
    ("Priya has joined the chat", (None, "Priya has joined the chat", None, True)),
    ("Note: the price is $5", ("Note", "the price is $5", None, False)),
    ("[10:02] Eric (HomeNet): hello", ("Eric (HomeNet)", "hello", "10:02", False)),
])
def test_parse_line_examples(line, expected):
    if expected[0] == "Note":
        assert _parse_line(line) is None  # "Note", "Step 1", URLs are not speaker names
    else:
        assert _parse_line(line) == expected


def test_clock_times_become_iso_with_the_header_date(tmp_path):
    path = tmp_path / "wa.txt"
    path.write_text("3/1/24, 10:02 AM - Ana: Hi, is the shop open?\n3/1/24, 10:03 AM - Shop: Yes, until 6 PM.\n", encoding="utf-8")
    [conversation] = list(read(path, "transcript", agents=["Shop"]))
    assert [(t.speaker, t.time) for t in conversation.turns] == [
        (Speaker.CUSTOMER, "2024-03-01T10:02:00"), (Speaker.AGENT, "2024-03-01T10:03:00")]


def test_zendesk_ticket_with_comments_document(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"ticket": {"id": 77, "requester_id": 5, "subject": "Hi", "description": "Help", "status": "open"},
                                "comments": [{"id": 1, "author_id": 5, "body": "Help", "public": True},
                                             {"id": 2, "author_id": 6, "body": "Sure!", "public": True}]}), encoding="utf-8")
    [conversation] = list(read(path))
    assert conversation.id == "77" and [(t.speaker, t.text) for t in conversation.turns] == [
        (Speaker.CUSTOMER, "Help"), (Speaker.AGENT, "Sure!")]


def test_zendesk_bare_comment_lines_group_by_ticket(tmp_path):
    path = tmp_path / "comments.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in [
        {"id": 1, "ticket_id": 10, "author_id": 5, "body": "a", "public": True},
        {"id": 2, "ticket_id": 11, "author_id": 6, "body": "b", "public": True},
        {"id": 3, "ticket_id": 10, "author_id": 7, "body": "c", "public": False},
    ]) + "\n", encoding="utf-8")
    got = [(c.id, c.source["record"], [(t.speaker, t.text) for t in c.turns]) for c in read(path, "zendesk")]
    assert got == [("10", 1, [(Speaker.CUSTOMER, "a"), (Speaker.NOTE, "c")]), ("11", 2, [(Speaker.CUSTOMER, "b")])]


def test_table_as_json_array_is_detected(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([{"thread": "a", "speaker": "customer", "message": "hi"},
                                {"thread": "a", "speaker": "agent", "message": "hello"}]), encoding="utf-8")
    assert detect_format(path) == "table"
    [conversation] = list(read(path))
    assert (conversation.id, [t.speaker for t in conversation.turns]) == ("a", [Speaker.CUSTOMER, Speaker.AGENT])


def test_freshdesk_outbound_email_starts_with_the_agent(tmp_path):
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"id": 9, "subject": "Your renewal", "description_text": "Hi, your plan renews soon.", "status": 2,
                                "source": 10, "requester_id": 1, "responder_id": 2,
                                "conversations": [{"id": 5, "body_text": "Thanks!", "incoming": True, "private": False,
                                                   "user_id": 1, "ticket_id": 9, "created_at": "2024-01-01T00:00:00Z"}]}),
                    encoding="utf-8")
    [conversation] = list(read(path))
    assert conversation.channel == "outbound email"
    assert [(t.speaker, t.text) for t in conversation.turns] == [(Speaker.AGENT, "Hi, your plan renews soon."), (Speaker.CUSTOMER, "Thanks!")]


def test_structured_html_transcript(tmp_path):
    """Messages marked up by class names (author / time / text elements) rather than as text lines."""
    path = tmp_path / "export.html"
    path.write_text("""<html><head><title>Export</title><style>.message{color:red}</style></head><body>
<h1>Conversation ID: 5521</h1>
<p>Date: 2024-05-02</p>
<div class="transcript">
<div class="message system"><span class="message-text">Eric joined the chat</span></div>
<div class="message agent"><span class="author">Eric</span><span class="time">10:02</span>
  <div class="message-text"><p>Hello!</p><p>How can I help?</p></div></div>
<div class="message visitor"><span class="author">Ann Lee</span> <span class="timestamp">10:03</span>
  I need a <a href="https://shop.example/r?t=1">refund</a></div>
</div>
<hr>
<h1>Conversation ID: 5522</h1>
<div class="message"><b class="sender-name">Bo</b><time class="sent">11:00</time><p class="body">Hi</p></div>
<div class="message"><b class="sender-name">Eric</b><time class="sent">11:01</time><p class="body">Hey Bo</p></div>
</body></html>""", encoding="utf-8")
    first, second = list(read(path, agents=["Eric"]))
    assert first.id == "5521" and second.id == "5522"
    assert [(t.speaker, t.author, t.time, t.text) for t in first.turns] == [
        (Speaker.SYSTEM, None, None, "Eric joined the chat"),
        (Speaker.AGENT, "Eric", "2024-05-02T10:02:00", "Hello!\n\nHow can I help?"),
        (Speaker.CUSTOMER, "Ann Lee", "2024-05-02T10:03:00", "I need a refund (https://shop.example/r?t=1)"),
    ]
    assert [(t.speaker, t.text) for t in second.turns] == [(Speaker.CUSTOMER, "Hi"), (Speaker.AGENT, "Hey Bo")]


def test_csv_bom_gzip_multiline_and_encoding_errors(tmp_path):
    import gzip

    data = b'\xef\xbb\xbfconversation_id,role,text\n1,customer,"multi\nline"\n1,agent,ok\n'
    plain = tmp_path / "m.csv"
    plain.write_bytes(data)
    packed = tmp_path / "m.csv.gz"
    packed.write_bytes(gzip.compress(data, mtime=0))
    for path in (plain, packed):
        [conversation] = list(read(path))
        assert [(t.speaker, t.text) for t in conversation.turns] == [(Speaker.CUSTOMER, "multi\nline"), (Speaker.AGENT, "ok")]
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"conversation_id,role,text\n1,customer,caf\xe9\n")
    with pytest.raises(ReaderError, match=r"latin\.csv: not a readable CSV file: .*UTF8.*\(the file is not UTF-8; re-encode it"):
        list(read(latin))


def test_intercom_ticket_with_ticket_parts(tmp_path):
    """GET /tickets/{id} (Intercom API 2.x): ticket_attributes title/description and ticket_parts."""
    ticket = {
        "type": "ticket", "id": "611", "ticket_id": "22", "created_at": 1734537732,
        "ticket_attributes": {"_default_title_": "Broken charger", "_default_description_": "<p>My charger stopped working.</p>"},
        "ticket_state": {"type": "ticket_state", "id": "7493", "category": "in_progress", "internal_label": "In progress"},
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": "c1", "external_id": "70"}]},
        "ticket_parts": {"type": "ticket_part.list", "ticket_parts": [
            {"type": "ticket_part", "id": "176", "part_type": "ticket_state_updated_by_admin", "ticket_state": "submitted",
             "created_at": 1734537951, "author": {"id": "9", "type": "admin", "name": "Lee"}},
            {"type": "ticket_part", "id": "177", "part_type": "comment", "body": "<p>Sorry! A replacement is on its way.</p>",
             "created_at": 1734537960, "author": {"id": "9", "type": "admin", "name": "Lee"}},
            {"type": "ticket_part", "id": "178", "part_type": "note", "body": "<p>Warranty ok</p>",
             "created_at": 1734537961, "author": {"id": "9", "type": "admin", "name": "Lee"}}]},
    }
    path = tmp_path / "ticket.json"
    path.write_text(json.dumps(ticket), encoding="utf-8")
    report = ReadReport()
    [conversation] = list(read(path, report=report))
    assert (conversation.id, conversation.subject, conversation.status, conversation.customer_id) == ("611", "Broken charger", "in_progress", "c1")
    assert [(t.speaker, t.text) for t in conversation.turns] == [
        (Speaker.CUSTOMER, "My charger stopped working."), (Speaker.AGENT, "Sorry! A replacement is on its way."),
        (Speaker.NOTE, "Warranty ok")]
    assert [(s.reason, s.part) for s in report.skipped] == [("event without a message body", "part 1")]


def test_agent_names_match_without_a_parenthetical(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("[10:00] Ana: hi\n[10:01] Eric (HomeNet Support): hello Ana\n", encoding="utf-8")
    [conversation] = list(read(path, agents=["eric"]))
    assert [(t.speaker, t.author) for t in conversation.turns] == [(Speaker.CUSTOMER, "Ana"), (Speaker.AGENT, "Eric (HomeNet Support)")]


def test_broken_json_is_not_mistaken_for_a_transcript(tmp_path):
    path = tmp_path / "tickets.json"
    path.write_text('{"tickets": [\n  {"id": 1,}\n]}\n', encoding="utf-8")
    with pytest.raises(ReaderError, match=r"cannot tell the input format from the content \(it starts like JSON but is not valid JSON: "
                                          r"invalid JSON: trailing comma is not allowed"):
        detect_format(path)


def test_intercom_list_without_parts_warns(tmp_path, samples):
    data = json.loads((samples / "raw" / "intercom_conversations.json").read_text(encoding="utf-8"))
    for conversation in data["conversations"]:
        conversation.pop("conversation_parts")
    path = tmp_path / "list.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    report = ReadReport()
    assert [(c.id, len(c.turns)) for c in read(path, report=report)] == [("7001", 1), ("7002", 1)]
    assert len(report.warnings) == 1 and "GET /conversations/{id}" in report.warnings[0]


def test_jsonl_name_with_bad_first_line_or_pretty_document(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [oops\n{"messages": [{"role": "user", "content": "hi"}]}\n', encoding="utf-8")
    report = ReadReport()
    assert [c.source["record"] for c in read(bad, "openai", report=report)] == [2]
    assert [(s.record, s.reason) for s in report.skipped] == [(1, "invalid JSON")]
    pretty = tmp_path / "pretty.jsonl"
    pretty.write_text('{\n  "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]\n}\n', encoding="utf-8")
    assert [len(c.turns) for c in read(pretty, "openai")] == [2]


def test_zendesk_tickets_file_with_audits_file(tmp_path, samples):
    """Audits give the thread, the tickets file the metadata; a ticket in both is read once."""
    tickets = tmp_path / "tickets.json"
    tickets.write_text(json.dumps({"tickets": [
        {"id": 812, "requester_id": 9002, "subject": "Desk order", "description": "Hello, I ordered the Aurora standing desk",
         "status": "closed", "tags": ["vip"], "via": {"channel": "email"}, "satisfaction_rating": {"score": "good"}},
        {"id": 999, "requester_id": 9003, "subject": "Other", "description": "Only in the tickets file", "status": "open"}]}),
        encoding="utf-8")
    convs = list(read([samples / "raw" / "zendesk_audits.json", tickets, samples / "raw" / "zendesk_users.json"]))
    assert [c.id for c in convs] == ["812", "813", "999"]
    desk = convs[0]
    assert (desk.subject, desk.status, desk.tags) == ("Desk order", "closed", ["vip"])
    assert len(desk.turns) == 5 and desk.source["file"] == str(samples / "raw" / "zendesk_audits.json")
    assert [t.text for t in convs[2].turns] == ["Only in the tickets file"]


def test_zendesk_legacy_chat_comment_is_split_into_turns(tmp_path):
    ticket = {"ticket": {"id": 4410, "requester_id": 31, "subject": "Chat with Visitor 88", "via": {"channel": "chat"}, "status": "solved"},
              "comments": [{"id": 1, "author_id": 31, "public": True, "via": {"channel": "chat"}, "created_at": "2021-05-03T09:15:00Z",
                            "body": "Chat started: 2021-05-03 09:15 AM UTC\n\n(09:15:02 AM) Visitor 88: Hi, I can't log in\n"
                                    "(09:15:30 AM) *** Sam joined the chat ***\n(09:15:41 AM) Sam: Hi! Sorry about that. What error do you see?\n"
                                    "(09:16:05 AM) Visitor 88: It says invalid token\n(09:16:40 AM) Sam: I've reset your session.\nTry again now."}],
              "users": [{"id": 31, "name": "Visitor 88", "role": "end-user"}, {"id": 7, "name": "Sam", "role": "agent"}]}
    path = tmp_path / "chat.json"
    path.write_text(json.dumps(ticket), encoding="utf-8")
    [conversation] = list(read(path))
    assert [(t.speaker, t.author, t.time, t.text) for t in conversation.turns] == [
        (Speaker.CUSTOMER, "Visitor 88", "2021-05-03T09:15:02", "Hi, I can't log in"),
        (Speaker.SYSTEM, None, "2021-05-03T09:15:30", "Sam joined the chat"),
        (Speaker.AGENT, "Sam", "2021-05-03T09:15:41", "Hi! Sorry about that. What error do you see?"),
        (Speaker.CUSTOMER, "Visitor 88", "2021-05-03T09:16:05", "It says invalid token"),
        (Speaker.AGENT, "Sam", "2021-05-03T09:16:40", "I've reset your session.\nTry again now."),
    ]
    assert [t.id for t in conversation.turns] == ["1", "1.1", "1.2", "1.3", "1.4"]
    [whole] = list(read(path, split_chats=False))
    assert len(whole.turns) == 1 and whole.turns[0].speaker is Speaker.CUSTOMER
