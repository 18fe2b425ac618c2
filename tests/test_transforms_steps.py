"""Each transform step on small hand-made conversations, with exact expected results."""

from __future__ import annotations

import pytest

from toolkit.model import Conversation, Participant, Speaker, ToolInvocation, Turn
from toolkit.transforms import (
    ConvertReport,
    FilterConversations,
    MapRoles,
    MergeConsecutive,
    Pipeline,
    RedactPII,
    RequireTurns,
    StripQuotedText,
    SystemPrompt,
    ToExamples,
    build_pipeline,
    strip_quoted,
    strip_signature,
)

C, A, B, S, N, T = Speaker.CUSTOMER, Speaker.AGENT, Speaker.BOT, Speaker.SYSTEM, Speaker.NOTE, Speaker.TOOL


def conv(*turns: tuple, **fields) -> Conversation:
    fields.setdefault("source", {"file": "samples/raw/x.json", "record": 3})
    return Conversation(id=fields.pop("id", "c1"), turns=[t if isinstance(t, Turn) else Turn(*t) for t in turns], **fields)


def run(step, conversation, report=None):
    report = report if report is not None else ConvertReport()
    return list(step([conversation], report)), report


# ----------------------------------------------------------------------------- roles


def test_map_roles_drops_notes_bots_and_system_events_and_counts_them():
    c = conv((S, "Eric joined the chat"), (C, "hi"), (B, "I'm a bot"), (N, "VIP, refund ok"), (A, "hello"))
    [out], report = run(MapRoles(), c)
    assert [(t.speaker, t.text) for t in out.turns] == [(C, "hi"), (A, "hello")]
    assert dict(report.turn_drops) == {"system-event": 1, "bot": 1, "internal-note": 1}


def test_map_roles_keep_bots_makes_them_agents():
    [out], _ = run(MapRoles(keep_bots=True), conv((C, "hi"), (B, "bot answer")))
    assert [t.speaker for t in out.turns] == [C, A]


def test_map_roles_refuses_to_expose_notes():
    with pytest.raises(ValueError, match="internal notes"):
        MapRoles({"note": "assistant"})
    with pytest.raises(ValueError, match="must be one of"):
        MapRoles({"bot": "robot"})


def test_map_roles_drop_authors_and_pattern():
    c = conv((C, "hi"), Turn(A, "Auto-reply: we got it", author="AutoResponder"), (A, "Chat ended"), (A, "real"))
    [out], report = run(MapRoles(drop_authors=["autoresponder"], drop_pattern=r"Chat (started|ended)"), c)
    assert [t.text for t in out.turns] == ["hi", "real"]
    assert report.turn_drops == {"dropped-author": 1, "system-event": 1}


# ----------------------------------------------------------------------------- merge


def test_merge_consecutive_joins_runs_and_drops_empty_turns():
    c = conv((C, "My order"), (C, "is late"), (A, "  "), (A, "Sorry!"), (A, "Checking."), (C, "ok"))
    [out], report = run(MergeConsecutive(), c)
    assert [(t.speaker, t.text) for t in out.turns] == [(C, "My order\n\nis late"), (A, "Sorry!\n\nChecking."), (C, "ok")]
    assert report.turn_drops == {"empty": 1}
    assert report.adjustments == {"merged-turns": 2}


def test_merge_never_merges_past_a_tool_call():
    call = ToolInvocation("lookup", {"id": 1}, id="c1")
    c = conv((C, "where is it"), (A, "Let me look"), (A, "", None, None, None, None, [call]), (A, "Found it"))
    [out], _ = run(MergeConsecutive(), c)
    # text + the tool-calling turn merge into one message; the call is not merged with the next turn
    assert [(t.text, [x.name for x in t.tool_calls]) for t in out.turns] == [
        ("where is it", []), ("Let me look", ["lookup"]), ("Found it", [])
    ]


# ----------------------------------------------------------------------------- quotes and signatures


def test_strip_gmail_quote_and_signoff():
    text = ("Yes, that worked, thank you.\n\nBest regards,\nJane Doe\nAcme Corp\n\n"
            "On Mon, Jan 5, 2024 at 10:02 AM Support <help@shop.com> wrote:\n> Please restart the router.\n> Thanks")
    assert StripQuotedText().clean(text) == "Yes, that worked, thank you."


def test_strip_outlook_original_message_and_from_block():
    assert strip_quoted("Done.\n\n-----Original Message-----\nFrom: a\nSent: b\nhello") == "Done.\n\n"
    outlook = "See below.\n\nFrom: Jane <j@x.com>\nSent: Monday, 3 June 2024 10:00\nTo: help@x.com\nSubject: Re: order\n\nold"
    assert strip_quoted(outlook).strip() == "See below."


def test_strip_wrapped_gmail_header_and_german_header():
    text = "Thanks!\n\nOn Mon, 3 Jun 2024 at 10:02, Jane Doe <jane@example.com>\nwrote:\n> hi"
    assert strip_quoted(text).strip() == "Thanks!"
    assert strip_quoted("Danke.\n\nAm 03.06.2024 um 10:02 schrieb Max <m@x.de>:\n> hallo").strip() == "Danke."


def test_strip_signature_separator_and_mobile_footer():
    assert strip_signature("It arrived today.\n\nSent from my iPhone").strip() == "It arrived today."
    assert strip_signature("Fixed, thanks\n-- \nJane Doe | +44 20 7946 0958").strip() == "Fixed, thanks"


def test_signoff_kept_when_it_is_not_a_signature_block():
    # "Thanks!" ending a question is content, not a signature; a sign-off line mid-text stays.
    assert StripQuotedText().clean("Can you help me reset my password?\nThanks!") == \
        "Can you help me reset my password?\nThanks!"
    text = "Regards,\nthe parcel never came and I want to know why this keeps happening to my orders every month?"
    assert StripQuotedText().clean(text) == text


def test_inline_quoted_lines_removed_answers_kept():
    text = "> Did you restart it?\nYes, twice.\n> Which model?\nThe X200."
    assert StripQuotedText().clean(text) == "Yes, twice.\nThe X200."


def test_strip_step_counts_changed_turns_and_only_touches_people():
    c = conv((C, "hi\n\nSent from my iPhone"), (A, "hello"), (T, "> raw tool output"))
    [out], report = run(StripQuotedText(), c)
    assert [t.text for t in out.turns] == ["hi", "hello", "> raw tool output"]
    assert report.adjustments == {"stripped-quotes-or-signature": 1}


# ----------------------------------------------------------------------------- filters


def test_filter_conversations_each_condition_reports_its_reason():
    base = dict(turns=[Turn(C, "q"), Turn(A, "a")])
    cases = [
        (FilterConversations(csat=["good"]), Conversation(id="1", csat={"score": "bad"}, **base), "csat-filtered"),
        (FilterConversations(csat=["good"]), Conversation(id="2", csat="offered", **base), "csat-missing"),
        (FilterConversations(min_csat=4), Conversation(id="3", csat=3, **base), "csat-filtered"),
        (FilterConversations(status=["solved"]), Conversation(id="4", status="open", **base), "status-filtered"),
        (FilterConversations(channel=["chat"]), Conversation(id="5", channel="email", **base), "channel-filtered"),
        (FilterConversations(language=["en"]), Conversation(id="6", language="de-DE", **base), "language-filtered"),
        (FilterConversations(exclude_tags=["spam"]), Conversation(id="7", tags=["Spam"], **base), "tag-filtered"),
        (FilterConversations(since="2024-01-01"), Conversation(id="8", created_at="2023-12-31T23:59:59Z", **base),
         "date-filtered"),
        (FilterConversations(until="2024-01-31"), Conversation(id="9", **base), "date-missing"),
    ]
    for step, conversation, reason in cases:
        out, report = run(step, conversation)
        assert out == [] and report.counts_by_reason() == {reason: 1}, (conversation.id, report.counts_by_reason())
        assert report.skipped[0].conversation_id == conversation.id


def test_filter_conversations_keeps_matches():
    step = FilterConversations(csat=["GOOD", "5"], status=["Solved"], channel=["email"], language=["en"], tags=["vip"],
                               since="2024-01-01", until="2024-01-31", min_csat=None)
    c = Conversation(id="1", csat={"score": "good"}, status="solved", channel="Email", language="en-GB", tags=["VIP"],
                     created_at="2024-01-31T23:00:00+00:00", turns=[Turn(C, "q"), Turn(A, "a")])
    out, report = run(step, c)
    assert out == [c] and report.skipped_total == 0
    # numeric rating through min_csat, and a float that is an integer
    assert run(FilterConversations(min_csat=4), Conversation(id="2", csat=4.0))[0]


def test_filter_rejects_bad_dates():
    with pytest.raises(ValueError, match="not an ISO 8601"):
        FilterConversations(since="last tuesday")
    with pytest.raises(ValueError, match="after until"):
        FilterConversations(since="2024-02-01", until="2024-01-01")


def test_require_turns_trims_trailing_and_leading_and_counts():
    c = conv((A, "Hi, welcome!"), (C, "question"), (A, "answer"), (C, "thanks, bye"))
    [out], report = run(RequireTurns(), c)
    assert [t.text for t in out.turns] == ["question", "answer"]
    assert report.turn_drops == {"leading-agent": 1, "trailing-unanswered": 1}


def test_require_turns_skip_reasons():
    assert run(RequireTurns(), conv((A, "only agent")))[1].counts_by_reason() == {"no-customer-message": 1}
    assert run(RequireTurns(), conv((C, "only customer")))[1].counts_by_reason() == {"no-agent-reply": 1}
    assert run(RequireTurns(end_with_agent="require"), conv((C, "q"), (A, "a"), (C, "q2")))[1].counts_by_reason() == \
        {"ends-without-agent-reply": 1}
    assert run(RequireTurns(min_turns=4), conv((C, "q"), (A, "a")))[1].counts_by_reason() == {"too-few-turns": 1}
    # an agent turn that only called a tool is not a reply
    call = ToolInvocation("lookup", {}, id="1")
    c = conv((C, "q"), Turn(A, "", tool_calls=[call]), Turn(T, "{}", tool_call_id="1"))
    assert run(RequireTurns(), c)[1].counts_by_reason() == {"no-agent-reply": 1}


# ----------------------------------------------------------------------------- system prompt


def test_system_prompt_from_file_replaces_source_prompt(tmp_path):
    prompt = tmp_path / "voice.txt"
    prompt.write_text("\ufeffYou are Acme's friendly support agent.\n", encoding="utf-8")
    c = conv((C, "q"), (A, "a"), metadata={"system_prompt": "old"})
    [out], report = run(SystemPrompt(file=prompt), c)
    assert out.metadata["system_prompt"] == "You are Acme's friendly support agent."
    assert report.adjustments == {"system-prompt-replaced": 1}
    [kept], _ = run(SystemPrompt("new", mode="keep"), c)
    assert kept.metadata["system_prompt"] == "old"


def test_system_prompt_file_errors_name_the_file(tmp_path):
    with pytest.raises(ValueError, match="missing.txt: system prompt file not found"):
        SystemPrompt(file=tmp_path / "missing.txt")
    empty = tmp_path / "empty.txt"
    empty.write_text("  \n")
    with pytest.raises(ValueError, match="empty.txt: system prompt file is empty"):
        SystemPrompt(file=empty)


# ----------------------------------------------------------------------------- examples


def test_to_examples_whole_conversation_with_tool_calls_and_provenance():
    call = ToolInvocation("lookup_order", {"order": "A-1001"}, id=None)
    c = conv((C, "Where is A-1001?"), Turn(A, "Checking.", tool_calls=[call]), Turn(T, '{"status":"shipped"}'),
             (A, "It shipped."), id="T-9", customer_id="u7", channel="email", tags=["shipping"], csat="good",
             metadata={"system_prompt": "Be brief."})
    [example], report = run(ToExamples(), c)
    assert [m.to_dict() for m in example.messages] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Where is A-1001?"},
        {"role": "assistant", "content": "Checking.", "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order":"A-1001"}'}}]},
        {"role": "tool", "content": '{"status":"shipped"}', "tool_call_id": "call_1"},
        {"role": "assistant", "content": "It shipped."},
    ]
    assert example.metadata == {
        "id": "x.json:T-9", "source_file": "samples/raw/x.json", "source_record": 3, "conversation_id": "T-9",
        "customer_id": "u7", "channel": "email", "tags": ["shipping"], "csat": "good",
    }


def test_to_examples_per_reply_masks_earlier_replies():
    c = conv((C, "q1"), (A, "a1"), (C, "q2"), (A, "a2"))
    examples, _ = run(ToExamples("per-reply"), c)
    assert [[(m.role, m.content, m.weight) for m in e.messages] for e in examples] == [
        [("user", "q1", None), ("assistant", "a1", None)],
        [("user", "q1", None), ("assistant", "a1", 0), ("user", "q2", None), ("assistant", "a2", None)],
    ]
    assert [e.metadata["id"] for e in examples] == ["x.json:c1#r1", "x.json:c1#r2"]
    assert [e.metadata["reply_index"] for e in examples] == [1, 2]


def test_to_examples_token_budget_split_truncate_skip():
    long = "word " * 60
    c = conv((C, "q1 " + long), (A, "a1 " + long), (C, "q2 " + long), (A, "a2 " + long), (C, "q3"), (A, "a3"))
    split, report = run(ToExamples(max_tokens=150), c)
    assert [[m.content.split()[0] for m in e.messages] for e in split] == [["q1", "a1"], ["q2", "a2", "q3", "a3"]]
    assert [e.metadata["id"] for e in split] == ["x.json:c1#part1", "x.json:c1#part2"]
    assert report.adjustments == {"split-to-token-budget": 1}
    truncated, report = run(ToExamples(max_tokens=150, overflow="truncate"), c)
    assert len(truncated) == 1 and report.adjustments == {"truncated-to-token-budget": 1}
    skipped, report = run(ToExamples(max_tokens=150, overflow="skip"), c)
    assert skipped == [] and report.counts_by_reason() == {"over-token-budget": 1}
    assert "o200k_base, estimate" in report.skipped[0].detail


def test_to_examples_per_reply_trims_context_to_budget():
    long = "word " * 60
    c = conv((C, "q1 " + long), (A, "a1 " + long), (C, "q2"), (A, "a2"))
    examples, report = run(ToExamples("per-reply", max_tokens=100), c)
    # reply 1 alone is over the budget: skipped and reported; reply 2 keeps only its own exchange
    assert [[m.content.split()[0] for m in e.messages] for e in examples] == [["q2", "a2"]]
    assert report.counts_by_reason() == {"over-token-budget": 1}
    assert report.adjustments == {"context-trimmed-to-token-budget": 1}


def test_to_examples_reports_unexpressible_conversations():
    _, report = run(ToExamples(), conv((C, "q"), Turn(T, "orphan result"), (A, "a")))
    assert report.counts_by_reason() == {"cannot-express": 1}
    assert "answers no tool call" in report.skipped[0].detail
    _, report = run(ToExamples(), conv((C, "q"), (N, "note"), (A, "a")))
    assert "map or drop it first" in report.skipped[0].detail


# ----------------------------------------------------------------------------- PII and pipeline


def test_redact_uses_participants_and_numbers_per_conversation():
    c = conv((C, "Hi, I'm Jane Doe, mail me at jane.doe@example.com or call +44 20 7946 0958. Order #88231 cost $42.50."),
             (A, "Thanks Jane, I emailed jane.doe@example.com."),
             participants=[Participant(name="Jane Doe", email="jane.doe@example.com"), Participant(name="Support")])
    [out], report = run(RedactPII(), c)
    user, agent = (t.text for t in out.turns)
    for secret in ("Jane", "Doe", "jane.doe@example.com", "7946"):
        assert secret not in user and secret not in agent
    assert "#88231" in user and "$42.50" in user
    assert "<EMAIL_1>" in user and "<EMAIL_1>" in agent and "<PERSON_1>" in agent
    assert report.adjustments == {"redacted-turns": 2}


def test_pipeline_checks_step_order_and_accepts_plain_generators():
    with pytest.raises(ValueError, match="put conversation steps before ToExamples"):
        Pipeline([ToExamples(), MapRoles()])

    def shout(items):
        for example in items:
            for message in example.messages:
                if message.role == "assistant":
                    message.content = message.content.upper()
            yield example

    pipeline = Pipeline([MapRoles(), ToExamples(), shout])
    [example] = list(pipeline([conv((C, "q"), (A, "answer"))]))
    assert example.messages[-1].content == "ANSWER"


def test_build_pipeline_rejects_unknown_options():
    with pytest.raises(TypeError, match="unknown pipeline option.*min_turn"):
        build_pipeline(min_turn=3)


def test_author_signature_block_removed_only_when_it_is_a_name_block():
    step = StripQuotedText()
    assert step.clean("Anything else?\n\nMarco Rossi\nBrightBank Customer Care", "Marco Rossi") == "Anything else?"
    assert step.clean("Done.\n\n- Marco", "Marco Rossi") == "Done."
    kept = "Hi!\n\nMarco will call you back tomorrow about the refund."
    assert step.clean(kept, "Marco Rossi") == kept
    assert step.clean("Anything else?\n\nMarco Rossi", None) == "Anything else?\n\nMarco Rossi"
    c = conv(Turn(A, "Fixed.\n\nDana\nSupport team", author="Dana Kim"), (C, "thanks"))
    [out], _ = run(StripQuotedText(), c)
    assert out.turns[0].text == "Fixed."


def test_participant_identifiers_handles_roles_and_user_handles():
    from toolkit.transforms import participant_identifiers

    c = Conversation(id="1", participants=[
        Participant(name=n) for n in ("jules_k", "Support Team", "john.smith", "Marco Rossi", "BrightBank Customer Care",
                                      "tom88", "Agent Tom", "Anna from Support", "José García", "Customer")
    ] + [Participant(email="jane@example.com", phone="+44 20 7946 0958")])
    names, emails, phones = participant_identifiers(c)
    assert names == ["Anna", "John Smith", "José García", "Jules", "Marco Rossi", "Tom"]
    assert emails == ["jane@example.com"] and phones == ["+44 20 7946 0958"]


def test_redact_greeting_of_a_user_handle():
    c = conv(Turn(C, "where is my parcel", author="jules_k"), Turn(A, "Sorry to hear that, Jules!", author="Support Team"))
    [out], _ = run(RedactPII(), c)
    assert out.turns[1].text == "Sorry to hear that, <PERSON_1>!"


def test_default_pipeline_never_modifies_the_callers_conversations():
    call = ToolInvocation("lookup", {"email": "jane@example.com"}, id="c1")
    c = conv(Turn(S, "joined"), Turn(C, "Hi, I'm Jane Doe\n\nSent from my iPhone", author="Jane Doe"), (C, "jane@example.com"),
             Turn(A, "Checking", tool_calls=[call]), Turn(T, "{}", tool_call_id="c1"), (A, "Done, Jane.\n\nBest,\nDana"),
             (C, "thanks"), participants=[Participant(name="Jane Doe", email="jane@example.com")])
    before = c.to_dict()
    examples = list(build_pipeline(system_prompt="Be kind.", examples="per-reply")([c]))
    assert examples and c.to_dict() == before
