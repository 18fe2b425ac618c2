"""Every writer: the records it makes validate for its target, what it refuses, how it writes files."""

from __future__ import annotations

import json

import orjson
import pytest

from toolkit.conversion import ConvertReport, convert_examples
from toolkit.model import Example
from toolkit.validation import validate
from toolkit.writers import WRITERS, CannotExpress, get_writer, read_parquet_examples, sidecar_path
from toolkit.writers.mistral import mistral_call_id

META = {"id": "t.json:7", "source_file": "t.json", "source_record": 7, "conversation_id": "7", "customer_id": "u1"}

PLAIN = {
    "messages": [
        {"role": "system", "content": "You are Acme's support agent."},
        {"role": "user", "content": "My parcel is late."},
        {"role": "assistant", "content": "Sorry to hear that! Could you share the order number?"},
        {"role": "user", "content": "It's A-1001."},
        {"role": "assistant", "content": "Thanks, I've asked the courier to prioritise it."},
    ],
    "metadata": META,
}
TOOLS = {
    "messages": [
        {"role": "user", "content": "Where is A-1001?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "lookup_order", "arguments": '{"order":"A-1001"}'}}]},
        {"role": "tool", "content": '{"status":"shipped"}', "tool_call_id": "call_1"},
        {"role": "assistant", "content": "It shipped yesterday."},
    ],
    "tools": [{"type": "function", "function": {"name": "lookup_order", "parameters": {
        "type": "object", "properties": {"order": {"type": "string"}}, "required": ["order"]}}}],
    "metadata": META,
}
WEIGHTED = {
    "messages": [
        {"role": "user", "content": "q1"},
        {"role": "assistant", "content": "a1", "weight": 0},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a2"},
    ],
    "metadata": META,
}

JSONL_TARGETS = ["openai", "azure", "together", "fireworks", "mistral", "vertex", "bedrock", "sharegpt", "trl"]
TOOL_TARGETS = ["openai", "azure", "together", "fireworks", "mistral", "vertex", "sharegpt", "trl"]
WEIGHT_TARGETS = ["openai", "azure", "together", "fireworks", "mistral"]


def encode(target: str, record: dict, **options) -> dict:
    return get_writer(target, **options).encode(Example.from_dict(record))


def problems(records: list[dict], target: str) -> list[tuple[str, str, str]]:
    clean = []
    for record in records:
        record = dict(record)
        if not WRITERS[target].metadata_inline:
            record.pop("metadata", None)
        clean.append(record)
    return [(d.code, d.message, d.pointer) for d in validate(clean, target=target, min_examples=False)]


@pytest.mark.parametrize("target", JSONL_TARGETS)
def test_plain_example_validates(target):
    record = encode(target, PLAIN)
    assert problems([record], target) == []


@pytest.mark.parametrize("target", TOOL_TARGETS)
def test_tool_example_validates(target):
    record = encode(target, TOOLS)
    assert problems([record], target) == []


@pytest.mark.parametrize("target", WEIGHT_TARGETS)
def test_weighted_example_validates_and_keeps_weight(target):
    record = encode(target, WEIGHTED)
    assert problems([record], target) == []
    assert record["messages"][1]["weight"] == 0


def test_trl_prompt_completion_validates():
    record = encode("trl", WEIGHTED, style="prompt-completion")
    assert [m["content"] for m in record["prompt"]] == ["q1", "a1", "q2"]
    assert record["completion"] == [{"role": "assistant", "content": "a2"}]
    assert problems([record], "trl") == []


@pytest.mark.parametrize("target,code", [("vertex", "vertex-weight"), ("bedrock", "bedrock-weight"),
                                         ("sharegpt", "sharegpt-weight"), ("trl", "trl-weight")])
def test_targets_without_weights_refuse_masked_replies(target, code):
    with pytest.raises(CannotExpress) as info:
        encode(target, WEIGHTED)
    assert info.value.code == code
    assert str(info.value).startswith("conversation 7 (t.json:7): ")
    assert "weight 0" in str(info.value)


def test_bedrock_refuses_tools_and_merges_consecutive_roles():
    with pytest.raises(CannotExpress, match="bedrock training data has no tool calls"):
        encode("bedrock", TOOLS)
    writer = get_writer("bedrock")
    adjusted = []
    writer.on_adjust = adjusted.append
    record = writer.encode(Example.from_dict({"messages": [
        {"role": "system", "content": "S"}, {"role": "user", "content": "a"}, {"role": "user", "content": "b"},
        {"role": "assistant", "content": "c"}]}))
    assert record == {"system": "S", "messages": [{"role": "user", "content": "a\n\nb"}, {"role": "assistant", "content": "c"}]}
    assert adjusted == ["merged-consecutive-messages"]
    with pytest.raises(CannotExpress, match="strict user/assistant alternation"):
        encode("bedrock", {"messages": [{"role": "assistant", "content": "hi"}, {"role": "user", "content": "q"},
                                        {"role": "assistant", "content": "a"}]})


def test_vertex_shape_function_calls_and_wrapped_results():
    record = encode("vertex", {**TOOLS, "messages": TOOLS["messages"][:2] + [
        {"role": "tool", "content": "not json", "tool_call_id": "call_1"}] + TOOLS["messages"][3:]})
    assert record["contents"] == [
        {"role": "user", "parts": [{"text": "Where is A-1001?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "lookup_order", "args": {"order": "A-1001"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"name": "lookup_order", "response": {"content": "not json"}}}]},
        {"role": "model", "parts": [{"text": "It shipped yesterday."}]},
    ]
    assert record["tools"] == [{"functionDeclarations": [{"name": "lookup_order", "parameters": TOOLS["tools"][0]["function"]["parameters"]}]}]
    assert encode("vertex", PLAIN)["systemInstruction"] == {"role": "system", "parts": [{"text": "You are Acme's support agent."}]}


def test_mistral_rewrites_tool_call_ids_stably():
    record = encode("mistral", TOOLS)
    call_id = record["messages"][1]["tool_calls"][0]["id"]
    assert len(call_id) == 9 and call_id.isalnum()
    assert record["messages"][2]["tool_call_id"] == call_id
    assert encode("mistral", TOOLS) == record  # deterministic
    assert "content" not in record["messages"][1]
    assert mistral_call_id("abcDEF123", set()) == "abcDEF123"  # already valid ids are kept
    assert mistral_call_id("abcDEF123", {"abcDEF123"}) != "abcDEF123"


def test_sharegpt_shape_and_refusals():
    record = encode("sharegpt", TOOLS)
    assert record["conversations"] == [
        {"from": "human", "value": "Where is A-1001?"},
        {"from": "function_call", "value": '{"name": "lookup_order", "arguments": {"order": "A-1001"}}'},
        {"from": "observation", "value": '{"status":"shipped"}'},
        {"from": "gpt", "value": "It shipped yesterday."},
    ]
    assert json.loads(record["tools"]) == [TOOLS["tools"][0]["function"]]
    both = {"messages": [{"role": "user", "content": "q"}, {**TOOLS["messages"][1], "content": "Let me check."},
                         TOOLS["messages"][2], TOOLS["messages"][3]]}
    with pytest.raises(CannotExpress, match="has text and a tool call"):
        encode("sharegpt", both)


def test_trl_prompt_completion_refuses_trainable_context():
    with pytest.raises(CannotExpress, match="trainable assistant reply inside the prompt"):
        encode("trl", PLAIN, style="prompt-completion")
    record = encode("trl", TOOLS)
    assert record["messages"][1]["tool_calls"][0]["function"]["arguments"] == {"order": "A-1001"}


@pytest.mark.parametrize("target", ["together", "fireworks"])
def test_system_message_only_first(target):
    late_system = {"messages": [{"role": "user", "content": "q"}, {"role": "system", "content": "s"},
                                {"role": "assistant", "content": "a"}]}
    with pytest.raises(CannotExpress, match="system message"):
        encode(target, late_system)


def test_common_refusals():
    with pytest.raises(CannotExpress, match="no assistant message"):
        encode("openai", {"messages": [{"role": "user", "content": "q"}]})
    with pytest.raises(CannotExpress, match="image_url content"):
        encode("openai", {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]},
                                       {"role": "assistant", "content": "a"}]})
    with pytest.raises(CannotExpress, match="role 'developer'"):
        encode("azure", {"messages": [{"role": "developer", "content": "d"}, {"role": "user", "content": "q"},
                                      {"role": "assistant", "content": "a"}]})


def test_refusals_are_reported_not_raised_by_convert_examples():
    report = ConvertReport()
    out = list(convert_examples([PLAIN, TOOLS, WEIGHTED], "bedrock", report=report))
    assert len(out) == 1 and report.examples_written == 1
    assert report.counts_by_reason() == {"bedrock-tools": 1, "bedrock-weight": 1}
    assert {s.stage for s in report.skipped} == {"write"}
    assert report.skipped[0].describe().startswith("t.json:7 conversation 7: bedrock-tools")


# ----------------------------------------------------------------------------- files


def test_azure_writes_a_bom(tmp_path):
    path = tmp_path / "train.jsonl"
    writer = get_writer("azure")
    assert writer.write(path, [writer.encode(Example.from_dict(PLAIN))]) == 1
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf{") and data.endswith(b"\n") and data.count(b"\n") == 1


@pytest.mark.parametrize("target", ["vertex", "bedrock"])
def test_closed_schema_targets_write_a_line_aligned_metadata_sidecar(tmp_path, target):
    path = tmp_path / "train.jsonl"
    writer = get_writer(target)
    records = [writer.encode(Example.from_dict({**PLAIN, "metadata": {**META, "id": f"t.json:{i}"}})) for i in range(3)]
    assert writer.write(path, records) == 3
    lines = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert all("metadata" not in line for line in lines)
    side = sidecar_path(path)
    assert side.name == "train.metadata.jsonl"
    assert [orjson.loads(line) for line in side.read_bytes().splitlines()] == [
        {"line": i + 1, "metadata": {**META, "id": f"t.json:{i}"}} for i in range(3)
    ]
    # no provenance, no sidecar
    other = tmp_path / "bare.jsonl"
    writer.write(other, [writer.encode(Example.from_dict({"messages": PLAIN["messages"]}))])
    assert not sidecar_path(other).exists()


def test_sharegpt_dataset_info_written_and_merged(tmp_path):
    info = tmp_path / "dataset_info.json"
    info.write_text(json.dumps({"alpaca_demo": {"file_name": "alpaca.json"}}))
    path = tmp_path / "support.jsonl"
    writer = get_writer("sharegpt")
    records = [writer.encode(Example.from_dict(PLAIN)), writer.encode(Example.from_dict(TOOLS))]
    writer.write(path, records)
    assert writer.finish(path, 2) == [info]
    assert json.loads(info.read_text()) == {
        "alpaca_demo": {"file_name": "alpaca.json"},
        "support": {
            "file_name": "support.jsonl",
            "formatting": "sharegpt",
            "columns": {"messages": "conversations", "system": "system", "tools": "tools"},
            "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt",
                     "observation_tag": "observation", "function_tag": "function_call", "system_tag": "system"},
        },
    }
    info.write_text("[1, 2]")
    with pytest.raises(ValueError, match="dataset_info.json: is not a JSON object"):
        writer.finish(path, 2)


def test_write_is_atomic_when_the_stream_fails(tmp_path):
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"old\n")
    writer = get_writer("openai")

    def broken():
        yield writer.encode(Example.from_dict(PLAIN))
        raise RuntimeError("reader died")

    with pytest.raises(RuntimeError):
        writer.write(path, broken())
    assert path.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["train.jsonl"]


def test_parquet_round_trip_and_determinism(tmp_path):
    writer = get_writer("parquet")
    examples = [Example.from_dict(r) for r in (PLAIN, TOOLS, WEIGHTED)]
    first, second = tmp_path / "a.parquet", tmp_path / "b.parquet"
    writer.write(first, [writer.encode(e) for e in examples])
    writer.write(second, [writer.encode(e) for e in examples])
    assert first.read_bytes() == second.read_bytes()
    back = list(read_parquet_examples(first))
    assert [e.to_dict() for e in back] == [e.to_dict() for e in examples]
    for example in back:  # and what comes back is a valid OpenAI example
        assert problems([example.to_dict()], "openai") == []


def test_hf_save_to_disk_loads_back_and_is_deterministic(tmp_path):
    from datasets import load_from_disk

    writer = get_writer("hf")
    examples = [Example.from_dict(r) for r in (PLAIN, TOOLS)]
    out = tmp_path / "ds"
    assert writer.write(out, [writer.encode(e) for e in examples]) == 2
    state = (out / "train" / "state.json").read_text()
    writer.write(out, [writer.encode(e) for e in examples])  # replaces the folder
    assert (out / "train" / "state.json").read_text() == state
    dataset = load_from_disk(str(out))
    assert list(dataset) == ["train"] and dataset["train"].num_rows == 2
    row = dataset["train"][1]
    assert row["messages"][1]["tool_calls"][0]["function"]["name"] == "lookup_order"
    assert json.loads(row["metadata"]) == META
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]  # no temp folders left behind


def test_hf_never_replaces_a_folder_it_did_not_write(tmp_path):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    writer = get_writer("hf")
    with pytest.raises(ValueError, match="not a dataset saved by save_to_disk"):
        writer.write(precious, [writer.encode(Example.from_dict(PLAIN))])
    assert (precious / "notes.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="split name 'my split' is not valid"):
        get_writer("hf", split="my split")


def test_sharegpt_parallel_calls_and_results():
    record = encode("sharegpt", {"messages": [
        {"role": "user", "content": "Status of A-1 and A-2?"},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"order":"A-1"}'}},
            {"id": "c2", "type": "function", "function": {"name": "lookup", "arguments": '{"order":"A-2"}'}}]},
        {"role": "tool", "content": "shipped", "tool_call_id": "c1"},
        {"role": "tool", "content": "packed", "tool_call_id": "c2"},
        {"role": "assistant", "content": "A-1 shipped, A-2 is packed."},
    ]})
    assert [t["from"] for t in record["conversations"]] == ["human", "function_call", "observation", "gpt"]
    assert json.loads(record["conversations"][1]["value"]) == [
        {"name": "lookup", "arguments": {"order": "A-1"}}, {"name": "lookup", "arguments": {"order": "A-2"}}]
    assert json.loads(record["conversations"][2]["value"]) == ["shipped", "packed"]


def test_gzip_output_is_deterministic(tmp_path):
    writer = get_writer("openai")
    records = [writer.encode(Example.from_dict(r)) for r in (PLAIN, TOOLS)]
    writer.write(tmp_path / "a.jsonl.gz", records)
    writer.write(tmp_path / "b.jsonl.gz", records)
    import gzip

    assert (tmp_path / "a.jsonl.gz").read_bytes() == (tmp_path / "b.jsonl.gz").read_bytes()
    assert gzip.decompress((tmp_path / "a.jsonl.gz").read_bytes()).count(b"\n") == 2
