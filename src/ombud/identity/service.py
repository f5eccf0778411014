"""Discovery: every indexed record that used part of a person's identity, ranked, explained, referenced.

A lookup reads only the blocks the profile's keys point at (one statement, each block capped), the
payloads of those candidates (one statement), and the term frequencies of the profile's own values;
it scores candidates in memory and enriches only the matches with their cards, addresses,
applications, orders and sign-in history.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ombud.identity import explain
from ombud.identity.assess import DEVICE_SPAN, AccountFacts, Added, DeviceUse, assess
from ombud.identity.blocking import STRONG_KINDS, KeyHasher, KeyKind, query_keys
from ombud.identity.models import IdentityModel, IdentityRecord, IdentityTerm
from ombud.identity.profile import Query, parse_profile, prepare
from ombud.identity.record import Identity
from ombud.identity.schemas import (
    DiscoveryResult,
    EvidenceItem,
    Match,
    MatchedAddress,
    MatchedApplication,
    MatchedCard,
    MatchedOrder,
    Profile,
    RecordRef,
)
from ombud.identity.scoring import Model, Score, address_level, given_level, score, surname_level
from ombud.keys import KeyRing
from ombud.retail.models import Account, Address, CreditApplication, Login, Order, PaymentMethod

#: A block larger than this is "too common" to point at anyone (a shared office address, "John Smith"
#: born on 1 January in a big ZIP); strong identifiers get a larger allowance.
BLOCK_CAP = 200
STRONG_BLOCK_CAP = 1000
ORDERS_LISTED = 50
_REF_KIND = {"a": "address", "p": "payment_method", "c": "credit_application"}


# -------------------------------------------------------------------------------------- the model

_model_cache: dict[tuple[str, int | None], tuple[float, Model]] = {}
_model_lock = threading.Lock()
MODEL_TTL_SECONDS = 60.0


def load_model(session: Session, *, fresh: bool = False) -> Model:
    """The newest trained model, else the defaults sized to the index.

    The newest model's id is read every time (one indexed look-up); the model itself, and for the
    defaults the record count, are cached per database for a minute.
    """
    bind = session.get_bind()
    url = str(getattr(bind, "engine", bind).url)
    model_id = session.scalar(select(func.max(IdentityModel.id)))
    now = time.monotonic()
    with _model_lock:
        cached = _model_cache.get((url, model_id))
    if cached and not fresh and now - cached[0] < MODEL_TTL_SECONDS:
        return cached[1]
    if model_id is not None:
        row = session.get(IdentityModel, model_id)
        assert row is not None
        model = Model.from_json(row.params)
        model.info["model_id"] = row.id
    else:
        records = session.scalar(select(func.count()).select_from(IdentityRecord)) or 0
        model = Model.default(n_records=records)
    with _model_lock:
        _model_cache[(url, model_id)] = (now, model)
    return model


def forget_model() -> None:
    """Drop cached models (after training)."""
    with _model_lock:
        _model_cache.clear()


# ------------------------------------------------------------------------------------ candidates


def _block_sql(n: int, paramstyle: str) -> str:
    mark = "?" if paramstyle == "qmark" else "%s"
    part = f"SELECT * FROM (SELECT key, record_id FROM identity_block_key WHERE key = {mark} LIMIT {mark}) AS b{{i}}"
    return " UNION ALL ".join(part.format(i=i) for i in range(n))


@dataclass
class Candidates:
    record_ids: set[int]
    block_sizes: dict[int, int]
    skipped: int


def find_candidates(session: Session, keys: dict[int, KeyKind]) -> Candidates:
    """Records under any of the keys; blocks over their cap are skipped as too common."""
    if not keys:
        return Candidates(set(), {}, 0)
    conn = session.connection()
    params: list[int] = []
    for key, kind in keys.items():
        params.extend((key, (STRONG_BLOCK_CAP if kind in STRONG_KINDS else BLOCK_CAP) + 1))
    rows = conn.exec_driver_sql(_block_sql(len(keys), conn.dialect.paramstyle), tuple(params)).fetchall()
    members: dict[int, list[int]] = defaultdict(list)
    for key, record_id in rows:
        members[key].append(record_id)
    out: set[int] = set()
    sizes: dict[int, int] = {}
    skipped = 0
    for key, ids in members.items():
        kind = keys[key]
        sizes[key] = len(ids)
        if len(ids) > (STRONG_BLOCK_CAP if kind in STRONG_KINDS else BLOCK_CAP):
            skipped += 1
            continue
        out.update(ids)
    return Candidates(out, sizes, skipped)


def _load_records(session: Session, ids: set[int]) -> list[tuple[int, int | None, int | None, Identity]]:
    if not ids:
        return []
    conn = session.connection()
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = (f"SELECT id, account_id, application_id, payload FROM identity_record WHERE id IN "
           f"({', '.join([mark] * len(ids))})")
    out = []
    for rid, account_id, application_id, payload in conn.exec_driver_sql(sql, tuple(ids)).fetchall():
        data = json.loads(payload) if isinstance(payload, str | bytes) else payload
        out.append((rid, account_id, application_id, Identity.from_payload(data)))
    return out


def _term_frequencies(session: Session, query: Query, model: Model, address_blocks: dict[str, int]) -> dict[
        tuple[str, str], float]:
    ident = query.identity
    wanted = {("given", g) for g in ident.givens()} | {("surname", s) for s in ident.surnames()}
    wanted |= {("zip", z) for z in ident.zips()} | {("city", c) for c in ident.cities()}
    n = max(model.n_records, 1)
    tf: dict[tuple[str, str], float] = {}
    if wanted:
        rows = session.execute(
            select(IdentityTerm.table, IdentityTerm.value, IdentityTerm.count)
            .where(IdentityTerm.value.in_(sorted({v for _, v in wanted})))
        )
        for table, value, count in rows:
            if (table, value) in wanted:
                tf[(table, value)] = count / n
        # A value the index has not seen more than once is rare: one record in n.
        for item in wanted:
            tf.setdefault(item, 1 / n)
    for key, size in address_blocks.items():
        tf[("address", key)] = max(size, 1) / n
    return tf


# ------------------------------------------------------------------------------------- discovery


def discover(
    session: Session,
    keys: KeyRing,
    profile: Profile | dict[str, Any],
    *,
    threshold: float = 0.5,
    include_below_threshold: bool = True,
    below_threshold_limit: int = 50,
) -> DiscoveryResult:
    """Find, rank and explain every record that used part of the profile."""
    started = time.perf_counter()
    if not isinstance(profile, Profile):
        profile = parse_profile(profile)
    query = prepare(profile, card_key=keys.card_fingerprint_key, identifier_key=keys.identifier_hash_key)
    model = load_model(session)
    hasher = KeyHasher(keys.identifier_hash_key)
    qkeys = query_keys(query.identity, hasher, set(query.ssn_variants))
    candidates = find_candidates(session, qkeys)
    address_blocks = {
        a.key: candidates.block_sizes.get(hasher(KeyKind.address, a.key), 1) for a in query.identity.addresses
    }
    tf = _term_frequencies(session, query, model, address_blocks)
    scored: list[tuple[Score, int, int | None, int | None, Identity]] = []
    for rid, account_id, application_id, ident in _load_records(session, candidates.record_ids):
        s = score(query.identity, ident, model, tf, query.ssn_variants)
        # "Used any part of it": at least one identifier agrees beyond a shared ZIP code or city.
        if any(e.kind in ("exact", "variant", "fuzzy") for e in s.evidence):
            scored.append((s, rid, account_id, application_id, ident))
    scored.sort(key=lambda item: (-item[0].log2_odds, item[1]))
    above = [item for item in scored if item[0].probability >= threshold]
    below = [item for item in scored if item[0].probability < threshold][:below_threshold_limit] \
        if include_below_threshold else []
    matches = _build_matches(session, query, above, detailed=True)
    low = _build_matches(session, query, below, detailed=False)
    return DiscoveryResult(
        threshold=threshold,
        matches=matches,
        below_threshold=low,
        candidates=len(candidates.record_ids),
        keys_looked_up=len(qkeys),
        common_keys_skipped=candidates.skipped,
        model_trained=model.trained,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
    )


# ------------------------------------------------------------------------------------ enrichment


def _external_ids(session: Session, model: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.external_id).where(model.id.in_(ids))).all())


def _evidence_items(s: Score, query: Query, ext: dict[str, dict[int, str]], account_ext: str | None) -> list[
        EvidenceItem]:
    items = []
    for e in s.evidence:
        refs = []
        for ref in e.record_refs:
            if ref == "A":
                if account_ext:
                    refs.append(RecordRef(kind="account", id=account_ext))
                continue
            kind = _REF_KIND[ref[0]]
            ext_id = ext[kind].get(int(ref[1:]))
            if ext_id:
                refs.append(RecordRef(kind=kind, id=ext_id))  # type: ignore[arg-type]
        items.append(EvidenceItem(
            comparison=e.comparison, level=e.level, kind=e.kind, weight=e.weight,  # type: ignore[arg-type]
            profile_items=list(e.profile_refs), matched=refs,
            text=explain.evidence_text(e, _card_hints(query)),
        ))
    return items


def _card_hints(query: Query) -> dict[str, str]:
    ident = query.identity
    return {ref: ident.card_last4[fp] for fp, refs in ident.cards.items() for ref in refs}


def _ids_of(items: list[tuple[Score, int, int | None, int | None, Identity]], prefix: str) -> set[int]:
    out: set[int] = set()
    for s, *_rest in items:
        for e in s.evidence:
            out.update(int(r[1:]) for r in e.record_refs if r[0] == prefix)
    return out


def _build_matches(
    session: Session,
    query: Query,
    items: list[tuple[Score, int, int | None, int | None, Identity]],
    *,
    detailed: bool,
) -> list[Match]:
    if not items:
        return []
    account_ids = {a for _, _, a, _, _ in items if a is not None}
    app_ids = {p for _, _, _, p, _ in items if p is not None} | _ids_of(items, "c")
    ext = {
        "account": _external_ids(session, Account, account_ids),
        "address": _external_ids(session, Address, _ids_of(items, "a")),
        "payment_method": _external_ids(session, PaymentMethod, _ids_of(items, "p")),
        "credit_application": _external_ids(session, CreditApplication, app_ids),
    }
    facts = _account_facts(session, items) if detailed else {}
    assessments: list[tuple[Match, AccountFacts, Any]] = []
    standalone = {p for _, _, a, p, _ in items if p is not None and a is None}
    apps = {c.id: c for c in session.scalars(select(CreditApplication).where(CreditApplication.id.in_(standalone)))} \
        if detailed and standalone else {}
    out = []
    for s, _rid, account_id, application_id, ident in items:
        account_ext = ext["account"].get(account_id) if account_id else None
        match = Match(
            record_kind="account" if account_id else "application",
            account_id=account_ext,
            application_id=ext["credit_application"].get(application_id) if application_id else None,
            probability=round(s.probability, 6),
            log2_odds=round(s.log2_odds, 2),
            hard_link=s.hard_link,
            verdict="suspected_fraud" if detailed else "below_threshold",
            summary=explain.summary(s),
            explanation=_evidence_items(s, query, ext, account_ext),
        )
        if detailed:
            account_facts = facts.get(account_id) if account_id else None
            assessed = _enrich(session, match, s, ident, account_facts, apps, application_id, query)
            if assessed is not None:
                assessments.append((match, *assessed))
        out.append(match)
    _same_devices(assessments)
    return out


def _same_devices(assessments: list[tuple[Match, AccountFacts, Any]]) -> None:
    """An account in the person's name signed in from a device they have used for months on their own
    account is theirs too (a second account), not a thief's."""
    own_devices = {
        d.device: m.account_id
        for m, facts, verdict in assessments if verdict.own
        for d in facts.devices if d.device and d.successes >= 2 and d.last - d.first >= DEVICE_SPAN
    }
    for match, facts, verdict in assessments:
        if verdict.own or match.verdict != "suspected_fraud" or not facts.account_name_matches:
            continue
        shared = [d.device for d in facts.devices if d.successes and d.device in own_devices]
        if shared:
            match.verdict = "own_account"
            match.signals.append(f"signed in from a device you have used for months on your account "
                                 f"{own_devices[shared[0]]}")


def _account_facts(session: Session, items: list[tuple[Score, int, int | None, int | None, Identity]]) -> dict[
        int, dict[str, Any]]:
    """Accounts, sign-ins per device, addresses, cards, applications and orders of the matched accounts."""
    ids = {a for _, _, a, _, _ in items if a is not None}
    if not ids:
        return {}
    facts: dict[int, dict[str, Any]] = {
        a.id: {"account": a, "devices": [], "addresses": [], "cards": [], "apps": [], "orders": [], "orders_total": 0,
               "last": a.created_at}
        for a in session.scalars(select(Account).where(Account.id.in_(ids)))
    }
    for row in session.execute(
        select(Login.account_id, Login.device, Login.success, func.min(Login.at), func.max(Login.at), func.count())
        .where(Login.account_id.in_(ids)).group_by(Login.account_id, Login.device, Login.success)
    ):
        account_id, device, success, first, last, count = row
        f = facts[account_id]
        f["last"] = max(f["last"], last)
        use = next((d for d in f["devices"] if d.device == (device or "")), None)
        if use is None:
            use = DeviceUse(device or "", first, last, 0, 0)
            f["devices"].append(use)
        use.first, use.last = min(use.first, first), max(use.last, last)
        if success:
            use.successes += count
            use.first_success = first
        else:
            use.failures += count
    for a in session.scalars(select(Address).where(Address.account_id.in_(ids))):
        facts[a.account_id]["addresses"].append(a)
    for p in session.scalars(select(PaymentMethod).where(PaymentMethod.account_id.in_(ids))):
        facts[p.account_id]["cards"].append(p)
    for c in session.scalars(select(CreditApplication).where(CreditApplication.account_id.in_(ids))):
        facts[c.account_id]["apps"].append(c)
    for account_id, last in session.execute(
        select(Order.account_id, func.max(Order.placed_at)).where(Order.account_id.in_(ids)).group_by(Order.account_id)
    ):
        facts[account_id]["last"] = max(facts[account_id]["last"], last)
    return facts


def _matched_orders(session: Session, account_id: int, pm_ids: set[int], addr_ids: set[int]) -> tuple[
        list[MatchedOrder], int]:
    conditions = []
    if pm_ids:
        conditions.append(Order.payment_method_id.in_(pm_ids))
    if addr_ids:
        conditions.extend((Order.ship_to_address_id.in_(addr_ids), Order.billing_address_id.in_(addr_ids)))
    if not conditions:
        return [], 0
    where = (Order.account_id == account_id, or_(*conditions))
    total = session.scalar(select(func.count()).select_from(Order).where(*where)) or 0
    orders = []
    for o in session.scalars(select(Order).where(*where).order_by(Order.placed_at.desc()).limit(ORDERS_LISTED)):
        via = []
        if o.payment_method_id in pm_ids:
            via.append("payment_method")
        if o.ship_to_address_id in addr_ids:
            via.append("ship_to")
        if o.billing_address_id in addr_ids:
            via.append("billing")
        orders.append(MatchedOrder(order_id=o.external_id, placed_at=o.placed_at, status=o.status.value, via=via))
    return orders, total


def _enrich(session: Session, match: Match, s: Score, ident: Identity, f: dict[str, Any] | None,
            apps: dict[int, CreditApplication], application_id: int | None, query: Query) -> tuple[
        AccountFacts, Any] | None:
    """Fill in the matched cards, addresses, applications and orders, and the own/takeover verdict."""
    agreeing = {e.comparison: e for e in s.agreeing}
    profile_of: dict[str, str] = {}
    for e in s.agreeing:
        for ref in e.record_refs:
            profile_of.setdefault(f"{e.comparison}:{ref}", e.profile_refs[0] if e.profile_refs else "")
    card_refs = set(agreeing["card"].record_refs) if "card" in agreeing else set()
    address_refs = set(agreeing["address"].record_refs) if "address" in agreeing else set()
    if f is None:  # a stand-alone application
        app = apps.get(application_id) if application_id else None
        if app is not None:
            match.applications.append(MatchedApplication(
                application_id=app.external_id, product=app.product.value, applied_at=app.applied_at,
                decision=app.decision.value, matched=sorted(agreeing)))
        return None
    account: Account = f["account"]
    match.account_status = account.status.value
    match.account_created_at = account.created_at
    for p in f["cards"]:
        ref = f"p{p.id}"
        if ref in card_refs:
            match.cards.append(MatchedCard(payment_method_id=p.external_id, last4=p.last4,
                                           profile_item=profile_of.get(f"card:{ref}"), added_at=p.added_at,
                                           removed_at=p.removed_at))
    level = agreeing["address"].level if "address" in agreeing else ""
    for a in f["addresses"]:
        ref = f"a{a.id}"
        if ref in address_refs:
            match.addresses.append(MatchedAddress(address_id=a.external_id, kind=a.kind.value, level=level,
                                                  profile_item=profile_of.get(f"address:{ref}"),
                                                  created_at=a.created_at))
    for c in f["apps"]:
        matched = sorted(e.comparison for e in s.agreeing if f"c{c.id}" in e.record_refs)
        if matched:
            match.applications.append(MatchedApplication(application_id=c.external_id, product=c.product.value,
                                                         applied_at=c.applied_at, decision=c.decision.value,
                                                         matched=matched))
    profile_cards = set(query.identity.cards)
    theirs_addr = their_addresses(ident, query.identity)
    facts = AccountFacts(
        created_at=account.created_at,
        last_activity=f["last"],
        devices=f["devices"],
        addresses=[Added(f"a{a.id}", a.created_at, f"a{a.id}" in theirs_addr, a.kind.value) for a in f["addresses"]],
        cards=[Added(f"p{p.id}", p.added_at, p.card_fingerprint in profile_cards) for p in f["cards"]],
        account_name_matches=account_name_matches(ident, query.identity),
        account_email=_account_value_matches(ident.emails, set(query.identity.emails)),
        account_phone=_account_value_matches(ident.phones, set(query.identity.phones)),
        dob_matches=agreeing["date_of_birth"].level == "exact" if "date_of_birth" in agreeing else None,
    )
    verdict = assess(facts)
    match.signals = verdict.signals
    if verdict.own:
        match.verdict = "own_account_takeover_suspected" if verdict.takeover else "own_account"
    elif not _links(s):
        match.verdict = "possible_namesake"
        match.signals.append("only your name (and perhaps your date of birth or city) matched: none of your cards, "
                             "SSN, contact details or addresses is on this account; review before calling it fraud")
    pm_ids = {int(r[1:]) for r in card_refs}
    addr_ids = {int(r[1:]) for r in address_refs}
    if verdict.takeover:  # what the intruder added: orders shipped there are the fraud
        addr_ids |= {int(a.ref[1:]) for a in facts.addresses if not a.theirs and a.kind == "shipping"}
    match.orders, match.orders_total = _matched_orders(session, account.id, pm_ids, addr_ids)
    return facts, verdict


#: Levels that tie a record to the person rather than to someone with the same name.
_LINKING = {
    "card": {"exact"}, "ssn": {"exact", "transposed"}, "email": {"exact"}, "phone": {"exact", "typo"},
    "address": {"exact", "unit_missing", "fuzzy"},
}


def _links(s: Score) -> bool:
    """True when the evidence goes beyond name and date of birth: a card, SSN, contact detail or address of
    the person. Name and birth date alone are what a namesake born the same day shares too."""
    return any(e.level in _LINKING.get(e.comparison, ()) for e in s.evidence)


def their_addresses(ident: Identity, mine: Identity) -> set[str]:
    """References of the record's addresses that are one of the person's (allowing slips)."""
    out: set[str] = set()
    for address, refs in ident.addresses.items():
        for own in mine.addresses:
            if address_level(own, address)[0] in ("exact", "unit_missing", "fuzzy"):
                out.update(r for r in refs if r.startswith("a"))
                break
    return out


def account_name_matches(ident: Identity, mine: Identity) -> bool:
    """True when the account's own name (not a cardholder's or applicant's) is one of the person's."""
    for name, refs in ident.names.items():
        if "A" not in refs:
            continue
        for own in mine.names:
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
