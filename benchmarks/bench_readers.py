"""Benchmark the readers: conversations/s and peak memory on generated Zendesk and table exports.

    python3 benchmarks/bench_readers.py                  # 100,000 tickets per shape
    python3 benchmarks/bench_readers.py --tickets 10000  # quicker

Generates (once; reused while the size matches) deterministic exports into
``benchmarks/_data/`` and reads each with ``toolkit.readers.read`` in a fresh process whose
peak RSS is polled with psutil:

* ``zendesk-ndjson``  - incremental export, one ticket per line with 4-8 embedded comments
  (one internal note), plus a users page: the pre-pass for users and the streaming pass;
* ``zendesk-json``    - the same tickets as one ``{"tickets": [...], "users": [...]}`` document
  (above the stream threshold: walked with ijson, never loaded whole);
* ``zendesk-audits``  - ticket audits interleaved across tickets (grouped, spilling to SQLite);
* ``table-csv``       - one message per row with a conversation id column (polars batches).

Each shape is run at the full size and at a quarter of it: peak RSS should not grow with the
input (it is reported for both). Figures are wall-clock on a shared machine: note contention.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "_data" / "readers"

WORDS = ("order parcel delivery refund account password reset invoice payment card billing plan upgrade cancel "
         "subscription shipping tracking number address email phone support ticket agent customer issue problem "
         "error login access device app update version settings profile change request confirm verify check "
         "thanks sorry please help understand happen today yesterday week month soon quickly again still").split()
USERS = 2000
AGENTS = 50


def text(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(WORDS, k=n)).capitalize() + "."


def ticket(rng: random.Random, tid: int) -> dict:
    requester = 100000 + rng.randrange(USERS)
    agent = 900000 + rng.randrange(AGENTS)
    comments = []
    base = 1_700_000_000 + tid * 60
    for index in range(rng.randint(4, 8)):
        customer = index % 2 == 0
        comments.append({
            "id": tid * 100 + index, "type": "Comment", "author_id": requester if customer else agent,
            "body": text(rng, rng.randint(20, 80)), "public": not (index == 2),
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + index * 300)),
            "via": {"channel": "email" if customer else "web"},
        })
    return {"id": tid, "via": {"channel": "email"}, "subject": text(rng, 6), "description": comments[0]["body"],
            "status": rng.choice(["open", "pending", "solved", "closed"]), "requester_id": requester, "submitter_id": requester,
            "assignee_id": agent, "tags": rng.sample(WORDS, 2), "satisfaction_rating": {"score": rng.choice(["good", "bad", "offered"])},
            "created_at": comments[0]["created_at"], "comments": comments}


def users() -> list[dict]:
    out = [{"id": 100000 + i, "name": f"Customer {i}", "email": f"c{i}@example.com", "role": "end-user"} for i in range(USERS)]
    out += [{"id": 900000 + i, "name": f"Agent {i}", "email": f"a{i}@example.net", "role": "agent"} for i in range(AGENTS)]
    return out


def generate(tickets: int) -> dict[str, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    paths = {
        "zendesk-ndjson": DATA / f"zendesk_{tickets}.jsonl",
        "zendesk-json": DATA / f"zendesk_{tickets}.json",
        "zendesk-audits": DATA / f"zendesk_audits_{tickets}.json",
        "table-csv": DATA / f"messages_{tickets}.csv",
    }
    if all(p.exists() for p in paths.values()):
        return paths
    rng = random.Random(1234)
    with open(paths["zendesk-ndjson"], "wb") as nd, open(paths["zendesk-json"], "wb") as doc, \
            open(paths["table-csv"], "w", newline="", encoding="utf-8") as table, open(paths["zendesk-audits"], "wb") as audits:
        rows = csv.writer(table)
        rows.writerow(["conversation_id", "message_id", "sent_at", "role", "text"])
        doc.write(b'{"tickets": [\n')
        audits.write(b'{"audits": [\n')
        pending: list[dict] = []
        first_audit = True
        for tid in range(1, tickets + 1):
            item = ticket(rng, tid)
            line = orjson.dumps(item)
            nd.write(line + b"\n")
            doc.write((b",\n" if tid > 1 else b"") + line)
            for comment in item["comments"]:
                role = "customer" if comment["author_id"] == item["requester_id"] else ("agent" if comment["public"] else "note")
                rows.writerow([tid, comment["id"], comment["created_at"], role, comment["body"]])
                pending.append({"id": comment["id"], "ticket_id": tid, "created_at": comment["created_at"], "author_id": comment["author_id"],
                                "via": comment["via"], "events": [dict(comment)] + ([{"id": comment["id"] + 50, "type": "Create", "field_name": "requester_id",
                                                                                     "value": str(item["requester_id"])}] if comment is item["comments"][0] else [])})
            if len(pending) > 400:  # interleave audits of ~70 tickets, as the list endpoint does
                rng.shuffle(pending)
                for audit in pending:
                    audits.write((b"" if first_audit else b",\n") + orjson.dumps(audit))
                    first_audit = False
                pending = []
        rng.shuffle(pending)
        for audit in pending:
            audits.write((b"" if first_audit else b",\n") + orjson.dumps(audit))
            first_audit = False
        people = users()
        nd.write(orjson.dumps({"users": people}) + b"\n")
        doc.write(b'\n], "users": ' + orjson.dumps(people) + b"}\n")
        audits.write(b'\n], "users": ' + orjson.dumps(people) + b"}\n")
    return paths


CHILD = r"""
import sys, time, orjson
from toolkit.readers import read, ReadReport
path, fmt = sys.argv[1], sys.argv[2]
report = ReadReport()
start = time.perf_counter()
turns = 0
count = 0
for conversation in read(path, fmt, report=report):
    count += 1
    turns += len(conversation.turns)
elapsed = time.perf_counter() - start
print(orjson.dumps({"conversations": count, "turns": turns, "seconds": elapsed, "skipped": len(report.skipped)}).decode())
"""


def run(path: Path, fmt: str) -> dict:
    process = subprocess.Popen([sys.executable, "-c", CHILD, str(path), fmt], stdout=subprocess.PIPE, cwd=ROOT)
    watched = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, watched.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    out, _ = process.communicate()
    if process.returncode:
        raise SystemExit(f"reader failed on {path}")
    result = orjson.loads(out.splitlines()[-1])
    result["peak_rss_mb"] = peak / 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    sizes = [max(args.tickets // 4, 1), args.tickets]
    print(f"readers benchmark on {os.cpu_count()} CPU(s); load average {os.getloadavg()[0]:.1f} (shared machine: wall times vary)")
    print(f"{'shape':16} {'tickets':>8} {'file MB':>8} {'conv/s':>9} {'turns/s':>10} {'seconds':>8} {'peak RSS MB':>12}")
    for size in sizes:
        paths = generate(size)
        for shape, path in paths.items():
            fmt = "table" if shape == "table-csv" else "zendesk"
            result = run(path, fmt)
            assert result["conversations"] == size, (shape, result)
            print(f"{shape:16} {size:8d} {path.stat().st_size / 1e6:8.1f} {result['conversations'] / result['seconds']:9.0f} "
                  f"{result['turns'] / result['seconds']:10.0f} {result['seconds']:8.2f} {result['peak_rss_mb']:12.1f}")


if __name__ == "__main__":
    main()
