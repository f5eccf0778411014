"""The retailer's staff directory: teams, roles, regions, managers, hire dates and some leavers.

Managers are written before the people who report to them, so every `manager_id` refers to an earlier row.
"""

from __future__ import annotations

from datetime import date, timedelta

from ombud.synth.people import DAY
from ombud.synth.pools import Pools, Rng, Weighted

#: team -> (role, share of staff)
TEAMS: dict[str, tuple[str, float]] = {
    "Customer Support": ("agent", 0.52),
    "Trust & Safety": ("agent", 0.14),
    "Identity Theft Response": ("agent", 0.08),
    "Privacy Office": ("privacy_officer", 0.10),
    "Security Operations": ("security_analyst", 0.11),
    "IT Administration": ("admin", 0.05),
}
REGIONS = Weighted((("us-east", 35), ("us-west", 25), ("us-central", 20), ("eu-west", 10), ("apac", 10)))
_EPOCH = date(1970, 1, 1)

Agent = tuple[str, int, int]  # employee id, hired (epoch s), left (epoch s; far future when still employed)


def staff_size(accounts: int) -> int:
    """How many employees a retailer of this many accounts has in these teams (30 to 3,000)."""
    return min(3000, 30 + accounts // 1000)


def make_staff(pools: Pools, rng: Rng, count: int, as_of: int) -> tuple[list[list[object]], list[Agent]]:
    """Employee rows (import column order) and the agents who may author support notes."""
    as_of_day = as_of // DAY
    rows: list[list[object]] = []
    agents: list[Agent] = []
    used_emails: set[str] = set()
    counter = 0

    def employee(team: str, role: str, region: str, manager: str | None, level: int) -> str:
        nonlocal counter
        counter += 1
        employee_id = f"E{counter:05d}"
        first = str((pools.female if rng.random() < 0.5 else pools.male).one(rng))
        last = str(pools.last.one(rng))
        local = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
        email, n = f"{local}@staff.example.com", 1
        while email in used_emails:
            n += 1
            email = f"{local}{n}@staff.example.com"
        used_emails.add(email)
        tenure_days = int(rng.random() ** (0.7 if level else 1.3) * 14 * 365) + 7
        hired = as_of_day - tenure_days
        left = None
        if rng.random() < (0.03 if level else 0.12) and tenure_days > 120:
            left = hired + rng.between(60, tenure_days - 1)
        rows.append([employee_id, f"{first} {last}", email, team, role, region, manager,
                     (_EPOCH + timedelta(days=hired)).isoformat(),
                     (_EPOCH + timedelta(days=left)).isoformat() if left is not None else None])
        if role == "agent":
            agents.append((employee_id, hired * DAY, (left if left is not None else as_of_day + 36500) * DAY))
        return employee_id

    heads = {team: employee(team, role, "us-east", None, 2) for team, (role, _) in TEAMS.items()}
    remaining = max(0, count - len(heads))
    for team, (role, share) in TEAMS.items():
        members = max(1, round(remaining * share))
        leads: dict[str, str] = {}
        for _ in range(members):
            region = str(REGIONS.one(rng))
            if region not in leads or rng.random() < 0.08:
                leads[region] = employee(team, role, region, heads[team], 1)
            else:
                employee(team, role, region, leads[region], 0)
    return rows, agents
