"""Staff activity as columns: support contacts and access events accumulated set-wise, then written.

Everything is numpy arrays of indexes (employee, customer, class, system, ticket) until the end, when the rows
are sorted by time, given ids and rendered as import files: ten million events fit in a few hundred MB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ombud.access.classes import DataClass
from ombud.synth.insider_world import DAY, OFFICES, Customers, Staff

CLASSES: tuple[str, ...] = tuple(c.value for c in DataClass)
CLS = {name: i for i, name in enumerate(CLASSES)}
SYSTEMS = ("support_tool", "order_tool", "video")
SUPPORT, ORDER_TOOL, VIDEO = 0, 1, 2
#: Event id prefix per source system (each system numbers its own log).
SYSTEM_PREFIX = ("st-", "ot-", "vs-")
CHANNELS = ("phone", "chat", "email", "callback")
INITIATORS = ("customer", "staff")
#: topic -> (team routed to, weight within the team, data classes looked at and their weights).
TOPICS: dict[str, tuple[str, float, dict[str, float]]] = {
    "order not received": ("Customer Support", 22, {"order_history": 5, "address": 3, "contact": 1}),
    "return or refund": ("Customer Support", 20, {"order_history": 5, "payment": 2, "address": 1}),
    "damaged item": ("Customer Support", 8, {"order_history": 4, "address": 1, "support_notes": 1}),
    "payment declined": ("Customer Support", 10, {"payment": 5, "order_history": 2}),
    "change of address": ("Customer Support", 6, {"address": 5, "contact": 1}),
    "cannot sign in": ("Customer Support", 8, {"contact": 3, "login_device": 4}),
    "home camera support": ("Customer Support", 6, {"video": 4, "login_device": 2, "order_history": 1}),
    "account closure": ("Customer Support", 3, {"contact": 2, "order_history": 1, "support_notes": 1}),
    "suspicious order": ("Trust & Safety", 10, {"order_history": 4, "payment": 3, "address": 2, "login_device": 2}),
    "account takeover": ("Trust & Safety", 6, {"login_device": 4, "contact": 3, "address": 1, "payment": 1}),
    "review dispute": ("Trust & Safety", 3, {"order_history": 2, "contact": 1, "support_notes": 1}),
    "identity theft report": ("Identity Theft Response", 6, {"government_id": 3, "address": 2, "payment": 2,
                                                             "order_history": 2, "contact": 1}),
    "unknown account": ("Identity Theft Response", 3, {"government_id": 2, "contact": 2, "login_device": 2}),
    "privacy request": ("Privacy Office", 1, {"contact": 2, "support_notes": 2, "order_history": 1}),
    "security escalation": ("Security Operations", 1, {"login_device": 3, "order_history": 1, "contact": 1}),
}
TOPIC_NAMES = tuple(TOPICS)
TOPIC_NAMES = tuple(TOPICS)
#: Ticket numbers at or above this were never opened in the support tool (refs typed or made up).
MADE_UP_TICKETS = 90_000_000


def _cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


@dataclass
class Activity:
    """Contacts and events made so far; `tag` ties rows to a truth line (-1: ordinary work)."""

    staff: Staff
    customers: Customers
    first_day: int
    days: int
    remote: np.ndarray  # (employees, days) bool: worked from home that day
    topics: tuple[str, ...]
    next_ticket: int = 1
    next_made_up: int = MADE_UP_TICKETS
    _events: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in (
        "emp", "cust", "cls", "at", "system", "ticket", "bg", "tag")})
    _contacts: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in (
        "ticket", "cust", "emp", "at", "initiator", "channel", "topic", "tag")})

    # --- adding ---------------------------------------------------------------------------------------------

    def new_tickets(self, n: int) -> np.ndarray:
        """Numbers for `n` new tickets of the support tool."""
        out = np.arange(self.next_ticket, self.next_ticket + n, dtype=np.int64)
        self.next_ticket += n
        return out

    def made_up_tickets(self, n: int) -> np.ndarray:
        """Ticket references that no contact ever opened (typed by hand, copied, invented)."""
        out = np.arange(self.next_made_up, self.next_made_up + n, dtype=np.int64)
        self.next_made_up += n
        return out

    def add_contacts(self, ticket: np.ndarray, cust: np.ndarray, emp: np.ndarray, at: np.ndarray,
                     initiator: np.ndarray | int, channel: np.ndarray | int, topic: np.ndarray | int,
                     tag: int = -1) -> None:
        n = len(ticket)
        full = lambda v: np.full(n, v) if np.isscalar(v) else v  # noqa: E731
        self._contacts["ticket"].append(ticket)
        self._contacts["cust"].append(cust)
        self._contacts["emp"].append(emp)
        self._contacts["at"].append(at)
        self._contacts["initiator"].append(full(initiator))
        self._contacts["channel"].append(full(channel))
        self._contacts["topic"].append(full(topic))
        self._contacts["tag"].append(np.full(n, tag))

    def add_events(self, emp: np.ndarray, cust: np.ndarray, cls: np.ndarray | int, at: np.ndarray,
                   system: np.ndarray | int, ticket: np.ndarray | int = -1, bg: np.ndarray | bool = False,
                   tag: int = -1) -> None:
        n = len(emp)
        full = lambda v: np.full(n, v) if np.isscalar(v) else v  # noqa: E731
        self._events["emp"].append(emp)
        self._events["cust"].append(cust)
        self._events["cls"].append(full(cls))
        self._events["at"].append(at)
        self._events["system"].append(full(system))
        self._events["ticket"].append(full(ticket))
        self._events["bg"].append(full(bg))
        self._events["tag"].append(np.full(n, tag))

    # --- reading what is there ------------------------------------------------------------------------------

    def contacts(self) -> dict[str, np.ndarray]:
        """The contacts so far as arrays."""
        return {k: _cat(v, np.int64) for k, v in self._contacts.items()}

    def ticket_numbers(self, ticket: np.ndarray) -> np.ndarray:
        """The numbers tickets are shown with: real ones 1, 2, ... in the order they were opened; references no
        contact ever opened just above the last real number (where a typed or invented one would fall)."""
        c = self.contacts()
        order = np.lexsort((c["ticket"], c["at"]))
        unique, first = np.unique(c["ticket"][order], return_index=True)
        shown = np.zeros(self.next_ticket, dtype=np.int64)
        shown[unique] = np.argsort(np.argsort(first)) + 1
        made_up = len(unique) + 1 + (ticket - MADE_UP_TICKETS) * 2
        return np.where(ticket >= MADE_UP_TICKETS, made_up,
                        np.where(ticket >= 0, shown[np.clip(ticket, 0, self.next_ticket - 1)], -1))

    def event_count(self) -> int:
        return sum(len(a) for a in self._events["emp"])

    # --- writing --------------------------------------------------------------------------------------------

    def events_frame(self, as_of: int) -> pl.DataFrame:
        """Every event as import rows, sorted by time and numbered per source system, with its truth tag."""
        ev = {k: _cat(v, bool if k == "bg" else np.int64) for k, v in self._events.items()}
        keep = ev["at"] < as_of
        ev = {k: v[keep] for k, v in ev.items()}
        ev["ticket"] = self.ticket_numbers(ev["ticket"])
        order = np.lexsort((ev["cust"], ev["emp"], ev["at"]))
        ev = {k: v[order] for k, v in ev.items()}
        day = np.clip(ev["at"] // DAY - self.first_day, 0, self.days - 1)
        remote = self.remote[ev["emp"], day]
        staff = self.staff
        site = [OFFICES.get(str(r), OFFICES["us-east"])[0] for r in staff.region]
        prefix = [OFFICES.get(str(r), OFFICES["us-east"])[1] for r in staff.region]
        frame = pl.DataFrame({
            "emp": ev["emp"], "cust": ev["cust"], "cls": ev["cls"], "at": ev["at"], "system": ev["system"],
            "ticket": ev["ticket"], "break_glass": ev["bg"], "tag": ev["tag"], "remote": remote,
        })
        number = pl.int_range(1, pl.len() + 1).over("system")
        return frame.select(
            (pl.col("system").replace_strict(dict(enumerate(SYSTEM_PREFIX)), return_dtype=pl.String)
             + number.cast(pl.String).str.zfill(9)).alias("event_id"),
            pl.col("system").replace_strict(dict(enumerate(SYSTEMS)), return_dtype=pl.String).alias(
                "source_system"),
            pl.lit(pl.Series(staff.ids.astype(str))).gather(pl.col("emp")).alias("employee_id"),
            pl.lit(pl.Series(self.customers.ids.astype(str))).gather(pl.col("cust")).alias("customer_id"),
            pl.lit(pl.Series(CLASSES)).gather(pl.col("cls")).alias("data_class"),
            pl.from_epoch(pl.col("at"), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("at"),
            pl.when(pl.col("remote"))
            .then(pl.format("100.64.{}.{}", pl.col("emp") // 250, pl.col("emp") % 250 + 1))
            .otherwise(pl.format("{}.{}.{}", pl.lit(pl.Series(prefix)).gather(pl.col("emp")),
                                 pl.col("emp") // 250, pl.col("emp") % 250 + 1)).alias("ip"),
            pl.when(pl.col("remote")).then(pl.lit("remote"))
            .otherwise(pl.lit(pl.Series(site)).gather(pl.col("emp"))).alias("site"),
            pl.when(pl.col("ticket") >= 0).then(pl.format("T{}", pl.col("ticket").cast(pl.String).str.zfill(8)))
            .alias("ticket_ref"),
            pl.col("break_glass"),
            pl.col("tag"),
        )

    def contacts_frame(self, as_of: int) -> pl.DataFrame:
        """Every support contact as import rows, in time order, with its truth tag."""
        c = self.contacts()
        keep = c["at"] < as_of
        c = {k: v[keep] for k, v in c.items()}
        c["ticket"] = self.ticket_numbers(c["ticket"])
        order = np.lexsort((c["ticket"], c["at"]))
        c = {k: v[order] for k, v in c.items()}
        staff = self.staff
        frame = pl.DataFrame(c)
        emp_ids = pl.Series(np.append(staff.ids.astype(str), ""))
        teams = pl.Series(np.append(staff.team.astype(str), ""))
        emp_at = pl.when(pl.col("emp") >= 0).then(pl.col("emp")).otherwise(staff.count)
        return frame.select(
            pl.format("SC{}", pl.int_range(1, pl.len() + 1).cast(pl.String).str.zfill(9)).alias("contact_id"),
            pl.format("T{}", pl.col("ticket").cast(pl.String).str.zfill(8)).alias("ticket_ref"),
            pl.lit(pl.Series(self.customers.ids.astype(str))).gather(pl.col("cust")).alias("account_id"),
            pl.when(pl.col("emp") >= 0).then(pl.lit(emp_ids).gather(emp_at)).alias("employee_id"),
            pl.when(pl.col("emp") >= 0).then(pl.lit(teams).gather(emp_at)).alias("team"),
            pl.from_epoch(pl.col("at"), time_unit="s").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("opened_at"),
            pl.lit(pl.Series(INITIATORS)).gather(pl.col("initiator")).alias("initiated_by"),
            pl.lit(pl.Series(CHANNELS)).gather(pl.col("channel")).alias("channel"),
            pl.lit(pl.Series(self.topics)).gather(pl.col("topic")).alias("topic"),
            pl.col("tag"),
        )


def _class_table() -> tuple[np.ndarray, np.ndarray]:
    """Per topic: the data-class codes it looks at and their probabilities (padded to one width)."""
    width = max(len(c) for _, _, c in TOPICS.values())
    codes = np.zeros((len(TOPICS), width), dtype=np.int64)
    probs = np.zeros((len(TOPICS), width))
    for t, (_, _, classes) in enumerate(TOPICS.values()):
        total = sum(classes.values())
        for j, (name, weight) in enumerate(classes.items()):
            codes[t, j] = CLS[name]
            probs[t, j] = weight / total
    return codes, probs


def draw_classes(topic: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A data class per event, drawn from its contact's topic."""
    codes, probs = _class_table()
    cumulative = probs.cumsum(axis=1)[topic]
    pick = (rng.random(len(topic))[:, None] > cumulative).sum(axis=1)
    return codes[topic, np.minimum(pick, codes.shape[1] - 1)]


def system_of(cls: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Which tool logged each look: video in the video system; orders, payments, addresses often the order tool."""
    order_side = np.isin(cls, [CLS["order_history"], CLS["payment"], CLS["address"]]) & (rng.random(len(cls)) < 0.45)
    return np.where(cls == CLS["video"], VIDEO, np.where(order_side, ORDER_TOOL, SUPPORT))


def contact_events(activity: Activity, ticket: np.ndarray, cust: np.ndarray, emp: np.ndarray, at: np.ndarray,
                   topic: np.ndarray, looks: np.ndarray, rng: np.random.Generator, tag: int = -1) -> None:
    """The looks an agent takes while handling contacts: the customer's name first, then what the topic needs."""
    owner = np.repeat(np.arange(len(ticket)), looks)
    starts = np.repeat(np.cumsum(looks) - looks, looks)
    position = np.arange(len(owner)) - starts
    gaps = rng.exponential(75.0, len(owner)).astype(np.int64) * (position > 0)
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[np.cumsum(looks) - looks], looks) if len(owner) else 0
    cls = np.where(position == 0, CLS["identity_basic"], draw_classes(topic[owner], rng))
    system = system_of(cls, rng)
    # The tools record the ticket most of the time (the order tool least often).
    recorded = rng.random(len(owner)) < np.array([0.94, 0.72, 0.97])[system]
    activity.add_events(emp[owner], cust[owner], cls, at[owner] + 20 + elapsed, system,
                        np.where(recorded, ticket[owner], -1), tag=tag)


def write_frame(frame: pl.DataFrame, path: Path, fmt: str) -> None:
    """Rows as an import file: CSV with a header (empty for null) or JSON Lines."""
    if fmt == "csv":
        frame.write_csv(path, null_value="", line_terminator="\n")
    else:
        frame.write_ndjson(path)
