"""Injected victims' records requests with their ground truth (``truth/requests.jsonl``).

From the synthetic retailer's victims: genuine requests (each victim writes their own identifiers as they know
them, with an ID, a report and an affidavit, through the portal, the API or a letter), repeats of some of them a
month and a half later, one request whose requester cannot be confirmed (no proof, and contact details that
match nothing), and one resting on a misrepresentation (a same-name look-alike, who is no victim, claims a
victim's fraudulent account as opened in their name). The truth says what a correct handling ends in.

Pure file work, no database: ``ombud.victim_requests.synthload`` takes the lines in through the service.
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ombud.synth.truth import read_victims

REQUESTS_FILE = "requests.jsonl"
TRUTH_DIR = "truth"
#: Share of victims who ask for their records, and of those who ask again later.
ASK_RATE = 0.6
REPEAT_RATE = 0.1
CHANNELS = (("portal", 0.6), ("api", 0.2), ("mail", 0.15), ("email", 0.05))


def _request_of(profile: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The request a victim writes from their own identifiers (what they know of themselves)."""
    names, emails, phones = profile.get("names") or [], profile.get("emails") or [], profile.get("phones") or []
    addresses = [{k: v for k, v in a.items() if k in ("line1", "line2", "city", "region", "postal_code")}
                 for a in profile.get("addresses") or []]
    for a in addresses:
        a["line2"] = a.get("line2") or None
    return {
        "full_name": names[0], "other_names": names[1:5], "email": emails[0] if emails else None,
        "other_emails": emails[1:5], "phone": phones[0] if phones else None, "other_phones": phones[1:5],
        "address": addresses[0] if addresses else None, "previous_addresses": addresses[1:5],
        "date_of_birth": profile.get("date_of_birth"),
        # Not everyone hands over their SSN or card numbers; the request must work without them.
        "ssn": profile.get("ssn") if rng.random() < 0.7 else None,
        "card_numbers": list(profile.get("card_numbers") or []) if rng.random() < 0.8 else [],
        "contact_preference": "email" if emails else "mail", "statement_true": True,
    }


def _channel(rng: random.Random) -> str:
    roll, total = rng.random(), 0.0
    for name, share in CHANNELS:
        total += share
        if roll < total:
            return name
    return "portal"


def _accounts(out_dir: Path, wanted: set[str]) -> dict[str, dict[str, str]]:
    """Rows of accounts.csv / accounts.jsonl for these ids (and each one's newest address)."""
    out: dict[str, dict[str, str]] = {}
    for kind in ("accounts", "addresses"):
        csv_path, jsonl_path = out_dir / f"{kind}.csv", out_dir / f"{kind}.jsonl"
        rows: Iterator[dict[str, Any]]
        if csv_path.exists():
            rows = csv.DictReader(csv_path.open(encoding="utf-8", newline=""))
        elif jsonl_path.exists():
            rows = (json.loads(line) for line in jsonl_path.open(encoding="utf-8") if line.strip())
        else:
            continue
        for row in rows:
            if row.get("account_id") in wanted:
                if kind == "accounts":
                    out[row["account_id"]] = dict(row)
                else:
                    out.setdefault(row["account_id"], {})["address"] = row  # type: ignore[assignment]
    return out


def inject(out_dir: Path | str, *, seed: int = 0, as_of: datetime) -> dict[str, int]:
    """Write ``truth/requests.jsonl`` for a synthetic retailer; returns the count of each kind."""
    out = Path(out_dir)
    rng = random.Random(f"requests:{seed}")
    victims = list(read_victims(out))
    lines: list[dict[str, Any]] = []
    n = 0

    def add(kind: str, victim_id: str | None, request: dict[str, Any], evidence: list[str], expect: str,
            fraud: list[str], own: list[str], hours: float, channel: str, repeat_of: str | None = None) -> str:
        nonlocal n
        n += 1
        rid = f"R{n:05d}"
        lines.append({"request_id": rid, "kind": kind, "victim_id": victim_id, "channel": channel,
                      "received_at": (as_of + timedelta(hours=hours)).isoformat(), "request": request,
                      "evidence": evidence, "repeat_of": repeat_of,
                      "truth": {"expect": expect, "fraudulent_account_ids": fraud, "own_account_ids": own}})
        return rid

    asking = [v for v in victims if rng.random() < ASK_RATE]
    for victim in asking:
        request = _request_of(victim["profile"], rng)
        proof = ["government_id", rng.choice(["ftc_report", "police_report"]), "affidavit"]
        hours = rng.uniform(1, 24 * 14)
        fraud = sorted(set(victim["fraudulent_account_ids"]))
        own = sorted(set(victim["own_account_ids"]))
        rid = add("genuine", victim["victim_id"], request, proof, "verify", fraud, own, hours, _channel(rng))
        if rng.random() < REPEAT_RATE:
            add("repeat", victim["victim_id"], _request_of(victim["profile"], rng), proof, "verify", fraud, own,
                hours + 24 * 45, _channel(rng), repeat_of=rid)
    rest = [v for v in victims if v not in asking] or victims
    if rest:
        victim = rest[0]
        names = victim["profile"]["names"]
        # Only a name and a birth date, contact details that are nobody's, and no proof at all.
        request = {"full_name": names[0], "date_of_birth": victim["profile"].get("date_of_birth"),
                   "email": f"unverified.{rng.randrange(10**6)}@example.org", "statement_true": True}
        add("unconfirmable", victim["victim_id"], request, [], "decline:identity_not_confirmed",
            sorted(set(victim["fraudulent_account_ids"])), [], rng.uniform(1, 24 * 14), "email")
    namesakes = [(v, la) for v in victims for la in v.get("lookalikes", [])
                 if la["kind"] == "same_name" and la.get("account_ids") and v.get("fraudulent_account_ids")]
    if namesakes:
        victim, lookalike = namesakes[0]
        account_id = lookalike["account_ids"][0]
        row = _accounts(out, {account_id}).get(account_id)
        if row:
            address = row.get("address") or {}
            request = {
                "full_name": row["name"], "email": row.get("email") or None, "phone": row.get("phone") or None,
                "date_of_birth": row.get("date_of_birth") or None, "statement_true": True,
                "address": {"line1": address.get("line1") or "1 Unknown Street", "line2": address.get("line2") or None,
                            "city": address.get("city"), "region": address.get("region"),
                            "postal_code": address.get("postal_code")} if address else None,
                "account_or_transaction_number": victim["fraudulent_account_ids"][0],
                "description": "This account was opened in my name without my permission.",
            }
            add("misrepresentation", None, request, ["government_id", "affidavit"], "decline:misrepresentation",
                [], [account_id], rng.uniform(1, 24 * 14), "portal")
    path = out / TRUTH_DIR / REQUESTS_FILE
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for line in lines:
            handle.write(json.dumps(line, separators=(",", ":")) + "\n")
    counts: dict[str, int] = {}
    for line in lines:
        counts[line["kind"]] = counts.get(line["kind"], 0) + 1
    return counts


def read_requests(out_dir: Path | str) -> list[dict[str, Any]]:
    """The injected requests of a synthetic retailer, in order (empty when it has none)."""
    path = Path(out_dir) / TRUTH_DIR / REQUESTS_FILE
    if not path.exists():
        return []
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
