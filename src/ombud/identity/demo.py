"""The identity part of `ombud demo`: pick a victim from the synthetic truth and find the fraud from
nothing but the victim's own identifiers, ranked and explained."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ombud.context import Context
from ombud.identity.evaluate import FLAGGED, read_truth
from ombud.identity.index import index_stats, reindex
from ombud.identity.service import discover

#: Where the demo leaves the shown victim's profile (in the data folder).
DEMO_PROFILE = "demo-victim-profile.json"

#: Case kinds in the order the demo prefers a victim to show (the richest story first).
_PREFERRED = ("account_takeover", "card_added", "new_account", "credit_application")


def pick_victim(truth_path: Path) -> dict[str, Any] | None:
    """A victim whose cases show the most kinds of fraud (deterministic for a truth file)."""
    best: tuple[int, int, str] | None = None
    chosen = None
    for victim in read_truth(truth_path):
        kinds = {c["kind"] for c in victim.get("cases", [])}
        if not victim.get("fraudulent_account_ids"):
            continue
        rank = (len(kinds), -min((_PREFERRED.index(k) for k in kinds if k in _PREFERRED), default=9),
                victim["victim_id"])
        if best is None or rank > best:
            best, chosen = rank, victim
    return chosen


def run_demo(ctx: Context, console: Console, truth_path: Path) -> None:
    """Discover one victim's fraudulent accounts from their own identifiers and show the explained result."""
    console.rule("[bold]Identity discovery[/]")
    with ctx.sessions() as session, session.begin():
        if index_stats(session)["stale"]:  # imports normally keep the index current; rebuild if they did not
            reindex(session, ctx.keys)
    victim = pick_victim(truth_path)
    if victim is None:
        console.print("[yellow]the synthetic truth holds no victim with a fraudulent account[/]")
        return
    profile = victim["profile"]
    console.print(f"Victim {victim['victim_id']} gives only their own identifiers (never the thief's):")
    console.print_json(json.dumps(_masked(profile)))
    with ctx.sessions() as session:
        result = discover(session, ctx.keys, profile)
    table = Table("#", "account", "probability", "verdict", "what matched", title="What discovery found")
    truth = set(victim["fraudulent_account_ids"])
    truth_apps = {a for c in victim.get("cases", []) for a in c.get("application_ids", [])}
    for i, m in enumerate(result.matches, 1):
        in_truth = m.account_id in truth if m.account_id else m.application_id in truth_apps
        mark = " [green](fraud in the truth)[/]" if in_truth else ""
        table.add_row(str(i), (m.account_id or f"application {m.application_id}") + mark, f"{m.probability:.4f}",
                      m.verdict.replace("_", " "), m.summary)
    console.print(table)
    for m in result.matches:
        if m.verdict in FLAGGED:
            console.print(f"\n[bold]Why {m.account_id or m.application_id}[/] ({m.log2_odds:+.1f} bits):")
            for line in m.signals:
                console.print(f"   • {line}")
            for e in m.explanation:
                if e.kind not in ("missing", "mismatch"):
                    console.print(f"   {e.text}")
            break
    found = {m.account_id for m in result.matches if m.verdict in FLAGGED and m.account_id}
    apps = {m.application_id for m in result.matches if m.verdict in FLAGGED and not m.account_id}
    console.print(f"\nfound {len(found & truth)} of {len(truth)} fraudulent accounts and {len(apps & truth_apps)} of "
                  f"{len(truth_apps - _app_ids_on(result))} stand-alone credit applications; "
                  f"{len(found - truth)} other accounts flagged; {len(result.below_threshold)} look-alikes kept "
                  f"below the threshold; {result.elapsed_ms} ms")
    # The victim's own identifiers as a profile file (synthetic data), so the next step is one command.
    profile_file = ctx.settings.data_dir / DEMO_PROFILE
    profile_file.write_text(json.dumps(profile, indent=2) + "\n", encoding="utf-8")
    profile_file.chmod(0o600)
    console.print(f"Try it yourself: [bold]ombud discover --profile {profile_file}[/] (this victim's profile; "
                  "any victim's is in the truth file; the format is in docs/identity-discovery.md)",
                  highlight=False)


def _app_ids_on(result: Any) -> set[str]:
    """Applications reported inside an account's match (not stand-alone)."""
    return {a.application_id for m in result.matches if m.account_id for a in m.applications}


def _masked(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile as printed on screen: card numbers and the SSN shown by their last four only."""
    out = dict(profile)
    if out.get("ssn"):
        out["ssn"] = "***-**-" + str(out["ssn"])[-4:]
    out["card_numbers"] = ["…" + str(n)[-4:] for n in out.get("card_numbers", [])]
    return out
