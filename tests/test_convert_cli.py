"""``ftkit convert`` on the real public corpora, and the command's options, config and errors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import orjson
import pytest

import toolkit
from toolkit.conversion import ConvertReport, convert
from toolkit.model import Speaker
from toolkit.validation import validate

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples" / "raw"

PASSTHROUGH = dict(redact=False, merge=False, strip_quotes=False, strip_signatures=False, min_turns=0,
                   end_with_agent="off", leading_agent="keep")

CORPORA_SOURCES = {
    # name: (files relative to corpora, format, reader options, targets to validate)
    "zendesk": (["zendesk/ticket_audits_resp0.json"], "zendesk",
                {"users": ["zendesk/incremental_users_resp2.json", "zendesk/incremental_users_resp3.json"]},
                ["openai", "bedrock"]),
    "intercom": (["intercom/intercom_2.14_conversation_example.json"], "intercom", {}, ["openai"]),
    "abcd": (["abcd/abcd_sample.json"], "abcd", {}, ["openai", "mistral", "vertex"]),
    "taskmaster": (["taskmaster/TM-4-2024_data_07.json"], "taskmaster", {}, ["openai", "together", "trl"]),
    "sgd": (["sgd/dev_dialogues_001.json"], "sgd", {}, ["openai", "together"]),
}


def _resolve(corpora: Path, name: str) -> tuple[list[Path], str, dict]:
    files, fmt, options, _ = CORPORA_SOURCES[name]
    options = {k: [str(corpora / v) for v in vs] if k == "users" else vs for k, vs in options.items()}
    return [corpora / f for f in files], fmt, options


def _expected_messages(conversation) -> list[tuple[str, str]]:
    role = {Speaker.CUSTOMER: "user", Speaker.AGENT: "assistant", Speaker.TOOL: "tool"}
    return [(role[t.speaker], t.text) for t in conversation.turns if t.speaker in role]


# Intercom's documented example conversation has admin parts only: nothing to pair, see the next test.
@pytest.mark.parametrize("name", sorted(set(CORPORA_SOURCES) - {"intercom"}))
def test_corpus_converts_turn_by_turn(corpora, name):
    """With cleaning off, every kept message is the source turn, in order, with its role."""
    files, fmt, options = _resolve(corpora, name)
    checked = 0
    for conversation in toolkit.read(files, format=fmt, **options):
        expected = _expected_messages(conversation)
        if not any(r == "user" for r, _ in expected) or not any(r == "assistant" for r, _ in expected):
            continue
        report = ConvertReport()
        records = list(convert([conversation], to="openai", report=report, **PASSTHROUGH))
        if not records:  # a source record with malformed tool arguments is refused, with its reason
            assert report.counts_by_reason() == {"openai-arguments": 1}, conversation.id
            continue
        [record] = records
        got = [(m["role"], m.get("content") or "") for m in record["messages"] if m["role"] != "system"]
        assert got == expected, conversation.id
        checked += 1
        if checked == 25:
            break
    assert checked >= 1


@pytest.mark.parametrize("name", sorted(CORPORA_SOURCES))
def test_corpus_default_conversion_validates_and_drops_notes(corpora, name):
    files, fmt, options = _resolve(corpora, name)
    # The first 100 conversations of each source keep the suite fast (Taskmaster and SGD hold more).
    conversations = list(itertools.islice(toolkit.read(files, format=fmt, **options), 100))
    notes = [t.text.strip()[:40] for c in conversations for t in c.turns if t.speaker is Speaker.NOTE and t.text.strip()]
    for target in CORPORA_SOURCES[name][3]:
        report = ConvertReport()
        records = list(convert(conversations, to=target, report=report))
        assert report.conversations_read == len(conversations)
        # every conversation is accounted for: written (maybe as several examples) or skipped with a reason
        assert report.examples_written == len(records)
        if not records:
            # nothing expressible: every conversation must be accounted for with a reason
            assert report.skipped_total == len(conversations) and report.counts_by_reason()
            continue
        if target in ("vertex", "bedrock"):
            for record in records:
                record.pop("metadata", None)
        assert [(d.code, d.message) for d in validate(records, target=target, min_examples=False)] == []
        text = orjson.dumps(records).decode()
        for note in notes:
            assert note not in text
    if name == "zendesk":
        assert notes, "the Zendesk audits carry an internal note"
    if name == "intercom":
        assert report.counts_by_reason() == {"no-customer-message": 1}
    if name == "taskmaster":  # one source record has malformed JSON arguments: refused, named
        assert report.counts_by_reason().get("trl-arguments") == 1


def test_zendesk_corpus_through_the_cli_with_users(corpora, cli_run, tmp_path):
    out = tmp_path / "zendesk.jsonl"
    result = cli_run(["convert", "--isolated", "--from", "zendesk", "--to", "openai", "-o", out,
                      corpora / "zendesk/ticket_audits_resp0.json",
                      "--users", corpora / "zendesk/incremental_users_resp2.json",
                      "--users", corpora / "zendesk/incremental_users_resp3.json"])
    assert result.exit_code == 0, result.output
    records = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert records and all(r["messages"][-1]["role"] == "assistant" for r in records)
    assert "Hmm this customer" not in out.read_text()
    assert "conversations read: 86" in result.output


# ----------------------------------------------------------------------------- skips and summary


def test_every_skip_is_reported_and_written(corpora, cli_run, tmp_path):
    skipped = tmp_path / "skipped.jsonl"
    result = cli_run(["convert", "--isolated", "--from", "intercom", "-o", tmp_path / "out.jsonl",
                      corpora / "intercom/intercom_2.14_conversation_example.json", "--skipped", skipped])
    # the only conversation has no customer message: nothing written -> exit 1, and it says why
    assert result.exit_code == 1
    assert "no-customer-message" in result.output
    lines = [json.loads(line) for line in skipped.read_text().splitlines()]
    stages = sorted({line["stage"] for line in lines})
    assert stages == ["read", "transform"]
    transform = [line for line in lines if line["stage"] == "transform"]
    assert transform[0]["reason"] == "no-customer-message"
    assert transform[0]["file"].endswith("intercom_2.14_conversation_example.json")
    assert transform[0]["conversation_id"] is not None and transform[0]["record"] is not None
    assert all(line["reason"] and line["file"] for line in lines)


def test_json_summary_counts_everything(cli_run, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = cli_run(["convert", "--isolated", "--from", "zendesk", "-o", tmp_path / "o.jsonl",
                      "samples/raw/zendesk_incremental.jsonl", "--output-format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["conversations_read"] == 3 and data["examples_written"] == 2
    assert data["skip_reasons"] == {"no-agent-reply": 1}
    assert data["turns_dropped"]["internal-note"] == 1
    assert data["output"] == [str(tmp_path / "o.jsonl")]


def test_fail_on_skip_and_refusals_named(cli_run, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = cli_run(["convert", "--isolated", "--from", "openai", "--to", "bedrock", "-o", tmp_path / "b.jsonl",
                      "samples/raw/openai_chat.jsonl", "--fail-on-skip"])
    assert result.exit_code == 1
    assert "bedrock-" in result.output and "e.g. samples/raw/openai_chat.jsonl:" in result.output


# ----------------------------------------------------------------------------- options


def test_config_file_options_and_cli_override(cli_run, tmp_path, monkeypatch):
    (tmp_path / "voice.txt").write_text("You are Stride Running's support team.\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        "[tool.ftkit.convert]\n"
        "from = \"zendesk\"\nto = \"openai\"\n"
        "system-prompt-file = \"voice.txt\"\n"
        "strip-metadata = true\n"
        "status = [\"solved\"]\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    source = SAMPLES / "zendesk_tickets.json"
    result = cli_run(["convert", "-o", "out.jsonl", source])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(records) == 1  # only the solved ticket
    assert records[0]["messages"][0] == {"role": "system", "content": "You are Stride Running's support team."}
    assert "metadata" not in records[0]
    # the command line wins over the file
    result = cli_run(["convert", "-o", "out2.jsonl", source, "--status", "open,solved", "--system-prompt", "Hi."])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in (tmp_path / "out2.jsonl").read_text().splitlines()]
    assert len(records) == 2 and records[0]["messages"][0]["content"] == "Hi."


def test_config_unknown_key_is_an_error(cli_run, tmp_path, monkeypatch):
    (tmp_path / "ftkit.toml").write_text("[convert]\nmin-turn = 3\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = cli_run(["convert", "-o", "o.jsonl", SAMPLES / "alpaca.json"])
    assert result.exit_code == 2
    assert "ftkit.toml: convert: Additional properties are not allowed ('min-turn' was unexpected)" in result.output


def test_stdout_output_and_strip_metadata(cli_run, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = cli_run(["convert", "--isolated", "--from", "alpaca", "-o", "-", "samples/raw/alpaca.json", "--strip-metadata"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 3 and all(set(r) == {"messages"} for r in lines)


def test_model_sets_encoding_and_budget(cli_run, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = cli_run(["convert", "--isolated", "--from", "alpaca", "-o", tmp_path / "o.jsonl", "samples/raw/alpaca.json",
                      "--model", "gpt-4"])
    assert result.exit_code == 0, result.output
    assert "token budget:  8,192 per example (cl100k_base, estimate)" in result.output


def test_per_reply_and_trl_prompt_completion(cli_run, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "trl.jsonl"
    result = cli_run(["convert", "--isolated", "--from", "table", "--to", "trl", "--trl-style", "prompt-completion",
                      "-o", out, "samples/raw/messages.csv"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records and all(set(r) >= {"prompt", "completion"} for r in records)
    assert all(len(r["completion"]) == 1 and r["completion"][0]["role"] == "assistant" for r in records)


@pytest.mark.parametrize("args,message", [
    ([], "no input files given"),
    (["samples/raw/alpaca.json"], "no output given"),
    (["-o", "{tmp}/o.jsonl", "samples/raw/nope.json"], "samples/raw/nope.json: no such file"),
    (["-o", "samples/raw/alpaca.json", "samples/raw/alpaca.json"], "would overwrite an input file"),
    (["-o", "{tmp}", "samples/raw/alpaca.json"], "is a folder; give a file name"),
    (["--to", "bedrock", "--examples", "per-reply", "-o", "{tmp}/o.jsonl", "samples/raw/alpaca.json"],
     "--examples per-reply needs a target that can mask earlier replies (weight 0); bedrock cannot"),
    (["--trl-style", "messages", "-o", "{tmp}/o.jsonl", "samples/raw/alpaca.json"], "--trl-style does not apply to --to openai"),
    (["--since", "yesterday", "-o", "{tmp}/o.jsonl", "samples/raw/alpaca.json"], "since: 'yesterday' is not an ISO 8601 date"),
    (["--system-prompt-file", "{tmp}/none.txt", "-o", "{tmp}/o.jsonl", "samples/raw/alpaca.json"],
     "none.txt: system prompt file not found"),
    (["--from", "table", "--column", "text", "-o", "{tmp}/o.jsonl", "samples/raw/messages.csv"],
     "--column 'text': expected KEY=VALUE"),
    (["--to", "vertex", "-o", "-", "samples/raw/alpaca.json"], "add --strip-metadata or write to a file"),
    (["--to", "parquet", "-o", "-", "samples/raw/alpaca.json"], "--to parquet cannot write to stdout"),
    (["--tools", "{tmp}/none.json", "-o", "{tmp}/o.jsonl", "samples/raw/alpaca.json"], "none.json: tools file not found"),
    (["-o", "{tmp}/o.jsonl", "--skipped", "{tmp}/o.jsonl", "samples/raw/alpaca.json"], "must not be the output or an input"),
    (["-o", "-", "--output-format", "json", "samples/raw/alpaca.json"], "write the data to a file"),
    (["--pii-kinds", "emial", "-o", "{tmp}/o.jsonl", "samples/raw/alpaca.json"], "unknown PII kind(s): emial"),
    (["--to", "hf", "--split-name", "a b", "-o", "{tmp}/ds", "samples/raw/alpaca.json"], "split name 'a b' is not valid"),
])
def test_usage_errors_exit_2_with_a_clear_message(cli_run, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(ROOT)
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = cli_run(["convert", "--isolated", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_unreadable_input_names_the_file_and_leaves_no_output(cli_run, tmp_path):
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"\x00\x01\x02 binary junk")
    result = cli_run(["convert", "--isolated", "-o", tmp_path / "o.jsonl", bad])
    assert result.exit_code == 2
    assert "notes.txt" in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_real_process_writes_sharegpt_with_dataset_info(ftkit_subprocess, tmp_path):
    out = tmp_path / "data" / "support.jsonl"
    proc = ftkit_subprocess(["convert", "--isolated", "--from", "transcript", "--to", "sharegpt", "--agent", "Eric",
                             "--agent", "Priya", "--agent", "Sarah", "-o", out, SAMPLES / "chat_transcripts.txt"])
    assert proc.returncode == 0, proc.stderr
    info = json.loads((tmp_path / "data" / "dataset_info.json").read_text())
    assert info["support"]["file_name"] == "support.jsonl" and info["support"]["formatting"] == "sharegpt"
    assert b"examples written:   3 (sharegpt)" in proc.stdout


def test_readme_library_example_runs(tmp_path, monkeypatch, capsys):
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("<!-- section:convert -->"):readme.index("<!-- /section:convert -->")]
    code = re.findall(r"```python\n(.*?)```", section, re.S)[0]
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    written = (tmp_path / "out" / "library_example.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(written) == 2 and any("<PERSON_" in line for line in written)
    assert "'examples_written': 2" in capsys.readouterr().out


PII_ROWS = [
    ("c1", "customer", "Jane Doe", "Hi, this is Jane Doe. Order #A-55123 for $129.99 never arrived. Email jane.doe@example.com, "
                                   "phone +1 (415) 555-0132 or 020 7946 0958."),
    ("c1", "agent", "Marco Rossi", "Hi Jane, sorry about order #A-55123 ($129.99). I'll refund it to the card ending 1111."),
    ("c1", "customer", "Jane Doe", "Use card 4111 1111 1111 1111 please, not 4111 1111 1111 1112. IBAN DE89 3704 0044 0532 0130 00, "
                                   "or call +49 30 901820, +33 1 42 68 53 00 or 07700 900123."),
    ("c1", "agent", "Marco Rossi", "Thanks Jane, the refund of $129.99 for #A-55123 is on its way (3-5 business days).\n\nMarco"),
]


def test_pii_corpus_through_convert_leaves_none_and_keeps_orders_and_prices(cli_run, tmp_path):
    import csv

    source = tmp_path / "pii.csv"
    with open(source, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["conv", "role", "name", "text"])
        writer.writerows(PII_ROWS)
    out = tmp_path / "out.jsonl"
    result = cli_run(["convert", "--isolated", "--from", "table", "--column", "conversation=conv", "--column", "role=role",
                      "--column", "author=name", "--column", "text=text", "--agent-value", "agent", "-o", out, source])
    assert result.exit_code == 0, result.output
    data = out.read_text(encoding="utf-8")
    for secret in ("Jane", "Doe", "Marco", "Rossi", "jane.doe@example.com", "555-0132", "7946 0958", "4111 1111 1111 1111",
                   "DE89", "901820", "42 68 53 00", "900123"):
        assert secret not in data, secret
    for kept in ("#A-55123", "$129.99", "3-5 business days", "ending 1111"):
        assert kept in data, kept
    assert "<PERSON_1>" in data and "<EMAIL_1>" in data and "<CARD_1>" in data and "<IBAN_1>" in data


def test_cli_choices_config_schema_and_registries_agree():
    from toolkit.cli import convert as cli_convert
    from toolkit.config import load_schema
    from toolkit.readers import FORMATS
    from toolkit.validation import TARGET_NAMES
    from toolkit.writers import TARGETS

    assert cli_convert.FROM_FORMATS == FORMATS
    assert cli_convert.TARGETS == TARGETS
    assert set(TARGETS) - {"parquet", "hf"} <= set(TARGET_NAMES)  # every JSONL target can be validated
    convert_schema = load_schema("config")["properties"]["convert"]["properties"]
    assert convert_schema["from"]["enum"] == list(FORMATS)
    assert convert_schema["to"]["enum"] == list(TARGETS)
    assert {entry[0] for entry in cli_convert._SETTINGS.values()} == set(convert_schema)


def test_jobs_give_identical_output_and_skips(cli_run, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    inputs = ["samples/raw/zendesk_incremental.jsonl", "samples/raw/zendesk_tickets.json", "samples/raw/intercom_conversations.json",
              "samples/raw/openai_chat.jsonl", "samples/raw/sharegpt.json", "samples/raw/alpaca.json"]
    outputs = []
    for jobs in ("1", "2"):
        out, skipped = tmp_path / f"o{jobs}.jsonl", tmp_path / f"s{jobs}.jsonl"
        result = cli_run(["convert", "--isolated", "--to", "sharegpt", "-o", out, *inputs, "--skipped", skipped,
                          "--jobs", jobs, "--output-format", "json"])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        summary.pop("output")
        outputs.append((out.read_bytes(), skipped.read_bytes(), (tmp_path / "dataset_info.json").read_text(), summary))
    assert outputs[0][0] == outputs[1][0] and outputs[0][1] == outputs[1][1]
    assert outputs[0][3] == outputs[1][3]
    assert outputs[0][3]["skipped"] >= 2  # refusals (weights, text with tool call) and filters, counted the same


def test_docs_list_every_reason_the_code_reports():
    import re

    docs = (ROOT / "docs" / "convert.md").read_text(encoding="utf-8")
    sources = "".join(p.read_text(encoding="utf-8") for folder in ("transforms", "writers")
                      for p in (ROOT / "toolkit" / folder).glob("*.py"))
    names = set(re.findall(r'(?:report\.skip|refuse|drop_turns|adjust|on_adjust)\("([a-z-]+)"', sources))
    assert len(names) > 30
    missing = sorted(n for n in names if f"`{n}`" not in docs and n not in docs)
    assert not missing, f"docs/convert.md does not explain: {missing}"


def test_progress_line_only_on_a_terminal(tmp_path):
    import os
    import pty
    import subprocess
    import sys

    source = tmp_path / "many.jsonl"
    rows = [{"instruction": f"Question {i}?", "output": f"Answer {i}."} for i in range(450)]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    command = [sys.executable, "-m", "toolkit", "convert", "--isolated", "--from", "alpaca", "--no-redact", "-o",
               str(tmp_path / "o.jsonl"), str(source)]

    master, slave = pty.openpty()
    proc = subprocess.run(command, stderr=slave, stdout=subprocess.PIPE, env=env, cwd=tmp_path, timeout=120)
    os.close(slave)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    assert proc.returncode == 0
    assert b"conversations read, " in seen and b"examples written" in seen

    piped = subprocess.run(command, capture_output=True, env=env, cwd=tmp_path, timeout=120)
    assert piped.returncode == 0 and b"conversations read, " not in piped.stderr
    assert b"conversations read: 450" in piped.stdout
