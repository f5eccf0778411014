"""Injected insider scenarios and innocent look-alikes, each a truth line tied to the events it added.

Every scenario draws its own parameters (how many customers, over how long, which classes, with or without a
ticket, on or off shift) so no two instances look alike and none is shaped to one detector. Malicious
scenarios are labelled `insider`; look-alikes made on purpose (an outage's genuine spike, a new hire's
ramp-up, a relative's call routed to the employee) are labelled `innocent`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import polars as pl

from ombud.synth.insider_activity import (
    CHANNELS,
    CLS,
    MADE_UP_TICKETS,
    ORDER_TOOL,
    SUPPORT,
    VIDEO,
    Activity,
    contact_events,
)
from ombud.synth.insider_world import DAY, off_shift_times, shift_times

#: Scenario kinds: (name, label). The order is the order they are drawn in (it decides the random stream).
SCENARIOS: tuple[tuple[str, str], ...] = (
    ("seller_negative_reviewers", "insider"),
    ("self_opened_tickets", "insider"),
    ("bulk_lookup", "insider"),
    ("slow_exfiltration", "insider"),
    ("coworker_snoop", "insider"),
    ("family_snoop", "insider"),
    ("neighbour_snoop", "insider"),
    ("same_surname_snoop", "insider"),
    ("vip_lookup", "insider"),
    ("video_beyond_case", "insider"),
    ("break_glass_habit", "insider"),
    ("departing_employee", "insider"),
    ("outage_spike", "innocent"),
    ("new_hire_ramp", "innocent"),
    ("family_ticket_routed", "innocent"),
)
SENSITIVE_LOOKS = np.array([CLS["contact"], CLS["address"], CLS["payment"], CLS["government_id"],
                            CLS["login_device"]])


class Scenarios:
    """Draws the scenarios into an `Activity` and writes their truth once the events have ids."""

    def __init__(self, activity: Activity, grid: np.ndarray, rng: np.random.Generator, first_day: int, as_of: int,
                 homes: Any, household: Any, reviews: pl.DataFrame, sellers: pl.DataFrame, eligible: np.ndarray,
                 topics: dict[str, int]) -> None:
        self.a = activity
        self.staff = activity.staff
        self.customers = activity.customers
        self.grid = grid
        self.rng = rng
        self.first_day = first_day
        self.as_of = as_of
        self.as_of_day = as_of // DAY
        self.homes = homes
        self.household = household
        self.reviews = reviews
        self.sellers = sellers
        self.eligible = eligible
        self.topics = topics
        self.lines: list[dict[str, Any]] = []
        self.used: set[int] = set()
        self.hr_left: dict[int, int] = {}
        self._index: dict[str, int] | None = None
        staff = self.staff
        self.agents = np.flatnonzero((staff.role == "agent") & (staff.hired_day < first_day - 30)
                                     & (staff.left_day > self.as_of_day))

    # --- helpers --------------------------------------------------------------------------------------------

    def _tag(self, scenario: str, label: str, employee: int, **params: Any) -> int:
        self.lines.append({"scenario": scenario, "label": label, "employee_id": str(self.staff.ids[employee]),
                           "params": params})
        return len(self.lines) - 1

    def _pick(self, candidates: np.ndarray) -> int | None:
        free = [int(c) for c in candidates if int(c) not in self.used]
        if not free:
            return None
        chosen = free[int(self.rng.integers(len(free)))]
        self.used.add(chosen)
        return chosen

    def _span(self, min_days: int, max_days: int) -> tuple[int, int]:
        """A stretch of days (grid indexes) inside the window."""
        length = int(self.rng.integers(min_days, max_days + 1))
        length = min(length, self.a.days - 1)
        start = int(self.rng.integers(0, self.a.days - length))
        return start, start + length

    def _moments(self, e: int, n: int, d0: int, d1: int, off_shift: float = 0.0) -> np.ndarray:
        """`n` moments on employee `e`'s working days in [d0, d1); a share in the evening after the shift."""
        days = np.flatnonzero(self.grid[e, d0:d1]) + d0
        if not len(days):
            days = np.arange(d0, max(d1, d0 + 1))
        day = days[self.rng.integers(0, len(days), n)] + self.first_day
        emp = np.full(n, e)
        late = self.rng.random(n) < off_shift
        return np.where(late, off_shift_times(self.staff, emp, day, self.rng),
                        shift_times(self.staff, emp, day, self.rng))

    def _customer(self, account_ids: list[str]) -> np.ndarray:
        if self._index is None:
            self._index = {str(c): i for i, c in enumerate(self.customers.ids)}
        return np.array([self._index[a] for a in account_ids if a in self._index], dtype=np.int64)

    def _looks(self, e: int, cust: np.ndarray, at: np.ndarray, classes: np.ndarray, tag: int, *,
               system: np.ndarray | int = SUPPORT, ticket: np.ndarray | int = -1, bg: bool = False,
               extra: float = 0.0) -> None:
        """One look per customer (a class from `classes`), plus a second look at a share `extra` of them."""
        cls = classes[self.rng.integers(0, len(classes), len(cust))]
        self.a.add_events(np.full(len(cust), e), cust, cls, at, system, ticket, bg, tag)
        more = np.flatnonzero(self.rng.random(len(cust)) < extra)
        if len(more):
            sys_more = system if np.isscalar(system) else np.asarray(system)[more]
            tix_more = ticket if np.isscalar(ticket) else np.asarray(ticket)[more]
            self.a.add_events(np.full(len(more), e), cust[more], classes[self.rng.integers(0, len(classes),
                                                                                           len(more))],
                              at[more] + self.rng.integers(10, 120, len(more)), sys_more, tix_more, bg, tag)

    def _no_ticket_or_made_up(self, n: int, made_up: float) -> np.ndarray:
        fake = self.rng.random(n) < made_up
        return np.where(fake, self.a.made_up_tickets(n), -1)

    # --- running --------------------------------------------------------------------------------------------

    def run(self, rate: float) -> dict[int, int]:
        """Draw every scenario kind (`rate` per 100 agents, at least one when rate > 0); HR leave dates set."""
        if rate <= 0:
            self.new_hire_ramp()
            return self.hr_left
        count = max(1, round(rate * len(self.agents) / 100))
        makers: dict[str, Callable[[], None]] = {
            name: getattr(self, name) for name, _ in SCENARIOS if name not in ("new_hire_ramp", "outage_spike")}
        for name, _ in SCENARIOS:
            if name == "new_hire_ramp":
                self.new_hire_ramp()
            elif name == "outage_spike":
                for _ in range(max(1, round(self.a.days / 60))):
                    self.outage_spike()
            else:
                for _ in range(count):
                    makers[name]()
        return self.hr_left

    # --- insiders -------------------------------------------------------------------------------------------

    def seller_negative_reviewers(self) -> None:
        """Looks up the emails of one seller's angry reviewers (to sell them to the seller)."""
        negative = self.reviews.filter(pl.col("rating") <= 2)
        by_seller = negative.group_by("seller_id").agg(pl.col("account_id").unique()).filter(
            pl.col("account_id").list.len() >= 8).sort("seller_id")
        e = self._pick(self.agents)
        if e is None or by_seller.is_empty():
            return
        row = by_seller.row(int(self.rng.integers(by_seller.height)), named=True)
        reviewers = self._customer(sorted(row["account_id"]))
        take = min(len(reviewers), int(self.rng.integers(8, 90)))
        cust = self.rng.permutation(reviewers)[:take]
        d0, d1 = self._span(1, 20)
        off = float(self.rng.choice([0.0, 0.15, 0.5]))
        tag = self._tag("seller_negative_reviewers", "insider", e, seller_id=row["seller_id"], customers=take,
                        days=d1 - d0, off_shift_share=off)
        system = np.where(self.rng.random(take) < 0.7, SUPPORT, ORDER_TOOL)
        self._looks(e, cust, self._moments(e, take, d0, d1, off), np.array([CLS["contact"]]), tag, system=system,
                    ticket=self._no_ticket_or_made_up(take, float(self.rng.choice([0.0, 0.25]))), extra=0.4)

    def self_opened_tickets(self) -> None:
        """Opens tickets on customers who never got in touch, then reads them 'for the ticket'."""
        e = self._pick(self.agents)
        if e is None:
            return
        n = int(self.rng.integers(4, 30))
        d0, d1 = self._span(10, 45)
        cust = self.eligible[self.rng.integers(0, len(self.eligible), n)]
        at = self._moments(e, n, d0, d1)
        tickets = self.a.new_tickets(n)
        topic = self.rng.choice([self.topics["order not received"], self.topics["account closure"],
                                 self.topics["change of address"]], n)
        tag = self._tag("self_opened_tickets", "insider", e, customers=n, days=d1 - d0)
        self.a.add_contacts(tickets, cust, np.full(n, e), at, 1, self.rng.choice([CHANNELS.index("email"),
                                                                                    CHANNELS.index("phone")], n),
                            topic, tag)
        self.a.add_events(np.full(n, e), cust, CLS["identity_basic"], at + 30, SUPPORT, tickets, tag=tag)
        self._looks(e, cust, at + 90, SENSITIVE_LOOKS[:3], tag, ticket=tickets, extra=0.6)

    def bulk_lookup(self) -> None:
        """Hundreds of customers in one sitting, often from the order tool's search."""
        e = self._pick(self.agents)
        if e is None:
            return
        n = int(self.rng.integers(100, 1500))
        day = int(self.rng.integers(0, self.a.days))
        late = self.rng.random() < 0.35
        start = (self.first_day + day) * DAY + int(self.staff.shift_utc[e]) + (
            8 * 3600 + int(self.rng.integers(3600, 5 * 3600)) if late else int(self.rng.integers(0, 5 * 3600)))
        hours = float(self.rng.uniform(0.5, 4.0))
        at = start + np.sort(self.rng.integers(0, int(hours * 3600), n))
        cust = self.rng.choice(self.eligible, n, replace=False) if n <= len(self.eligible) else \
            self.eligible[self.rng.integers(0, len(self.eligible), n)]
        tag = self._tag("bulk_lookup", "insider", e, customers=n, hours=round(hours, 2), off_shift=bool(late))
        system = ORDER_TOOL if self.rng.random() < 0.5 else SUPPORT
        self._looks(e, cust, at, np.array([CLS["contact"], CLS["contact"], CLS["address"]]), tag, system=system)

    def slow_exfiltration(self) -> None:
        """A few customers a day for weeks, sometimes under the agent's own unrelated tickets."""
        e = self._pick(self.agents)
        if e is None:
            return
        d0, d1 = self._span(21, 70)
        per_day = float(self.rng.uniform(1.0, 8.0))
        days = np.flatnonzero(self.grid[e, d0:d1]) + d0
        counts = self.rng.poisson(per_day, len(days))
        n = int(counts.sum())
        if n == 0:
            return
        day = np.repeat(days, counts) + self.first_day
        at = shift_times(self.staff, np.full(n, e), day, self.rng)
        cust = self.eligible[self.rng.integers(0, len(self.eligible), n)]
        own = self.a.contacts()
        mine = own["ticket"][own["emp"] == e]
        cover = float(self.rng.choice([0.0, 0.3, 0.6]))
        reuse = (self.rng.random(n) < cover) & (len(mine) > 0)
        ticket = np.where(reuse, mine[self.rng.integers(0, max(len(mine), 1), n)] if len(mine) else -1, -1)
        tag = self._tag("slow_exfiltration", "insider", e, customers=n, days=d1 - d0, per_day=round(per_day, 2),
                        under_other_tickets=cover)
        classes = np.array([CLS["contact"]] * 4 + [CLS["payment"], CLS["address"]])
        self._looks(e, cust, at, classes, tag, ticket=ticket)

    def _relation_snoop(self, scenario: str, e: int, targets: np.ndarray, classes: np.ndarray, max_sessions: int,
                        **params: Any) -> None:
        sessions = int(self.rng.integers(1, max_sessions + 1))
        d0, d1 = self._span(3, 60)
        off = float(self.rng.choice([0.0, 0.3]))
        target = targets[self.rng.integers(0, len(targets), sessions)]
        at = self._moments(e, sessions, d0, d1, off)
        looks = self.rng.integers(1, 5, sessions)
        cust = np.repeat(target, looks)
        when = np.repeat(at, looks) + self.rng.integers(0, 300, int(looks.sum()))
        tag = self._tag(scenario, "insider", e, customers=len(np.unique(target)), sessions=sessions, **params)
        self._looks(e, cust, when, classes, tag)

    def coworker_snoop(self) -> None:
        """Looks at a co-worker's (same team's) own account."""
        staff, own = self.staff, self.household.own
        with_account = np.flatnonzero(own >= 0)
        candidates = [a for a in self.agents if any(staff.team[w] == staff.team[a] and w != a for w in with_account)]
        e = self._pick(np.array(candidates, dtype=np.int64))
        if e is None:
            return
        mates = [w for w in with_account if staff.team[w] == staff.team[e] and w != e]
        mate = mates[int(self.rng.integers(len(mates)))]
        self._relation_snoop("coworker_snoop", e, np.array([own[mate]]),
                             np.array([CLS["address"], CLS["order_history"], CLS["contact"], CLS["login_device"]]),
                             6, coworker=str(staff.ids[mate]))

    def family_snoop(self) -> None:
        """Looks at a family member's account (same surname, same address): an ex-partner's orders, logins."""
        e = self._pick(self.agents[self.household.family[self.agents] >= 0])
        if e is None:
            return
        classes = np.array([CLS["address"], CLS["order_history"], CLS["login_device"], CLS["contact"], CLS["video"]])
        self._relation_snoop("family_snoop", e, np.array([self.household.family[e]]), classes, 10)

    def neighbour_snoop(self) -> None:
        """Looks up customers in the employee's own postcode."""
        homes, c = self.homes, self.customers
        found = self._pick_related(self.agents[homes.country[self.agents] == "US"], 2,
                                   lambda e: np.flatnonzero(c.postcode == homes.postcode[e]))
        if found is None:
            return
        e, near = found
        take = self.rng.permutation(near)[: int(self.rng.integers(2, 12))]
        self._relation_snoop("neighbour_snoop", e, take, np.array([CLS["address"], CLS["order_history"],
                                                                     CLS["contact"]]), 14)

    def same_surname_snoop(self) -> None:
        """Looks up customers who share the employee's surname (relatives elsewhere, or curiosity)."""
        c = self.customers
        found = self._pick_related(self.agents, 1, lambda e: np.flatnonzero(c.surname == self.staff.surname(e)))
        if found is None:
            return
        e, kin = found
        take = self.rng.permutation(kin)[: int(self.rng.integers(1, 8))]
        self._relation_snoop("same_surname_snoop", e, take, np.array([CLS["identity_basic"], CLS["address"],
                                                                        CLS["contact"]]), 8)

    def _pick_related(self, candidates: np.ndarray, at_least: int,
                      related: Callable[[int], np.ndarray]) -> tuple[int, np.ndarray] | None:
        """An employee with at least `at_least` related customers outside their household, and those customers."""
        for _ in range(20):
            e = self._pick(candidates)
            if e is None:
                return None
            found = related(e)
            found = found[~np.isin(found, [self.household.own[e], self.household.family[e]])]
            if len(found) >= at_least:
                return e, found
            self.used.discard(e)
        return None

    def vip_lookup(self) -> None:
        """After a customer is in the news (a top spender), several staff look them up within days."""
        c = self.customers
        if not len(c.order_total):
            return
        spend = np.bincount(c.order_account, weights=c.order_total, minlength=c.count)
        top = np.argsort(-spend, kind="stable")[: max(5, c.count // 2000)]
        vip = int(top[int(self.rng.integers(len(top)))])
        news = int(self.rng.integers(0, self.a.days - 6))
        for _ in range(int(self.rng.integers(2, 9))):
            e = self._pick(self.agents)
            if e is None:
                return
            n = int(self.rng.integers(1, 4))
            at = self._moments(e, n, news, news + int(self.rng.integers(1, 6)), 0.2)
            tag = self._tag("vip_lookup", "insider", e, vip=str(c.ids[vip]), looks=n)
            self._looks(e, np.full(n, vip), at, np.array([CLS["identity_basic"], CLS["address"],
                                                           CLS["order_history"], CLS["contact"]]), tag, extra=0.7)

    def video_beyond_case(self) -> None:
        """Watches customers' home-camera video after their case is done, or without any case."""
        support = self.agents[self.staff.team[self.agents] == "Customer Support"]
        e = self._pick(support if len(support) else self.agents)
        if e is None:
            return
        n_customers = int(self.rng.integers(1, 4))
        d0, d1 = self._span(2, 30)
        cust = self.eligible[self.rng.integers(0, len(self.eligible), n_customers)]
        with_case = self.rng.random() < 0.7
        tag = self._tag("video_beyond_case", "insider", e, customers=n_customers, with_case=bool(with_case))
        views_at, views_cust, views_ticket = [], [], []
        for k in range(n_customers):
            opened = self._moments(e, 1, d0, d1)
            ticket = -1
            if with_case:  # a genuine video ticket, handled properly (not part of the misuse)...
                ticket = int(self.a.new_tickets(1)[0])
                self.a.add_contacts(np.array([ticket]), cust[k:k + 1], np.array([e]), opened, 0,
                                    CHANNELS.index("chat"), self.topics["home camera support"])
                self.a.add_events(np.array([e, e]), np.full(2, cust[k]), np.array([CLS["identity_basic"],
                                                                                   CLS["video"]]),
                                  opened + np.array([30, 120]), np.array([SUPPORT, VIDEO]), ticket)
            # ...then views that go on for days or weeks after it.
            views = int(self.rng.integers(4, 40))
            first = int(opened[0] // DAY - self.first_day) + 2
            last = min(self.a.days, first + int(self.rng.integers(5, 45)))
            views_at.append(self._moments(e, views, min(first, self.a.days - 1), max(last, first + 1), 0.35))
            views_cust.append(np.full(views, cust[k]))
            views_ticket.append(np.full(views, ticket if self.rng.random() < 0.5 else -1))
        self.a.add_events(np.full(sum(map(len, views_at)), e), np.concatenate(views_cust), CLS["video"],
                          np.concatenate(views_at), VIDEO, np.concatenate(views_ticket), tag=tag)

    def break_glass_habit(self) -> None:
        """Uses the tools' emergency override routinely, on customers with nothing urgent."""
        e = self._pick(self.agents)
        if e is None:
            return
        d0, d1 = self._span(14, 60)
        per_week = float(self.rng.uniform(1.5, 6.0))
        n = max(2, int(self.rng.poisson(per_week * (d1 - d0) / 7)))
        cust = self.eligible[self.rng.integers(0, len(self.eligible), n)]
        tag = self._tag("break_glass_habit", "insider", e, uses=n, per_week=round(per_week, 2))
        self._looks(e, cust, self._moments(e, n, d0, d1, 0.25), SENSITIVE_LOOKS, tag,
                    system=np.where(self.rng.random(n) < 0.6, SUPPORT, ORDER_TOOL),
                    ticket=self._no_ticket_or_made_up(n, 0.3), bg=True, extra=0.5)

    def departing_employee(self) -> None:
        """In the last weeks before leaving, takes customers' contact and payment details; sometimes a last bulk."""
        staff = self.staff
        leaving = np.flatnonzero((staff.role == "agent") & (staff.left_day > self.first_day + 35)
                                 & (staff.left_day <= self.as_of_day) & (staff.hired_day < self.first_day - 30))
        e = self._pick(leaving)
        if e is None:  # nobody leaves in the window: someone has given notice (HR records the date)
            e = self._pick(self.agents)
            if e is None:
                return
            self.hr_left[e] = self.as_of_day + int(self.rng.integers(2, 15))
            staff.left_day[e] = self.hr_left[e]
        end = min(int(staff.left_day[e]), self.as_of_day) - self.first_day
        weeks = int(self.rng.integers(2, 6))
        d0 = max(0, end - 7 * weeks)
        rate = float(self.rng.uniform(2.0, 12.0))
        days = np.flatnonzero(self.grid[e, d0:end]) + d0
        counts = self.rng.poisson(rate, len(days))
        n = int(counts.sum())
        at = shift_times(staff, np.full(n, e), np.repeat(days, counts) + self.first_day, self.rng)
        cust = self.eligible[self.rng.integers(0, len(self.eligible), n)]
        final = self.rng.random() < 0.5 and len(days) > 0
        tag = self._tag("departing_employee", "insider", e, weeks=weeks, per_day=round(rate, 2),
                        final_bulk=bool(final), left_on_set_by_hr=e in self.hr_left)
        classes = np.array([CLS["contact"], CLS["contact"], CLS["payment"], CLS["address"]])
        self._looks(e, cust, at, classes, tag)
        if final:
            bulk = int(self.rng.integers(50, 400))
            day = int(days[-1]) + self.first_day
            at = day * DAY + int(staff.shift_utc[e]) + np.sort(self.rng.integers(0, 6 * 3600, bulk))
            self._looks(e, self.eligible[self.rng.integers(0, len(self.eligible), bulk)], at, classes[:2], tag,
                        system=ORDER_TOOL)

    # --- innocent look-alikes -------------------------------------------------------------------------------

    def outage_spike(self) -> None:
        """A payment or sign-in outage: for a few hours every Customer Support agent at work handles a flood."""
        staff = self.staff
        day = int(self.rng.integers(1, self.a.days - 1))
        support = np.flatnonzero((staff.team == "Customer Support") & self.grid[:, day])
        if not len(support):
            return
        topic = self.topics[str(self.rng.choice(["payment declined", "cannot sign in"]))]
        hours = float(self.rng.uniform(2.0, 6.0))
        start = (self.first_day + day) * DAY + int(self.rng.integers(13, 20)) * 3600
        per_agent = self.rng.poisson(float(self.rng.uniform(3.0, 8.0)) * hours, len(support))
        emp = np.repeat(support, per_agent)
        n = len(emp)
        at = start + self.rng.integers(0, int(hours * 3600), n)
        cust = self.eligible[self.rng.integers(0, len(self.eligible), n)]
        tickets = self.a.new_tickets(n)
        tag = len(self.lines)
        self.lines.append({"scenario": "outage_spike", "label": "innocent", "employee_id": None,
                           "params": {"topic": next(t for t, i in self.topics.items() if i == topic),
                                      "hours": round(hours, 2), "agents": len(support), "contacts": n}})
        self.a.add_contacts(tickets, cust, emp, at, 0, self.rng.choice(3, n), topic, tag)
        contact_events(self.a, tickets, cust, emp, at, np.full(n, topic), 1 + self.rng.binomial(2, 0.4, n),
                       self.rng, tag)

    def new_hire_ramp(self) -> None:
        """Agents hired during the window: their volume climbs from a quarter to full pace (ordinary work)."""
        staff = self.staff
        hires = np.flatnonzero((staff.role == "agent") & (staff.hired_day >= self.first_day)
                               & (staff.hired_day < self.as_of_day - 7))
        for e in hires:
            self.lines.append({"scenario": "new_hire_ramp", "label": "innocent", "employee_id": str(staff.ids[e]),
                               "params": {"hired_on_day": int(staff.hired_day[e])},
                               "window": [int(staff.hired_day[e]) * DAY,
                                          min(int(staff.hired_day[e]) + 45, self.as_of_day) * DAY]})

    def family_ticket_routed(self) -> None:
        """A relative of the employee calls support and the call is routed to the employee: explained."""
        e = self._pick(self.agents[self.household.family[self.agents] >= 0])
        if e is None:
            return
        relative = int(self.household.family[e])
        d0, d1 = self._span(1, 5)
        at = self._moments(e, 1, d0, d1)
        ticket = self.a.new_tickets(1)
        topic = self.topics[str(self.rng.choice(["order not received", "return or refund", "cannot sign in"]))]
        tag = self._tag("family_ticket_routed", "innocent", e)
        self.a.add_contacts(ticket, np.array([relative]), np.array([e]), at, 0, CHANNELS.index("phone"), topic, tag)
        contact_events(self.a, ticket, np.array([relative]), np.array([e]), at, np.array([topic]),
                       np.array([int(self.rng.integers(2, 5))]), self.rng, tag)

    # --- truth ----------------------------------------------------------------------------------------------

    def truth(self, events: pl.DataFrame, contacts: pl.DataFrame) -> list[dict[str, Any]]:
        """Each scenario's truth line with the ids of its events and tickets, its customers and its window."""
        tagged = events.filter(pl.col("tag") >= 0).group_by("tag").agg(
            pl.col("event_id"), pl.col("customer_id").unique().sort(), pl.col("at").min().alias("start"),
            pl.col("at").max().alias("end"), pl.col("employee_id").unique().sort().alias("employees"))
        by_tag = {row["tag"]: row for row in tagged.iter_rows(named=True)}
        tickets = contacts.filter(pl.col("tag") >= 0).group_by("tag").agg(pl.col("ticket_ref").unique().sort())
        tickets_by_tag = {row["tag"]: row["ticket_ref"] for row in tickets.iter_rows(named=True)}
        out = []
        for tag, line in enumerate(self.lines):
            found = by_tag.get(tag)
            window = line.get("window")
            if window is not None:
                start, end = (_iso(w) for w in window)
            elif found is not None:
                start, end = found["start"], found["end"]
            else:
                continue  # nothing of it landed inside the window
            employee = line["employee_id"]
            out.append({
                "scenario": line["scenario"], "label": line["label"],
                "employee_id": employee, "employee_ids": found["employees"] if found and employee is None else (
                    [employee] if employee else []),
                "window": {"start": start, "end": end},
                "customer_ids": found["customer_id"] if found else [],
                "event_ids": sorted(found["event_id"]) if found else [],
                "ticket_refs": tickets_by_tag.get(tag, []),
                "params": line["params"],
            })
        return out


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["MADE_UP_TICKETS", "SCENARIOS", "Scenarios"]
