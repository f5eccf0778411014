"""Turning scored records into reported matches: references, matched cards, addresses, applications and
orders, and the verdict (fraud, the person's own account, a takeover, a namesake).

Reads the retail tables with a handful of plain statements for all matched accounts at once; orders
are read only for the accounts flagged as fraud or takeover.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from ombud.identity import explain
from ombud.identity.assess import AccountFacts, Added, Assessment, DeviceUse, assess, second_account
from ombud.identity.normalize import ssn_is_weak
from ombud.identity.profile import Query
from ombud.identity.record import Identity
from ombud.identity.schemas import (
    EvidenceItem,
    Match,
    MatchedAddress,
    MatchedApplication,
    MatchedCard,
    MatchedOrder,
    RecordRef,
)
from ombud.identity.scoring import Score, address_level, generations_differ, given_level, surname_level

ORDERS_LISTED = 50
_REF_KIND = {"a": "address", "p": "payment_method", "c": "credit_application"}
#: Levels that tie a record to the person whatever name it is under: their card, SSN or email.
_HARD = {"card": {"exact"}, "ssn": {"exact", "transposed"}, "email": {"exact"}}
_PHONE = {"exact", "typo"}
_ADDRESS = {"exact", "unit_missing", "fuzzy"}
_DOB = {"exact", "swapped", "typo"}
_GIVEN_AGREES = {"exact", "nickname", "fuzzy", "initial"}
_SURNAME_AGREES = {"exact", "part", "fuzzy"}


def named(s: Score) -> bool:
    """The record is under the person's name: first and last name both agree (a twin, a spouse or a
    room-mate has another first name; a Jr. and a Sr. who both wrote their suffix disagree)."""
    levels = {e.comparison: e.level for e in s.evidence}
    return levels.get("given_name") in _GIVEN_AGREES and levels.get("surname") in _SURNAME_AGREES


def links_to_person(s: Score) -> bool:
    """Evidence beyond the name that the record used the person's identity, judged per identifier.

    Their card, SSN or email link a record whatever name it is under. Under their name, their phone links
    it, and so does their address together with their date of birth; their address alone does not (the
    people they live with share it, and a son often shares his father's name), nor their date of birth
    alone (namesakes share birthdays).
    """
    levels = {e.comparison: e.level for e in s.evidence}
    for comparison, linking in _HARD.items():
        if levels.get(comparison) in linking:
            return True
    if not named(s):
        return False
    return levels.get("phone") in _PHONE or (
        levels.get("address") in _ADDRESS and levels.get("date_of_birth") in _DOB)


def applied_as_person(s: Score, ident: Identity, applications: list[tuple[str, datetime]], orders: int) -> str | None:
    """Why a record not otherwise linked is still the use of the person's identity (None if it is not): credit
    was applied for on it under their name, at their address, on an account that never ordered anything, and
    nothing on it identifies somebody else.

    A credit application is made with a date of birth and an SSN; a relative or a namesake applying in their
    own name gives their own, which disagree with the person's. One whose date of birth and SSN are missing,
    unreadable or made up (unissuable), on an account with no orders of its own, is somebody applying as the
    person: the thief's account that exists only to apply for credit.
    """
    if not applications or orders or not named(s):
        return None
    levels = {e.comparison: e.level for e in s.evidence}
    if levels.get("address") not in _ADDRESS or levels.get("date_of_birth") == "mismatch":
        return None
    if levels.get("ssn") == "mismatch" and any(not ssn_is_weak(h) for h in ident.ssns):
        return None
    first = min(at for _ext, at in applications)
    return (f"credit applied for {first.date().isoformat()} under your name, with your address on the record, "
            "and no orders placed: nothing on it (date of birth, SSN) is someone else's")


@dataclass
class Scored:
    """A candidate record and its score."""

    score: Score
    record_id: int
    account_id: int | None
    application_id: int | None
    account_ext: str | None
    application_ext: str | None
    identity: Identity


# ------------------------------------------------------------------------------------ plain SQL


def rows(session: Session, sql: str, params: list[Any] | tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """Run SQL written with `?` placeholders on either database; `{ids}` expands to a list of `?`."""
    conn = session.connection()
    if conn.dialect.paramstyle != "qmark":
        sql = sql.replace("?", "%s")
    # The driver's own cursor, in the session's transaction: these hot read paths skip the result machinery.
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql, tuple(params))
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


def marks(n: int) -> str:
    return ", ".join(["?"] * n)


def as_time(value: Any) -> datetime:
    """A timestamp from the driver as aware UTC (SQLite hands back text)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


# ------------------------------------------------------------------------------------- matches


def build_matches(session: Session, query: Query, items: list[Scored], *, detailed: bool) -> list[Match]:
    """Matches for scored records; `detailed` adds what matched on the account and the verdict."""
    if not items:
        return []
    card_hints = {ref: query.identity.card_last4[fp] for fp, refs in query.identity.cards.items() for ref in refs}
    facts = _facts(session, items) if detailed else None
    decidable = enough_identifiers(query)
    out = []
    assessments: list[tuple[Match, AccountFacts, Assessment, int]] = []
    for item in items:
        s = item.score
        match = Match(
            record_kind="account" if item.account_id else "application",
            account_id=item.account_ext,
            application_id=item.application_ext,
            probability=round(s.probability, 6),
            fs_probability=round(s.fs_probability, 6),
            log2_odds=round(s.log2_odds, 2),
            hard_link=s.hard_link,
            verdict="suspected_fraud" if detailed else "below_threshold",
            summary=explain.summary(s),
            explanation=_evidence(s, card_hints, item.account_ext, facts.ext if facts else {}),
        )
        if facts is not None and not decidable:
            match.verdict = "not_enough_identifiers"
            match.signals = [THIN_PROFILE]
        elif facts is not None:
            assessed = _enrich(match, item, facts, query)
            if assessed is not None and item.account_id is not None:
                assessments.append((match, *assessed, item.account_id))
        out.append(match)
    _same_devices(assessments)
    if facts is not None:
        _orders(session, assessments, facts)
    return out


#: Said of a record that agrees with the person without using anything that is theirs alone.
NOT_LINKED = ("your name matched, perhaps with your date of birth or your address, but not both, or under another "
              "first name or generation (Jr./Sr.): none of your cards, SSN, email or phone is on it. Likely "
              "another person, such as someone you live with or a namesake; review before calling it fraud")
#: Said of every match of a profile too thin to tell the person's own accounts from anyone else's.
THIN_PROFILE = ("not enough identifiers to decide: the search gave no name, or a name alone; with only an "
                "email, phone, card or address an account cannot be told apart as yours or someone else's. "
                "Add your name and at least one more identifier")


def enough_identifiers(query: Query) -> bool:
    """Whether a profile can support a verdict: a name and at least one identifier besides."""
    ident = query.identity
    return bool(ident.names) and any((ident.emails, ident.phones, ident.addresses, ident.dobs, ident.ssns,
                                      ident.cards))


def _evidence(s: Score, card_hints: dict[str, str], account_ext: str | None, ext: dict[str, str]) -> list[
        EvidenceItem]:
    # The prior and any hard-link floor are parts of the total too: with them the weights sum to log2_odds.
    items = [EvidenceItem(comparison="prior", level="prior", kind="baseline", weight=s.prior, profile_items=[],
                          matched=[], text=explain.prior_text(s.prior))]
    for e in s.evidence:
        refs = []
        for ref in e.record_refs:
            if ref == "A":
                if account_ext:
                    refs.append(RecordRef(kind="account", id=account_ext))
            elif ref in ext:
                refs.append(RecordRef(kind=_REF_KIND[ref[0]], id=ext[ref]))  # type: ignore[arg-type]
        items.append(EvidenceItem(
            comparison=e.comparison, level=e.level, kind=e.kind, weight=e.weight,  # type: ignore[arg-type]
            profile_items=list(e.profile_refs), matched=refs, text=explain.evidence_text(e, card_hints),
        ))
    if s.adjustment:
        items.append(EvidenceItem(comparison="hard_link", level="floor", kind="baseline", weight=s.adjustment,
                                  profile_items=[], matched=[], text=explain.floor_text(s.adjustment)))
    return items


@dataclass
class _Facts:
    accounts: dict[int, tuple[str, datetime]]  # id -> (status, created_at)
    devices: dict[int, list[DeviceUse]]
    last: dict[int, datetime]  # latest record: order, address or card (sign-ins not counted)
    orders: dict[int, int]  # account -> orders placed
    shipments: dict[int, dict[str, int]]  # account -> "a12" -> orders shipped there
    addresses: dict[int, list[tuple[int, str, str, datetime]]]  # account -> (id, external id, kind, created)
    cards: dict[int, list[tuple[int, str, str, str, datetime, datetime | None]]]
    apps: dict[int, tuple[str, int | None, str, datetime, str]]  # id -> (ext, account, product, at, decision)
    ext: dict[str, str]  # "a12" / "p7" / "c3" -> the retailer's id


def _facts(session: Session, items: list[Scored]) -> _Facts:
    ids = sorted({i.account_id for i in items if i.account_id is not None})
    standalone = sorted({i.application_id for i in items if i.application_id is not None})
    f = _Facts({}, {}, {}, {}, {}, {}, {}, {}, {})
    if ids:
        q = marks(len(ids))
        for aid, status, created in rows(session, f"SELECT id, status, created_at FROM retail_account "
                                                  f"WHERE id IN ({q})", ids):
            f.accounts[aid] = (status, as_time(created))
            f.last[aid] = as_time(created)
        for aid, device, success, first, last, count in rows(
            session, f"SELECT account_id, device, success, min(at), max(at), count(*) FROM retail_login "
                     f"WHERE account_id IN ({q}) GROUP BY account_id, device, success", ids):
            first, last = as_time(first), as_time(last)
            uses = f.devices.setdefault(aid, [])
            use = next((d for d in uses if d.device == (device or "")), None)
            if use is None:
                use = DeviceUse(device or "", first, last, 0, 0)
                uses.append(use)
            use.first, use.last = min(use.first, first), max(use.last, last)
            if success:
                use.successes += count
                use.first_success = first
            else:
                use.failures += count
        for aid, ship, last, count in rows(
                session, f"SELECT account_id, ship_to_address_id, max(placed_at), count(*) FROM retail_order "
                         f"WHERE account_id IN ({q}) GROUP BY account_id, ship_to_address_id", ids):
            f.last[aid] = max(f.last[aid], as_time(last))
            f.orders[aid] = f.orders.get(aid, 0) + count
            if ship is not None:
                f.shipments.setdefault(aid, {})[f"a{ship}"] = count
        for rid, ext, aid, kind, created in rows(
                session, f"SELECT id, external_id, account_id, kind, created_at FROM retail_address "
                         f"WHERE account_id IN ({q})", ids):
            f.addresses.setdefault(aid, []).append((rid, ext, kind, as_time(created)))
            f.last[aid] = max(f.last[aid], as_time(created))
            f.ext[f"a{rid}"] = ext
        for rid, ext, aid, fp, last4, added, removed in rows(
                session, f"SELECT id, external_id, account_id, card_fingerprint, last4, added_at, removed_at "
                         f"FROM retail_payment_method WHERE account_id IN ({q})", ids):
            f.cards.setdefault(aid, []).append((rid, ext, fp, last4, as_time(added),
                                                as_time(removed) if removed else None))
            f.last[aid] = max(f.last[aid], as_time(added))
            f.ext[f"p{rid}"] = ext
    conditions, params = [], []
    if ids:
        conditions.append(f"account_id IN ({marks(len(ids))})")
        params.extend(ids)
    if standalone:
        conditions.append(f"id IN ({marks(len(standalone))})")
        params.extend(standalone)
    if conditions:
        for rid, ext, aid, product, applied, decision in rows(
                session, "SELECT id, external_id, account_id, product, applied_at, decision "
                         f"FROM retail_credit_application WHERE {' OR '.join(conditions)}", params):
            f.apps[rid] = (ext, aid, product, as_time(applied), decision)
            f.ext[f"c{rid}"] = ext
    return f


def _enrich(match: Match, item: Scored, f: _Facts, query: Query) -> tuple[AccountFacts, Assessment] | None:
    s = item.score
    agreeing = {e.comparison: e for e in s.agreeing}
    profile_of: dict[str, str] = {}
    for e in s.agreeing:
        for ref in e.record_refs:
            profile_of.setdefault(f"{e.comparison}:{ref}", e.profile_refs[0] if e.profile_refs else "")
    for rid, (ext, _aid, product, applied, decision) in f.apps.items():
        matched = sorted(e.comparison for e in s.agreeing if f"c{rid}" in e.record_refs)
        if (item.application_id == rid or (item.account_id is not None and _aid == item.account_id)) and (
                matched or item.application_id == rid):
            match.applications.append(MatchedApplication(application_id=ext, product=product, applied_at=applied,
                                                         decision=decision, matched=matched or sorted(agreeing)))
    applied = [(ext, at) for rid, (ext, aid, _p, at, _d) in f.apps.items()
               if item.application_id == rid or (item.account_id is not None and aid == item.account_id)]
    if item.account_id is None or item.account_id not in f.accounts:
        if not links_to_person(s):
            _not_linked(match, applied_as_person(s, item.identity, applied, 0))
        return None
    aid = item.account_id
    status, created = f.accounts[aid]
    match.account_status = status
    match.account_created_at = created
    card_refs = set(agreeing["card"].record_refs) if "card" in agreeing else set()
    address_refs = set(agreeing["address"].record_refs) if "address" in agreeing else set()
    for rid, ext, _fp, last4, added, removed in f.cards.get(aid, []):
        if f"p{rid}" in card_refs:
            match.cards.append(MatchedCard(payment_method_id=ext, last4=last4, profile_item=profile_of.get(
                f"card:p{rid}"), added_at=added, removed_at=removed))
    level = agreeing["address"].level if "address" in agreeing else ""
    for rid, ext, kind, at in f.addresses.get(aid, []):
        if f"a{rid}" in address_refs:
            match.addresses.append(MatchedAddress(address_id=ext, kind=kind, level=level,
                                                  profile_item=profile_of.get(f"address:a{rid}"), created_at=at))
    theirs = their_addresses(item.identity, query.identity)
    mine_cards = set(query.identity.cards)
    facts = AccountFacts(
        created_at=created,
        last_activity=f.last.get(aid, created),
        devices=f.devices.get(aid, []),
        addresses=[Added(f"a{rid}", at, f"a{rid}" in theirs, kind) for rid, _e, kind, at in f.addresses.get(aid, [])],
        cards=[Added(f"p{rid}", added, fp in mine_cards) for rid, _e, fp, _l, added, _r in f.cards.get(aid, [])],
        account_name_matches=account_name_matches(item.identity, query.identity, named(s)),
        account_email=_account_value_matches(item.identity.emails, set(query.identity.emails)),
        account_phone=_account_value_matches(item.identity.phones, set(query.identity.phones)),
        dob_matches=agreeing["date_of_birth"].level == "exact" if "date_of_birth" in agreeing else None,
        knows_addresses=bool(query.identity.addresses),
        shipments=f.shipments.get(aid, {}),
    )
    verdict = assess(facts)
    match.signals = list(verdict.signals)
    if verdict.own:
        match.verdict = "own_account_takeover_suspected" if verdict.takeover else "own_account"
    elif not links_to_person(s):
        _not_linked(match, applied_as_person(s, item.identity, applied, f.orders.get(aid, 0)))
    return facts, verdict


def _not_linked(match: Match, applied: str | None) -> None:
    """A record nothing of the person's alone links: a namesake, unless credit was applied for as the person."""
    if applied:
        match.signals.append(applied)
        return
    match.verdict = "possible_namesake"
    match.signals.append(NOT_LINKED)


def _same_devices(assessments: list[tuple[Match, AccountFacts, Assessment, int]]) -> None:
    """A second account of the person's: signed in from their devices, or everything on it theirs."""
    own_devices = {device: m.account_id or "" for m, _f, verdict, _aid in assessments if verdict.own
                   for device in verdict.trusted_devices}
    for match, facts, verdict, _aid in assessments:
        if match.verdict not in ("suspected_fraud", "possible_namesake"):
            continue
        reason = second_account(facts, verdict, own_devices)
        if reason:
            # The person's device says whose account it is, not that nobody else got in since: replaced
            # contact details still mean a takeover.
            replaced = [text for text, changed in (("the account's email address is not one of yours",
                                                    facts.account_email is False),
                                                   ("the account's phone number is not one of yours",
                                                    facts.account_phone is False)) if changed]
            match.verdict = "own_account_takeover_suspected" if replaced else "own_account"
            match.signals = [reason, *replaced]


def _orders(session: Session, assessments: list[tuple[Match, AccountFacts, Assessment, int]], f: _Facts) -> None:
    """Orders that used a matched card or address, for accounts flagged as fraud or takeover only (an own
    account's orders are the person's own); for a takeover, also those shipped to the intruder's addresses."""
    for match, facts, verdict, account_id in assessments:
        if match.verdict not in ("suspected_fraud", "own_account_takeover_suspected"):
            continue
        pm_ids = [int(c.ref[1:]) for c in facts.cards if c.ref in _matched_refs(match, "card", f)]
        addr_ids = [int(a.ref[1:]) for a in facts.addresses if a.ref in _matched_refs(match, "address", f)]
        if verdict.takeover:
            addr_ids += [int(a.ref[1:]) for a in facts.addresses if not a.theirs and a.kind == "shipping"]
        conditions, params = [], []
        if pm_ids:
            conditions.append(f"payment_method_id IN ({marks(len(pm_ids))})")
            params.extend(pm_ids)
        if addr_ids:
            q = marks(len(addr_ids))
            conditions.append(f"ship_to_address_id IN ({q}) OR billing_address_id IN ({q})")
            params.extend(addr_ids + addr_ids)
        if not conditions:
            continue
        found = rows(session, "SELECT external_id, placed_at, status, payment_method_id, ship_to_address_id, "
                              "billing_address_id FROM retail_order WHERE account_id = ? AND "
                              f"({' OR '.join(conditions)}) ORDER BY placed_at DESC", [account_id, *params])
        pm_set, addr_set = set(pm_ids), set(addr_ids)
        match.orders_total = len(found)
        for ext, placed, status, pm, ship, bill in found[:ORDERS_LISTED]:
            via = [name for name, hit in (("payment_method", pm in pm_set), ("ship_to", ship in addr_set),
                                          ("billing", bill in addr_set)) if hit]
            match.orders.append(MatchedOrder(order_id=ext, placed_at=as_time(placed), status=status, via=via))


def _matched_refs(match: Match, comparison: str, f: _Facts) -> set[str]:
    wanted = {"card": "payment_method", "address": "address"}[comparison]
    ids = {r.id for e in match.explanation if e.comparison == comparison and e.kind not in ("mismatch", "missing")
           for r in e.matched if r.kind == wanted}
    return {ref for ref, ext in f.ext.items() if ext in ids}


# -------------------------------------------------------------------------------- person helpers


def their_addresses(ident: Identity, mine: Identity) -> set[str]:
    """References of the record's addresses that are one of the person's (allowing slips)."""
    out: set[str] = set()
    for address, refs in ident.addresses.items():
        for own in mine.addresses:
            if address_level(own, address)[0] in ("exact", "unit_missing", "fuzzy"):
                out.update(r for r in refs if r.startswith("a"))
                break
    return out


def account_name_matches(ident: Identity, mine: Identity, named_elsewhere: bool = False) -> bool:
    """True when the account's own name (not a cardholder's or applicant's) is one of the person's (a Jr.
    is not his father: two different generational suffixes do not match; a missing one says nothing). An
    account whose export left its name out is judged by the names on its cards and addresses
    (`named_elsewhere`)."""
    if not any("A" in refs for refs in ident.names.values()):
        return named_elsewhere
    for name, refs in ident.names.items():
        if "A" not in refs:
            continue
        for own in mine.names:
            if generations_differ(own, name):
                continue
            g, _ = given_level(own.given, name.given)
            s, _ = surname_level(own, name)
            if g in ("exact", "nickname", "fuzzy", "initial") and s in ("exact", "part", "fuzzy"):
                return True
    return False


def _account_value_matches(values: dict[str, list[str]], mine: set[str]) -> bool | None:
    own = [v for v, refs in values.items() if "A" in refs]
    if not own or not mine:
        return None
    return any(v in mine for v in own)
