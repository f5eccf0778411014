"""Exposure, exactly: which customer's which fields were shown unmasked to an incident's actors, and when.

Pure (Polars, no database). The inputs are the audit log's brokered reads and the access events imported
from the retailer's other tools, already narrowed to the actors and the window; the output has one row per
customer x item, where an item is a broker field (``email``), a part of a record field that another data class
decides (``orders.ip``), or the data class an imported event names (``video``).

What a read leaf holds (see ombud.access.broker.read): ``fields`` (every field asked for), ``decision`` (allow,
partial, deny) and ``detail.classes_allowed`` / ``classes_masked``. A field was shown when its own class was
allowed; a part of it when the part's class was allowed too. Masked values and refused reads show nothing.
A field name the table does not know (a field added after this code) counts as shown when the read was
allowed in full: an unknown is reported, never silently dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl

from ombud.access.classes import FIELDS

UNKNOWN_CLASS = "unknown"
AUDIT_SOURCE = "audit"
SHOWING_DECISIONS = ("allow", "partial")
KEY = ("customer_id", "item", "source")
OUT_SCHEMA: dict[str, Any] = {
    "customer_id": pl.String, "item": pl.String, "data_class": pl.String, "source": pl.String,
    "first_at": pl.Datetime("us", "UTC"), "last_at": pl.Datetime("us", "UTC"), "events": pl.UInt32,
    "leaves": pl.List(pl.Int64), "imported": pl.List(pl.Int64),
}
READ_SCHEMA: dict[str, Any] = {
    "idx": pl.Int64, "at": pl.Datetime("us", "UTC"), "customer_id": pl.String, "fields": pl.String,
    "decision": pl.String, "detail": pl.String,
}
IMPORTED_SCHEMA: dict[str, Any] = {
    "id": pl.Int64, "source_system": pl.String, "customer_id": pl.String, "data_class": pl.String,
    "at": pl.Datetime("us", "UTC"),
}


def item_table() -> list[tuple[str, str, str, str]]:
    """(field, item, item's class, field's own class) for every field the broker serves and each foreign part."""
    rows = []
    for name, spec in FIELDS.items():
        own = spec.data_class.value
        rows.append((name, name, own, own))
        for part, (cls, _kind) in spec.parts.items():
            if cls is not spec.data_class:
                rows.append((name, f"{name}.{part}", cls.value, own))
    return rows


def _items_frame() -> pl.DataFrame:
    return pl.DataFrame(item_table(), schema=["field", "item", "item_class", "own_class"], orient="row")


def read_exposure(reads: pl.DataFrame) -> pl.DataFrame:
    """Exposure rows from brokered read leaves (columns of READ_SCHEMA)."""
    if reads.height == 0:
        return pl.DataFrame(schema=OUT_SCHEMA)
    frame = (
        reads.lazy()
        .filter(pl.col("decision").is_in(SHOWING_DECISIONS) & pl.col("customer_id").is_not_null())
        .with_columns(
            pl.col("fields").str.json_decode(pl.List(pl.String)).alias("field"),
            pl.col("detail").str.json_path_match("$.classes_allowed").fill_null("[]")
            .str.json_decode(pl.List(pl.String)).alias("allowed"),
        )
        .explode("field")
        .filter(pl.col("field").is_not_null())
        .join(_items_frame().lazy(), on="field", how="left")
        .with_columns(
            pl.col("item").fill_null(pl.col("field")),
            pl.col("item_class").fill_null(pl.lit(UNKNOWN_CLASS)),
        )
        .filter(
            pl.when(pl.col("own_class").is_null())
            .then(pl.col("decision") == "allow")
            .otherwise(pl.col("allowed").list.contains(pl.col("own_class"))
                       & pl.col("allowed").list.contains(pl.col("item_class")))
        )
        .group_by("customer_id", "item")
        .agg(
            pl.col("item_class").first().alias("data_class"),
            pl.col("at").min().alias("first_at"),
            pl.col("at").max().alias("last_at"),
            pl.len().cast(pl.UInt32).alias("events"),
            pl.col("idx").unique().sort().alias("leaves"),
        )
        .with_columns(pl.lit(AUDIT_SOURCE).alias("source"), pl.lit([], dtype=pl.List(pl.Int64)).alias("imported"))
    )
    return frame.collect().select(list(OUT_SCHEMA)).cast(OUT_SCHEMA)


def imported_exposure(events: pl.DataFrame) -> pl.DataFrame:
    """Exposure rows from imported access events (columns of IMPORTED_SCHEMA): each exposes the class it names."""
    if events.height == 0:
        return pl.DataFrame(schema=OUT_SCHEMA)
    frame = (
        events.lazy()
        .filter(pl.col("customer_id").is_not_null() & pl.col("data_class").is_not_null())
        .with_columns(pl.col("data_class").str.to_lowercase())
        .group_by("customer_id", "data_class", "source_system")
        .agg(
            pl.col("at").min().alias("first_at"),
            pl.col("at").max().alias("last_at"),
            pl.len().cast(pl.UInt32).alias("events"),
            pl.col("id").unique().sort().alias("imported"),
        )
        .with_columns(
            pl.col("data_class").alias("item"),
            pl.col("source_system").alias("source"),
            pl.lit([], dtype=pl.List(pl.Int64)).alias("leaves"),
        )
    )
    return frame.collect().select(list(OUT_SCHEMA)).cast(OUT_SCHEMA)


def exposure(reads: pl.DataFrame, imported: pl.DataFrame | None = None) -> pl.DataFrame:
    """Every customer x item shown, with first and last exposure, event count and the events behind it."""
    parts = [read_exposure(reads)]
    if imported is not None:
        parts.append(imported_exposure(imported))
    return pl.concat(parts).sort(list(KEY))


# --- a row-at-a-time statement of the same rule, for property tests and for reading ----------------------------


def shown_items(fields: Sequence[str], decision: str | None, allowed: Iterable[str]) -> list[tuple[str, str]]:
    """(item, class) pairs one read leaf showed unmasked."""
    if decision not in SHOWING_DECISIONS:
        return []
    allowed = set(allowed)
    out = []
    for name in fields:
        spec = FIELDS.get(name)
        if spec is None:
            if decision == "allow":
                out.append((name, UNKNOWN_CLASS))
            continue
        own = spec.data_class.value
        if own not in allowed:
            continue
        out.append((name, own))
        for part, (cls, _kind) in spec.parts.items():
            if cls is not spec.data_class and cls.value in allowed:
                out.append((f"{name}.{part}", cls.value))
    return out


@dataclass(frozen=True)
class ExposureRow:
    customer_id: str
    item: str
    data_class: str
    source: str
    first_at: datetime
    last_at: datetime
    events: int


def reference_exposure(
    reads: Iterable[Mapping[str, Any]], imported: Iterable[Mapping[str, Any]] = ()
) -> dict[tuple[str, str, str], ExposureRow]:
    """The same result as `exposure`, one event at a time (reads' fields and detail already decoded)."""
    acc: dict[tuple[str, str, str], list[Any]] = {}

    def add(key: tuple[str, str, str], cls: str, at: datetime) -> None:
        row = acc.get(key)
        if row is None:
            acc[key] = [cls, at, at, 1]
        else:
            row[1], row[2], row[3] = min(row[1], at), max(row[2], at), row[3] + 1

    for read in reads:
        if read["customer_id"] is None:
            continue
        allowed = read["detail"].get("classes_allowed") or []
        seen = set()
        for item, cls in shown_items(read["fields"], read["decision"], allowed):
            if item not in seen:
                seen.add(item)
                add((read["customer_id"], item, AUDIT_SOURCE), cls, read["at"])
    for event in imported:
        if event["customer_id"] is None or event["data_class"] is None:
            continue
        cls = event["data_class"].lower()
        add((event["customer_id"], cls, event["source_system"]), cls, event["at"])
    return {k: ExposureRow(k[0], k[1], v[0], k[2], v[1], v[2], v[3]) for k, v in acc.items()}


# --- comparing two scopes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScopeDiff:
    """What a recomputed scope adds, removes and changes against the previous one (by customer x item x source)."""

    added: list[tuple[str, str, str]]
    removed: list[tuple[str, str, str]]
    changed: list[tuple[str, str, str]]
    customers_added: list[str]
    customers_removed: list[str]

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff(old: Mapping[tuple[str, str, str], tuple[Any, ...]], new: Mapping[tuple[str, str, str], tuple[Any, ...]]
         ) -> ScopeDiff:
    """Rows keyed by (customer, item, source) with comparable values (first, last, events)."""
    added = sorted(set(new) - set(old))
    removed = sorted(set(old) - set(new))
    changed = sorted(k for k in set(old) & set(new) if old[k] != new[k])
    old_customers = {k[0] for k in old}
    new_customers = {k[0] for k in new}
    return ScopeDiff(added, removed, changed, sorted(new_customers - old_customers),
                     sorted(old_customers - new_customers))
