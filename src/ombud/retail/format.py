"""The retailer import format (docs/import-format.md) as data: record kinds, their fields and references.

Pure: no database, no web framework. `ombud.retail.validate` turns these declarations into vectorised checks;
`ombud.retail.importer` maps checked rows onto the tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from ombud.retail.models import (
    AccountStatus,
    AddressKind,
    ContactInitiator,
    CreditDecision,
    CreditProduct,
    OrderStatus,
)
from ombud.staff.models import Role


class FieldType(StrEnum):
    """How a value is written in a file; each type has one check and one conversion."""

    id = "id"
    text = "text"
    email = "email"
    ip = "ip"
    timestamp = "timestamp"
    date = "date"
    money = "money"
    integer = "integer"
    boolean = "boolean"
    choice = "choice"
    country = "country"
    currency = "currency"
    ssn = "ssn"
    card_number = "card_number"
    last4 = "last4"
    brand = "brand"
    postcode = "postcode"


#: Largest amount in cents the tables hold (32-bit INTEGER columns): 21,474,836.47.
MAX_CENTS = 2**31 - 1
MAX_ID_LENGTH = 64


@dataclass(frozen=True)
class Field:
    """One column of a record kind."""

    name: str
    type: FieldType
    required: bool = False
    #: Used when the value is not given (a file's text, before checks).
    default: str | None = None
    #: Longest text accepted (the table's column width).
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    #: An id of this kind, resolved to the internal row id.
    refers_to: str | None = None
    #: The referenced row must belong to the same account as this row.
    same_account: bool = False
    #: Values are secret (card numbers, SSNs): never shown, never kept as given.
    secret: bool = False
    #: A problem with this field (missing, or a value that does not pass its check) is a warning, not a
    #: reject: the row lands without the value and the warning names the field (real exports are messy; an
    #: account with no region on its address is still the account identity discovery must find).
    soft: bool = False
    #: The referenced row's reference of this name must equal this row's (a review's product is the seller's).
    same_as: str | None = None


@dataclass(frozen=True)
class Kind:
    """One record kind: its file, its fields, how a row is identified, and the table it lands in."""

    name: str
    table: str
    fields: tuple[Field, ...]
    #: The retailer's id of a row (one field, or two for order lines).
    key: tuple[str, ...]
    #: Cross-field rules: (later field, earlier field) pairs where later must not precede earlier.
    not_before: tuple[tuple[str, str], ...] = field(default=())

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.required)

    @property
    def references(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.refers_to is not None)

    def get(self, name: str) -> Field:
        for candidate in self.fields:
            if candidate.name == name:
                return candidate
        raise KeyError(name)


def _values(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


def _id(name: str, *, required: bool = True, refers_to: str | None = None, same_account: bool = False) -> Field:
    return Field(name, FieldType.id, required=required, refers_to=refers_to, same_account=same_account)


def _text(name: str, max_length: int | None, *, required: bool = False, soft: bool = False) -> Field:
    return Field(name, FieldType.text, required=required, max_length=max_length, soft=soft)


def _ts(name: str, *, required: bool = True) -> Field:
    return Field(name, FieldType.timestamp, required=required)


def _address_fields(*, required: bool = True) -> tuple[Field, ...]:
    # Each part of a postal address is soft: an address missing its region or city still names a place.
    return (
        _text("line1", 200, required=required, soft=True),
        _text("line2", 200, soft=True),
        _text("city", 100, required=required, soft=True),
        _text("region", 50, required=required, soft=True),
        _text("postal_code", 20, required=required, soft=True),
        Field("country", FieldType.country, default="US"),
    )


_IP = Field("ip", FieldType.ip)
_DEVICE = _text("device", 200)

EMPLOYEES = Kind(
    "employees",
    "staff_employee",
    (
        _id("employee_id"),
        _text("name", 200, required=True),
        Field("email", FieldType.email, required=True, max_length=320),
        _text("team", 100, required=True),
        Field("role", FieldType.choice, required=True, choices=_values(Role)),
        _text("region", 50, required=True),
        _id("manager_id", required=False, refers_to="employees"),
        Field("hired_on", FieldType.date),
        Field("left_on", FieldType.date),
    ),
    key=("employee_id",),
    not_before=(("left_on", "hired_on"),),
)

ACCOUNTS = Kind(
    "accounts",
    "retail_account",
    (
        _id("account_id"),
        Field("status", FieldType.choice, default="active", choices=_values(AccountStatus)),
        _ts("created_at"),
        _text("name", 200, required=True, soft=True),
        Field("email", FieldType.email, max_length=320, soft=True),
        _text("phone", 40, soft=True),
        Field("date_of_birth", FieldType.date, soft=True),
        Field("signup_ip", FieldType.ip, soft=True),
        _text("signup_device", 200, soft=True),
    ),
    key=("account_id",),
)

ADDRESSES = Kind(
    "addresses",
    "retail_address",
    (
        _id("address_id"),
        _id("account_id", refers_to="accounts"),
        Field("kind", FieldType.choice, required=True, choices=_values(AddressKind)),
        _text("name", 200, soft=True),
        *_address_fields(),
        _ts("created_at"),
    ),
    key=("address_id",),
)

PAYMENT_METHODS = Kind(
    "payment_methods",
    "retail_payment_method",
    (
        _id("payment_method_id"),
        _id("account_id", refers_to="accounts"),
        Field("card_number", FieldType.card_number, required=True, secret=True),
        Field("last4", FieldType.last4),
        Field("brand", FieldType.brand, max_length=20),
        Field("exp_month", FieldType.integer, required=True, minimum=1, maximum=12),
        Field("exp_year", FieldType.integer, required=True, minimum=1900, maximum=9999),
        _text("cardholder_name", 200, soft=True),
        _id("billing_address_id", required=False, refers_to="addresses", same_account=True),
        _ts("added_at"),
        _ts("removed_at", required=False),
    ),
    key=("payment_method_id",),
    not_before=(("removed_at", "added_at"),),
)

ORDERS = Kind(
    "orders",
    "retail_order",
    (
        _id("order_id"),
        _id("account_id", refers_to="accounts"),
        _ts("placed_at"),
        Field("status", FieldType.choice, required=True, choices=_values(OrderStatus)),
        Field("currency", FieldType.currency, default="USD"),
        Field("total", FieldType.money, required=True),
        _id("payment_method_id", required=False, refers_to="payment_methods", same_account=True),
        _id("ship_to_address_id", required=False, refers_to="addresses", same_account=True),
        _id("billing_address_id", required=False, refers_to="addresses", same_account=True),
        _IP,
        _DEVICE,
    ),
    key=("order_id",),
)

ORDER_LINES = Kind(
    "order_lines",
    "retail_order_line",
    (
        _id("order_id", refers_to="orders"),
        Field("line_no", FieldType.integer, required=True, minimum=1, maximum=32767),
        _text("sku", 64, required=True),
        _text("description", 300, required=True),
        Field("quantity", FieldType.integer, required=True, minimum=1, maximum=MAX_CENTS),
        Field("unit_price", FieldType.money, required=True),
    ),
    key=("order_id", "line_no"),
)

CREDIT_APPLICATIONS = Kind(
    "credit_applications",
    "retail_credit_application",
    (
        _id("application_id"),
        _id("account_id", required=False, refers_to="accounts"),
        Field("product", FieldType.choice, required=True, choices=_values(CreditProduct)),
        _ts("applied_at"),
        _text("applicant_name", 200, required=True, soft=True),
        Field("date_of_birth", FieldType.date, soft=True),
        Field("ssn", FieldType.ssn, secret=True, soft=True),
        Field("email", FieldType.email, max_length=320, soft=True),
        _text("phone", 40, soft=True),
        *_address_fields(),
        Field("annual_income", FieldType.money),
        Field("decision", FieldType.choice, required=True, choices=_values(CreditDecision)),
        _ts("decided_at", required=False),
        Field("credit_limit", FieldType.money),
        _IP,
        _DEVICE,
    ),
    key=("application_id",),
    not_before=(("decided_at", "applied_at"),),
)

LOGINS = Kind(
    "logins",
    "retail_login",
    (
        _id("login_id"),
        _id("account_id", refers_to="accounts"),
        _ts("at"),
        _IP,
        _DEVICE,
        Field("success", FieldType.boolean, default="true"),
    ),
    key=("login_id",),
)

SUPPORT_NOTES = Kind(
    "support_notes",
    "retail_support_note",
    (
        _id("note_id"),
        _id("account_id", refers_to="accounts"),
        _ts("created_at"),
        _text("author", 200),
        Field("channel", FieldType.text, max_length=20),
        _text("body", None, required=True),
    ),
    key=("note_id",),
)

STAFF_HR = Kind(
    "staff_hr",
    "staff_employee",
    (
        _id("employee_id", refers_to="employees"),
        _text("team", 100, required=True),
        _id("manager_id", required=False, refers_to="employees"),
        Field("hired_on", FieldType.date, required=True),
        Field("left_on", FieldType.date),
        # Personal data: only a keyed hash of its normalised form is kept (ombud.staff.hr).
        Field("home_postcode", FieldType.postcode, max_length=20, secret=True),
        Field("home_country", FieldType.country, default="US"),
    ),
    key=("employee_id",),
    not_before=(("left_on", "hired_on"),),
)

SELLERS = Kind(
    "sellers",
    "retail_seller",
    (_id("seller_id"), _text("name", 200, required=True)),
    key=("seller_id",),
)

PRODUCTS = Kind(
    "products",
    "retail_product",
    (_id("product_id"), _id("seller_id", refers_to="sellers"), _text("title", 300, required=True)),
    key=("product_id",),
)

REVIEWS = Kind(
    "reviews",
    "retail_review",
    (
        _id("review_id"),
        _id("account_id", refers_to="accounts"),
        _id("seller_id", refers_to="sellers"),
        Field("product_id", FieldType.id, refers_to="products", same_as="seller_id"),
        Field("rating", FieldType.integer, required=True, minimum=1, maximum=5),
        _ts("reviewed_at"),
    ),
    key=("review_id",),
)

SUPPORT_CONTACTS = Kind(
    "support_contacts",
    "retail_support_contact",
    (
        _id("contact_id"),
        _id("ticket_ref"),
        _id("account_id", refers_to="accounts"),
        _id("employee_id", required=False, refers_to="employees"),
        _text("team", 100),
        _ts("opened_at"),
        Field("initiated_by", FieldType.choice, required=True, choices=_values(ContactInitiator)),
        Field("channel", FieldType.text, max_length=20),
        _text("topic", 100),
    ),
    key=("contact_id",),
)

#: Every kind, in the order files are read (a row only refers to rows of earlier kinds).
KINDS: tuple[Kind, ...] = (
    EMPLOYEES,
    ACCOUNTS,
    ADDRESSES,
    PAYMENT_METHODS,
    ORDERS,
    ORDER_LINES,
    CREDIT_APPLICATIONS,
    LOGINS,
    SUPPORT_NOTES,
    STAFF_HR,
    SELLERS,
    PRODUCTS,
    REVIEWS,
    SUPPORT_CONTACTS,
)
KINDS_BY_NAME: dict[str, Kind] = {kind.name: kind for kind in KINDS}

#: File suffixes understood, per form; `.gz` variants are read through gzip.
CSV_SUFFIXES = (".csv", ".csv.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz")

#: Card brands by leading digits (IIN ranges), used when a file leaves `brand` empty.
_BRAND_PREFIXES: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("amex", ((34, 34), (37, 37))),
    ("discover", ((6011, 6011), (6440, 6599))),
    ("mastercard", ((5100, 5599), (2221, 2720))),
    ("jcb", ((3528, 3589),)),
    ("diners", ((300, 305), (36, 36), (38, 39))),
    ("unionpay", ((62, 62),)),
    ("visa", ((4, 4),)),
)


def card_brand(digits: str) -> str:
    """The brand a card number's leading digits belong to, or 'other'."""
    for brand, ranges in _BRAND_PREFIXES:
        for low, high in ranges:
            width = len(str(low))
            if len(digits) >= width and low <= int(digits[:width]) <= high:
                return brand
    return "other"


def mask_card_number(text: str) -> str:
    """A card number safe to show: every digit but the last four replaced (for messages; never stored)."""
    digits = [c for c in text if c.isdigit()]
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + "".join(digits[-4:])
