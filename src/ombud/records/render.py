"""The package's files: a PDF/A for people (typst), JSON and CSV for machines, a README and the manifest.

Why typst for the PDF: it is a typesetting engine shipped as a self-contained wheel on PyPI (`typst`), so it
needs no browser, no system libraries (unlike WeasyPrint's Pango/Cairo) and no fonts from the host (its own
embedded fonts, so the output is the same on every machine); it writes PDF/A-2b natively (fonts embedded,
output intent, XMP metadata) and checks conformance while exporting; it lays out long tables with page breaks
and running footers; and it renders a package of 500 orders in well under a second. Data reaches the template
as JSON, never as markup, so nothing a thief typed into an order can change the document.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from ombud.records.collect import NAVIGATIONAL_DESCRIPTION

TYPST_TEMPLATE = Path(__file__).parent / "typst" / "package.typ"
JSON_FORMAT = "ombud-records-package/1"


def money(cents: int | None, currency: str = "USD") -> str:
    """Cents as `$1,234.56` (or `1,234.56 EUR` for another currency); empty for None."""
    if cents is None:
        return ""
    amount = f"{abs(cents) / 100:,.2f}"
    sign = "-" if cents < 0 else ""
    return f"{sign}${amount}" if currency == "USD" else f"{sign}{amount} {currency}"


def _t(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value).replace("T", " ", 1) if _looks_like_time(value) else str(value)


def _looks_like_time(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T"


def _address_text(a: dict[str, Any] | None) -> str:
    if not a:
        return "—"
    parts = [a.get("name"), a.get("line1"), a.get("line2"),
             f"{a.get('city', '')}, {a.get('region', '')} {a.get('postal_code', '')}".strip(), a.get("country")]
    return ", ".join(p for p in parts if p)


def _order_row(o: dict[str, Any]) -> list[str]:
    items = "; ".join(f"{ln['quantity']} × {ln['description']} ({money(ln['unit_price_cents'], o['currency'])})"
                      for ln in o["lines"])
    return [o["order_id"], _t(o["placed_at"]), o["status"], money(o["total_cents"], o["currency"]),
            o["paid_with"] or "—", _address_text(o["ship_to"]), items or "—"]


def _application_fields(c: dict[str, Any]) -> list[list[str]]:
    return [["Application", c["application_id"]], ["Product", c["product"].replace("_", " ")],
            ["Applied", _t(c["applied_at"])], ["Name given", c["applicant_name"]],
            ["Date of birth given", _t(c["date_of_birth"])],
            ["SSN given (last four)", f"•••-••-{c['ssn_last4']}" if c["ssn_last4"] else "—"],
            ["Email given", _t(c["email"])], ["Phone given", _t(c["phone"])],
            ["Address given", _address_text(c["address"])],
            ["Stated annual income", money(c["stated_annual_income_cents"]) or "—"],
            ["Decision", f"{c['decision']} ({_t(c['decided_at'])})"],
            ["Credit limit", money(c["credit_limit_cents"]) or "—"],
            ["Applied from", f"IP {_t(c['applied_from_ip'])}, device {_t(c['applied_from_device'])}"]]


def pdf_view(document: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """The document as the PDF template wants it: every value already text."""
    accounts = []
    for entry in document["accounts"]:
        a = entry["account"]
        accounts.append({
            "id": a["account_id"],
            "header": [["Account", a["account_id"]], ["Opened", _t(a["opened_at"])], ["Status", a["status"]],
                       ["Name given", _t(a["name"])], ["Email given", _t(a["email"])],
                       ["Phone given", _t(a["phone"])], ["Date of birth given", _t(a["date_of_birth"])],
                       ["Opened from", f"IP {_t(a['opened_from_ip'])}, device {_t(a['opened_from_device'])}"]],
            "addresses": [[_address_text(x), x["kind"], _t(x["name"]), _t(x["added_at"])]
                          for x in entry["addresses"]],
            "cards": [[f"{p['brand']} ending {p['last4']}", p["expiry"], _t(p["name_on_card"]), _t(p["added_at"]),
                       _t(p["removed_at"])] for p in entry["payment_methods"]],
            "orders": [_order_row(o) for o in entry["orders"]],
            "applications": [_application_fields(c) for c in entry["credit_applications"]],
            "notes": [[_t(n["at"]), _t(n["channel"]), n["text"]] for n in entry["support_notes"]],
            "sign_ins": ([[_t(s["at"]), _t(s["ip"]), _t(s["device"]), _t(s["success"])] for s in entry["sign_ins"]]
                         if "sign_ins" in entry else None),
        })
    cards = [{
        "account": c["on_account"]["account_id"],
        "card": [["Card", f"{c['payment_method']['brand']} ending {c['payment_method']['last4']}"],
                 ["Expiry", c["payment_method"]["expiry"]], ["Name on card", _t(c["payment_method"]["name_on_card"])],
                 ["Added", _t(c["payment_method"]["added_at"])], ["Removed", _t(c["payment_method"]["removed_at"])]],
        "owner": [["Account", c["on_account"]["account_id"]], ["Opened", _t(c["on_account"]["opened_at"])],
                  ["Name given", _t(c["on_account"]["name"])], ["Email given", _t(c["on_account"]["email"])],
                  ["Phone given", _t(c["on_account"]["phone"])]],
        "orders": [_order_row(o) for o in c["orders"]],
    } for c in document["payment_methods"]]
    counts = document["counts"]
    return {
        "title": f"Records of identity theft — {meta['reference']}",
        "reference": meta["reference"], "version": str(meta["version"]), "retailer": meta["retailer"],
        "cover": [["Request", meta["reference"]], ["Prepared", meta["generated_at_text"]],
                  ["Prepared by", meta["retailer"]], ["Cost to you", "None: these records are free of charge."]],
        "intro": [
            "You told us someone used your identity without your permission. Under U.S. law (15 U.S.C. 1681g(e)) "
            "you are entitled to the application and business transaction records of what they did, and so is any "
            "police agency you authorise. This document holds every such record we found.",
            "Each section starts by saying what its records are. The same records are in the files records.json "
            "and csv/*.csv for computers, and manifest.json lists a SHA-256 fingerprint of each file; we recorded "
            "the manifest's fingerprint in our audit log, so we can prove what we sent you.",
        ],
        "contents": [["Accounts opened with your identity", str(counts["accounts"])],
                     ["Your cards used on other accounts", str(counts["payment_methods"])],
                     ["Credit applications", str(counts["credit_applications"])],
                     ["Orders", str(counts["orders"])], ["Customer-service notes", str(counts["support_notes"])]],
        "navigational": (
            f"Included at your request: the {NAVIGATIONAL_DESCRIPTION}." if meta["navigational_included"] else
            f"Left out: the {NAVIGATIONAL_DESCRIPTION}. The law does not require us to provide Internet "
            "navigational data; ask us if you or the police want it and we will consider it."),
        "contact": f"Questions about these records: {meta['contact']}. Please quote {meta['reference']}.",
        "accounts": accounts, "cards": cards,
        "applications": [_application_fields(c) for c in document["credit_applications"]],
    }


def render_pdf(document: dict[str, Any], meta: dict[str, Any], generated_at: datetime) -> bytes:
    """The PDF/A-2b for people."""
    import typst  # imported here: only package generation needs the typesetting engine

    view = pdf_view(document, meta)
    return typst.compile(
        str(TYPST_TEMPLATE), sys_inputs={"data": json.dumps(view, ensure_ascii=False)}, pdf_standards=["a-2b"],
        ignore_system_fonts=True, timestamp=int(generated_at.timestamp()),
    )


def render_json(document: dict[str, Any], meta: dict[str, Any]) -> bytes:
    """The records as one JSON document (amounts in cents, times in ISO 8601 UTC)."""
    payload = {"format": JSON_FORMAT, "package": meta, **document}
    return json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=False).encode()


def _csv(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else _csv_safe(v) for v in row])
    return buffer.getvalue().encode("utf-8-sig")  # with a BOM: spreadsheets then read UTF-8 correctly


def _csv_safe(value: Any) -> Any:
    # A text cell starting with = + - @ is run as a formula by spreadsheets: quote it as text (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def render_csv(document: dict[str, Any]) -> dict[str, bytes]:
    """One CSV per kind of record, each row naming the account it belongs to."""
    accounts, addresses, cards, orders, lines, notes, apps, sign_ins = [], [], [], [], [], [], [], []

    def add_orders(account_id: str, items: list[dict[str, Any]]) -> None:
        for o in items:
            ship = o["ship_to"] or {}
            orders.append([account_id, o["order_id"], o["placed_at"], o["status"], o["currency"], o["total_cents"],
                           o["payment_method_id"], o["paid_with"], ship.get("address_id"), _address_text(o["ship_to"]),
                           (o["bill_to"] or {}).get("address_id"), o["placed_from_ip"], o["placed_from_device"]])
            lines.extend([account_id, o["order_id"], ln["line"], ln["sku"], ln["description"], ln["quantity"],
                          ln["unit_price_cents"], ln["line_total_cents"]] for ln in o["lines"])

    def add_app(account_id: str | None, c: dict[str, Any]) -> None:
        apps.append([account_id, c["application_id"], c["product"], c["applied_at"], c["applicant_name"],
                     c["date_of_birth"], c["ssn_last4"], c["email"], c["phone"], _address_text(c["address"]),
                     c["stated_annual_income_cents"], c["decision"], c["decided_at"], c["credit_limit_cents"],
                     c["applied_from_ip"], c["applied_from_device"]])

    for entry in document["accounts"]:
        a = entry["account"]
        aid = a["account_id"]
        accounts.append([aid, "opened with your identity", a["opened_at"], a["status"], a["name"], a["email"],
                         a["phone"], a["date_of_birth"], a["opened_from_ip"], a["opened_from_device"]])
        addresses.extend([aid, x["address_id"], x["kind"], x["name"], x["line1"], x["line2"], x["city"], x["region"],
                          x["postal_code"], x["country"], x["added_at"]] for x in entry["addresses"])
        cards.extend([aid, p["payment_method_id"], p["brand"], p["last4"], p["expiry"], p["name_on_card"],
                      p["added_at"], p["removed_at"]] for p in entry["payment_methods"])
        add_orders(aid, entry["orders"])
        notes.extend([aid, n["note_id"], n["at"], n["channel"], n["author"], n["text"]] for n in entry["support_notes"])
        for c in entry["credit_applications"]:
            add_app(aid, c)
        sign_ins.extend([aid, s["at"], s["ip"], s["device"], s["success"]] for s in entry.get("sign_ins", []))
    for entry in document["payment_methods"]:
        owner = entry["on_account"]
        p = entry["payment_method"]
        accounts.append([owner["account_id"], "your card was used on it", owner["opened_at"], None, owner["name"],
                         owner["email"], owner["phone"], None, None, None])
        cards.append([owner["account_id"], p["payment_method_id"], p["brand"], p["last4"], p["expiry"],
                      p["name_on_card"], p["added_at"], p["removed_at"]])
        add_orders(owner["account_id"], entry["orders"])
    for c in document["credit_applications"]:
        add_app(None, c)
    files = {
        "csv/accounts.csv": _csv(["account_id", "relation", "opened_at", "status", "name", "email", "phone",
                                  "date_of_birth", "opened_from_ip", "opened_from_device"], accounts),
        "csv/addresses.csv": _csv(["account_id", "address_id", "kind", "name", "line1", "line2", "city", "region",
                                   "postal_code", "country", "added_at"], addresses),
        "csv/payment_methods.csv": _csv(["account_id", "payment_method_id", "brand", "last4", "expiry",
                                         "name_on_card", "added_at", "removed_at"], cards),
        "csv/orders.csv": _csv(["account_id", "order_id", "placed_at", "status", "currency", "total_cents",
                                "payment_method_id", "paid_with", "ship_to_address_id", "ship_to", "bill_to_address_id",
                                "placed_from_ip", "placed_from_device"], orders),
        "csv/order_lines.csv": _csv(["account_id", "order_id", "line", "sku", "description", "quantity",
                                     "unit_price_cents", "line_total_cents"], lines),
        "csv/support_notes.csv": _csv(["account_id", "note_id", "at", "channel", "author", "text"], notes),
        "csv/credit_applications.csv": _csv(["account_id", "application_id", "product", "applied_at",
                                             "applicant_name", "date_of_birth", "ssn_last4", "email", "phone",
                                             "address", "stated_annual_income_cents", "decision", "decided_at",
                                             "credit_limit_cents", "applied_from_ip", "applied_from_device"], apps),
    }
    if any("sign_ins" in entry for entry in document["accounts"]):
        files["csv/sign_ins.csv"] = _csv(["account_id", "at", "ip", "device", "success"], sign_ins)
    return files


def readme(meta: dict[str, Any], pdf_name: str) -> bytes:
    """A plain-text guide to the package's files."""
    return (
        f"Records of identity theft - request {meta['reference']} (package version {meta['version']})\n"
        f"Prepared by {meta['retailer']} on {meta['generated_at_text']}. Free of charge.\n\n"
        f"{pdf_name}   the records to read (PDF/A)\n"
        "records.json           the same records for computers (amounts in cents, times in UTC)\n"
        "csv/*.csv              the same records as spreadsheets, one file per kind of record\n"
        "manifest.json          the SHA-256 fingerprint of every file above; its own fingerprint is\n"
        "                       recorded in our tamper-evident audit log\n\n"
        f"Questions: {meta['contact']}\n"
    ).encode()
