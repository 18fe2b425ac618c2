"""Readers never crash on malformed input: they read, report a skip, or raise ReaderError naming the file."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from toolkit.readers import READERS, ReadReport, ReaderError, read

_KEYS = ["id", "ticket_id", "comments", "audits", "events", "type", "body", "public", "author_id", "users", "role",
         "tickets", "requester_id", "description", "via", "channel", "source", "conversation_parts", "part_type", "author",
         "conversations", "incoming", "private", "body_text", "messages", "role", "content", "from", "value",
         "instruction", "output", "history", "convo_id", "original", "delexed", "utterances", "speaker", "text",
         "dialogue_id", "turns", "utterance", "frames", "tool_calls", "function", "arguments", "created_at", "status"]
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                     st.sampled_from(["", "comment", "note", "user", "admin", "bot", "end-user", "agent", "Comment", "human",
                                      "gpt", "assistant", "USER", "SYSTEM", "action", "<p>hi</p>", "2024-01-01T00:00:00Z"]),
                     st.text(max_size=12))
_json = st.recursive(_scalars, lambda children: st.one_of(
    st.lists(children, max_size=4), st.dictionaries(st.sampled_from(_KEYS), children, max_size=6)), max_leaves=25)


def _check(path, fmt):
    report = ReadReport()
    try:
        conversations = list(read(path, fmt, report=report))
    except ReaderError as exc:
        assert str(path) in str(exc) or "option" in str(exc)
        return
    for conversation in conversations:
        assert conversation.turns, "a conversation without turns must be skipped, not yielded"
        assert conversation.source.get("file") == str(path)
        conversation.to_dict()  # serialisable


@pytest.mark.parametrize("fmt", sorted(set(READERS) - {"transcript", "table"}))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(values=st.lists(_json, min_size=1, max_size=4), as_lines=st.booleans())
def test_json_readers_survive_random_json(tmp_path, fmt, values, as_lines):
    path = tmp_path / ("in.jsonl" if as_lines else "in.json")
    if as_lines:
        path.write_text("\n".join(json.dumps(v) for v in values) + "\n", encoding="utf-8")
    else:
        path.write_text(json.dumps(values[0] if len(values) == 1 else values), encoding="utf-8")
    _check(path, fmt)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.sampled_from(list("abcAB :[]()*-=|#<>/\n\t0123456789.,!?")), max_size=300))
def test_transcript_reader_survives_random_text(tmp_path, text):
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    _check(path, "transcript")
    html = tmp_path / "t.html"
    html.write_text("<html><body>" + text.replace("\n", "<br>") + "</body></html>", encoding="utf-8")
    _check(html, "transcript")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["1", "2", ""]), st.sampled_from(["customer", "agent", "bot", "x", ""]),
                               st.text(alphabet=st.sampled_from(list('ab ,"\n')), max_size=10)), max_size=6))
def test_table_reader_survives_random_rows(tmp_path, rows):
    import csv

    path = tmp_path / "m.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["conversation_id", "role", "text"])
        writer.writerows(rows)
    _check(path, "table")


@settings(max_examples=200, deadline=None)
@given(html=st.lists(st.sampled_from(list("<>/!-[]&;#x0aph b=\"'divclass") + ["<p>", "</p>", "<br>", "<a href='u'>", "</a>",
                                                                               "<li>", "<ul>", "&amp;", "<![", "<!--", "-->", "<pre>",
                                                                               "<div class='message'>", "<b class='author'>"]),
                     max_size=40).map("".join))
def test_html_to_text_never_raises(html):
    from toolkit.readers.html import html_to_text, structured_chat_lines

    assert isinstance(html_to_text(html), str)
    structured_chat_lines(html)
