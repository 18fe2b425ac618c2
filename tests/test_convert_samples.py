"""The bundled samples through the real ``ftkit convert``: byte-identical to samples/expected/,
valid for their target, deterministic, and with no internal note left anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from toolkit.model import Speaker
from toolkit.readers import read
from toolkit.writers import read_parquet_examples

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ROOT / "samples" / "expected"
MANIFEST = json.loads((EXPECTED / "manifest.json").read_text(encoding="utf-8"))
JOBS = MANIFEST["jobs"]


def run_job(cli_run, job: dict, out_dir: Path) -> dict[str, bytes]:
    """Run one manifest job in-process; returns produced file name -> bytes (named as in samples/expected)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    output = out_dir / job["output"]
    result = cli_run(["convert", "--isolated", "-q", *job["args"], "-o", output])
    assert result.exit_code == 0, result.output
    produced = {}
    for path in sorted(out_dir.iterdir()):
        name = path.name if path.name != "dataset_info.json" else f"{Path(job['output']).stem}.dataset_info.json"
        produced[name] = path.read_bytes()
    return produced


@pytest.fixture
def at_root(monkeypatch):
    monkeypatch.chdir(ROOT)  # provenance paths read samples/raw/..., as in the golden files


@pytest.mark.parametrize("job", JOBS, ids=[j["output"] for j in JOBS])
def test_sample_matches_golden_output(cli_run, tmp_path, at_root, job):
    produced = run_job(cli_run, job, tmp_path / "out")
    for name, data in produced.items():
        assert (EXPECTED / name).read_bytes() == data, f"{name} differs from samples/expected (run samples/make_expected.py?)"


def test_every_expected_file_comes_from_a_job():
    outputs = {j["output"] for j in JOBS}
    for path in EXPECTED.iterdir():
        if path.name == "manifest.json":
            continue
        base = path.name.replace(".metadata.jsonl", ".jsonl").replace(".dataset_info.json", ".jsonl")
        assert base in outputs, f"{path.name} is not produced by any job"


def test_every_raw_sample_is_converted_to_openai():
    converted = {arg for job in JOBS if job["target"] == "openai" for arg in job["args"] if arg.startswith("samples/raw/")}
    raw = {f"samples/raw/{p.name}" for p in (ROOT / "samples" / "raw").iterdir() if p.is_file()}
    missing = sorted(raw - converted - {"samples/raw/zendesk_users.json"})
    assert not missing, f"raw samples without an expected openai conversion: {missing}"


@pytest.mark.parametrize("job", JOBS, ids=[j["output"] for j in JOBS])
def test_expected_output_validates_for_its_target(cli_run, job):
    path = EXPECTED / job["output"]
    result = cli_run(["validate", "--no-min-examples", "--format", job["target"], path])
    assert result.exit_code == 0, result.output


def _notes_of(job: dict) -> list[str]:
    """The internal notes of the job's raw inputs, as the reader sees them."""
    args = job["args"]
    fmt = args[args.index("--from") + 1]
    files = [a for a in args if a.startswith("samples/raw/")]
    options = {}
    if "--users" in args:
        files.remove(args[args.index("--users") + 1])
        options["users"] = [args[args.index("--users") + 1]]
    agents = [args[i + 1] for i, a in enumerate(args) if a == "--agent"]
    if agents:
        options["agents"] = agents
    return [t.text for c in read([ROOT / f for f in files], format=fmt, **options) for t in c.turns
            if t.speaker is Speaker.NOTE and t.text.strip()]


def test_internal_notes_never_appear_in_any_output():
    checked = 0
    for job in JOBS:
        notes = _notes_of(job)
        data = (EXPECTED / job["output"]).read_text(encoding="utf-8-sig")
        for note in notes:
            # a distinctive stretch of the note (long enough not to be a common phrase)
            probe = note.strip()[:40]
            assert probe not in data and json.dumps(probe)[1:-1] not in data, (job["output"], probe)
            checked += 1
    assert checked >= 8  # the samples do carry notes (Zendesk, Intercom, Freshdesk, tables)


def test_pii_from_samples_is_redacted():
    data = "".join((EXPECTED / j["output"]).read_text(encoding="utf-8-sig") for j in JOBS)
    for placeholder in ("<EMAIL_1>", "<PHONE_1>", "<PERSON_1>", "<CARD_1>", "<IBAN_1>"):
        assert placeholder in data
    for secret in ("@example.com", "4242 4242", "DE89 3704", "GB29 NWBK"):
        assert secret not in data


def test_parquet_and_hf_hold_the_same_examples_as_openai(cli_run, tmp_path, at_root):
    job = next(j for j in JOBS if j["output"] == "zendesk_audits.openai.jsonl")
    args = [a for a in job["args"] if a not in ("--to", "openai")]
    expected = [orjson.loads(line) for line in (EXPECTED / job["output"]).read_bytes().splitlines()]
    result = cli_run(["convert", "--isolated", "-q", "--to", "parquet", *args, "-o", tmp_path / "train.parquet"])
    assert result.exit_code == 0, result.output
    assert [e.to_dict() for e in read_parquet_examples(tmp_path / "train.parquet")] == expected
    result = cli_run(["convert", "--isolated", "-q", "--to", "hf", *args, "-o", tmp_path / "ds"])
    assert result.exit_code == 0, result.output
    from datasets import load_from_disk

    rows = list(load_from_disk(str(tmp_path / "ds"))["train"])
    assert [json.loads(r["metadata"]) for r in rows] == [e["metadata"] for e in expected]
    assert [[m["content"] for m in r["messages"]] for r in rows] == [[m["content"] for m in e["messages"]] for e in expected]


def test_conversion_is_deterministic_across_processes(ftkit_subprocess, tmp_path):
    job = next(j for j in JOBS if j["output"] == "chat_transcripts.openai.jsonl")
    outputs = []
    for n in range(2):
        out = tmp_path / f"run{n}.jsonl"
        proc = ftkit_subprocess(["convert", "--isolated", "-q", *job["args"], "-o", out], cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == (EXPECTED / job["output"]).read_bytes()
