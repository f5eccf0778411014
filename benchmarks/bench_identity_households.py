"""Discovery on households and messy records, side by side with Splink, with calibration of probabilities.

    .venv/bin/python benchmarks/bench_identity_households.py --synth DIR --data DATA_DIR [--build]

DIR is any folder in the import format with `truth/victims.jsonl` (an `ombud synth --households` output, or
one written by the independent evaluation generator `benchmarks/evalpop.py`). With --build the folder is
imported into a fresh store in DATA_DIR (messy rows land with per-field warnings; the count is printed)
and the identity index built.

Per system (both on the same store and victims, in the same run):
- micro precision and recall over fraudulent accounts (victims with a full profile);
- household members called fraud: accounts of people living with the victim (spouses, parents and children
  sharing a name, twins, room-mates) flagged, over all such accounts;
- own accounts called fraud: the victim's own accounts flagged while the truth says untouched;
- thin profiles (only an email or a phone): accounts flagged at all (should be none: "not enough
  identifiers to decide"), and own accounts flagged.
Ombud's calibration: every candidate above 0.01 of every full-profile victim is a prediction that the record
used the victim's identity (truth: a fraudulent or own account); Brier score and a reliability table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from benchutil import load_average, load_line, print_markdown
from identity_common import SplinkBaseline, context_for, index_rows, read_victims, splink_flags, splink_queries
from ombud.identity.calibration import brier, reliability_table
from ombud.identity.evaluate import FLAGGED
from ombud.identity.service import discover


def build(synth: Path, data: Path, database_url: str | None) -> dict[str, Any]:
    """Import into a fresh store (rows with problems reported, the rest landed) and build the index."""
    from ombud import migrate
    from ombud.identity.index import reindex
    from ombud.retail.importer import import_directory

    ctx = context_for(data, database_url)
    migrate.upgrade(ctx.settings.resolved_database_url)
    started = time.perf_counter()
    report = import_directory(ctx, synth)
    with ctx.sessions() as session, session.begin():
        result = reindex(session, ctx.keys)
    ctx.close()
    return {"import_s": round(time.perf_counter() - started, 1), "rejected": report.error_count,
            "field_warnings": getattr(report, "warning_count", 0), "records": result.records}


class Tally:
    """Counts for one system."""

    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0
        self.household = self.household_flagged = 0
        self.own = self.own_flagged = 0
        self.thin = self.thin_flagged = self.thin_own_flagged = 0

    def add(self, victim: dict[str, Any], flagged: set[str]) -> None:
        truth = set(victim["fraudulent_account_ids"])
        own_clean = set(victim["own_account_ids"]) - truth
        if victim.get("thin"):
            self.thin += 1
            self.thin_flagged += len(flagged)
            self.thin_own_flagged += len(flagged & own_clean)
            return
        self.tp += len(flagged & truth)
        self.fp += len(flagged - truth)
        self.fn += len(truth - flagged)
        household = set(victim.get("household_account_ids", []))
        self.household += len(household)
        self.household_flagged += len(flagged & household)
        self.own += len(own_clean)
        self.own_flagged += len(flagged & own_clean)

    def row(self, label: str) -> list[str]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        hh = self.household_flagged / self.household if self.household else 0.0
        own = self.own_flagged / self.own if self.own else 0.0
        return [label, f"{p:.4f}", f"{r:.4f}", str(self.fp), str(self.fn),
                f"{hh:.2%} ({self.household_flagged}/{self.household})", f"{own:.2%} ({self.own_flagged}/{self.own})",
                f"{self.thin_flagged} ({self.thin_own_flagged} own) of {self.thin}"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synth", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--build", action="store_true")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--victims", type=int, default=None)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--splink-max-pairs", type=float, default=2e6)
    parser.add_argument("--show-errors", type=int, default=0, help="print the first N wrong verdicts")
    args = parser.parse_args()
    before = load_average()
    if args.build:
        print("build:", json.dumps(build(args.synth, args.data, args.database_url)))
    ctx = context_for(args.data, args.database_url)
    victims = read_victims(args.synth / "truth" / "victims.jsonl", args.victims)

    ours = Tally()
    predictions: list[tuple[float, bool]] = []
    shown = 0
    started = time.perf_counter()
    with ctx.sessions() as session:
        for victim in victims:
            result = discover(session, ctx.keys, victim["profile"], threshold=args.threshold,
                              include_below_threshold=True)
            flagged = {m.account_id for m in result.matches if m.account_id and m.verdict in FLAGGED}
            ours.add(victim, flagged)
            truth = set(victim["fraudulent_account_ids"]) | set(victim["own_account_ids"])
            if not victim.get("thin"):
                for m in result.matches + result.below_threshold:
                    if m.account_id and m.probability >= 0.01:
                        predictions.append((m.probability, m.account_id in truth))
            wrong = (flagged ^ set(victim["fraudulent_account_ids"])) if not victim.get("thin") else flagged
            if wrong and shown < args.show_errors:
                shown += 1
                print(json.dumps({"victim": victim["victim_id"], "cases": victim.get("cases"), "wrong": sorted(wrong),
                                  "household": victim.get("household_account_ids"),
                                  "own": victim["own_account_ids"],
                                  "matches": [(m.account_id, m.verdict, round(m.probability, 4), m.summary, m.signals)
                                              for m in result.matches]}, default=str))
    ours_seconds = time.perf_counter() - started
    rows = [ours.row("ombud")]

    if not args.no_splink:
        started = time.perf_counter()
        baseline = SplinkBaseline(list(index_rows(ctx)), max_pairs=args.splink_max_pairs)
        flagged_by = splink_flags(baseline, splink_queries(ctx, victims), args.threshold)
        splink, oracle = Tally(), Tally()
        for victim in victims:
            found = flagged_by[victim["victim_id"]]
            splink.add(victim, found)
            own_clean = set(victim["own_account_ids"]) - set(victim["fraudulent_account_ids"])
            oracle.add(victim, found - own_clean)
        print(f"splink: trained and scored in {time.perf_counter() - started:.1f} s")
        rows += [splink.row("splink"), oracle.row("splink, own accounts removed by the truth")]

    print(f"\n{args.synth.name}: {len(victims)} victims; threshold {args.threshold}; ombud {ours_seconds:.1f} s")
    print_markdown(["system", "micro P", "micro R", "false pos.", "missed", "household members called fraud",
                    "own accounts called fraud", "thin profiles: accounts flagged"], rows)
    print(f"\ncalibration of ombud's match probabilities ({len(predictions)} predictions >= 0.01): "
          f"Brier score {brier(predictions):.4f}")
    print_markdown(["predicted", "n", "mean predicted", "observed share"],
                   [[f"{lo:.2f}-{hi:.2f}", str(n), f"{mp:.3f}", f"{obs:.3f}"]
                    for lo, hi, n, mp, obs in reliability_table(predictions)])
    print(load_line(before))


if __name__ == "__main__":
    main()
