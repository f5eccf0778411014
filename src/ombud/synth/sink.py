"""Where generated rows go: one list per record kind, with the ids of each kind made here.

Column order follows docs/import-format.md exactly; `COLUMNS` is the single source of truth for writers
and tests.
"""

from __future__ import annotations

from ombud.synth.ids import IdMaker, OrderIdMaker, TimeFormat, money

COLUMNS: dict[str, tuple[str, ...]] = {
    "employees": ("employee_id", "name", "email", "team", "role", "region", "manager_id", "hired_on", "left_on"),
    "accounts": ("account_id", "status", "created_at", "name", "email", "phone", "date_of_birth", "signup_ip",
                 "signup_device"),
    "addresses": ("address_id", "account_id", "kind", "name", "line1", "line2", "city", "region", "postal_code",
                  "country", "created_at"),
    "payment_methods": ("payment_method_id", "account_id", "card_number", "last4", "brand", "exp_month",
                        "exp_year", "cardholder_name", "billing_address_id", "added_at", "removed_at"),
    "orders": ("order_id", "account_id", "placed_at", "status", "currency", "total", "payment_method_id",
               "ship_to_address_id", "billing_address_id", "ip", "device"),
    "order_lines": ("order_id", "line_no", "sku", "description", "quantity", "unit_price"),
    "credit_applications": ("application_id", "account_id", "product", "applied_at", "applicant_name",
                            "date_of_birth", "ssn", "email", "phone", "line1", "line2", "city", "region",
                            "postal_code", "country", "annual_income", "decision", "decided_at", "credit_limit",
                            "ip", "device"),
    "logins": ("login_id", "account_id", "at", "ip", "device", "success"),
    "support_notes": ("note_id", "account_id", "created_at", "author", "channel", "body"),
}
#: Import order (docs/import-format.md): a row only refers to rows of earlier kinds.
KINDS: tuple[str, ...] = tuple(COLUMNS)
#: Each chunk draws ids from its own range of counters, this wide (far more rows than a chunk makes).
CHUNK_ID_STRIDE = 1_000_000


class Sink:
    """Collects one chunk's rows per kind and hands out the ids."""

    def __init__(self, seed: int, base: int = 0) -> None:
        """Ids are drawn from counters starting at `base`: chunks use disjoint ranges (see CHUNK_ID_STRIDE)."""
        self.rows: dict[str, list[list[object]]] = {kind: [] for kind in KINDS}
        self.fmt = TimeFormat()
        self.account_ids = IdMaker("A", 10, 3_141_592_653, seed, base)
        self.address_ids = IdMaker("AD", 11, 27_182_818_287, seed + 1, base, scramble=False)
        self.pm_ids = IdMaker("PM", 11, 16_180_339_887, seed + 2, base)
        self.order_ids = OrderIdMaker(seed + 3, base)
        self.application_ids = IdMaker("CA", 10, 1_414_213_567, seed + 4, base)
        self.login_ids = IdMaker("L", 12, 173_205_080_757, seed + 5, base, scramble=False)
        self.note_ids = IdMaker("N", 10, 2_236_067_977, seed + 6, base, scramble=False)

    def take(self) -> dict[str, list[list[object]]]:
        """The rows collected since the last take, and start afresh."""
        rows, self.rows = self.rows, {kind: [] for kind in KINDS}
        return rows

    def account(self, at: int, name: str, email: str | None, phone: str | None, dob: str | None, ip: str,
                device: str, status: str = "active") -> str:
        account_id = self.account_ids.next()
        self.rows["accounts"].append([account_id, status, self.fmt.ts(at), name, email, phone, dob, ip, device])
        return account_id

    def address(self, account_id: str, kind: str, name: str | None, parts: tuple[str, str, str, str, str],
                at: int) -> str:
        address_id = self.address_ids.next()
        line1, line2, city, region, postal = parts
        self.rows["addresses"].append(
            [address_id, account_id, kind, name, line1, line2, city, region, postal, "US", self.fmt.ts(at)]
        )
        return address_id

    def payment_method(self, account_id: str, number: str, brand: str, exp_month: int, exp_year: int,
                       holder: str | None, billing_id: str | None, added: int, removed: int | None) -> str:
        pm_id = self.pm_ids.next()
        self.rows["payment_methods"].append(
            [pm_id, account_id, number, number[-4:], brand, exp_month, exp_year, holder, billing_id,
             self.fmt.ts(added), self.fmt.ts(removed) if removed is not None else None]
        )
        return pm_id

    def order(self, account_id: str, at: int, status: str, lines: list[tuple[str, str, int, int]],
              pm_id: str | None, ship_id: str | None, bill_id: str | None, ip: str, device: str) -> str:
        """An order and its lines (sku, description, quantity, unit price in cents); total = sum of lines."""
        order_id = self.order_ids.next()
        total = 0
        out = self.rows["order_lines"]
        for line_no, (sku, desc, qty, cents) in enumerate(lines, 1):
            out.append([order_id, line_no, sku, desc, qty, money(cents)])
            total += qty * cents
        self.rows["orders"].append(
            [order_id, account_id, self.fmt.ts(at), status, "USD", money(total), pm_id, ship_id, bill_id, ip, device]
        )
        return order_id

    def application(self, account_id: str | None, product: str, at: int, name: str, dob: str | None,
                    ssn: str | None, email: str | None, phone: str | None, parts: tuple[str, str, str, str, str],
                    income_cents: int | None, decision: str, decided: int | None, limit_cents: int | None,
                    ip: str | None, device: str | None) -> str:
        app_id = self.application_ids.next()
        line1, line2, city, region, postal = parts
        self.rows["credit_applications"].append(
            [app_id, account_id, product, self.fmt.ts(at), name, dob, ssn, email, phone, line1, line2, city,
             region, postal, "US", money(income_cents) if income_cents is not None else None, decision,
             self.fmt.ts(decided) if decided is not None else None,
             money(limit_cents) if limit_cents is not None else None, ip, device]
        )
        return app_id

    def login(self, account_id: str, at: int, ip: str, device: str, success: bool = True) -> str:
        login_id = self.login_ids.next()
        self.rows["logins"].append([login_id, account_id, self.fmt.ts(at), ip, device, success])
        return login_id

    def note(self, account_id: str, at: int, author: str | None, channel: str, body: str) -> str:
        note_id = self.note_ids.next()
        self.rows["support_notes"].append([note_id, account_id, self.fmt.ts(at), author, channel, body])
        return note_id
