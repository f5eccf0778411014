"""From checked import rows to table rows: column names, cents, card fingerprints and encrypted SSNs.

The card number and the SSN leave here only as a keyed fingerprint, a keyed hash, an encrypted blob and
last four digits; the frames this module returns never hold them in the clear.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

from ombud.crypto import card_fingerprints
from ombud.keys import KeyRing
from ombud.retail.format import Field, FieldType, Kind, card_brand
from ombud.retail.store import TableWrite
from ombud.retail.validate import ssn_match_hash
from ombud.staff.hr import postcode_hashes

SSN_CONTEXT = "retail_credit_application.ssn"

#: kind -> how its rows land (table, key, columns in staging order).
WRITES: dict[str, TableWrite] = {
    "employees": TableWrite(
        "staff_employee", ("external_id",),
        ("external_id", "name", "email", "team", "role", "region", "hired_on", "left_on", "created_at"),
        insert_only=("created_at",),
    ),
    "accounts": TableWrite(
        "retail_account", ("external_id",),
        ("external_id", "status", "created_at", "name", "email", "phone", "date_of_birth", "signup_ip",
         "signup_device", "updated_at"),
        not_compared=("updated_at",),
    ),
    "addresses": TableWrite(
        "retail_address", ("external_id",),
        ("external_id", "account_id", "kind", "name", "line1", "line2", "city", "region", "postal_code", "country",
         "created_at"),
    ),
    "payment_methods": TableWrite(
        "retail_payment_method", ("external_id",),
        ("external_id", "account_id", "card_fingerprint", "last4", "brand", "exp_month", "exp_year",
         "cardholder_name", "billing_address_id", "added_at", "removed_at"),
    ),
    "orders": TableWrite(
        "retail_order", ("external_id",),
        ("external_id", "account_id", "placed_at", "status", "currency", "total_cents", "payment_method_id",
         "ship_to_address_id", "billing_address_id", "ip", "device"),
    ),
    "order_lines": TableWrite(
        "retail_order_line", ("order_id", "line_no"),
        ("order_id", "line_no", "sku", "description", "quantity", "unit_price_cents"),
    ),
    "credit_applications": TableWrite(
        "retail_credit_application", ("external_id",),
        ("external_id", "account_id", "product", "applied_at", "applicant_name", "date_of_birth", "ssn_encrypted",
         "ssn_hash", "ssn_last4", "email", "phone", "line1", "line2", "city", "region", "postal_code", "country",
         "annual_income_cents", "decision", "decided_at", "credit_limit_cents", "ip", "device"),
        # A fresh nonce makes every encryption differ: keep the stored blob unless the SSN itself changed.
        update_expr={"ssn_encrypted": (
            "CASE WHEN retail_credit_application.ssn_hash IS DISTINCT FROM excluded.ssn_hash "
            "THEN excluded.ssn_encrypted ELSE retail_credit_application.ssn_encrypted END"
        )},
    ),
    "logins": TableWrite(
        "retail_login", ("external_id",),
        ("external_id", "account_id", "at", "ip", "device", "success"),
    ),
    "support_notes": TableWrite(
        "retail_support_note", ("external_id",),
        ("external_id", "account_id", "created_at", "author", "channel", "body"),
    ),
    "staff_hr": TableWrite(
        "staff_employee", ("id",), ("id", "team", "manager_id", "hired_on", "left_on", "home_postcode_hash"),
        update_only=True, label="hr",
    ),
    "sellers": TableWrite("retail_seller", ("external_id",), ("external_id", "name")),
    "products": TableWrite("retail_product", ("external_id",), ("external_id", "seller_id", "title")),
    "reviews": TableWrite(
        "retail_review", ("external_id",),
        ("external_id", "account_id", "seller_id", "product_id", "rating", "reviewed_at"),
    ),
    "support_contacts": TableWrite(
        "retail_support_contact", ("external_id",),
        ("external_id", "ticket_ref", "account_id", "employee_id", "team", "opened_at", "initiated_by", "channel",
         "topic"),
    ),
}


def resolved(f: Field) -> str:
    """The column holding a reference's internal id once resolved."""
    return f"__id_{f.name}"


def _column(kind: Kind, f: Field) -> pl.Expr | None:
    if kind.key == (f.name,) and f.refers_to is None:
        return pl.col(f.name).alias("external_id")
    if f.refers_to is not None:
        return pl.col(resolved(f)).alias(f.name)
    if f.type is FieldType.money:
        return pl.col(f.name).alias(f"{f.name}_cents")
    if f.type in (FieldType.card_number, FieldType.ssn, FieldType.last4, FieldType.brand):
        return None  # derived below
    return pl.col(f.name)


def table_rows(kind: Kind, rows: pl.DataFrame, keys: KeyRing, now: datetime) -> pl.DataFrame:
    """Checked, resolved rows of `kind` as rows of its table, in the staging column order."""
    write = WRITES[kind.name]
    if kind.name == "staff_hr":
        return _staff_hr(rows, keys).select(write.columns)
    exprs = [e for f in kind.fields if (e := _column(kind, f)) is not None and f.name != "manager_id"]
    out = rows.select(exprs)
    if kind.name == "employees":
        out = out.with_columns(pl.col("email").str.to_lowercase(), pl.lit(now).alias("created_at"))
    elif kind.name == "accounts":
        out = out.with_columns(pl.lit(now).alias("updated_at"))
    elif kind.name == "payment_methods":
        out = out.with_columns(_cards(rows, keys))
    elif kind.name == "credit_applications":
        out = out.with_columns(_ssns(rows, keys))
    return out.select(write.columns)


def _cards(rows: pl.DataFrame, keys: KeyRing) -> list[pl.Series]:
    digits = rows.get_column("card_number")
    given = rows.get_column("brand")
    brands = given.to_list()
    if given.null_count():  # derived from the number only where the file left it empty
        numbers = digits.to_list()
        brands = [b or card_brand(d) for b, d in zip(brands, numbers, strict=True)]
    return [
        pl.Series("card_fingerprint", card_fingerprints(keys.card_fingerprint_key, digits.to_list()),
                  dtype=pl.String),
        digits.str.slice(-4).alias("last4"),
        pl.Series("brand", brands, dtype=pl.String),
    ]


def _ssns(rows: pl.DataFrame, keys: KeyRing) -> list[pl.Series]:
    ssns = rows.get_column("ssn").to_list()
    cipher, hash_key = keys.field_cipher, keys.identifier_hash_key
    return [
        pl.Series("ssn_encrypted", [cipher.encrypt(s, SSN_CONTEXT) if s else None for s in ssns], dtype=pl.Binary),
        pl.Series("ssn_hash", [ssn_match_hash(hash_key, s) if s else None for s in ssns], dtype=pl.String),
        pl.Series("ssn_last4", [s[-4:] if s else None for s in ssns], dtype=pl.String),
    ]


def _staff_hr(rows: pl.DataFrame, keys: KeyRing) -> pl.DataFrame:
    """HR rows as updates of their employees; the home postcode leaves only as its keyed hash."""
    hashes = postcode_hashes(keys.identifier_hash_key, rows.get_column("home_postcode").to_list(),
                             rows.get_column("home_country").to_list())
    return rows.select(
        pl.col("__id_employee_id").alias("id"), "team", pl.col("__id_manager_id").alias("manager_id"), "hired_on",
        "left_on", pl.Series("home_postcode_hash", hashes, dtype=pl.String),
    )
