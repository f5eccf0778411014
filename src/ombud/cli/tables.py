"""Tables for an 80-column terminal: no vertical rules, narrow padding, long values wrapped (never cut to "…"),
and helpers that show names instead of ids. Used by the access and staff commands; any command may use them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from rich import box
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud.staff.models import Employee


def table(*columns: str, title: str | None = None) -> Table:
    """A compact table whose cells wrap to fit the terminal (80 columns and up)."""
    out = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), title=title, title_justify="left",
                show_edge=False, collapse_padding=True)
    for name in columns:
        out.add_column(name, overflow="fold")
    return out


def when(value: datetime | date | None) -> str:
    """A time as ``2026-11-23 14:05`` (UTC, as the command line shows every time), a date as a date."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value.isoformat()


def names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Employees' names by id, in one query (ids that are None are skipped)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {row[0]: row[1] for row in session.execute(select(Employee.id, Employee.name).where(
        Employee.id.in_(wanted)))}


def words(code: object) -> str:
    """A code as words: ``support_ticket`` -> ``support ticket``."""
    return str(getattr(code, "value", code)).replace("_", " ")
