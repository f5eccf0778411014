"""Data classes of customer personal data and the fields that belong to each (pure: no database, no web).

A *field* is what a caller asks the broker for (``email``, ``addresses``...). Every field belongs to one data
class, and the policies decide per data class. A record field (a list of records, e.g. credit applications)
may hold parts of other classes; each part is then decided and masked by its own class.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from ombud.errors import InvalidInput


class DataClass(StrEnum):
    identity_basic = "identity_basic"
    contact = "contact"
    address = "address"
    payment = "payment"
    government_id = "government_id"
    order_history = "order_history"
    login_device = "login_device"
    support_notes = "support_notes"
    # Appended last on purpose: a class's bit in the broker's masks is its position here (CLASS_BITS), so
    # stored masks keep their meaning only if no class moves. Ombud does not broker video: the class names
    # what the retailer's home-camera system logs (imported access events), so no field belongs to it yet.
    video = "video"
    # Documents a victim sent with a records request (government ID, FTC or police report, affidavit, a letter's
    # scan). No customer field belongs to it: each document is opened on its own, with its request as purpose,
    # through ombud.access.documents (the Cedar action ``open_evidence``), never read with a customer's record.
    evidence = "evidence"


#: What each class holds, for people reading reports and pages.
DESCRIPTIONS: dict[DataClass, str] = {
    DataClass.identity_basic: "the customer's name",
    DataClass.contact: "email address and phone number",
    DataClass.address: "shipping and billing addresses",
    DataClass.payment: "cards on file (brand, last four digits, expiry, cardholder), income on applications",
    DataClass.government_id: "social security number (last four at most) and date of birth",
    DataClass.order_history: "orders, their items, totals and dates",
    DataClass.login_device: "sign-ins, IP addresses and devices",
    DataClass.support_notes: "notes of customer-service contacts",
    DataClass.video: "recordings of the customer's home cameras (in the retailer's video system)",
    DataClass.evidence: "documents a victim sent with a records request: government ID, FTC or police report, "
                        "affidavit",
}

#: Classes whose exposure does most harm; the minimisation report counts who can reach each.
SENSITIVE: frozenset[DataClass] = frozenset(
    {DataClass.contact, DataClass.address, DataClass.payment, DataClass.government_id, DataClass.video,
     DataClass.evidence}
)


@dataclass(frozen=True)
class FieldSpec:
    """One field a caller may ask for: its class, how it is masked (``kind``), and the parts of record fields."""

    name: str
    data_class: DataClass
    kind: str
    many: bool = False
    #: For record fields: part name -> (class, masking kind); parts of other classes are decided by theirs.
    parts: dict[str, tuple[DataClass, str]] = field(default_factory=dict)
    description: str = ""

    @property
    def classes(self) -> frozenset[DataClass]:
        """Every class this field touches."""
        return frozenset({self.data_class, *(cls for cls, _ in self.parts.values())})


_C = DataClass
FIELDS: dict[str, FieldSpec] = {
    spec.name: spec
    for spec in (
        FieldSpec("name", _C.identity_basic, "name", description="full name on the account"),
        FieldSpec("email", _C.contact, "email", description="email address"),
        FieldSpec("phone", _C.contact, "phone", description="phone number"),
        FieldSpec("addresses", _C.address, "address", many=True, description="addresses on the account"),
        FieldSpec("payment_methods", _C.payment, "card", many=True, description="cards on file"),
        FieldSpec("ssn_last4", _C.government_id, "ssn_last4", description="last four of the SSN on applications"),
        FieldSpec("date_of_birth", _C.government_id, "date", description="date of birth"),
        FieldSpec(
            "orders",
            _C.order_history,
            "order",
            many=True,
            parts={"ip": (_C.login_device, "ip"), "device": (_C.login_device, "device")},
            description="orders with items and totals (the IP address and device of each by login_device)",
        ),
        FieldSpec("logins", _C.login_device, "login", many=True, description="recent sign-ins"),
        FieldSpec("signup", _C.login_device, "signup", description="IP address and device at sign-up"),
        FieldSpec("support_notes", _C.support_notes, "note", many=True, description="customer-service notes"),
        FieldSpec(
            "credit_applications",
            _C.government_id,
            "record",
            many=True,
            parts={
                "applicant_name": (_C.identity_basic, "name"),
                "email": (_C.contact, "email"),
                "phone": (_C.contact, "phone"),
                "address": (_C.address, "address"),
                "ssn_last4": (_C.government_id, "ssn_last4"),
                "date_of_birth": (_C.government_id, "date"),
                "annual_income_cents": (_C.payment, "money"),
                "ip": (_C.login_device, "ip"),
                "device": (_C.login_device, "device"),
            },
            description="store-card and financing applications (each part decided by its own class)",
        ),
    )
}

#: The fields asked for when a caller names a class: every field whose own class it is.
FIELDS_BY_CLASS: dict[DataClass, tuple[str, ...]] = {
    cls: tuple(name for name, spec in FIELDS.items() if spec.data_class is cls) for cls in DataClass
}


def parse_class(value: str) -> DataClass:
    """A data class by name, or InvalidInput naming the known ones."""
    try:
        return DataClass(value.strip().lower())
    except ValueError:
        known = ", ".join(c.value for c in DataClass)
        raise InvalidInput(f"unknown data class {value!r}; known: {known}", field="classes") from None


def resolve_fields(fields: Iterable[str] | None, classes: Iterable[str] | None) -> tuple[str, ...]:
    """The fields of a read: those named plus every field of the named classes, in a stable order.

    The customer's name (identity_basic) is always included so whoever reads knows whose record it is.
    """
    wanted: set[str] = {"name"}
    for name in fields or ():
        key = name.strip().lower()
        if key not in FIELDS:
            known = ", ".join(FIELDS)
            raise InvalidInput(f"unknown field {name!r}; known: {known}", field="fields")
        wanted.add(key)
    for cls in classes or ():
        wanted.update(FIELDS_BY_CLASS[parse_class(cls)])
    if wanted == {"name"} and not fields and not classes:
        raise InvalidInput("name at least one field or data class to read", field="fields")
    return tuple(name for name in FIELDS if name in wanted)


def classes_of(fields: Iterable[str]) -> frozenset[DataClass]:
    """Every data class the given fields touch."""
    out: set[DataClass] = set()
    for name in fields:
        out |= FIELDS[name].classes
    return frozenset(out)
