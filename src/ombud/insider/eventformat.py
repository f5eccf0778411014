"""The access-event import format (docs/access-events-format.md) as data, in the retail import's terms.

Pure: no database. Events are checked by the same vectorised checks as the retailer's records
(`ombud.retail.validate`), so a bad row is named by file, line and field in the same words.
"""

from __future__ import annotations

from pathlib import Path

from ombud.access.classes import DataClass
from ombud.retail.format import CSV_SUFFIXES, JSONL_SUFFIXES, Field, FieldType, Kind

#: Files of a folder that `ombud insider import-events DIR` reads: access_events*.csv / .jsonl (gzip allowed).
FILE_PREFIX = "access_events"
SUFFIXES = CSV_SUFFIXES + JSONL_SUFFIXES

ACCESS_EVENTS = Kind(
    "access_events",
    "insider_access_event",
    (
        Field("event_id", FieldType.id, required=True),
        Field("source_system", FieldType.id, required=True),
        Field("employee_id", FieldType.id, required=True, refers_to="employees"),
        Field("customer_id", FieldType.id, required=True, refers_to="accounts"),
        Field("data_class", FieldType.choice, required=True, choices=tuple(c.value for c in DataClass)),
        Field("at", FieldType.timestamp, required=True),
        Field("ip", FieldType.ip),
        Field("site", FieldType.text, max_length=100),
        Field("ticket_ref", FieldType.id),
        Field("break_glass", FieldType.boolean, default="false"),
    ),
    key=("source_system", "event_id"),
)


def form_of(path: Path) -> str | None:
    """'csv' or 'jsonl' for a file name the format accepts, else None."""
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    return None
