"""Benchmark ``ftkit split`` with grouping and near-duplicate detection on 200,000 examples.

    python3 benchmarks/bench_split.py                    # 200,000 examples (engineer A's chat file)
    python3 benchmarks/bench_split.py --examples 20000   # quicker
    python3 benchmarks/bench_split.py --data support     # support-shaped data with ids, customers, templates

Data (generated once into ``benchmarks/_data/``, reused):

* ``chat`` (default): the 200,000-example file of ``benchmarks/bench_validate.py`` (its
  ``generate`` function: a system prompt and 2 user/assistant turns of a few hundred tokens
  each, ~515 MB). It has no conversation ids, so every example is its own group, joined
  with its near-duplicates.
* ``support``: ``benchmarks/_gen_support.py`` - 1-4 examples per conversation, customers
  with several tickets, templated near-duplicate conversations, intents for stratifying.

Runs ``ftkit split FILE -o DIR --stratify-by ...`` as a real process (grouping by
conversation and customer id, near-duplicates on, token estimates on), polls its process
tree with psutil, and prints wall time and peak memory (RSS summed over the tree, and PSS,
which counts pages shared by forked workers once). Target: < 60 s on 2 cores, < 1.5 GB.
Then ``ftkit leakage`` on the result (must find nothing) is timed too.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "_data"
sys.path.insert(0, str(ROOT / "benchmarks"))


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def run(args: list[str]) -> tuple[float, int, int, int, str]:
    """Wall seconds, peak RSS sum, peak PSS sum, exit code and stdout of ``python -m toolkit ARGS``.

    Also sets ``run.cpu``: user + system seconds of the command and its worker processes.
    """
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "toolkit", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=ROOT)
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
        time.sleep(0.2)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.cpu = (after.ru_utime - usage.ru_utime) + (after.ru_stime - usage.ru_stime)  # type: ignore[attr-defined]
    if proc.returncode not in (0, 1):
        print(err.decode(errors="replace"), file=sys.stderr)
    return elapsed, peak_rss, peak_pss, proc.returncode, out.decode(errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=200_000)
    parser.add_argument("--data", choices=["chat", "support"], default="chat")
    parser.add_argument("--jobs", type=int, default=None, help="--jobs for ftkit split (default: one per CPU)")
    parser.add_argument("--no-tokens", action="store_true", help="pass --no-tokens (skip the token estimates)")
    args = parser.parse_args()

    if args.data == "chat":
        from bench_validate import generate

        path = DATA / f"chat_{args.examples}x2.jsonl"
        if not path.exists():
            print(f"generating {path} ...")
            generate(path, args.examples, 2)
        stratify = []  # the chat file has no labels to stratify by
    else:
        import _gen_support

        path = _gen_support.write(DATA / f"support_{args.examples}.jsonl", args.examples)
        stratify = ["--stratify-by", "intent"]
    out = DATA / f"split_out_{args.data}_{args.examples}"
    shutil.rmtree(out, ignore_errors=True)
    mb = path.stat().st_size / 1e6
    print(f"file: {path.name}: {args.examples:,} examples, {mb:,.1f} MB; cpus: {os.cpu_count()}; "
          f"load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    cmd = ["split", str(path), "-o", str(out), *stratify]
    if args.jobs:
        cmd += ["--jobs", str(args.jobs)]
    if args.no_tokens:
        cmd.append("--no-tokens")
    seconds, rss, pss, code, stdout = run(cmd)
    print(f"ftkit {' '.join(cmd[:1] + cmd[2:])}")
    print(stdout.rstrip())
    print(f"split: {seconds:.1f}s wall, {args.examples / seconds:,.0f} examples/s, {mb / seconds:,.1f} MB/s; "
          f"peak memory: RSS sum {rss / 2**20:,.0f} MiB, PSS sum {pss / 2**20:,.0f} MiB; exit {code}")
    cpu = run.cpu  # type: ignore[attr-defined]
    print(f"CPU time of the split and its workers: {cpu:.1f}s (user+sys); on 2 uncontended cores the wall time "
          f"is about {cpu / 2:.0f}-{cpu / 1.6:.0f}s (the load average shows how shared the machine was)")
    print(f"targets: < 60 s: {'met' if seconds < 60 else 'NOT met'}; < 1.5 GB: {'met' if rss < 1.5 * 2**30 else 'NOT met'} (RSS sum)")
    files = sorted(str(p) for p in out.glob("*.jsonl"))
    seconds, rss, _pss, code, stdout = run(["leakage", *files, "--max-pairs", "5"])
    print(f"ftkit leakage on the result: {seconds:.1f}s, peak RSS {rss / 2**20:,.0f} MiB, exit {code} "
          f"({'no leakage' if code == 0 else 'LEAKAGE FOUND' if code == 1 else 'error'})")
    if code != 0:
        print(stdout)
    print(f"load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())} (shared machine: figures vary with contention)")


if __name__ == "__main__":
    main()
