"""Inclusion-proof latency on a large audit log (goal: <= 1 ms at 10M leaves).

    .venv/bin/python benchmarks/audit_store.py --events 10000000 --bulk --out /tmp/ombud-bench/audit-10m.db
    .venv/bin/python benchmarks/bench_audit_proof.py --store /tmp/ombud-bench/audit-10m.db

For random leaf indexes it times (a) the proof alone: the O(log n) stored hashes fetched in one query and
assembled (what the API does once it knows the tree size), and (b) the whole library call
tree.inclusion_proof (which also reads the tree head), each over its own random indexes (so a cold page read
shows in both alike); every proof is checked against the root.
Several runs of --samples proofs each; the table shows the medians over runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from pathlib import Path

from benchutil import load_average, load_line
from ombud.audit import merkle, tree
from ombud.config import Environment, Settings
from ombud.context import Context


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", type=Path, default=Path("/tmp/ombud-bench/audit-10m.db"))
    parser.add_argument("--url", help="a database URL instead of --store")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    load_before = load_average()
    url = args.url or f"sqlite:///{args.store.resolve()}"
    ctx = Context(Settings(env=Environment.test, data_dir=Path("/tmp/ombud-bench/keys-data"), database_url=url))
    rng = random.Random(7)
    runs: dict[str, list[list[float]]] = {"proof alone": [], "tree.inclusion_proof": []}
    with ctx.sessions() as session:
        head = tree.tree_head(session)
        size, root = head.size, head.root_hash
        get_nodes = tree.node_source(session)
        for _ in range(args.runs):
            # Each measurement gets its own random indexes, so neither finds the other's pages warm.
            alone, whole = [], []
            for index in (rng.randrange(size) for _ in range(args.samples)):
                t = time.perf_counter()
                proof = merkle.inclusion_proof(index, size, get_nodes)
                alone.append(time.perf_counter() - t)
                assert merkle.verify_inclusion(get_nodes([(0, index)])[0], index, size, proof, root)
            for index in (rng.randrange(size) for _ in range(args.samples)):
                t = time.perf_counter()
                proof = tree.inclusion_proof(session, index, size)
                whole.append(time.perf_counter() - t)
                assert merkle.verify_inclusion(get_nodes([(0, index)])[0], index, size, proof, root)
            runs["proof alone"].append(alone)
            runs["tree.inclusion_proof"].append(whole)
    ctx.close()
    print(load_line(load_before))
    print(f"tree size {size:,}; {args.runs} runs of {args.samples} random indexes; every proof verified")
    print("| what | p50 µs | p90 µs | p99 µs |")
    print("| --- | --- | --- | --- |")
    for name, samples in runs.items():
        p50 = statistics.median(statistics.median(r) for r in samples) * 1e6
        p90 = statistics.median(_percentile(r, 90) for r in samples) * 1e6
        p99 = statistics.median(_percentile(r, 99) for r in samples) * 1e6
        print(f"| {name} | {p50:,.0f} | {p90:,.0f} | {p99:,.0f} |")


if __name__ == "__main__":
    main()
