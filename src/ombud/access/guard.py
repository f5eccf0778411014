"""The data-layer half of "the broker is the only road": which retail columns are personal, and a guard that
notices any SQL selecting them outside the broker (or an explicitly named system job).

``install(engine)`` adds a ``before_cursor_execute`` listener; the broker marks its reads with
``broker_scope()``; system jobs that must read personal columns without a staff member behind them (the
identity index, records packages built for a victim, imports) wrap the work in ``system_scope(reason)``.
The only-road test installs the guard and drives every route of the app; a deployment may install it with
``mode="raise"`` to refuse such reads outright.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, event

from ombud.errors import PolicyDenied

#: Personal columns of the retailer's tables (what a staff read of customer data means at the store).
PERSONAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "retail_account": ("name", "email", "phone", "date_of_birth", "signup_ip", "signup_device"),
    "retail_address": ("name", "line1", "line2", "postal_code"),
    "retail_payment_method": ("last4", "exp_month", "exp_year", "cardholder_name"),
    "retail_order": ("ip", "device", "total_cents"),
    "retail_order_line": ("description", "sku", "unit_price_cents"),
    "retail_credit_application": (
        "applicant_name", "date_of_birth", "ssn_encrypted", "ssn_last4", "email", "phone", "line1", "line2",
        "postal_code", "annual_income_cents", "ip", "device",
    ),
    "retail_login": ("ip", "device"),
    "retail_support_note": ("body", "author"),
}

_scope: ContextVar[str | None] = ContextVar("ombud_personal_read_scope", default=None)

_PATTERNS = [
    re.compile(rf"\b{table}(?:_\d+)?\.(?:{'|'.join(columns)})\b|\b{table}(?:_\d+)?\.\*", re.IGNORECASE)
    for table, columns in PERSONAL_COLUMNS.items()
]
_STAR = re.compile(r"select\s+\*\s+from\s+(?:" + "|".join(PERSONAL_COLUMNS) + r")\b", re.IGNORECASE)


def personal_columns_in(sql: str) -> list[str]:
    """The personal retail columns a SQL statement reads (qualified names), empty when none."""
    found = [m.group(0) for pattern in _PATTERNS for m in pattern.finditer(sql)]
    found += [m.group(0) for m in _STAR.finditer(sql)]
    return found


@contextmanager
def broker_scope() -> Iterator[None]:
    """Mark the broker's own reads of personal columns."""
    token = _scope.set("broker")
    try:
        yield
    finally:
        _scope.reset(token)


@contextmanager
def system_scope(reason: str) -> Iterator[None]:
    """Mark a system job that must read personal columns with no staff member behind it (name the reason)."""
    if not reason or not reason.strip():
        raise ValueError("a system scope names its reason")
    token = _scope.set(f"system:{reason.strip()}")
    try:
        yield
    finally:
        _scope.reset(token)


def current_scope() -> str | None:
    """``broker``, ``system:<reason>`` or None."""
    return _scope.get()


Violation = tuple[str, list[str]]


def install(engine: Engine, *, mode: str = "raise", sink: list[Violation] | None = None) -> Callable[[], None]:
    """Watch every statement of the engine; returns a function that removes the guard.

    ``mode="raise"`` refuses a personal read outside a scope with PolicyDenied; ``mode="record"`` appends
    (statement, columns) to ``sink`` instead.
    """
    if mode not in ("raise", "record"):
        raise ValueError("mode is raise or record")

    def check(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if _scope.get() is not None:
            return
        columns = personal_columns_in(statement)
        if not columns:
            return
        if mode == "record" and sink is not None:
            sink.append((statement, columns))
            return
        raise PolicyDenied(
            "customer personal data is read only through the access broker (ombud.access.broker.read); "
            f"this statement reads {', '.join(sorted(set(columns)))}"
        )

    event.listen(engine, "before_cursor_execute", check)
    return lambda: event.remove(engine, "before_cursor_execute", check)
