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
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ombud.identity.blocking import BLOCK_CAP, STRONG_BLOCK_CAP, KeyHasher, KeyKind, block_cap, query_keys
from ombud.identity.enrich import THIN_PROFILE, Scored, build_matches, enough_identifiers, marks, rows
from ombud.identity.models import IdentityModel, IdentityRecord
from ombud.identity.profile import Query, parse_profile, prepare
from ombud.identity.record import Identity
from ombud.identity.schemas import DiscoveryResult, Profile
from ombud.identity.scoring import Model, score
from ombud.keys import KeyRing

#: A block larger than this is "too common" to point at anyone (a shared office address, "John Smith"
#: born on 1 January in a big ZIP); strong identifiers get a larger allowance.
__all__ = ["BLOCK_CAP", "STRONG_BLOCK_CAP", "discover", "find_candidates"]


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
    model_id = rows(session, "SELECT max(id) FROM identity_model", ())[0][0]
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


@lru_cache(maxsize=256)
def block_sql(n: int) -> str:
    part = "SELECT * FROM (SELECT key, record_id FROM identity_block_key WHERE key = ? LIMIT ?) AS b{i}"
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
    params: list[int] = []
    for key, kind in keys.items():
        params.extend((key, block_cap(kind) + 1))
    found = rows(session, block_sql(len(keys)), params)
    members: dict[int, list[int]] = defaultdict(list)
    for key, record_id in found:
        members[key].append(record_id)
    out: set[int] = set()
    sizes: dict[int, int] = {}
    skipped = 0
    for key, ids in members.items():
        kind = keys[key]
        sizes[key] = len(ids)
        if len(ids) > block_cap(kind):
            skipped += 1
            continue
        out.update(ids)
    return Candidates(out, sizes, skipped)


def load_records(session: Session, ids: set[int]) -> list[tuple[int, int | None, int | None, str | None,
                                                                 str | None, Identity]]:
    """(record id, account id, application id, their external ids, identity) of these records."""
    if not ids:
        return []
    out = []
    for rid, account_id, application_id, account_ext, app_ext, payload in rows(
        session,
        "SELECT r.id, r.account_id, r.application_id, a.external_id, c.external_id, r.payload "
        "FROM identity_record r LEFT JOIN retail_account a ON a.id = r.account_id "
        f"LEFT JOIN retail_credit_application c ON c.id = r.application_id WHERE r.id IN ({marks(len(ids))})",
        sorted(ids),
    ):
        data = json.loads(payload) if isinstance(payload, str | bytes) else payload
        out.append((rid, account_id, application_id, account_ext, app_ext, Identity.from_payload(data)))
    return out


def _term_frequencies(session: Session, query: Query, model: Model, address_blocks: dict[str, int]) -> dict[
        tuple[str, str], float]:
    ident = query.identity
    wanted = {("given", g) for g in ident.givens()} | {("surname", s) for s in ident.surnames()}
    wanted |= {("zip", z) for z in ident.zips()} | {("city", c) for c in ident.cities()}
    n = max(model.n_records, 1)
    tf: dict[tuple[str, str], float] = {}
    if wanted:
        values = sorted({v for _, v in wanted})
        found = rows(session, f'SELECT "table", value, count FROM identity_term WHERE value IN ({marks(len(values))})',
                     values)
        for table, value, count in found:
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
    scored: list[Scored] = []
    for rid, account_id, application_id, account_ext, app_ext, ident in load_records(session, candidates.record_ids):
        s = score(query.identity, ident, model, tf, query.ssn_variants)
        # "Used any part of it": at least one identifier agrees beyond a shared ZIP code or city.
        if any(e.kind in ("exact", "variant", "fuzzy") for e in s.evidence):
            scored.append(Scored(s, rid, account_id, application_id, account_ext, app_ext, ident))
    scored.sort(key=lambda item: (-item.score.log2_odds, item.record_id))
    # Matches are selected on the Fellegi-Sunter probability (the model's own odds); each then reports its
    # calibrated probability, and the verdict rules decide what it is.
    above = [item for item in scored if item.score.fs_probability >= threshold]
    below = [item for item in scored if item.score.fs_probability < threshold][:below_threshold_limit] \
        if include_below_threshold else []
    matches = build_matches(session, query, above, detailed=True)
    low = build_matches(session, query, below, detailed=False)
    enough = enough_identifiers(query)
    notes = [] if enough else [THIN_PROFILE]
    if query.weak_ssn:
        notes.append("the SSN given is not one the SSA issues (area 000 or 666, group 00 or serial 0000): it was "
                     "compared as weak evidence, never as a link on its own")
    return DiscoveryResult(
        threshold=threshold,
        matches=matches,
        below_threshold=low,
        candidates=len(candidates.record_ids),
        keys_looked_up=len(qkeys),
        common_keys_skipped=candidates.skipped,
        model_trained=model.trained,
        elapsed_ms=round((time.perf_counter() - started) * 1000, 2),
        enough_identifiers=enough,
        notes=notes,
    )
