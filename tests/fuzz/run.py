#!/usr/bin/env python3
"""Runs one libFuzzer target for a bounded time from its committed seed corpus.

  run.py TARGET SEEDS WORK SECONDS

New inputs go to WORK (under the build folder), never into the committed
SEEDS; a crash leaves its input in WORK/crashes, and the message says how to
add it to the seeds, where it then runs on every CI run."""
import subprocess
import sys
from pathlib import Path

target, seeds, work, seconds = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
corpus = work / "corpus"
crashes = work / "crashes"
corpus.mkdir(parents=True, exist_ok=True)
crashes.mkdir(parents=True, exist_ok=True)
seeds.mkdir(parents=True, exist_ok=True)
result = subprocess.run([target, f"-max_total_time={seconds}", "-timeout=10", "-rss_limit_mb=2048",
                         "-print_final_stats=1", f"-artifact_prefix={crashes}/", str(corpus), str(seeds)])
if result.returncode != 0:
    found = sorted(crashes.iterdir())
    print(f"{Path(target).name} failed; inputs in {crashes}: {[f.name for f in found]}\n"
          f"add each to {seeds}/ (and fix the cause) so it runs on every CI run", file=sys.stderr)
# libFuzzer's own failure code is 77, which Meson would count as a skipped test.
sys.exit(0 if result.returncode == 0 else 1)
