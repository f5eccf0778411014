"""Tables that page, sort and filter, on the server (no JavaScript), for any console page.

A page declares its table once::

    DECISIONS = TableSpec(
        name="decisions",
        columns=(Column("at", "When", sort=VIEW.c.audit_index), Column("employee", "Employee"), ...),
        filters=(Filter("decision", "Decision", VIEW.c.decision, choices=(("allowed", "Allowed"), ...)),),
        default_sort="-at",
    )

then, in the route, ``page = DECISIONS.run(session, select(VIEW), request.query_params)`` applies the chosen
filters and sort to the select, counts the matches and fetches one page; the template renders it with the macros
of ``_table.html`` (``{{ table_controls(page) }}``, ``{{ table_head(page) }}``, ``{{ pager(page) }}``). Sort and
filter values come only from what the spec declares (an unknown column or value is ignored, never put into SQL),
page sizes are capped, and every link keeps the other parameters, so a filtered, sorted page can be bookmarked.
Lists already in memory page the same way with ``run_list``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ombud.web.present import label

PAGE_SIZES = (25, 50, 100, 200)
MAX_TEXT_FILTER = 100


@dataclass(frozen=True)
class Column:
    """A column of the table: its key, its heading, and (if sortable) what it sorts by (a SQL expression, or for
    ``run_list`` a function of a row)."""

    key: str
    label: str
    sort: Any = None
    numeric: bool = False


@dataclass(frozen=True)
class Filter:
    """A filter: a choice among declared values, or (no choices) a text that must equal the column."""

    key: str
    label: str
    column: Any = None
    choices: tuple[tuple[str, str], ...] = ()
    #: For run_list: a function (row, value) -> bool; for SQL: a function (select, value) -> select, when set.
    apply: Callable[..., Any] | None = None
    #: The route applies it to the select itself (it needs more than the value: the viewer, a service's query);
    #: declared for the filter form and the links, which keep it.
    by_route: bool = False


@dataclass
class Page:
    """One page of a table: its rows, where it is, and the links to go elsewhere."""

    spec: TableSpec
    rows: list[Any]
    total: int
    page: int
    size: int
    sort: str
    filters: dict[str, str]
    params: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def first_row(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.size + 1

    @property
    def last_row(self) -> int:
        return min(self.total, self.page * self.size)

    def link(self, **changes: Any) -> str:
        """This page's query string with some parameters changed (None drops one); other parameters kept."""
        params = {**self.params}
        for key, value in changes.items():
            name = self.spec.param(key)
            if value is None or value == "":
                params.pop(name, None)
            else:
                params[name] = str(value)
        return "?" + urlencode(sorted(params.items()))

    def sort_link(self, column: Column) -> str:
        """The link that sorts by this column (ascending first, then flips)."""
        flipped = ("-" + column.key) if self.sort == column.key else column.key
        return self.link(sort=flipped, page=None)

    def sorted_by(self, column: Column) -> str | None:
        """``ascending``/``descending`` when the table is sorted by this column (for aria-sort)."""
        if self.sort == column.key:
            return "ascending"
        if self.sort == "-" + column.key:
            return "descending"
        return None

    def hidden_fields(self, *, keep_filters: bool = False) -> list[tuple[str, str]]:
        """The parameters a filter form must carry along (the sort, the size, other tables' parameters)."""
        own_filters = {self.spec.param(f.key) for f in self.spec.filters}
        page_param = self.spec.param("page")
        return [(k, v) for k, v in sorted(self.params.items())
                if k != page_param and (keep_filters or k not in own_filters)]


@dataclass(frozen=True)
class TableSpec:
    """What a table may be paged, sorted and filtered by."""

    name: str
    columns: tuple[Column, ...]
    filters: tuple[Filter, ...] = ()
    default_sort: str = ""
    default_size: int = 50
    #: Prefix the query parameters with the table's name (two tables on one page).
    prefixed: bool = False
    #: A unique column sorted after the chosen one, so rows that tie keep one order from page to page.
    tiebreak: Any = None

    def param(self, key: str) -> str:
        return f"{self.name}_{key}" if self.prefixed else key

    def _state(self, query: Mapping[str, str]) -> tuple[str, dict[str, str], int, int, dict[str, str]]:
        sortable = {c.key for c in self.columns if c.sort is not None}
        sort = query.get(self.param("sort"), self.default_sort) or ""
        if sort.lstrip("-") not in sortable:
            sort = self.default_sort
        chosen: dict[str, str] = {}
        for f in self.filters:
            value = (query.get(self.param(f.key)) or "").strip()
            if not value:
                continue
            if f.choices and value not in {v for v, _ in f.choices}:
                continue
            chosen[f.key] = value[:MAX_TEXT_FILTER]
        size = _int(query.get(self.param("size")), self.default_size)
        size = size if size in PAGE_SIZES else self.default_size
        page = max(1, _int(query.get(self.param("page")), 1))
        params = {k: v for k, v in query.items() if isinstance(v, str)}
        return sort, chosen, size, page, params

    def run(self, session: Session, stmt: Select[Any], query: Mapping[str, str]) -> Page:
        """Filter, count, sort and fetch one page of a select (its objects, when it selects one model)."""
        sort, chosen, size, page, params = self._state(query)
        for f in self.filters:
            if f.key in chosen and not f.by_route:
                value = chosen[f.key]
                stmt = f.apply(stmt, value) if f.apply is not None else stmt.where(f.column == value)
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
        pages = max(1, -(-total // size))
        page = min(page, pages)
        if sort:
            column = next(c for c in self.columns if c.key == sort.lstrip("-"))
            stmt = stmt.order_by(column.sort.desc() if sort.startswith("-") else column.sort.asc())
        if self.tiebreak is not None:
            stmt = stmt.order_by(self.tiebreak)
        paged = stmt.limit(size).offset((page - 1) * size)
        # A select of one thing (a model, say) gives the things themselves; of several, the rows.
        rows = list(session.scalars(paged) if len(stmt.column_descriptions) == 1 else session.execute(paged))
        return Page(self, rows, total, page, size, sort, chosen, params)

    def run_list(self, rows: Sequence[Any], query: Mapping[str, str]) -> Page:
        """The same over rows already in memory (a report computed in Python)."""
        sort, chosen, size, page, params = self._state(query)
        kept = list(rows)
        for f in self.filters:
            if f.key in chosen and f.apply is not None:
                kept = [r for r in kept if f.apply(r, chosen[f.key])]
        if sort:
            column = next(c for c in self.columns if c.key == sort.lstrip("-"))
            kept.sort(key=lambda r: _sort_key(column.sort(r)), reverse=sort.startswith("-"))
        total = len(kept)
        pages = max(1, -(-total // size))
        page = min(page, pages)
        return Page(self, kept[(page - 1) * size: page * size], total, page, size, sort, chosen, params)


def enum_choices(members: Iterable[Any]) -> tuple[tuple[str, str], ...]:
    """A filter's choices from an enumeration: each member's value, shown in words (``support_ticket`` ->
    ``Support ticket``)."""
    return tuple((m.value, label(m.value)) for m in members)


def _sort_key(value: Any) -> tuple[int, Any]:
    return (1, "") if value is None else (0, value)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None and len(value) <= 9 else default
    except ValueError:
        return default
