"""Shapes of the identity domain's input and output: the discovery profile and the discovery result.

A result carries references (the retailer's ids of accounts, cards, addresses, applications and
orders), match kinds, weights and masked hints only (a card's last four digits, which are the
searcher's own); other people's personal data never appears in it. Staff read the details of a
matched account through the access broker, bound to the case.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class ProfileAddress(BaseModel):
    """A postal address, as the person writes it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    region: str | None = Field(None, max_length=50)
    postal_code: str | None = Field(None, max_length=20)
    country: str | None = Field("US", max_length=56)


class Profile(BaseModel):
    """What a person knows of their own identity; every field optional, at least one identifier needed."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "example": {
                "names": ["Jane Q. Doe", "Jane Smith"],
                "emails": ["jane.doe@example.com"],
                "phones": ["(202) 555-0143"],
                "addresses": [{"line1": "12 Oak Street", "line2": "Apt 4B", "city": "Springfield",
                               "region": "IL", "postal_code": "62704", "country": "US"}],
                "date_of_birth": "1984-07-19",
                "ssn": "123-45-6789",
                "card_numbers": ["4111 1111 1111 1111"],
            }
        },
    )

    names: list[str] = Field(default_factory=list, max_length=20, description="Full names, former names too.")
    emails: list[str] = Field(default_factory=list, max_length=20)
    phones: list[str] = Field(default_factory=list, max_length=20)
    addresses: list[ProfileAddress] = Field(default_factory=list, max_length=20,
                                            description="Current and previous addresses.")
    date_of_birth: str | None = Field(None, description="YYYY-MM-DD (US MM/DD/YYYY and '19 July 1984' accepted).")
    ssn: str | None = Field(None, description="Nine digits; compared only as a keyed hash, never stored.")
    card_numbers: list[str] = Field(default_factory=list, max_length=20,
                                    description="Full card numbers; compared only as keyed fingerprints.")

    @field_validator("date_of_birth", mode="before")
    @classmethod
    def _date_text(cls, value: object) -> object:
        return value.isoformat() if isinstance(value, date) else value


class RecordRef(BaseModel):
    """A retail record by the retailer's own id."""

    kind: Literal["account", "address", "payment_method", "credit_application", "order"]
    id: str


class EvidenceItem(BaseModel):
    """One comparison of the explanation."""

    comparison: str = Field(description="given_name, surname, date_of_birth, ssn, email, phone, address, card; "
                                        "prior (the starting odds) and hard_link (the floor for a card or SSN)")
    level: str = Field(description="The comparison level, e.g. exact, nickname, typo, unit_missing, mismatch.")
    kind: Literal["exact", "variant", "fuzzy", "partial", "mismatch", "missing", "baseline"]
    weight: float = Field(description="Match weight in bits (log2 of the Bayes factor); negative counts against. "
                                      "The weights of all items sum to the match's log2_odds.")
    profile_items: list[str] = Field(description="Which items of the profile matched, e.g. addresses[1].")
    matched: list[RecordRef] = Field(description="Which records of the account carry the matching value.")
    text: str = Field(description="The comparison in words, naming only the searcher's own identifiers.")


class MatchedCard(BaseModel):
    payment_method_id: str
    last4: str
    profile_item: str | None
    added_at: datetime
    removed_at: datetime | None


class MatchedAddress(BaseModel):
    address_id: str
    kind: str
    level: str
    profile_item: str | None
    created_at: datetime


class MatchedApplication(BaseModel):
    application_id: str
    product: str
    applied_at: datetime
    decision: str
    matched: list[str] = Field(description="Comparisons this application agreed on, e.g. ssn, date_of_birth.")


class MatchedOrder(BaseModel):
    order_id: str
    placed_at: datetime
    status: str
    via: list[str] = Field(description="payment_method, ship_to or billing: how the order used a matched item.")


Verdict = Literal[
    "suspected_fraud", "own_account", "own_account_takeover_suspected", "possible_namesake", "below_threshold",
    "not_enough_identifiers",
]


class Match(BaseModel):
    """One account (or stand-alone credit application) that used part of the profile."""

    record_kind: Literal["account", "application"]
    account_id: str | None
    application_id: str | None
    probability: float = Field(description="Calibrated probability that the record used the identity (measured "
                                           "against ground truth: see benchmarks/README.md).")
    fs_probability: float = Field(0.0, description="The Fellegi-Sunter probability from log2_odds, which the "
                                                   "threshold selects matches by.")
    log2_odds: float = Field(description="Fellegi-Sunter log2 odds: the sum of the explanation's weights.")
    hard_link: bool = Field(description="The person's own card or SSN is on this record.")
    verdict: Verdict
    summary: str
    account_status: str | None = None
    account_created_at: datetime | None = None
    signals: list[str] = Field(default_factory=list,
                               description="Why the record is judged the person's own, or what changed on it.")
    cards: list[MatchedCard] = Field(default_factory=list)
    addresses: list[MatchedAddress] = Field(default_factory=list)
    applications: list[MatchedApplication] = Field(default_factory=list)
    orders: list[MatchedOrder] = Field(default_factory=list)
    orders_total: int = 0
    explanation: list[EvidenceItem]


class DiscoveryResult(BaseModel):
    """Every record that used part of a profile, ranked; matches above the threshold first."""

    threshold: float
    matches: list[Match]
    below_threshold: list[Match]
    candidates: int = Field(description="Records compared (found under any blocking key).")
    keys_looked_up: int
    common_keys_skipped: int = Field(description="Keys shared by too many records to be evidence of anything.")
    model_trained: bool
    elapsed_ms: float
    enough_identifiers: bool = Field(True, description="False when the profile is too thin for verdicts (no name, "
                                                        "or a name alone): matches say not_enough_identifiers.")
    notes: list[str] = Field(default_factory=list, description="About the search itself, e.g. a weak SSN.")


class DiscoverRequest(BaseModel):
    """The API's request: a profile and optionally a threshold."""

    model_config = ConfigDict(extra="forbid")

    profile: Profile
    threshold: float = Field(0.5, gt=0, lt=1, description="Fellegi-Sunter probability from which a record is a "
                                                          "match (fs_probability).")
    include_below_threshold: bool = True
    purpose: str | None = Field(
        None, max_length=200,
        description="Why the search runs (required): request:<id> (a victim's request: its verified identifiers are "
                    "searched, send an empty profile) or case:<id> (an open investigation case). Recorded in the "
                    "audit log.")
