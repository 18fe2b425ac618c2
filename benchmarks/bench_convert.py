"""Benchmark ``ftkit convert``: Zendesk tickets/s and peak RSS, and that memory stays flat.

    python3 benchmarks/bench_convert.py                    # 25,000 and 100,000 tickets
    python3 benchmarks/bench_convert.py --sizes 2000 8000  # quicker
    python3 benchmarks/bench_convert.py --no-redact        # without the PII step (to see its cost)
    python3 benchmarks/bench_convert.py --jobs 1           # one process (default: one worker per CPU)

Generates (once per size; reused while present) a deterministic Zendesk incremental ticket
export in ``benchmarks/_data/convert/`` (NDJSON, one ticket per line with 4-8 embedded
comments including an internal note, quoted email history, a signature and personal data,
then a users page), and converts it with the real command line in a fresh process:

    ftkit convert --from zendesk --to openai --jobs N -o OUT tickets.jsonl

i.e. the whole default pipeline (role mapping, quote/signature stripping, merging, filters,
PII redaction, token-free example building, atomic JSONL write). Peak RSS of that process is
polled with psutil (the whole process tree: the reader/writer process and the ``--jobs``
workers). If memory does not grow with the input, the peak at the largest size is
close to the peak at the smallest. Figures are wall-clock on whatever machine runs this:
note any contention (other jobs on the same cores) next to them.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "_data" / "convert"

CUSTOMERS = 2000
AGENTS = 50
FIRST = ["Jane", "Omar", "Priya", "Lukas", "Mei", "Carlos", "Aisha", "Tom", "Sofia", "Kenji", "Nora", "Diego"]
LAST = ["Doe", "Haddad", "Sharma", "Becker", "Chen", "Ruiz", "Bello", "Walsh", "Rossi", "Sato", "Lind", "Vega"]
ISSUES = [
    "my parcel {order} has not arrived and the tracking page has not changed for five days",
    "I was charged twice for order {order}, can you refund one of the payments",
    "I cannot log in to my account since the last update, it says my password is wrong",
    "the blender from order {order} stopped working after two weeks",
    "I want to change the delivery address for order {order} before it ships",
    "how do I cancel my subscription, I am moving abroad next month",
]
REPLIES = [
    "Hi {first}, I'm sorry about the trouble with {order}. I've checked it and I can see what happened.",
    "Thanks for your patience, {first}. I have escalated this to our logistics team and asked them to prioritise it.",
    "I completely understand how frustrating this is. Could you confirm the email address on your account?",
    "Good news: that is sorted now. You'll get a confirmation email shortly. Is there anything else I can help with?",
    "Could you try signing out and back in, and let me know if the problem is still there?",
]
NOTES = ["Customer is VIP, approve refund without manager sign-off.", "Checked carrier portal: parcel stuck at depot.",
         "Possible fraud pattern, watch the account.", "Escalated to tier 2 (JIRA SUP-{n})."]


def _customer(cid: int) -> tuple[str, str, str]:
    first, last = FIRST[cid % len(FIRST)], LAST[(cid // len(FIRST)) % len(LAST)]
    return first, f"{first} {last}", f"{first.lower()}.{last.lower()}{cid}@example.com"


def ticket(rng: random.Random, tid: int) -> dict:
    cid = rng.randrange(CUSTOMERS)
    first, full, email = _customer(cid)
    requester, agent = 100000 + cid, 900000 + rng.randrange(AGENTS)
    order = f"#{rng.randrange(10**6, 10**7)}"
    base = 1_700_000_000 + tid * 60
    stamp = lambda i: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + i * 300))  # noqa: E731
    question = rng.choice(ISSUES).format(order=order).capitalize() + "."
    comments = [{"id": tid * 100, "type": "Comment", "author_id": requester, "public": True, "created_at": stamp(0),
                 "body": f"Hello,\n\n{question} You can reach me at +44 20 7946 {rng.randrange(1000, 9999)} or {email}.\n\n"
                         f"Best regards,\n{full}\n\nSent from my iPhone"}]
    turns = rng.randint(3, 7)
    for index in range(1, turns):
        if index == 2:
            comments.append({"id": tid * 100 + index, "type": "Comment", "author_id": agent, "public": False,
                             "created_at": stamp(index), "body": rng.choice(NOTES).format(n=tid)})
        elif index % 2 == 1:
            comments.append({"id": tid * 100 + index, "type": "Comment", "author_id": agent, "public": True,
                             "created_at": stamp(index),
                             "body": rng.choice(REPLIES).format(first=first, order=order) + "\n\nKind regards,\nSupport Team"})
        else:
            comments.append({"id": tid * 100 + index, "type": "Comment", "author_id": requester, "public": True,
                             "created_at": stamp(index),
                             "body": f"Thanks, {rng.choice(['that helps', 'I tried that', 'still not working'])}.\n\n"
                                     f"On Mon, 6 May 2024 at 10:02, Support <help@shop.example> wrote:\n> previous message\n> quoted"})
    return {
        "url": f"https://acme.zendesk.com/api/v2/tickets/{tid}.json", "id": tid,
        "via": {"channel": rng.choice(["email", "web", "chat"])}, "created_at": stamp(0), "updated_at": stamp(turns),
        "subject": question[:60], "description": comments[0]["body"], "status": rng.choice(["solved", "closed", "open"]),
        "requester_id": requester, "assignee_id": agent, "tags": ["bench"],
        "satisfaction_rating": {"score": rng.choice(["good", "bad", "offered"])}, "comments": comments,
    }


def users_page() -> dict:
    users = [{"id": 100000 + c, "name": _customer(c)[1], "email": _customer(c)[2], "role": "end-user"} for c in range(CUSTOMERS)]
    users += [{"id": 900000 + a, "name": f"Agent {a}", "email": f"agent{a}@shop.example", "role": "agent"}
              for a in range(AGENTS)]
    return {"users": users}


def generate(size: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"zendesk_{size}.jsonl"
    if path.exists():
        return path
    rng = random.Random(size)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        for tid in range(1, size + 1):
            out.write(orjson.dumps(ticket(rng, tid)))
            out.write(b"\n")
        out.write(orjson.dumps(users_page()))
        out.write(b"\n")
    os.replace(tmp, path)
    return path


def run(path: Path, extra: list[str]) -> dict:
    out = DATA / f"{path.stem}.openai.jsonl"
    command = [sys.executable, "-m", "toolkit", "convert", "--isolated", "--from", "zendesk", "--to", "openai",
               "-o", str(out), str(path), "--output-format", "json", *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    ps = psutil.Process(proc.pid)
    peak = 0
    while proc.poll() is None:
        # The whole process tree: with --jobs the workers hold memory too.
        try:
            total = ps.memory_info().rss
            for child in ps.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
        except psutil.Error:
            break
        peak = max(peak, total)
        time.sleep(0.05)
    stdout, stderr = proc.communicate()
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"convert failed ({proc.returncode}):\n{stderr.decode()}")
    summary = orjson.loads(stdout)
    return {"seconds": elapsed, "peak_rss": peak, "summary": summary, "output_bytes": out.stat().st_size}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[25_000, 100_000], help="ticket counts to run")
    parser.add_argument("--no-redact", action="store_true", help="switch the PII step off")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="ftkit convert --jobs (default: one per CPU; peak RSS counts the workers too)")
    args = parser.parse_args()
    extra = (["--no-redact"] if args.no_redact else []) + ["--jobs", str(args.jobs)]
    print(f"ftkit convert benchmark: Zendesk incremental NDJSON -> openai ({os.cpu_count()} CPUs, --jobs {args.jobs}, "
          f"load average {os.getloadavg()[0]:.1f} at start; PII redaction {'off' if args.no_redact else 'on'})")
    results = []
    for size in sorted(args.sizes):
        t0 = time.perf_counter()
        path = generate(size)
        gen = time.perf_counter() - t0
        r = run(path, extra)
        s = r["summary"]
        rate = s["conversations_read"] / r["seconds"]
        results.append((size, r))
        print(f"{size:>9,} tickets ({path.stat().st_size / 1e6:,.1f} MB input, generated in {gen:.1f}s): "
              f"{r['seconds']:.1f}s, {rate:,.0f} tickets/s, peak RSS {r['peak_rss'] / 2**20:,.0f} MiB; "
              f"{s['examples_written']:,} examples written, {s['skipped']:,} skipped {s['skip_reasons']}, "
              f"{r['output_bytes'] / 1e6:,.1f} MB output")
    if len(results) > 1:
        (small, a), (big, b) = results[0], results[-1]
        print(f"memory: {big / small:.0f}x the input -> peak RSS x{b['peak_rss'] / a['peak_rss']:.2f} "
              f"({a['peak_rss'] / 2**20:,.0f} MiB -> {b['peak_rss'] / 2**20:,.0f} MiB): "
              + ("flat" if b["peak_rss"] < a["peak_rss"] * 1.25 else "GROWS with the input"))
    print(f"(load average {os.getloadavg()[0]:.1f} at the end; wall-clock figures on a shared machine)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
