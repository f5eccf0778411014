"""Households, messy exports and login-free retailers for the synthetic retailer (`ombud synth --households`).

The hard negatives of identity discovery are the people a victim lives with. With `households` on, a
victim may also have, at their address, each with their own accounts (their own email, phone and cards):

| kind | who |
| --- | --- |
| `junior` | a son (or daughter) with the victim's first and last name, 20-35 years younger; half write "Jr." |
| `senior` | a parent with the victim's first and last name, 20-35 years older; half write "Sr." |

(Both adults and the parent at most 100: a victim too young for a grown child gets a parent instead, one too
old for a living parent a child.)
| `twin` | a twin: the victim's surname and date of birth, another first name |
| `spouse` | a spouse with the victim's surname (a wife's maiden name kept as her former name) |

They join the existing `family` and `roommate` look-alikes; the truth lists them all under
`household_account_ids`. `messy` then damages the written export as real ones are damaged (regions and
cities left out, a name missing, impossible birth dates, a generational suffix dropped is already common
above), and `logins=False` leaves the sign-in history out (a retailer that does not send it). Pure
post-processing and planning: the honest people's random stream is the same with these options off.
"""

from __future__ import annotations

import csv
import io
import random
from datetime import date, timedelta
from pathlib import Path

from ombud.synth.people import PeopleMaker, Person
from ombud.synth.pools import Rng

#: Chance that a victim has each kind of household member (with `households` on).
HOUSEHOLD_RATES = {"junior": 0.12, "senior": 0.06, "twin": 0.05, "spouse": 0.3}
#: Look-alike kinds that live at the victim's address: the household members.
HOUSEHOLD_KINDS = frozenset({"family", "roommate", *HOUSEHOLD_RATES})
_YEAR = 365


#: A parent and a child with the same name are a generation apart; both are adults (to hold accounts) and the
#: parent is alive.
GENERATION_GAP = (20 * _YEAR, 35 * _YEAR)
ADULT_AGE, OLDEST_AGE = 18 * _YEAR, 100 * _YEAR


def generation_of(kind: str, victim_dob: date, as_of: date, step: timedelta) -> tuple[str, date]:
    """(kind, date of birth) of a same-name parent or child `step` apart from the victim: a victim too young to
    have a grown child gets a parent instead ("senior"), one too old to have a living parent a child ("junior").

    With a gap of 20-35 years and victims aged 18-100 one of the two always fits.
    """
    junior, senior = victim_dob + step, victim_dob - step
    junior_fits = junior <= as_of - timedelta(days=ADULT_AGE)
    senior_fits = senior >= as_of - timedelta(days=OLDEST_AGE)
    if kind == "junior" and not junior_fits and senior_fits:
        kind = "senior"
    elif kind == "senior" and not senior_fits and junior_fits:
        kind = "junior"
    return kind, (junior if kind == "junior" else senior)


def make_member(maker: PeopleMaker, kind: str, victim: Person, other: Person, rng: Rng) -> str:
    """Make `other` a member of the victim's household of this kind (a different real person); the kind made
    (a junior asked of a victim too young for a grown child is made their senior, and the other way round)."""
    other.home, other.former, other.moved_at = victim.home, [], 0
    other.last, other.former_last = victim.last, None
    if kind in ("junior", "senior"):
        other.first, other.sex = victim.first, victim.sex
        other.middle = victim.middle if rng.random() < 0.3 else other.middle
        step = timedelta(days=rng.randint(*GENERATION_GAP))
        kind, other.dob = generation_of(kind, victim.dob, maker.as_of_date, step)
        if rng.random() < 0.5:  # the suffix written on every account, or (often) on none
            other.last = f"{victim.last} {'Jr.' if other.dob > victim.dob else 'Sr.'}"
    elif kind == "twin":
        other.dob = victim.dob
        names = maker.pools.female if other.sex == "F" else maker.pools.male
        while other.first == victim.first:
            other.first = str(names.one(rng))
    elif kind == "spouse":
        other.sex = "M" if victim.sex == "F" else "F"
        names = maker.pools.female if other.sex == "F" else maker.pools.male
        other.first = str(names.one(rng))
        other.dob = victim.dob + timedelta(days=rng.randint(-2500, 2500))
        other.dob = min(other.dob, maker.as_of_date - timedelta(days=19 * _YEAR))
        if other.sex == "F" and rng.random() < 0.6:
            other.former_last = str(maker.pools.last.one(rng))
    else:
        raise ValueError(kind)
    plain_last = victim.last
    other.emails = [maker.email_for(rng, other.first, plain_last, other.dob.year) for _ in other.emails]
    other.phone = maker.phone_for(rng, other.home.town)
    return kind


def household_account_ids(lookalikes: list[tuple[str, Person]]) -> list[str]:
    """Accounts of the look-alikes who live with the victim."""
    return [aid for kind, p in lookalikes if kind in HOUSEHOLD_KINDS for aid in p.account_ids]


# ------------------------------------------------------------------------------ messy exports

#: Per-row chances of each kind of damage, at `messy=1.0`.
MESS = {"region": 0.05, "city": 0.02, "postal_code": 0.01, "name": 0.005, "date_of_birth": 0.01}


def damage(out_dir: Path, seed: int, messy: float, logins: bool) -> dict[str, int]:
    """Damage a written CSV export in place as real exports are damaged; drop the logins if asked. Counts."""
    counts: dict[str, int] = {}
    rng = random.Random(f"ombud-synth-mess:{seed}")
    if not logins:
        for path in out_dir.glob("logins.*"):
            path.unlink()
            counts["logins_dropped"] = 1
    if messy <= 0:
        return counts
    for kind, fields in (("accounts", ("name", "date_of_birth")),
                         ("addresses", ("region", "city", "postal_code")),
                         ("credit_applications", ("region", "city", "date_of_birth"))):
        path = out_dir / f"{kind}.csv"
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader)
        where = {name: header.index(name) for name in fields if name in header}
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for row in reader:
            for name, i in where.items():
                if row[i] and rng.random() < MESS[name] * messy:
                    # An impossible birth date; otherwise the value left out.
                    row[i] = f"{row[i][:4]}-02-30" if name == "date_of_birth" else ""
                    counts[f"{kind}.{name}"] = counts.get(f"{kind}.{name}", 0) + 1
            writer.writerow(row)
        path.write_text(out.getvalue(), encoding="utf-8")
    return counts
