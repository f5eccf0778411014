"""The synthetic retailer's injected requests, worked by the written procedure (ombud.victim_requests.synthload),
against the ground truth: the share of genuine requests verified with every fraudulent account confirmed, how
many fraudulent accounts were confirmed, accounts wrongly marked fraud, the non-genuine requests declined, and
the days from receipt to verified in the scenario (its clock: the verifier takes a request up 20 hours after
receipt). Scratch SQLite store; the retailer is imported with the identity index kept current, as `ombud import`.

    .venv/bin/python benchmarks/bench_requests_quality.py --accounts 5000 --victim-rate 0.04 --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from benchutil import load_average, load_line, print_markdown
from ombud import migrate
from ombud.config import Environment, Settings
from ombud.context import Context
from ombud.db import transaction
from ombud.identity.index import import_callback
from ombud.retail.importer import import_directory
from ombud.staff.models import Role
from ombud.staff.testing import make_employee
from ombud.synth import generate
from ombud.synth.requests import read_requests
from ombud.victim_requests import synthload


def one(accounts: int, victim_rate: float, seed: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        retailer = Path(tmp) / "retailer"
        generate(retailer, accounts=accounts, seed=seed, victim_rate=victim_rate)
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        ctx = Context(Settings(env=Environment.test, data_dir=Path(tmp) / "data", database_url=url))
        try:
            import_directory(ctx, retailer, on_batch=[import_callback(ctx.keys)])
            with transaction(ctx.sessions) as session:
                agent = make_employee(session, role=Role.agent, team="victim-requests", password=None)
                officer = make_employee(session, role=Role.privacy_officer, team="Privacy", password=None)
                second = make_employee(session, role=Role.privacy_officer, team="Privacy", password=None)
                report = synthload.run_scenario(session, ctx.keys, ctx.settings, read_requests(retailer),
                                                agent=agent, officer=officer, second_officer=second)
            return report.summary()
        finally:
            ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=5000)
    parser.add_argument("--victim-rate", type=float, default=0.04)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    before = load_average()
    rows, shares = [], []
    for seed in args.seeds:
        s = one(args.accounts, args.victim_rate, seed)
        shares.append(float(s["genuine_verified_and_all_fraud_confirmed"] or 0))  # type: ignore[arg-type]
        rows.append((str(seed), str(s["requests"]), str(s["genuine"]), str(s["genuine_verified"]),
                     str(s["genuine_verified_and_all_fraud_confirmed"]),
                     f"{s['fraud_accounts_confirmed']} / {s['fraud_accounts_expected']}",
                     str(s["accounts_wrongly_confirmed_fraud"]), str(s["non_genuine_declined"]),
                     str(s["median_days_to_verified"])))
    print(f"injected requests of a {args.accounts:,}-account synthetic retailer (victim rate {args.victim_rate})")
    print_markdown(("seed", "requests", "genuine", "genuine verified", "verified + every fraud account confirmed",
                    "fraud accounts confirmed", "accounts wrongly marked fraud", "non-genuine declined",
                    "median days to verified"), rows)
    print(f"median share verified with every fraudulent account confirmed: {statistics.median(shares):.4f}")
    print(load_line(before))


if __name__ == "__main__":
    main()
