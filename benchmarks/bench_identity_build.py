"""Index build time: `reindex()` over an imported store (the work of `ombud identity reindex`).

    .venv/bin/python benchmarks/bench_identity_build.py --data DATA_DIR [--runs 1]

The store must hold an imported synthetic retailer (see bench_identity_quality.py --build). Each run
rebuilds the whole index in one transaction; at 1M accounts one run is the figure (it takes minutes).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from identity_common import context_for, median
from ombud.identity.index import reindex


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1, help="normalising processes (ombud identity reindex "
                                                               "--workers)")
    args = parser.parse_args()
    ctx = context_for(args.data, args.database_url)
    seconds, records, keys = [], 0, 0
    for _ in range(args.runs):
        with ctx.sessions() as session, session.begin():
            result = reindex(session, ctx.keys, workers=args.workers)
        seconds.append(result.seconds)
        records, keys = result.records, result.keys
    print(f"runs: {[round(s, 1) for s in seconds]} s, {args.workers} worker(s)")
    print("| what | median |")
    print("| --- | --- |")
    print(f"| index build, {records:,} records, {keys:,} keys | {median(seconds):.1f} s "
          f"({records / median(seconds):,.0f} records/s) |")


if __name__ == "__main__":
    main()
