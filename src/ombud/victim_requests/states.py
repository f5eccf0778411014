"""The state machine of a victim request, and the statutory decline grounds; pure (no database, no web).

A request moves ``received → verifying ⇄ needs_information → verified → discovery → review → package →
delivered → remediating → closed``; ``declined`` is reachable from every open state, but only through a
decline proposed by one person and confirmed by a privacy officer who is not the proposer (see service).
``workflow.transition()`` is the one function that moves a request; it asks ``allowed()`` first.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    received = "received"
    verifying = "verifying"
    needs_information = "needs_information"
    verified = "verified"
    discovery = "discovery"
    review = "review"
    package = "package"
    delivered = "delivered"
    remediating = "remediating"
    closed = "closed"
    declined = "declined"


class Channel(StrEnum):
    """How the request reached the retailer's designated channel."""

    portal = "portal"
    api = "api"
    mail = "mail"
    email = "email"


class DeclineGround(StrEnum):
    """The four grounds of FCRA 609(e)(5) (15 U.S.C. 1681g(e)(5)); exactly these, nothing else declines."""

    not_required = "not_required"
    identity_not_confirmed = "identity_not_confirmed"
    misrepresentation = "misrepresentation"
    navigational_data = "navigational_data"


#: Each ground in plain language, as the decline letter and the pages say it.
GROUND_TEXT: dict[DeclineGround, str] = {
    DeclineGround.not_required: (
        "The law (section 609(e) of the Fair Credit Reporting Act) does not require us to disclose these "
        "records: we hold no application or transaction records of a fraudulent transaction in your name."
    ),
    DeclineGround.identity_not_confirmed: (
        "After reviewing the proof you sent, we still do not have a high degree of confidence that we know "
        "who you are, so we cannot give another person's records to you."
    ),
    DeclineGround.misrepresentation: (
        "Your request rests on a statement of fact that we found to be untrue."
    ),
    DeclineGround.navigational_data: (
        "The information asked for is internet navigational data or similar information about a visit to a "
        "website or online service, which the law does not require us to disclose."
    ),
}

OPEN: frozenset[Status] = frozenset(Status) - {Status.closed, Status.declined}
#: States in which the 30-day clock runs: the records have not been provided yet.
CLOCK_RUNNING: frozenset[Status] = frozenset({
    Status.received, Status.verifying, Status.needs_information, Status.verified, Status.discovery,
    Status.review, Status.package,
})
#: States in which staff read customer data for the request (through the broker, purpose ``request:<id>``).
WORKING: frozenset[Status] = frozenset({
    Status.discovery, Status.review, Status.package, Status.delivered, Status.remediating,
})

_FORWARD: dict[Status, frozenset[Status]] = {
    Status.received: frozenset({Status.verifying, Status.needs_information, Status.verified}),
    Status.verifying: frozenset({Status.needs_information, Status.verified}),
    Status.needs_information: frozenset({Status.verifying, Status.verified}),
    Status.verified: frozenset({Status.discovery}),
    Status.discovery: frozenset({Status.review}),
    Status.review: frozenset({Status.discovery, Status.package}),
    Status.package: frozenset({Status.review, Status.delivered}),
    Status.delivered: frozenset({Status.remediating, Status.closed}),
    Status.remediating: frozenset({Status.closed}),
    Status.closed: frozenset(),
    Status.declined: frozenset(),
}

#: Every allowed move; ``declined`` from every state in which the records have not been delivered.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    state: moves | ({Status.declined} if state in CLOCK_RUNNING else frozenset())
    for state, moves in _FORWARD.items()
}

LABELS: dict[Status, str] = {
    Status.received: "Received",
    Status.verifying: "Checking your identity",
    Status.needs_information: "We need more information from you",
    Status.verified: "Identity confirmed",
    Status.discovery: "Finding the accounts opened or used in your name",
    Status.review: "Reviewing the accounts found",
    Status.package: "Preparing your records",
    Status.delivered: "Records sent",
    Status.remediating: "Records sent; removing your details from the fraudulent accounts",
    Status.closed: "Completed",
    Status.declined: "Declined",
}


def allowed(current: Status, to: Status) -> bool:
    """True when the state machine lets a request move from ``current`` to ``to``."""
    return to in TRANSITIONS[current]


def parse_ground(value: object) -> DeclineGround:
    """One of the four statutory grounds, or ValueError naming them (free text such as 'privacy' never is one)."""
    text = str(value or "").strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return DeclineGround(text)
    except ValueError:
        names = ", ".join(g.value for g in DeclineGround)
        raise ValueError(f"a decline needs one of the four statutory grounds: {names}") from None
