"""Insider data for the synthetic retailer: sellers, reviews, support contacts, HR facts, months of staff
activity in the retailer's other tools, and injected insider scenarios with their ground truth.

Runs after the retailer's files are written (it reads them back, so it depends only on the import format) and
only when asked (`ombud synth --insider`): without it the synthetic retailer's output is unchanged. Activity is
made set-wise with numpy: ten million access events take a couple of minutes. See docs/synth.md.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import polars as pl

from ombud.errors import InvalidInput
from ombud.synth.insider_activity import (
    CHANNELS,
    CLS,
    ORDER_TOOL,
    SUPPORT,
    TOPIC_NAMES,
    TOPICS,
    Activity,
    contact_events,
    write_frame,
)
from ombud.synth.insider_scenarios import SCENARIOS, Scenarios
from ombud.synth.insider_world import (
    DAY,
    Customers,
    Staff,
    load_customers,
    load_staff,
    read_kind,
    shift_times,
    workdays,
)
from ombud.synth.sink import COLUMNS
from ombud.synth.writer import render

#: Contacts per working day of a team's member relative to `load` (IT Administration serves no customers).
TEAM_PACE = {"Customer Support": 1.0, "Trust & Safety": 0.6, "Identity Theft Response": 0.45,
             "Privacy Office": 0.06, "Security Operations": 0.04}
#: A new hire reaches full pace over this many days (from a quarter of it).
RAMP_DAYS = 45
SELLER_WORDS = ("Acme", "Blue", "Cedar", "Delta", "Evergreen", "Fox", "Granite", "Harbor", "Iris", "Juniper",
                "Keystone", "Lumen", "Maple", "North", "Orchard", "Pioneer", "Quarry", "River", "Summit", "Tidal")
SELLER_KINDS = ("Outlet", "Goods", "Supply", "Trading", "Home", "Electronics", "Direct", "Market", "Co", "Depot")
PRODUCT_WORDS = ("kettle", "desk lamp", "toaster", "phone case", "headphones", "yoga mat", "backpack", "blender",
                 "smart plug", "home camera", "doorbell camera", "charger", "water bottle", "air fryer", "mouse")
STREETS = ("Maple", "Oak", "Cedar", "Pine", "Elm", "Willow", "Birch", "Hill", "Lake", "Park")


@dataclass(frozen=True)
class InsiderOptions:
    """What `--insider` adds: how long, how busy, how many injected scenarios."""

    #: Days of staff activity, ending at the run's as-of date.
    days: int = 90
    #: Customer contacts a Customer Support agent handles on a working day, on average.
    load: float = 12.0
    #: Injected insider scenarios per kind for every 100 agents (at least one of each).
    scenario_rate: float = 1.0
    #: About this many employees in the staff directory (team shares are rounded); default: as many as the
    #: retailer's size gives (30 + accounts/1000).
    staff: int | None = None

    def check(self) -> None:
        if not 7 <= self.days <= 730:
            raise InvalidInput("insider days must be between 7 and 730", field="insider-days")
        if not 0.5 <= self.load <= 200:
            raise InvalidInput("insider load must be between 0.5 and 200 contacts a day", field="insider-load")
        if self.staff is not None and not 30 <= self.staff <= 20_000:
            raise InvalidInput("insider staff must be between 30 and 20,000", field="insider-staff")
        if not 0 <= self.scenario_rate <= 50:
            raise InvalidInput("insider scenario rate must be between 0 and 50", field="insider-scenarios")


@dataclass
class InsiderSummary:
    """Rows written per file and truth lines per scenario."""

    rows: dict[str, int]
    scenarios: Counter[str]
    events: int


def write_insider(out: Path, fmt: str, seed: int, as_of: datetime, options: InsiderOptions) -> InsiderSummary:
    """Write the insider files into a synth output folder `out` and its truth/insider.jsonl."""
    options.check()
    rng = np.random.default_rng([seed, 0x1A51DE])
    as_of_s = int(as_of.astimezone(UTC).timestamp())
    as_of_day = as_of_s // DAY
    first_day = as_of_day - options.days
    customers = load_customers(out, fmt)
    staff = load_staff(out, fmt, rng, as_of_day)
    rows: dict[str, int] = {}

    homes = _staff_homes(staff, customers, rng)
    extra_accounts, extra_addresses, customers, household = _staff_as_customers(staff, customers, homes, rng,
                                                                                first_day)
    _append(out, fmt, "accounts", extra_accounts)
    _append(out, fmt, "addresses", extra_addresses)
    rows["accounts"], rows["addresses"] = len(extra_accounts), len(extra_addresses)

    sellers, products, reviews = _marketplace(customers, rng, as_of_s)
    for kind, frame in (("sellers", sellers), ("products", products), ("reviews", reviews)):
        write_frame(frame, out / f"{kind}.{fmt}", fmt)
        rows[kind] = frame.height

    grid = workdays(staff, first_day, options.days, rng)
    activity = Activity(staff, customers, first_day, options.days, rng.random(grid.shape) < 0.2, TOPIC_NAMES)
    eligible = np.flatnonzero(customers.created < first_day * DAY)
    _ordinary_work(activity, grid, options, eligible, rng)
    _order_reviews(activity, grid, rng, first_day, as_of_s)
    scenarios = Scenarios(activity, grid, rng, first_day, as_of_s, homes, household, reviews, sellers, eligible,
                          _topic_codes())
    hr_left = scenarios.run(options.scenario_rate)

    hr = _staff_hr(out, fmt, staff, homes, hr_left)
    write_frame(hr, out / f"staff_hr.{fmt}", fmt)
    rows["staff_hr"] = hr.height
    contacts = activity.contacts_frame(as_of_s)
    write_frame(contacts.drop("tag"), out / f"support_contacts.{fmt}", fmt)
    rows["support_contacts"] = contacts.height
    events = activity.events_frame(as_of_s)
    write_frame(events.drop("tag"), out / f"access_events.{fmt}", fmt)
    rows["access_events"] = events.height
    truth = scenarios.truth(events, contacts)
    with (out / "truth" / "insider.jsonl").open("w", encoding="utf-8", newline="\n") as handle:
        for line in truth:
            handle.write(json.dumps(line, sort_keys=False) + "\n")
    counts = Counter(f"{t['label']}:{t['scenario']}" for t in truth)
    return InsiderSummary(rows, counts, events.height)


def _topic_codes() -> dict[str, int]:
    return {name: i for i, name in enumerate(TOPIC_NAMES)}


# --- staff homes and staff who are customers -------------------------------------------------------------------


@dataclass
class Homes:
    """Each employee's home: postcode and country ('' when HR has none), and town (US homes)."""

    postcode: np.ndarray
    country: np.ndarray
    town: np.ndarray  # index of a customer living in the same postcode, or -1


def _staff_homes(staff: Staff, customers: Customers, rng: np.random.Generator) -> Homes:
    """US staff live where customers live (a random customer's postcode); Dublin and Singapore staff abroad."""
    n = staff.count
    with_home = np.flatnonzero(customers.postcode != "")
    town = with_home[rng.integers(0, len(with_home), n)] if len(with_home) else np.full(n, -1)
    postcode = np.where(town >= 0, customers.postcode[np.maximum(town, 0)], "").astype(object)
    country = np.full(n, "US", dtype=object)
    for i in range(n):
        if staff.region[i] == "eu-west":
            postcode[i], country[i], town[i] = f"D{rng.integers(1, 25):02d} {rng.integers(1000, 9999)}", "IE", -1
        elif staff.region[i] == "apac":
            postcode[i], country[i], town[i] = f"{rng.integers(10, 83)}{rng.integers(0, 9999):04d}", "SG", -1
    missing = rng.random(n) < 0.08  # HR has no home postcode on file
    postcode[missing], country[missing], town[missing] = "", "", -1
    return Homes(postcode, country, town)


@dataclass
class Household:
    """Accounts of staff who shop at the retailer, and of their families (same surname, same address)."""

    own: np.ndarray  # per employee: customer index of their own account, or -1
    family: np.ndarray  # per employee: customer index of a family member's account, or -1


def _staff_as_customers(staff: Staff, customers: Customers, homes: Homes, rng: np.random.Generator,
                        first_day: int) -> tuple[list[list[object]], list[list[object]], Customers, Household]:
    """About a third of US staff have an account (and some a spouse's or child's too) at their home address."""
    accounts: list[list[object]] = []
    addresses: list[list[object]] = []
    own = np.full(staff.count, -1)
    family = np.full(staff.count, -1)
    new_ids, new_surnames, new_postcodes, new_cities, new_regions, new_created = [], [], [], [], [], []
    base = customers.count
    for i in range(staff.count):
        if homes.town[i] < 0 or rng.random() >= 0.35:
            continue
        town = homes.town[i]
        first, last = str(staff.names[i]).split(" ", 1)
        line1 = f"{rng.integers(1, 9999)} {STREETS[rng.integers(len(STREETS))]} Street"
        members = [(first, "own")]
        if rng.random() < 0.45:
            members.append((("Jordan", "Sam", "Alex", "Casey", "Riley", "Morgan", "Taylor")[rng.integers(7)],
                            "family"))
        for given, who in members:
            number = len(new_ids) + 1
            account_id = f"AE{number:08d}"
            created = (first_day - int(rng.integers(60, 3000))) * DAY + int(rng.integers(0, DAY))
            created_text = datetime.fromtimestamp(created, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            email = f"{given}.{last}.{number}@mail.example.org".lower().replace(" ", "").replace("'", "")
            accounts.append([account_id, "active", created_text, f"{given} {last}", email, None, None, None, None])
            for kind in ("shipping", "billing"):
                addresses.append([f"ADE{number:08d}{kind[0].upper()}", account_id, kind, f"{given} {last}", line1,
                                  None, customers.city[town], customers.region[town], customers.postcode[town], "US",
                                  created_text])
            index = base + len(new_ids)
            (own if who == "own" else family)[i] = index
            new_ids.append(account_id)
            new_surnames.append(last.split(" ")[-1].lower())
            new_postcodes.append(customers.postcode[town])
            new_cities.append(customers.city[town])
            new_regions.append(customers.region[town])
            new_created.append(created)
    obj = lambda values: np.array(values, dtype=object)  # noqa: E731
    grown = Customers(
        ids=np.concatenate([customers.ids, obj(new_ids)]),
        created=np.concatenate([customers.created, np.array(new_created, dtype=np.int64)]),
        surname=np.concatenate([customers.surname, obj(new_surnames)]),
        postcode=np.concatenate([customers.postcode, obj(new_postcodes)]),
        city=np.concatenate([customers.city, obj(new_cities)]),
        region=np.concatenate([customers.region, obj(new_regions)]),
        order_account=customers.order_account, order_at=customers.order_at,
        order_status=customers.order_status, order_total=customers.order_total,
    )
    return accounts, addresses, grown, Household(own, family)


def _append(out: Path, fmt: str, kind: str, rows: list[list[object]]) -> None:
    """Add rows to an import file the retailer run wrote (staff and their families are customers too)."""
    if rows:
        assert len(rows[0]) == len(COLUMNS[kind])
        with (out / f"{kind}.{fmt}").open("a", encoding="utf-8", newline="") as handle:
            handle.write(render(kind, rows, fmt))


# --- the marketplace -----------------------------------------------------------------------------------------


def _marketplace(customers: Customers, rng: np.random.Generator,
                 as_of: int) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Sellers, their products, and customers' reviews of them (J-shaped ratings; some sellers draw anger)."""
    n_sellers = int(min(2000, max(12, customers.count // 2500)))
    names = [f"{SELLER_WORDS[i % 20]} {SELLER_KINDS[(i // 20) % 10]}" + (f" {i // 200 + 1}" if i >= 200 else "")
             for i in rng.permutation(max(n_sellers, 200))[:n_sellers]]
    sellers = pl.DataFrame({"seller_id": [f"SL{i + 1:06d}" for i in range(n_sellers)], "name": names})
    per_seller = rng.integers(2, 30, n_sellers)
    product_seller = np.repeat(np.arange(n_sellers), per_seller)
    n_products = len(product_seller)
    titles = [f"{PRODUCT_WORDS[w].capitalize()} model {m}" for w, m in
              zip(rng.integers(0, len(PRODUCT_WORDS), n_products), rng.integers(100, 999, n_products), strict=True)]
    products = pl.DataFrame({"product_id": [f"PR{i + 1:07d}" for i in range(n_products)],
                             "seller_id": sellers.get_column("seller_id").gather(product_seller),
                             "title": titles})
    # Buyers review: accounts with orders, some many times; a seller's share of angry reviews is its own.
    buyers = np.unique(customers.order_account)
    n_reviews = int(len(buyers) * 0.35)
    if n_reviews == 0 or n_products == 0:
        columns = ("review_id", "account_id", "seller_id", "product_id", "rating", "reviewed_at")
        return sellers, products, pl.DataFrame(schema=dict.fromkeys(columns, pl.String))
    reviewer = buyers[rng.integers(0, len(buyers), n_reviews)]
    popularity = rng.pareto(1.2, n_sellers) + 0.05
    seller = rng.choice(n_sellers, n_reviews, p=popularity / popularity.sum())
    anger = rng.beta(1.2, 6.0, n_sellers)  # share of 1-2 star reviews per seller (a few sellers draw many)
    angry = rng.random(n_reviews) < anger[seller]
    rating = np.where(angry, rng.choice([1, 2], n_reviews, p=[0.65, 0.35]),
                      rng.choice([3, 4, 5], n_reviews, p=[0.15, 0.3, 0.55]))
    first_product = np.concatenate([[0], np.cumsum(per_seller)[:-1]])
    product = first_product[seller] + (rng.random(n_reviews) * per_seller[seller]).astype(np.int64)
    product = np.where(rng.random(n_reviews) < 0.85, product, -1)  # a review of the seller alone
    start = np.maximum(customers.created[reviewer], as_of - 730 * DAY)
    at = start + (rng.random(n_reviews) * (as_of - start)).astype(np.int64)
    reviews = pl.DataFrame({"r": np.arange(n_reviews), "a": reviewer, "s": seller, "p": product, "rating": rating,
                            "at": at}).sort("at", "r").select(
        pl.format("RV{}", (pl.int_range(1, pl.len() + 1)).cast(pl.String).str.zfill(8)).alias("review_id"),
        pl.lit(pl.Series(customers.ids.astype(str))).gather(pl.col("a")).alias("account_id"),
        pl.lit(sellers.get_column("seller_id")).gather(pl.col("s")).alias("seller_id"),
        pl.when(pl.col("p") >= 0).then(pl.lit(products.get_column("product_id")).gather(pl.col("p").clip(0))).alias(
            "product_id"),
        pl.col("rating"),
        pl.from_epoch(pl.col("at"), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("reviewed_at"),
    )
    return sellers, products, reviews


# --- ordinary work ---------------------------------------------------------------------------------------------


def _ordinary_work(activity: Activity, grid: np.ndarray, options: InsiderOptions, eligible: np.ndarray,
                   rng: np.random.Generator) -> None:
    """Customer-initiated contacts handled by each team's staff on their working days, with follow-ups."""
    staff = activity.staff
    topic_codes = _topic_codes()
    pace = np.array([TEAM_PACE.get(str(t), 0.0) for t in staff.team]) * staff.productivity * options.load
    day = activity.first_day + np.arange(activity.days)
    tenure = day[None, :] - staff.hired_day[:, None]
    ramp = np.clip(0.25 + 0.75 * tenure / RAMP_DAYS, 0.25, 1.0)
    counts = rng.poisson(pace[:, None] * ramp * grid)
    emp = np.repeat(np.arange(staff.count), counts.sum(axis=1))
    flat_day = np.repeat(np.tile(day, staff.count), counts.ravel())
    n = len(emp)
    at = shift_times(staff, emp, flat_day, rng)
    topic = np.zeros(n, dtype=np.int64)
    for team in sorted(set(staff.team[emp])):
        mine = staff.team[emp] == team
        names = [t for t, (owner, _, _) in TOPICS.items() if owner == team]
        weights = np.array([TOPICS[t][1] for t in names], dtype=float)
        topic[mine] = np.array([topic_codes[t] for t in names])[rng.choice(len(names), mine.sum(),
                                                                           p=weights / weights.sum())]
    # Customers with orders get in touch more; staff and their families are customers like any other.
    weight = np.ones(len(eligible))
    weight[np.isin(eligible, activity.customers.order_account)] = 3.0
    cust = eligible[rng.choice(len(eligible), n, p=weight / weight.sum())]
    ticket = activity.new_tickets(n)
    channel = rng.choice(3, n, p=[0.42, 0.36, 0.22])
    activity.add_contacts(ticket, cust, emp, at, 0, channel, topic)
    contact_events(activity, ticket, cust, emp, at, topic, 1 + rng.binomial(4, 0.4, n), rng)
    # Follow-ups: a callback by the same agent (or the customer again) a few days later, on the same ticket.
    follow = rng.random(n) < 0.18
    later = at[follow] + rng.integers(1, 5, follow.sum()) * DAY + rng.integers(-7200, 7200, follow.sum())
    f_emp = emp[follow]
    alive = later < staff.left_day[f_emp] * DAY
    later, f_emp = later[alive], f_emp[alive]
    f_ticket, f_cust, f_topic = ticket[follow][alive], cust[follow][alive], topic[follow][alive]
    initiator = (rng.random(len(f_emp)) < 0.7).astype(np.int64)  # mostly the agent calls back
    activity.add_contacts(f_ticket, f_cust, f_emp, later, initiator,
                          np.where(initiator == 1, CHANNELS.index("callback"), rng.choice(3, len(f_emp))), f_topic)
    contact_events(activity, f_ticket, f_cust, f_emp, later, f_topic, 1 + rng.binomial(1, 0.5, len(f_emp)), rng)
    # Honest slips: a look at someone the caller mentioned (a spouse, a parcel's recipient), with no ticket.
    slip = np.flatnonzero(rng.random(n) < 0.012)
    other = eligible[rng.integers(0, len(eligible), len(slip))]
    activity.add_events(emp[slip], other, rng.choice([CLS["identity_basic"], CLS["contact"], CLS["address"]],
                                                     len(slip)), at[slip] + rng.integers(60, 900, len(slip)), SUPPORT)
    # Genuine emergencies: takeovers in progress are sometimes handled with the tools' emergency override.
    takeover = np.flatnonzero((topic == topic_codes["account takeover"]) & (rng.random(n) < 0.05))
    activity.add_events(emp[takeover], cust[takeover], CLS["login_device"], at[takeover] + 45, SUPPORT,
                        ticket[takeover], bg=True)


def _order_reviews(activity: Activity, grid: np.ndarray, rng: np.random.Generator, first_day: int,
                   as_of: int) -> None:
    """Trust & Safety reviews cancelled and returned orders (and a few flagged others) in the order tool."""
    c, staff = activity.customers, activity.staff
    in_window = (c.order_at >= first_day * DAY) & (c.order_at < as_of)
    problem = np.isin(c.order_status, ["cancelled", "returned"]) | (rng.random(len(c.order_at)) < 0.02)
    picked = np.flatnonzero(in_window & problem)
    reviewers = np.flatnonzero(staff.team == "Trust & Safety")
    if not len(picked) or not len(reviewers):
        return
    day = np.minimum((c.order_at[picked] // DAY) + 1 - first_day, activity.days - 1)
    emp = np.full(len(picked), -1)
    for d in np.unique(day):
        here = reviewers[grid[reviewers, d]]
        mask = day == d
        if len(here):
            emp[mask] = here[rng.integers(0, len(here), mask.sum())]
    ok = emp >= 0
    picked, day, emp = picked[ok], day[ok], emp[ok]
    at = shift_times(staff, emp, day + first_day, rng)
    looks = 1 + rng.binomial(2, 0.55, len(picked))
    owner = np.repeat(np.arange(len(picked)), looks)
    position = np.arange(len(owner)) - np.repeat(np.cumsum(looks) - looks, looks)
    cls = np.array([CLS["order_history"], CLS["payment"], CLS["address"]])[position]
    activity.add_events(emp[owner], c.order_account[picked][owner], cls, at[owner] + position * 50, ORDER_TOOL)


# --- HR file ---------------------------------------------------------------------------------------------------


def _staff_hr(out: Path, fmt: str, staff: Staff, homes: Homes, left: dict[int, int]) -> pl.DataFrame:
    """The HR system's record of everyone: the directory's team, manager and dates, plus the home postcode.

    `left`: employees whose HR leave date is set here (a departing employee who has given notice).
    """
    frame = read_kind(out, "employees", fmt, ["employee_id", "team", "manager_id", "hired_on", "left_on"])
    left_on = frame.get_column("left_on").to_list()
    for i, day in left.items():
        left_on[i] = datetime.fromtimestamp(day * DAY, UTC).date().isoformat()
    return frame.with_columns(
        pl.Series("left_on", left_on, dtype=pl.String),
        pl.Series("home_postcode", [p or None for p in homes.postcode], dtype=pl.String),
        pl.Series("home_country", [c or None for c in homes.country], dtype=pl.String),
    )


__all__ = ["SCENARIOS", "InsiderOptions", "InsiderSummary", "write_insider"]
