"""Round trips: OpenAI chat -> Conversation (reader) -> OpenAI chat (pipeline + writer) is lossless
when the cleaning steps are off, and the cleaning steps are stable (idempotent)."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolkit
from toolkit.conversion import ConvertReport, convert
from toolkit.io.jsonl import write_jsonl
from toolkit.transforms import StripQuotedText

PASSTHROUGH = dict(redact=False, merge=False, strip_quotes=False, strip_signatures=False, min_turns=0,
                   end_with_agent="off", leading_agent="keep")

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40)
name = st.from_regex(r"[a-z][a-z_]{0,11}", fullmatch=True)
scalar = st.one_of(st.integers(-1000, 1000), st.booleans(), text)


@st.composite
def exchanges(draw, index: int):
    user = {"role": "user", "content": draw(text)}
    if draw(st.booleans()):
        reply = {"role": "assistant", "content": draw(text)}
        weight = draw(st.sampled_from([None, 0, 1]))
        if weight is not None:
            reply["weight"] = weight
        return [user, reply], []
    calls, results, tools = [], [], []
    for n in range(draw(st.integers(1, 2))):
        fn = draw(name)
        call_id = f"call_{index}_{n}"
        args = draw(st.dictionaries(name, scalar, max_size=3))
        calls.append({"id": call_id, "type": "function",
                      "function": {"name": fn, "arguments": orjson.dumps(args).decode()}})
        results.append({"role": "tool", "content": draw(text), "tool_call_id": call_id})
        tools.append(fn)
    return [user, {"role": "assistant", "content": None, "tool_calls": calls}, *results,
            {"role": "assistant", "content": draw(text)}], tools


@st.composite
def openai_examples(draw):
    messages = []
    if draw(st.booleans()):
        messages.append({"role": "system", "content": draw(text)})
    functions: list[str] = []
    for index in range(draw(st.integers(1, 3))):
        part, called = draw(exchanges(index))
        messages.extend(part)
        functions.extend(f for f in called if f not in functions)
    record = {"messages": messages}
    if functions:
        record["tools"] = [{"type": "function", "function": {"name": f, "parameters": {"type": "object", "properties": {}}}}
                           for f in functions]
    record["metadata"] = {"id": f"ex-{draw(st.integers(0, 10**6))}", "conversation_id": draw(name), "channel": "chat"}
    return record


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(openai_examples(), min_size=1, max_size=4))
def test_openai_to_conversation_to_openai_is_lossless(tmp_path, records):
    path = tmp_path / "in.jsonl"
    write_jsonl(path, records)
    report = ConvertReport()
    out = list(convert(toolkit.read(path, format="openai"), to="openai", report=report, **PASSTHROUGH))
    assert out == records
    assert report.skipped_total == 0 and report.examples_written == len(records)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(openai_examples(), min_size=1, max_size=3))
def test_openai_round_trip_through_the_cli_is_byte_identical(tmp_path, cli_run, records):
    source = tmp_path / "in.jsonl"
    write_jsonl(source, records)
    out = tmp_path / "out.jsonl"
    result = cli_run(["convert", "--isolated", "--from", "openai", "--to", "openai", "-o", out, source, "-q",
                      "--no-redact", "--no-merge", "--keep-quotes", "--keep-signatures", "--min-turns", "0",
                      "--end-with-agent", "off", "--leading-agent", "keep"])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == source.read_bytes()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(text, st.sampled_from([
    "On Mon, Jan 5, 2024 at 10:02 AM Jane <jane@x.com> wrote:", "> quoted line", "-- ", "Sent from my iPhone",
    "Best regards,", "Jane Doe", "Thanks!", "-----Original Message-----", "From: a@b.c", "Sent: Monday",
])), min_size=1, max_size=12))
def test_strip_quotes_is_idempotent_and_never_grows_text(lines):
    step = StripQuotedText()
    once = step.clean("\n".join(lines))
    assert step.clean(once) == once
    assert len(once) <= len("\n".join(lines))
