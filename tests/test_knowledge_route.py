"""`ftkit route`: exact outputs, treatments, determinism, bad input, and the ABCD guidelines KB."""

from __future__ import annotations

import json
from pathlib import Path

FILES = ("behavior.jsonl", "knowledge.jsonl", "kb_candidates.jsonl", "summary.json")


def chat(user: str, assistant: str, ex_id: str, conversation: str | None = None) -> dict:
    meta = {"id": ex_id}
    if conversation:
        meta["conversation_id"] = conversation
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}], "metadata": meta}


RECORDS = [
    chat("How long is the free trial?", "The free trial lasts 14 days.", "e1", "c1"),
    chat("Thanks!", "You're welcome! Have a great day.", "e2", "c1"),
    chat("How long is the free trial?", "The free trial lasts 14 days.", "e3", "c2"),
    chat("The app crashes.", "Sorry about that! Please try restarting it and clearing the cache.", "e4", "c3"),
]


def write(path: Path, records: list[dict], extra: str = "") -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + extra, encoding="utf-8")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_route_writes_the_four_outputs_exactly(tmp_path, cli_run):
    src = write(tmp_path / "data.jsonl", RECORDS)
    out = tmp_path / "out"
    result = cli_run(["route", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "routed 4 examples: 2 behavior, 2 knowledge (50.0% of the dataset teaches facts" in result.output
    assert read_jsonl(out / "behavior.jsonl") == [RECORDS[1], RECORDS[3]]
    knowledge = read_jsonl(out / "knowledge.jsonl")
    assert [k["metadata"]["id"] for k in knowledge] == ["e1", "e3"]
    assert knowledge[0]["messages"] == RECORDS[0]["messages"]
    info = knowledge[0]["metadata"]["knowledge"]
    assert info["source"] == {"file": str(src), "line": 1}
    assert info["turns"][0]["pointer"] == "/messages/1/content"
    assert [(s["text"], s["kind"], s["rule"]) for s in info["turns"][0]["spans"]] == [
        ("free trial", "policy", "K004"), ("14 days", "duration", "K001")]
    candidates = read_jsonl(out / "kb_candidates.jsonl")
    assert len(candidates) == 1  # the same Q/A from two conversations is one document
    assert candidates[0]["question"] == "How long is the free trial?"
    assert candidates[0]["answer"] == "The free trial lasts 14 days."
    assert candidates[0]["source_ids"] == ["c1", "c2"]
    assert [f["value"] for f in candidates[0]["facts"]] == ["free trial", "14 days"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["examples"] == 4 and summary["knowledge"] == 2 and summary["knowledge_share"] == 0.5
    assert summary["top_facts"] == [{"kind": "duration", "value": "14 days", "text": "14 days", "examples": 2}]
    assert summary["by_rule"] == {"K001": 2, "K004": 2}


def test_route_is_byte_deterministic(tmp_path, ftkit_subprocess):
    src = write(tmp_path / "data.jsonl", RECORDS * 3)
    outputs = []
    for name in ("a", "b"):
        proc = ftkit_subprocess(["route", str(src), "-o", str(tmp_path / name), "--template"])
        assert proc.returncode == 0, proc.stderr
        outputs.append({f: (tmp_path / name / f).read_bytes() for f in FILES})
    assert outputs[0] == outputs[1]
    assert not list(tmp_path.glob("a/.*.tmp"))  # atomic writes leave no temp files


def test_mask_keeps_flagged_examples_with_weight_zero(tmp_path, cli_run):
    record = {"messages": [
        {"role": "user", "content": "How long is the trial?"},
        {"role": "assistant", "content": "The free trial lasts 14 days."},
        {"role": "user", "content": "Thanks"},
        {"role": "assistant", "content": "You're welcome!"}]}
    src = write(tmp_path / "data.jsonl", [record])
    result = cli_run(["route", str(src), "-o", str(tmp_path / "out"), "--mask"])
    assert result.exit_code == 0
    behavior = read_jsonl(tmp_path / "out" / "behavior.jsonl")
    assert [m.get("weight") for m in behavior[0]["messages"]] == [None, 0, None, None]
    assert len(read_jsonl(tmp_path / "out" / "knowledge.jsonl")) == 1


def test_template_replaces_values_with_named_placeholders(tmp_path, cli_run):
    src = write(tmp_path / "data.jsonl", [
        chat("How long do refunds take?", "Refunds arrive within 5-7 business days and cost $0 to process.", "t1")])
    result = cli_run(["route", str(src), "-o", str(tmp_path / "out"), "--template"])
    assert result.exit_code == 0
    behavior = read_jsonl(tmp_path / "out" / "behavior.jsonl")
    assert behavior[0]["messages"][1]["content"] == (
        "Refunds arrive within {{refund_window}} and cost {{refund_price}} to process.")
    assert behavior[0]["metadata"]["template_values"] == {"refund_window": "5-7 business days", "refund_price": "$0"}
    assert "weight" not in behavior[0]["messages"][1]


def test_ground_inserts_the_kb_passage_raft(tmp_path, cli_run):
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "trial.md").write_text("# Trial\n\nThe free trial lasts 14 days and includes every Pro feature.\n", encoding="utf-8")
    src = write(tmp_path / "data.jsonl", [
        chat("How long is the free trial?", "The free trial lasts 14 days and includes every Pro feature.", "g1"),
        chat("What's the rate limit?", "The API allows up to 600 requests per minute.", "g2")])
    result = cli_run(["route", str(src), "-o", str(tmp_path / "out"), "--ground", "--kb", str(kb)])
    assert result.exit_code == 0, result.output
    behavior = read_jsonl(tmp_path / "out" / "behavior.jsonl")
    assert [b["metadata"]["id"] for b in behavior] == ["g1"]
    system = behavior[0]["messages"][0]
    assert system["role"] == "system"
    assert "(trial.md#Trial) The free trial lasts 14 days" in system["content"]
    assert behavior[0]["metadata"]["grounded_from"] == ["trial.md#Trial"]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["treated"] == {"grounded": 1} and summary["not_groundable"] == 1


def test_bad_lines_are_reported_and_counted_never_dropped_silently(tmp_path, cli_run):
    src = write(tmp_path / "data.jsonl", RECORDS[:2], extra='{"messages": "nope"}\nnot json\n')
    result = cli_run(["route", str(src), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert f"{src}:3: skipped: field 'messages' is missing or not a non-empty list" in result.output
    assert f"{src}:4: skipped: invalid JSON" in result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert [(s["line"], s["code"]) for s in summary["skipped"]] == [(3, "S001"), (4, "J001")]
    assert summary["examples"] == 2


def test_usage_errors(tmp_path, cli_run):
    src = write(tmp_path / "data.jsonl", RECORDS)
    result = cli_run(["route", str(src), "-o", str(tmp_path / "out"), "--ground"])
    assert result.exit_code == 2 and "--ground needs a knowledge base" in result.output
    result = cli_run(["route", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "missing.jsonl: no such file" in result.output
    result = cli_run(["route", str(src), "-o", str(tmp_path / "out"), "--kb", str(tmp_path / "nokb")])
    assert result.exit_code == 2 and "no such knowledge-base file or folder" in result.output


def test_config_section_sets_threshold_and_allow(tmp_path, cli_run, monkeypatch):
    src = write(tmp_path / "data.jsonl", [chat("How do I reach you?", "Write to help@brightline.example anytime.", "a1")])
    (tmp_path / "ftkit.toml").write_text('[route]\nallow = ["help@brightline.example"]\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = cli_run(["route", str(src), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0
    assert len(read_jsonl(tmp_path / "out" / "behavior.jsonl")) == 1


def abcd_examples(corpora: Path) -> list[dict]:
    """One example per ABCD agent turn (as `ftkit convert --examples per-reply` makes them): the conversation so
    far as context with earlier agent turns at weight 0, action turns as tool results."""
    out = []
    for conversation in json.loads((corpora / "abcd" / "abcd_sample.json").read_text()):
        messages: list[dict] = []
        for index, (speaker, text) in enumerate(conversation["original"]):
            if speaker == "customer":
                messages.append({"role": "user", "content": text})
            elif speaker == "action":
                messages.append({"role": "tool", "content": text})
            else:
                out.append({"messages": messages + [{"role": "assistant", "content": text}],
                            "metadata": {"id": f"{conversation['convo_id']}-{index}",
                                         "conversation_id": str(conversation["convo_id"])}})
                messages.append({"role": "assistant", "content": text, "weight": 0})
    return out


def test_abcd_agent_turns_restating_guidelines_go_to_knowledge_with_the_guideline_as_source(corpora, tmp_path, cli_run):
    src = write(tmp_path / "abcd.jsonl", abcd_examples(corpora))
    kb = corpora / "abcd" / "guidelines.json"
    result = cli_run(["route", str(src), "-o", str(tmp_path / "out"), "--kb", str(kb)])
    assert result.exit_code == 0, result.output
    knowledge = {k["metadata"]["id"]: k for k in read_jsonl(tmp_path / "out" / "knowledge.jsonl")}
    # the 90-day return window (bronze members) and the 7-day promo-code validity are guideline policy
    assert {"3592-17", "3695-16"} <= set(knowledge)
    sources_90 = [s["source"] for s in knowledge["3592-17"]["metadata"]["knowledge"]["kb_sources"]]
    assert sources_90 and all(s.startswith("guidelines.json: ") and "Membership Privileges" in s for s in sources_90)
    passage = knowledge["3592-17"]["metadata"]["knowledge"]["kb_sources"][0]["passage"]
    assert "90 days" in passage
    sources_7 = [s["source"] for s in knowledge["3695-16"]["metadata"]["knowledge"]["kb_sources"]]
    assert sources_7 == ["guidelines.json: Purchase Dispute > Promo Code Invalid > N/A"]
    behavior_ids = {b["metadata"]["id"] for b in read_jsonl(tmp_path / "out" / "behavior.jsonl")}
    for greeting in ("3592-0", "3592-1", "9489-0", "3695-20"):
        assert greeting in behavior_ids
    candidates = read_jsonl(tmp_path / "out" / "kb_candidates.jsonl")
    promo = next(c for c in candidates if "promo codes expire" in c["answer"])
    assert promo["source_ids"] == ["3695"] and promo["kb_sources"] == sources_7
    assert promo["question"] == "No, I just want to see how long they last for."


def test_config_errors_and_stdin(tmp_path, cli_run, monkeypatch):
    (tmp_path / "ftkit.toml").write_text("[route]\ntreshold = 0.7\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    src = write(tmp_path / "data.jsonl", RECORDS)
    result = cli_run(["route", str(src), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "route" in result.output and "treshold" in result.output
    (tmp_path / "ftkit.toml").write_text("[route]\nthreshold = 0.5\n", encoding="utf-8")
    data = "".join(json.dumps(r) + "\n" for r in RECORDS)
    result = cli_run(["route", "-", "-o", str(tmp_path / "out"), "--output-format", "json"], input=data)
    assert result.exit_code == 0
    assert json.loads(result.stdout)["knowledge"] == 2


def test_route_judges_every_trainable_turn_of_converted_abcd_conversations(corpora, tmp_path, cli_run):
    """The real pipeline: `ftkit convert` makes one example per conversation; every trained turn counts."""
    converted = tmp_path / "abcd.jsonl"
    result = cli_run(["convert", str(corpora / "abcd" / "abcd_sample.json"), "--isolated", "-o", str(converted)])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    result = cli_run(["route", str(converted), "-o", str(out), "--kb", str(corpora / "abcd" / "guidelines.json")])
    assert result.exit_code == 0, result.output
    knowledge = read_jsonl(out / "knowledge.jsonl")
    sentences = {s["sentence"]: s["source"] for k in knowledge for s in k["metadata"]["knowledge"]["kb_sources"]}
    ninety = next(src for sentence, src in sentences.items() if "more than 90 days" in sentence)
    promo = next(src for sentence, src in sentences.items() if "promo codes expire after 7 days" in sentence)
    assert ninety.startswith("guidelines.json: ") and "Membership Privileges" in ninety
    assert promo == "guidelines.json: Purchase Dispute > Promo Code Invalid > N/A"
    # only the final turn: a goodbye, nothing to route
    result = cli_run(["route", str(converted), "-o", str(tmp_path / "final"), "--turns", "final",
                      "--kb", str(corpora / "abcd" / "guidelines.json")])
    assert read_jsonl(tmp_path / "final" / "knowledge.jsonl") == []
