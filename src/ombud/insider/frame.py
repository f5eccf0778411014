"""The scan's input tables: their names, columns and types (pure: no database, no web framework).

A scan reads these as Parquet files (an export of the audit log's access events, the imported events and the
facts that explain or relate them). Times are whole seconds since the Unix epoch (UTC), so window arithmetic is
plain integer arithmetic that every SQL engine does alike, whatever its session time zone.
"""

from __future__ import annotations

from typing import Final

import pyarrow as pa

#: Table name -> its columns. `events` has one row per (access event, data class) read.
TABLES: Final[dict[str, pa.Schema]] = {
    "events": pa.schema([
        ("row_id", pa.int64()),  # unique per row
        ("event_id", pa.string()),  # "a:<leaf index>" (brokered) or "i:<imported id>"
        ("source", pa.string()),  # "broker" or the importing system's name
        ("audit_idx", pa.int64()),  # the audit leaf of a brokered event
        ("employee_id", pa.string()),  # staff directory id
        ("customer_id", pa.string()),
        ("data_class", pa.string()),
        ("at_s", pa.int64()),
        ("decision", pa.string()),  # allow | partial | deny
        ("purpose_kind", pa.string()),  # case | grant | break_glass | none | ticket
        ("case_id", pa.int64()),
        ("ticket_ref", pa.string()),
    ]),
    "employees": pa.schema([
        ("employee_id", pa.string()),
        ("team", pa.string()),
        ("role", pa.string()),
        ("hired_day", pa.int64()),  # days since the epoch
        ("left_day", pa.int64()),
        ("surname_key", pa.string()),  # keyed hashes, comparable with the customers' keys
        ("postcode_key", pa.string()),
        ("address_key", pa.string()),
        ("email_key", pa.string()),
    ]),
    "customers": pa.schema([
        ("customer_id", pa.string()),
        ("surname_key", pa.string()),
        ("postcode_key", pa.string()),
        ("address_key", pa.string()),
        ("email_key", pa.string()),
    ]),
    "contacts": pa.schema([
        ("ticket_ref", pa.string()),
        ("customer_id", pa.string()),
        ("employee_id", pa.string()),
        ("team", pa.string()),
        ("opened_s", pa.int64()),
        ("initiated_by", pa.string()),  # customer | staff
    ]),
    "cases": pa.schema([
        ("case_id", pa.int64()),
        ("case_type", pa.string()),
        ("customer_id", pa.string()),
        ("opened_by", pa.string()),
        ("opened_s", pa.int64()),
        ("source", pa.string()),  # the ticket a case came from, when it came from the ticket feed
    ]),
    "reviews": pa.schema([
        ("customer_id", pa.string()),
        ("seller_id", pa.string()),
        ("rating", pa.int64()),
        ("reviewed_s", pa.int64()),
    ]),
    "orders": pa.schema([  # orders with a problem (cancelled, returned, disputed...) only
        ("customer_id", pa.string()),
        ("placed_s", pa.int64()),
        ("status", pa.string()),
    ]),
    "feedback": pa.schema([  # per detector (and team, or "*"): the weight analysts' outcomes give it
        ("detector", pa.string()),
        ("team", pa.string()),
        ("weight", pa.float64()),
    ]),
}


def empty(name: str) -> pa.Table:
    """An empty table of the named input."""
    return TABLES[name].empty_table()


def conform(name: str, table: pa.Table) -> pa.Table:
    """The table with exactly the input's columns in order and types; a missing column is an error naming it."""
    schema = TABLES[name]
    columns = []
    for column in schema:
        if column.name not in table.column_names:
            raise ValueError(f"{name}: column {column.name!r} is missing")
        columns.append(table.column(column.name).cast(column.type))
    return pa.Table.from_arrays(columns, schema=schema)
