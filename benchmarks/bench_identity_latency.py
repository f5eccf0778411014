"""Latency of one discovery against a built store, side by side with Splink's one-record lookup.

    .venv/bin/python benchmarks/bench_identity_latency.py --synth DIR --data DATA_DIR [--n 500] [--runs 3]

Ombud: `discover()` for N victim profiles (their own identifiers only), in one process, warm, after a
few warm-up lookups; p50 and p95 per run, the median of the runs printed. Splink: the same profiles (a
subset, it is slow) as one-row `predict_between` calls against the same accounts in DuckDB, with a
model trained as in bench_identity_quality.py. The ratio is Splink's p50 / Ombud's p50.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from identity_common import (
    SplinkBaseline,
    context_for,
    index_rows,
    median,
    percentile,
    profile_rows,
    read_victims,
)
from ombud.identity.service import discover


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synth", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--n", type=int, default=500, help="profiles per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--splink-n", type=int, default=20, help="profiles looked up with Splink (0: skip)")
    parser.add_argument("--splink-max-pairs", type=float, default=2e6)
    args = parser.parse_args()
    ctx = context_for(args.data, args.database_url)
    victims = read_victims(args.synth / "truth" / "victims.jsonl")
    rng = random.Random(7)
    sample = rng.sample(victims, min(args.n, len(victims)))

    p50s, p95s, matches = [], [], 0
    with ctx.sessions() as session:
        for victim in sample[:20]:  # warm-up: caches, the model, the page cache
            discover(session, ctx.keys, victim["profile"])
        for _ in range(args.runs):
            times = []
            for victim in sample:
                started = time.perf_counter()
                result = discover(session, ctx.keys, victim["profile"])
                times.append((time.perf_counter() - started) * 1000)
                matches += len(result.matches)
            p50s.append(percentile(times, 0.5))
            p95s.append(percentile(times, 0.95))
    records = index_size(ctx)
    print(f"index: {records:,} records; {len(sample)} profiles x {args.runs} runs")
    print("| system | p50 ms | p95 ms |")
    print("| --- | --- | --- |")
    print(f"| ombud discover() | {median(p50s):.1f} | {median(p95s):.1f} |")
    print(f"  (runs p50 {[round(x, 1) for x in p50s]}, p95 {[round(x, 1) for x in p95s]})")

    if args.splink_n:
        started = time.perf_counter()
        baseline = SplinkBaseline(list(index_rows(ctx)), max_pairs=args.splink_max_pairs)
        print(f"splink: loaded and trained in {time.perf_counter() - started:.0f} s "
              f"(training {baseline.train_seconds:.0f} s)")
        baseline.lookup(profile_rows(ctx, sample[0]["victim_id"], sample[0]["profile"])[:1])  # warm-up
        times = []
        for victim in sample[: args.splink_n]:
            rows = profile_rows(ctx, victim["victim_id"], victim["profile"])[:1]  # one record
            started = time.perf_counter()
            baseline.lookup(rows)
            times.append((time.perf_counter() - started) * 1000)
        s50, s95 = percentile(times, 0.5), percentile(times, 0.95)
        print(f"| splink predict_between, one record | {s50:.1f} | {s95:.1f} |")
        print(f"ratio (splink p50 / ombud p50): {s50 / median(p50s):.0f}x; p95: {s95 / median(p95s):.0f}x")


def index_size(ctx) -> int:
    from sqlalchemy import func, select

    from ombud.identity.models import IdentityRecord

    with ctx.sessions() as session:
        return session.scalar(select(func.count()).select_from(IdentityRecord)) or 0


if __name__ == "__main__":
    main()
