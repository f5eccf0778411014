"""Batch throughput of discovery (profiles per second), as `ombud discover --profiles` runs it.

    .venv/bin/python benchmarks/bench_identity_throughput.py --synth DIR --data DATA_DIR [--n 2000] [--runs 3]

Each run searches N victim profiles one after another in one session and serialises every result to
JSON, as the batch command does; the median of the runs is printed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from identity_common import context_for, median, read_victims
from ombud.identity.service import discover


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synth", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ctx = context_for(args.data, args.database_url)
    victims = read_victims(args.synth / "truth" / "victims.jsonl", args.n)
    rates = []
    with ctx.sessions() as session:
        for _ in range(args.runs):
            started = time.perf_counter()
            size = 0
            for victim in victims:
                size += len(discover(session, ctx.keys, victim["profile"]).model_dump_json())
            rates.append(len(victims) / (time.perf_counter() - started))
    print(f"{len(victims)} profiles per run; runs: {[round(r, 1) for r in rates]} profiles/s")
    print("| what | median |")
    print("| --- | --- |")
    print(f"| batch discovery, profiles/s | {median(rates):.1f} |")


if __name__ == "__main__":
    main()
