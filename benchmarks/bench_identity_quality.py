"""Quality of identity discovery on the synthetic ground truth, side by side with Splink.

    .venv/bin/python benchmarks/bench_identity_quality.py --synth DIR --data DATA_DIR [--build]

DIR is an `ombud synth` output (with truth/victims.jsonl); DATA_DIR a scratch store (built from DIR
with --build: import, then `ombud identity reindex`). For every victim, both systems search with the
victim's own identifiers only. Ombud flags matches judged suspected fraud or a suspected takeover;
Splink flags every account above the threshold (it has no notion of the victim's own account, so a
second row shows it with the truth's own accounts removed, an upper bound it cannot reach by itself).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from identity_common import (
    SplinkBaseline,
    build_store,
    context_for,
    index_rows,
    read_victims,
    splink_flags,
    splink_queries,
)
from ombud.identity.evaluate import Evaluation, flagged_accounts
from ombud.identity.service import discover


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synth", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--build", action="store_true", help="import DIR into DATA_DIR and build the index first")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--victims", type=int, default=None, help="only the first N victims")
    parser.add_argument("--splink-max-pairs", type=float, default=2e6)
    parser.add_argument("--no-splink", action="store_true", help="only Ombud (e.g. while tuning)")
    args = parser.parse_args()
    if args.build:
        print("build:", build_store(args.synth, args.data, args.database_url))
    ctx = context_for(args.data, args.database_url)
    victims = read_victims(args.synth / "truth" / "victims.jsonl", args.victims)

    ours = Evaluation()
    started = time.perf_counter()
    with ctx.sessions() as session:
        for victim in victims:
            result = discover(session, ctx.keys, victim["profile"], threshold=args.threshold,
                              include_below_threshold=False)
            ours.add(victim, flagged_accounts(result))
    ours_seconds = time.perf_counter() - started

    if args.no_splink:
        summary = ours.summary()
        print({k: round(v, 4) if isinstance(v, float) else v for k, v in summary.items()})
        print(f"ombud: {ours_seconds:.1f} s for all victims")
        return
    started = time.perf_counter()
    baseline = SplinkBaseline(list(index_rows(ctx)), max_pairs=args.splink_max_pairs)
    splink_train = time.perf_counter() - started
    queries = splink_queries(ctx, victims)
    started = time.perf_counter()
    flagged = splink_flags(baseline, queries, args.threshold)
    splink_seconds = time.perf_counter() - started
    splink, splink_oracle = Evaluation(), Evaluation()
    for victim in victims:
        found = flagged[victim["victim_id"]]
        splink.add(victim, found)
        own_not_fraud = set(victim["own_account_ids"]) - set(victim["fraudulent_account_ids"])
        splink_oracle.add(victim, found - own_not_fraud)

    rows = [("ombud", ours.summary()), ("splink", splink.summary()), ("splink, own accounts removed by the truth",
                                                                     splink_oracle.summary())]
    keys = ["micro_precision", "micro_recall", "macro_precision", "macro_recall", "false_positives", "missed",
            "lookalike_false_positives", "own_accounts_flagged"]
    print(f"\n{len(victims)} victims, {rows[0][1]['fraudulent_accounts']} fraudulent accounts, "
          f"{rows[0][1]['lookalike_accounts']} look-alike accounts; threshold {args.threshold}")
    print("| system | " + " | ".join(k.replace("_", " ") for k in keys) + " |")
    print("| --- " * (len(keys) + 1) + "|")
    for label, summary in rows:
        cells = [f"{summary[k]:.4f}" if isinstance(summary[k], float) else str(summary[k]) for k in keys]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(f"\nombud: {ours_seconds:.1f} s for all victims; splink: training {splink_train:.1f} s, "
          f"one batched predict_between for all victims {splink_seconds:.1f} s")


if __name__ == "__main__":
    main()
