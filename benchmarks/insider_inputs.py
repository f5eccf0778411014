"""Scan inputs straight from a synthetic retailer's folder (`ombud synth --insider`), and its ground truth.

The benchmarks judge the detectors, not the import: this reads the synthetic files with Polars into the same
Parquet inputs `ombud.insider.export` writes from a store (same columns; surname, postcode, address and email
keys as normalised text rather than keyed hashes, which compare alike). Imported events keep their file ids as
`i:<event_id>`, so the truth's event ids find them.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from ombud.insider.engine import write_inputs
from ombud.insider.evaluate import Instance, day_of
from ombud.insider.frame import TABLES

_SURNAME = r"([a-z]+)$"


def _read(folder: Path, kind: str) -> pl.DataFrame:
    for name in (f"{kind}.csv", f"{kind}.csv.gz"):
        if (folder / name).exists():
            return pl.read_csv(folder / name, infer_schema_length=0)
    return pl.read_ndjson(folder / f"{kind}.jsonl")


def _epoch(column: str) -> pl.Expr:
    return pl.col(column).str.to_datetime(time_zone="UTC").dt.epoch("s")


def _surname(column: str) -> pl.Expr:
    name = pl.col(column).str.to_lowercase().str.replace_all(r"[^a-z ,]", "").str.strip_chars()
    return (pl.when(name.str.contains(",")).then(name.str.split(",").list.first())
            .otherwise(name.str.extract(_SURNAME, 1)))


def build_inputs(folder: Path, out: Path) -> dict[str, int]:
    """Write the scan's Parquet inputs for the synthetic retailer in `folder` into `out`; rows per table."""
    events = _read(folder, "access_events").select(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("row_id"),
        ("i:" + pl.col("event_id")).alias("event_id"),
        pl.col("source_system").alias("source"),
        pl.lit(None, pl.Int64).alias("audit_idx"),
        "employee_id", "customer_id", "data_class",
        _epoch("at").alias("at_s"),
        pl.lit("allow").alias("decision"),
        pl.when(pl.col("break_glass") == "true").then(pl.lit("break_glass"))
        .when(pl.col("ticket_ref").is_not_null() & (pl.col("ticket_ref") != "")).then(pl.lit("ticket"))
        .otherwise(pl.lit("none")).alias("purpose_kind"),
        pl.lit(None, pl.Int64).alias("case_id"),
        pl.when(pl.col("ticket_ref") == "").then(None).otherwise(pl.col("ticket_ref")).alias("ticket_ref"),
    )
    staff = _read(folder, "employees")
    hr = _read(folder, "staff_hr")
    employees = staff.join(hr.select("employee_id", "home_postcode", "home_country", "left_on"), on="employee_id",
                           how="left", suffix="_hr").select(
        "employee_id", "team", "role",
        pl.col("hired_on").str.to_date(strict=False).dt.epoch("d").alias("hired_day"),
        pl.coalesce(pl.col("left_on_hr"), pl.col("left_on")).str.to_date(strict=False).dt.epoch("d")
        .alias("left_day"),
        _surname("name").alias("surname_key"),
        (pl.col("home_country") + ":" + pl.col("home_postcode").str.slice(0, 5)).alias("postcode_key"),
        pl.lit(None, pl.String).alias("address_key"),
        pl.col("email").str.to_lowercase().alias("email_key"),
    )
    accounts = _read(folder, "accounts")
    addresses = _read(folder, "addresses")
    customers = accounts.join(addresses, on="account_id", how="left").select(
        pl.col("account_id").alias("customer_id"),
        _surname("name").alias("surname_key"),
        (pl.col("country") + ":" + pl.col("postal_code").str.slice(0, 5)).alias("postcode_key"),
        (pl.col("line1").str.to_lowercase() + "|" + pl.col("postal_code").str.slice(0, 5)).alias("address_key"),
        pl.col("email").str.to_lowercase().alias("email_key"),
    ).unique()
    contacts = _read(folder, "support_contacts").select(
        "ticket_ref", pl.col("account_id").alias("customer_id"), "employee_id", "team",
        _epoch("opened_at").alias("opened_s"), "initiated_by")
    reviews = _read(folder, "reviews").select(
        pl.col("account_id").alias("customer_id"), "seller_id", pl.col("rating").cast(pl.Int64),
        _epoch("reviewed_at").alias("reviewed_s"))
    orders = _read(folder, "orders").filter(pl.col("status").is_in(["cancelled", "returned"])).select(
        pl.col("account_id").alias("customer_id"), _epoch("placed_at").alias("placed_s"), "status")
    tables = {"events": events, "employees": employees, "customers": customers, "contacts": contacts,
              "reviews": reviews, "orders": orders}
    write_inputs(out, {name: frame.to_arrow() for name, frame in tables.items()})
    return {name: frame.height for name, frame in tables.items()} | {n: 0 for n in TABLES if n not in tables}


def load_truth(folder: Path, events_parquet: Path) -> list[Instance]:
    """The truth lines, each with the (employee, day) pairs on which its events fall."""
    lines = [json.loads(line) for line in (folder / "truth" / "insider.jsonl").read_text().splitlines() if line]
    wanted = {f"i:{e}" for line in lines for e in line.get("event_ids", [])}
    days = (pl.read_parquet(events_parquet, columns=["event_id", "employee_id", "at_s"])
            .filter(pl.col("event_id").is_in(list(wanted)))
            .with_columns((pl.col("at_s") // 86400).alias("day")))
    where = {r["event_id"]: (r["employee_id"], r["day"]) for r in days.iter_rows(named=True)}
    out = []
    for line in lines:
        window = line.get("window") or {}
        start = window.get("start")
        end = window.get("end") or start
        if start is None:
            continue
        out.append(Instance(
            scenario=line["scenario"], label=line["label"], employees=frozenset(line.get("employee_ids") or []),
            first_day=day_of(start), last_day=day_of(end),
            event_days=frozenset(where[f"i:{e}"] for e in line.get("event_ids", []) if f"i:{e}" in where),
        ))
    return out
