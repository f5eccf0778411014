"""Profiles shared by the identity tests (fictional people on reserved domains)."""

from __future__ import annotations

from datetime import date

JANE = {
    "names": ["Jane Quinn Doe", "Jane Smith"],
    "emails": ["jane.doe@example.com"],
    "phones": ["(217) 555-0143"],
    "addresses": [{"line1": "12 Oak Street", "line2": "Apt 4B", "city": "Springfield", "region": "IL",
                   "postal_code": "62704"}],
    "date_of_birth": "1984-07-19",
    "ssn": "123-45-6789",
    "card_numbers": ["4111 1111 1111 1111"],
}
JANE_DOB = date(1984, 7, 19)
