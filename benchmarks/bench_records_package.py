"""Records package for a victim with 500 fraudulent orders: PDF/A + JSON + CSV + manifest + zip + audit leaf.

Goal (issue 10): <= 2 s. Builds a fresh SQLite store (or --database-url, your own PostgreSQL database), one
fraudulent account with 500 orders of 2 lines each among 200 other customers' accounts, then times
`generate_package` end to end (collect, render, zip, write the file, append the leaf), cold (first in the process:
the typesetting engine loads its fonts) and warm (median of the runs).

    PYTHONPATH=src python benchmarks/bench_records_package.py [--orders 500] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "records"))

import recordsutil

from benchutil import load_average, load_line, print_markdown, reset_postgres
from ombud import migrate
from ombud.config import Environment, Settings
from ombud.db import make_engine, make_sessionmaker
from ombud.records.service import generate_package


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", help="your own PostgreSQL database (it is emptied); default SQLite")
    args = parser.parse_args()
    before = load_average()
    folder = Path(tempfile.mkdtemp(prefix="bench-records-"))
    url = args.database_url or f"sqlite:///{folder / 'ombud.db'}"
    if args.database_url:
        reset_postgres(url)
    migrate.upgrade(url)
    settings = Settings(env=Environment.test, data_dir=folder, database_url=url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as session, session.begin():
        for _ in range(200):
            recordsutil.account(session, orders=3)
        fraud = recordsutil.account(session, orders=args.orders, lines=2, marker="BENCHTHIEF")
        ref = fraud.account.external_id
    timings, cpu = [], []
    for run in range(args.runs + 1):
        with sessions() as session, session.begin():
            start, cpu_start = time.perf_counter(), time.process_time()
            package = generate_package(session, settings, subjects=[("account", ref)], reference="VR-BENCH",
                                       actor_type="system", actor_id="bench")
            timings.append(time.perf_counter() - start)
            cpu.append(time.process_time() - cpu_start)
            size = package.size_bytes
        print(f"run {run}: {timings[-1]:.3f} s wall, {cpu[-1]:.3f} s CPU ({size / 1e6:.2f} MB zip)", file=sys.stderr)
    cold, warm = timings[0], statistics.median(timings[1:])
    print_markdown(["orders", "store", "cold (first in process)", f"warm median of {args.runs}",
                    "warm CPU time (median)", "zip size", "goal"],
                   [[str(args.orders), "PostgreSQL" if args.database_url else "SQLite", f"{cold:.2f} s",
                     f"{warm:.2f} s", f"{statistics.median(cpu[1:]):.2f} s", f"{size / 1e6:.2f} MB", "<= 2 s"]])
    print(load_line(before))
    engine.dispose()


if __name__ == "__main__":
    main()
