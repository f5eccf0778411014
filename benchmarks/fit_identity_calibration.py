"""Fit the calibration of discovery's match probabilities on labelled pairs of the *tuning* data.

    .venv/bin/python benchmarks/fit_identity_calibration.py --synth DIR --data DATA_DIR

DIR must be the synthetic retailer with households (`ombud synth --households`), never the evaluation
population (`benchmarks/evalpop.py`): its figures are only measured. Every candidate of every victim's
search (matches and those below the threshold) is a pair (log2 odds, whether the record used the victim's
identity: a fraudulent or an own account of theirs); a logistic regression of the outcome on the log2 odds
(Platt scaling), separately for records with and without a hard link, gives the four numbers kept in
`ombud.identity.scoring.CALIBRATION`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from identity_common import context_for, read_victims
from ombud.identity.calibration import brier, fit_platt, platt
from ombud.identity.service import discover


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--synth", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args()
    ctx = context_for(args.data)
    samples: dict[bool, list[tuple[float, bool]]] = {False: [], True: []}
    with ctx.sessions() as session:
        for victim in read_victims(args.synth / "truth" / "victims.jsonl"):
            truth = set(victim["fraudulent_account_ids"]) | set(victim["own_account_ids"])
            result = discover(session, ctx.keys, victim["profile"], below_threshold_limit=200)
            for m in result.matches + result.below_threshold:
                if m.account_id:
                    samples[m.hard_link].append((m.log2_odds, m.account_id in truth))
    coefficients = []
    for hard in (False, True):
        slope, intercept = fit_platt(samples[hard])
        coefficients += [slope, intercept]
        pairs = samples[hard]
        print(f"{'hard links' if hard else 'others'}: {len(pairs)} pairs, {sum(y for _, y in pairs)} positive, "
              f"Brier {brier([(platt(x, slope, intercept), y) for x, y in pairs]):.4f}")
    print("CALIBRATION = (" + ", ".join(f"{c:.4f}" for c in coefficients) + ")")


if __name__ == "__main__":
    main()
