"""Insider detection quality on the synthetic retailer with ground truth: per-scenario recall at a budget of one
alert per 100 employees per day, precision at that budget, AUC over employee-days, share of accesses explained.

    ombud synth --accounts 40000 --seed 11 --out /tmp/syn --insider --insider-days 60 --insider-staff 300 \
        --insider-scenarios 3
    python benchmarks/bench_insider_quality.py /tmp/syn [/tmp/syn2 ...]

Several folders (other seeds, loads, staff counts) are judged with the same detectors and parameters, which is
how to check that nothing is tuned to one generator setting.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

from benchutil import load_average, load_line, print_markdown
from insider_inputs import build_inputs, load_truth
from ombud.insider import engine
from ombud.insider.evaluate import evaluate


def judge(folder: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-insider-") as tmp:
        inputs = Path(tmp)
        counts = build_inputs(folder, inputs)
        truth = load_truth(folder, inputs / "events.parquet")
        started = time.perf_counter()
        out = engine.run(inputs)
        seconds = time.perf_counter() - started
    scores = out.day_scores.to_pylist()
    days = len({r["day"] for r in scores})
    employees = pl.read_csv(folder / "employees.csv").height
    report = evaluate(scores, truth, employees=employees, days=days)
    print(f"\n### {folder.name}: {counts['events']:,} access events, {employees} employees, {days} days, "
          f"{len(truth)} truth lines; scan {seconds:.1f} s")
    print(f"explained: {out.explained_share:.1%} of accesses; alert budget {report.budget} "
          f"(1 per 100 employees per day); precision at budget {report.precision:.2f}; AUC {report.auc:.3f}\n")
    print_markdown(["scenario", "instances", "caught at budget", "recall"], [
        (name, str(int(e["instances"])), str(int(e["caught"])), f"{e['recall']:.2f}")
        for name, e in sorted(report.per_scenario.items())
    ])
    if report.innocent_alerts:
        looks = ", ".join(f"{k} {v}" for k, v in report.innocent_alerts.items())
        print(f"\nalerts within innocent look-alikes: {looks}")
    by_detector: dict[str, int] = {}
    for row in out.findings.to_pylist():
        by_detector[row["detector"]] = by_detector.get(row["detector"], 0) + 1
    print("\nfindings per detector: " + ", ".join(f"{k} {v}" for k, v in sorted(by_detector.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folders", nargs="+", type=Path)
    args = parser.parse_args()
    before = load_average()
    for folder in args.folders:
        judge(folder)
    print("\n" + load_line(before))


if __name__ == "__main__":
    main()
