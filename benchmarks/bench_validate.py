"""Benchmark ``ftkit validate --format openai`` against the floor, on a generated chat file.

    python3 benchmarks/bench_validate.py                 # 200,000 examples (~500 MB)
    python3 benchmarks/bench_validate.py --examples 20000 # quicker

Generates (once; reused while its parameters match) a deterministic chat file into
``benchmarks/_data/``: each example has a system prompt and several user/assistant turns of
a few hundred tokens. Then, in the same run:

* **floor** - one process: parse each line with orjson and call tiktoken's
  ``encode_ordinary`` on every message content (the least any validator must do);
* **validate** - ``ftkit validate --format openai FILE`` as a real process, its process tree
  polled with psutil for peak memory (sum of RSS over the tree, and the sum of PSS, which
  counts pages shared between the forked workers once).

Target: validate <= 1.5x the floor's wall time on 2 cores; peak memory < 300 MB whatever
the file size.
"""

from __future__ import annotations

import argparse
import os
import resource
import random
import subprocess
import sys
import time
from pathlib import Path

import orjson
import psutil

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "_data"

WORDS = (
    "order parcel delivery refund account password reset invoice payment card billing plan upgrade cancel "
    "subscription shipping tracking number address email phone support ticket agent customer issue problem "
    "error login access device app update version settings profile change request confirm verify check "
    "thanks sorry please help understand happen today yesterday week month soon quickly again still already "
    "the a an and or but if then so because while when where which that this those these there here with "
    "without for from into onto about after before during under over between through your my our their "
    "you we they it is are was were be been being have has had do does did can could would should will may "
    "might must need want like know think see look make take give get find tell ask work call try feel "
    "leave keep let begin seem show hear play run move live believe bring write provide sit stand lose pay "
    "meet include continue set learn lead understand watch follow stop create speak read allow add spend "
    "grow open walk win offer remember love consider appear buy wait serve die send expect build stay fall"
).split()


def sentence(rng: random.Random, n: int) -> str:
    words = rng.choices(WORDS, k=n)
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice([".", ".", ".", "?", "!"])


def paragraph(rng: random.Random, target_words: int) -> str:
    out, count = [], 0
    while count < target_words:
        n = rng.randint(6, 18)
        out.append(sentence(rng, n))
        count += n
    return " ".join(out)


def generate(path: Path, examples: int, turns: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(tmp, "wb") as out:
        for i in range(examples):
            messages = [{"role": "system", "content": "You are a calm, concise support agent for Acme. " + sentence(rng, 10)}]
            for _ in range(turns):
                messages.append({"role": "user", "content": paragraph(rng, rng.randint(25, 60))})
                messages.append({"role": "assistant", "content": paragraph(rng, rng.randint(100, 175))})
            out.write(orjson.dumps({"messages": messages, "metadata": {"id": f"ex-{i}"}}) + b"\n")
    os.replace(tmp, path)


def floor(path: Path) -> tuple[float, float]:
    """Wall and CPU seconds of the floor loop (the encoding is loaded before timing starts)."""
    sys.path.insert(0, str(ROOT))
    from toolkit.tokens import get_encoding

    enc = get_encoding("o200k_base")
    encode = enc.encode_ordinary
    start = time.perf_counter()
    cpu = time.process_time()
    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            record = orjson.loads(line)
            for message in record["messages"]:
                n += len(encode(message["content"]))
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    print(f"  floor: {n:,} content tokens")
    return elapsed, cpu


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_validate(path: Path, jobs: int | None) -> tuple[float, float, int, int, str]:
    """Wall seconds, CPU seconds of the whole process tree (workers are reaped by the CLI), peak RSS and PSS sums."""
    cmd = [sys.executable, "-m", "toolkit", "validate", "--format", "openai", str(path)]
    if jobs:
        cmd += ["--jobs", str(jobs)]
    cpu_before = _children_cpu()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    ps = psutil.Process(proc.pid)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        rss = pss = 0
        for p in _tree(ps):
            try:
                info = p.memory_full_info()
                rss += info.rss
                pss += getattr(info, "pss", info.rss)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.1)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    cpu = _children_cpu() - cpu_before
    if proc.returncode != 0:
        print(out.decode()[-2000:], err.decode()[-2000:])
        raise SystemExit(f"validate exited {proc.returncode}")
    return elapsed, cpu, peak_rss, peak_pss, out.decode().strip().splitlines()[-2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200_000)
    parser.add_argument("--turns", type=int, default=2, help="user/assistant pairs per example")
    parser.add_argument("--jobs", type=int, default=None, help="--jobs for ftkit validate (default: one per CPU)")
    parser.add_argument("--repeat", type=int, default=1, help="interleaved floor/validate rounds; the best wall time of each is reported")
    args = parser.parse_args()

    path = DATA / f"chat_{args.examples}x{args.turns}.jsonl"
    if not path.exists():
        t = time.perf_counter()
        print(f"generating {path} ...")
        generate(path, args.examples, args.turns)
        print(f"  generated in {time.perf_counter() - t:.1f}s")
    size = path.stat().st_size
    mb = size / 1e6
    print(f"file: {path.name}: {args.examples:,} examples, {mb:,.1f} MB; cpus: {os.cpu_count()}; "
          f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")

    floors, validates = [], []
    for round_ in range(args.repeat):
        floor_s, floor_cpu = floor(path)
        print(f"[{round_ + 1}] floor (orjson + encode_ordinary, 1 process): {floor_s:.2f}s wall, {floor_cpu:.2f}s CPU  "
              f"{args.examples / floor_s:,.0f} examples/s  {mb / floor_s:,.1f} MB/s")
        val_s, val_cpu, rss, pss, summary = run_validate(path, args.jobs)
        print(f"[{round_ + 1}] ftkit validate --format openai:              {val_s:.2f}s wall, {val_cpu:.2f}s CPU (all processes)  "
              f"{args.examples / val_s:,.0f} examples/s  {mb / val_s:,.1f} MB/s")
        print(f"    peak memory of the process tree: RSS sum {rss / 2**20:,.0f} MiB, PSS sum {pss / 2**20:,.0f} MiB")
        print(f"    {summary}")
        floors.append((floor_s, floor_cpu))
        validates.append((val_s, val_cpu, rss, pss))
    floor_s, floor_cpu = min(floors)
    val_s, val_cpu, rss, pss = min(validates)
    peak = max(v[2] for v in validates)
    ratio = val_s / floor_s
    print(f"best wall: floor {floor_s:.2f}s, validate {val_s:.2f}s -> ratio {ratio:.2f}x (target <= 1.5x)")
    print(f"CPU: validate {val_cpu:.2f}s over all processes = {val_cpu / floor_cpu:.2f}x the floor's {floor_cpu:.2f}s; "
          f"on 2 idle cores that is a wall ratio of about {val_cpu / floor_cpu / 2:.2f}x")
    print(f"memory target < 300 MB: {'met' if peak < 300 * 2**20 else 'NOT met'} (peak RSS sum {peak / 2**20:,.0f} MiB)")
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (the machine is shared: figures vary with contention)")


if __name__ == "__main__":
    main()
