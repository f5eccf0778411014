"""Hand-built tiny worlds for the detectors: a steady background of explained work plus what a test adds."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ombud.insider.engine import write_inputs
from ombud.insider.frame import TABLES

DAY = 86400
START_DAY = 20400  # 2025-11-08, any day works


def at(day: int, hour: float = 10.0) -> int:
    """Seconds since the epoch of `hour` on world day `day`."""
    return (START_DAY + day) * DAY + int(hour * 3600)


@dataclass
class World:
    """Rows of every input table; `background()` adds weeks of ordinary, explained work."""

    seed: int = 7
    rows: dict[str, list[dict[str, object]]] = field(default_factory=lambda: {name: [] for name in TABLES})
    _next_row: int = 0
    _next_ticket: int = 0

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def employee(self, employee_id: str, team: str = "support", role: str = "agent", *, surname: str | None = None,
                 postcode: str | None = None, email: str | None = None, left_day: int | None = None) -> str:
        self.rows["employees"].append({
            "employee_id": employee_id, "team": team, "role": role, "hired_day": START_DAY - 400,
            "left_day": None if left_day is None else START_DAY + left_day, "surname_key": surname,
            "postcode_key": postcode, "address_key": None, "email_key": email or f"mail-{employee_id}",
        })
        return employee_id

    def customer(self, customer_id: str, *, surname: str | None = None, postcode: str | None = None,
                 email: str | None = None) -> str:
        self.rows["customers"].append({
            "customer_id": customer_id, "surname_key": surname or f"sn-{customer_id}",
            "postcode_key": postcode or f"pc-{customer_id}", "address_key": f"ad-{customer_id}",
            "email_key": email or f"em-{customer_id}",
        })
        return customer_id

    def contact(self, customer_id: str, employee_id: str, when: int, *, team: str = "support",
                initiated_by: str = "customer") -> str:
        self._next_ticket += 1
        ref = f"T{self._next_ticket}"
        self.rows["contacts"].append({"ticket_ref": ref, "customer_id": customer_id, "employee_id": employee_id,
                                      "team": team, "opened_s": when, "initiated_by": initiated_by})
        return ref

    def access(self, employee_id: str, customer_id: str, when: int, data_class: str = "contact", *,
               ticket_ref: str | None = None, decision: str = "allow", purpose_kind: str = "ticket",
               case_id: int | None = None, source: str = "support_tool") -> int:
        self._next_row += 1
        row = self._next_row
        broker = source == "broker"
        self.rows["events"].append({
            "row_id": row, "event_id": f"a:{row}" if broker else f"i:{row}", "source": source,
            "audit_idx": row if broker else None, "employee_id": employee_id, "customer_id": customer_id,
            "data_class": data_class, "at_s": when, "decision": decision, "purpose_kind": purpose_kind,
            "case_id": case_id, "ticket_ref": ticket_ref,
        })
        return row

    def review(self, customer_id: str, seller_id: str, rating: int, when: int) -> None:
        self.rows["reviews"].append({"customer_id": customer_id, "seller_id": seller_id, "rating": rating,
                                     "reviewed_s": when})

    def case(self, case_id: int, case_type: str, customer_id: str, opened_by: str | None, when: int,
             source: str | None = None) -> int:
        self.rows["cases"].append({"case_id": case_id, "case_type": case_type, "customer_id": customer_id,
                                   "opened_by": opened_by, "opened_s": when, "source": source})
        return case_id

    def background(self, teams: dict[str, int] | None = None, days: int = 28, customers: int = 3000,
                   per_day: int = 6, stray: float = 0.05) -> None:
        """Employees E<team><i> with `per_day` explained contacts a day (office hours) and a few stray looks."""
        teams = teams or {"support": 8}
        pool = [self.customer(f"C{i}") for i in range(customers)]
        for i, customer in enumerate(pool[: customers // 3]):
            self.review(customer, f"S{i % 40}", self.rng.choice([1, 2, 3, 4, 5, 5, 4]), at(0) - 30 * DAY)
        for team, count in teams.items():
            for i in range(count):
                employee = self.employee(f"E{team}{i}", team=team)
                for day in range(days):
                    if day % 7 in (5, 6):
                        continue
                    for _ in range(per_day):
                        customer = self.rng.choice(pool)
                        when = at(day, self.rng.uniform(9, 17))
                        ticket = self.contact(customer, employee, when - 600, team=team)
                        for cls in ("contact", "order_history"):
                            self.access(employee, customer, when, cls, ticket_ref=ticket)
                    if self.rng.random() < stray:
                        self.access(employee, self.rng.choice(pool), at(day, self.rng.uniform(9, 17)))

    def tables(self) -> dict[str, pa.Table]:
        return {name: pa.Table.from_pylist(rows, schema=TABLES[name]) for name, rows in self.rows.items()}

    def write(self, directory: Path) -> Path:
        write_inputs(directory, self.tables())
        return directory
