"""Regenerate ``samples/expected/``: every raw sample converted by the real ``ftkit convert``.

    python samples/make_expected.py          # rewrite samples/expected/ (run from anywhere)
    python samples/make_expected.py --check  # exit 1 if a file would change

Each job below is one ``ftkit convert`` command line, run from the project root so that the
``source_file`` provenance in the outputs reads ``samples/raw/...``. ``tests/test_convert_samples.py``
runs the same jobs (from ``samples/expected/manifest.json``) and compares the outputs byte for byte.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ROOT / "samples" / "expected"
RAW = "samples/raw/"

# name -> (ftkit convert arguments without -o, output file name)
SOURCES: dict[str, list[str]] = {
    "zendesk_ticket_4521_comments": ["--from", "zendesk", RAW + "zendesk_ticket_4521_comments.json"],
    "zendesk_audits": ["--from", "zendesk", RAW + "zendesk_audits.json", "--users", RAW + "zendesk_users.json"],
    "zendesk_incremental": ["--from", "zendesk", RAW + "zendesk_incremental.jsonl"],
    "zendesk_tickets": ["--from", "zendesk", RAW + "zendesk_tickets.json"],
    "intercom_conversations": ["--from", "intercom", RAW + "intercom_conversations.json"],
    "freshdesk_tickets": ["--from", "freshdesk", RAW + "freshdesk_tickets.json", RAW + "freshdesk_conversations_3302.json",
                          RAW + "freshdesk_satisfaction_ratings.json"],
    "chat_transcripts": ["--from", "transcript", RAW + "chat_transcripts.txt", "--agent", "Eric", "--agent", "Priya",
                         "--agent", "Sarah"],
    "chat_transcript_html": ["--from", "transcript", RAW + "chat_transcript.html", "--agent", "Noor", "--agent", "Agent Tom"],
    "messages_csv": ["--from", "table", RAW + "messages.csv"],
    "messages_parquet": ["--from", "table", RAW + "messages.parquet"],
    "messages_threads": ["--from", "table", RAW + "messages_threads.csv"],
    "openai_chat": ["--from", "openai", RAW + "openai_chat.jsonl"],
    "sharegpt": ["--from", "sharegpt", RAW + "sharegpt.json"],
    "alpaca": ["--from", "alpaca", RAW + "alpaca.json"],
}

VOICE = ["--system-prompt", "You are a friendly, concise customer support agent. Apologise once, then solve the problem."]

JOBS: list[dict[str, object]] = []
# Every sample to OpenAI chat (the README's main job).
for name, args in SOURCES.items():
    JOBS.append({"output": f"{name}.openai.jsonl", "target": "openai", "args": ["--to", "openai", *args]})
# Other targets on samples whose content exercises them.
for target in ("azure", "together", "fireworks", "mistral", "vertex", "bedrock", "sharegpt", "trl"):
    JOBS.append({"output": f"zendesk_audits.{target}.jsonl", "target": target,
                 "args": ["--to", target, *SOURCES["zendesk_audits"], *VOICE]})
for target in ("mistral", "vertex", "sharegpt", "trl"):
    JOBS.append({"output": f"openai_chat.{target}.jsonl", "target": target,
                 "args": ["--to", target, *SOURCES["openai_chat"]]})
JOBS.append({"output": "chat_transcripts.bedrock.jsonl", "target": "bedrock",
             "args": ["--to", "bedrock", *SOURCES["chat_transcripts"], *VOICE]})
JOBS.append({"output": "intercom_conversations.vertex.jsonl", "target": "vertex",
             "args": ["--to", "vertex", *SOURCES["intercom_conversations"], *VOICE]})
JOBS.append({"output": "messages_csv.per-reply.openai.jsonl", "target": "openai",
             "args": ["--to", "openai", *SOURCES["messages_csv"], "--examples", "per-reply"]})
JOBS.append({"output": "chat_transcripts.per-reply.trl.jsonl", "target": "trl",
             "args": ["--to", "trl", "--trl-style", "prompt-completion", *SOURCES["chat_transcripts"]]})
JOBS.append({"output": "freshdesk_tickets.together.jsonl", "target": "together",
             "args": ["--to", "together", *SOURCES["freshdesk_tickets"], *VOICE]})


def run_job(job: dict[str, object], out_dir: Path) -> list[Path]:
    """Run one job into ``out_dir``; returns the files it produced (data, sidecar, dataset_info)."""
    output = out_dir / str(job["output"])
    command = [sys.executable, "-m", "toolkit", "convert", "--isolated", "-q", *map(str, job["args"]), "-o", str(output)]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stderr}")
    return sorted(p for p in out_dir.iterdir() if p.is_file())


def main(argv: list[str]) -> int:
    check = "--check" in argv
    with tempfile.TemporaryDirectory() as tmp:
        produced: dict[str, bytes] = {}
        for job in JOBS:
            work = Path(tmp) / str(job["output"])
            work.mkdir()
            for path in run_job(job, work):
                name = path.name if path.name != "dataset_info.json" else f"{Path(str(job['output'])).stem}.dataset_info.json"
                produced[name] = path.read_bytes()
        manifest = {"jobs": JOBS}
        produced["manifest.json"] = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
        if check:
            changed = [n for n, data in produced.items() if not (EXPECTED / n).exists() or (EXPECTED / n).read_bytes() != data]
            extra = [p.name for p in EXPECTED.iterdir() if p.name not in produced] if EXPECTED.exists() else []
            for name in changed + extra:
                print(f"would change: samples/expected/{name}")
            return 1 if changed or extra else 0
        if EXPECTED.exists():
            shutil.rmtree(EXPECTED)
        EXPECTED.mkdir(parents=True)
        for name, data in sorted(produced.items()):
            (EXPECTED / name).write_bytes(data)
        print(f"wrote {len(produced)} files to {EXPECTED.relative_to(ROOT)}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
