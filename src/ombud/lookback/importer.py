"""Reading the retailer's past contacts about identity theft (CSV); pure: every bad row named, nothing written.

Format (UTF-8 CSV with a header row; column order free, names exact, extra columns refused):

| column | required | meaning |
| --- | --- | --- |
| contact_id | yes | the ticket or letter's id at the retailer (unique; a re-import skips ids already held) |
| contacted_at | yes | when they contacted the retailer: `2024-06-11` or ISO 8601 with a time (no zone = UTC) |
| channel | yes | email, phone, chat, letter or other |
| name | yes | the person's name |
| email | one of email / postal_address | an address to write to |
| postal_address | one of email / postal_address | a postal address on one line |
| records_provided | no | yes / no (default no): whether they got the records at the time |
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from ombud.errors import InvalidInput
from ombud.notify.outbox import check_address

COLUMNS = ("contact_id", "contacted_at", "channel", "name", "email", "postal_address", "records_provided")
REQUIRED = ("contact_id", "contacted_at", "channel", "name")
CHANNELS = ("email", "phone", "chat", "letter", "other")
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0", ""}
MAX_ROWS = 1_000_000


@dataclass(frozen=True)
class PastContact:
    """One checked row."""

    line: int
    contact_id: str
    contacted_at: datetime
    channel: str
    name: str
    email: str | None
    postal_address: str | None
    records_provided: bool


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


def _when(text: str) -> datetime:
    text = text.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(0), tzinfo=UTC)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def read_contacts(data: bytes) -> tuple[list[PastContact], list[RowError]]:
    """Every row checked; (good rows, errors naming line and field). A bad header is one error on line 1."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [], [RowError(1, "file", f"not UTF-8 (byte {exc.start})")]
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = reader.fieldnames or []
    except csv.Error as exc:  # e.g. a quote in the header left open: the file has no header to read
        return [], [RowError(1, "header", f"unreadable CSV: {exc}")]
    missing = [c for c in REQUIRED if c not in header]
    extra = [c for c in header if c not in COLUMNS]
    if missing or extra:
        unknown = [repr(c[:20] + "…" if len(c) > 20 else c) for c in extra[:5]] + (["…"] if len(extra) > 5 else [])
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + \
                   ([f"unknown {', '.join(unknown)}"] if extra else [])
        return [], [RowError(1, "header", "; ".join(problems) + f" (columns are {', '.join(COLUMNS)})")]
    rows: list[PastContact] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    try:
        for row in reader:
            line = reader.line_num
            if len(rows) + len(errors) >= MAX_ROWS:
                errors.append(RowError(line, "file", f"more than {MAX_ROWS} rows: split the file"))
                break
            if None in row:
                errors.append(RowError(line, "row", "more values than columns"))
                continue
            values = {k: (v or "").strip() for k, v in row.items()}
            row_errors = []
            for column in REQUIRED:
                if not values.get(column):
                    row_errors.append(RowError(line, column, "is empty"))
            contact_id = values.get("contact_id", "")
            if len(contact_id) > 100:
                row_errors.append(RowError(line, "contact_id", "longer than 100 characters"))
            elif contact_id in seen:
                row_errors.append(RowError(line, "contact_id", f"repeats line {seen[contact_id]}"))
            elif contact_id:
                seen[contact_id] = line
            contacted_at = None
            if values.get("contacted_at"):
                try:
                    contacted_at = _when(values["contacted_at"])
                except ValueError:
                    row_errors.append(RowError(line, "contacted_at", "not a date (2024-06-11) or ISO 8601 time"))
            channel = values.get("channel", "").lower()
            if channel and channel not in CHANNELS:
                row_errors.append(RowError(line, "channel", f"is not one of {', '.join(CHANNELS)}"))
            email = values.get("email") or None
            if email:
                try:
                    email = check_address(email)
                except InvalidInput:
                    row_errors.append(RowError(line, "email", "is not an email address"))
            postal = values.get("postal_address") or None
            if not email and not postal:
                row_errors.append(RowError(line, "email", "give an email or a postal_address to write to"))
            if len(values.get("name", "")) > 200 or (postal and len(postal) > 500):
                row_errors.append(RowError(line, "name", "name (200) or postal_address (500) too long"))
            provided = values.get("records_provided", "").lower()
            if provided not in _YES | _NO:
                row_errors.append(RowError(line, "records_provided", "is not yes or no"))
            if row_errors:
                errors.extend(row_errors)
                continue
            assert contacted_at is not None
            rows.append(PastContact(line, contact_id, contacted_at, channel, values["name"], email, postal,
                                    provided in _YES))
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, "file", f"unreadable CSV: {exc}"))
    return rows, errors
