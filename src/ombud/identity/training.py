"""`ombud identity train`: estimate the scoring model's parameters from the retailer's own data, no labels.

1. u (chance agreement) from random pairs of indexed records.
2. m (agreement among records of one identity) by EM over pairs found through the blocking keys, in
   sessions by blocking key family (names and birth date; addresses; email and phone; card and SSN):
   in each session the comparisons it was blocked on are left out (see `ombud.identity.em`).
3. The prior: how many records one identity has, from the EM match share of the blocked pairs.
Term frequencies are refreshed from the index at the same time. The model is stored in the database;
the newest one is used by discovery.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.identity import em
from ombud.identity.blocking import KeyHasher, KeyKind, block_cap, record_keys
from ombud.identity.enrich import rows
from ombud.identity.index import recount_terms
from ombud.identity.models import IdentityModel, IdentityRecord
from ombud.identity.record import Identity
from ombud.identity.scoring import COMPARISONS, LEVEL_NAMES, Model, compare, level_vector
from ombud.identity.service import block_sql, forget_model, load_records
from ombud.keys import KeyRing

#: Training sessions: the key kinds a session's pairs were found by, and the comparisons left out.
SESSIONS: dict[str, tuple[frozenset[KeyKind], frozenset[str]]] = {
    "names and birth date": (
        frozenset({KeyKind.dob_surname, KeyKind.dob_given, KeyKind.name_zip}),
        frozenset({"given_name", "surname", "middle_name", "date_of_birth"}),
    ),
    "addresses": (
        frozenset({KeyKind.address, KeyKind.house_zip, KeyKind.dob_zip}),
        frozenset({"address", "date_of_birth"}),
    ),
    "email and phone": (
        frozenset({KeyKind.email, KeyKind.email_local, KeyKind.phone}),
        frozenset({"email", "phone"}),
    ),
    "card and SSN": (frozenset({KeyKind.card, KeyKind.ssn}), frozenset({"card", "ssn"})),
}
#: Levels that random pairs practically never reach; their u keeps its default (a documented bound).
_RARE = 5


@dataclass
class TrainingReport:
    records: int
    random_pairs: int
    blocked_pairs: int
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    links_per_identity: float = 0.0
    model_id: int | None = None


def _sample_ids(session: Session, n: int, rng: random.Random) -> list[int]:
    lo, hi = session.execute(select(func.min(IdentityRecord.id), func.max(IdentityRecord.id))).one()
    if lo is None:
        return []
    population = hi - lo + 1
    picks = rng.sample(range(lo, hi + 1), min(population, int(n * 1.2) + 10))
    found: set[int] = set()
    for start in range(0, len(picks), 2000):
        found.update(session.scalars(select(IdentityRecord.id).where(IdentityRecord.id.in_(picks[start:start + 2000]))))
    ids = sorted(found)
    rng.shuffle(ids)
    return ids[:n]


def _load(session: Session, ids: list[int]) -> dict[int, Identity]:
    out: dict[int, Identity] = {}
    for start in range(0, len(ids), 2000):
        for rid, _a, _p, _ae, _pe, ident in load_records(session, set(ids[start:start + 2000])):
            out[rid] = ident
    return out


def u_from_random_pairs(patterns: Counter[em.Pattern], base: Model) -> tuple[list[list[float]], list[list[int]]]:
    """u per comparison level from random pairs' patterns, and how often each level was seen; a level seen fewer
    than _RARE times keeps the base model's u (too rare to measure)."""
    names = list(COMPARISONS)
    n_levels = [len(LEVEL_NAMES[c]) for c in names]
    u_est = em.estimate_u(patterns, n_levels)
    level_counts = [[0] * n for n in n_levels]
    for pattern, count in patterns.items():
        for c, level in enumerate(pattern):
            if level >= 0:
                level_counts[c][level] += count
    u = [[u_est[c][i] if level_counts[c][i] >= _RARE else base.params[name][level][1]
          for i, level in enumerate(LEVEL_NAMES[name])] for c, name in enumerate(names)]
    return u, level_counts


def unestimated_capped(m: list[list[float]], u: list[list[float]], level_counts: list[list[int]]) -> list[list[float]]:
    """u with every level too rare to measure capped so it is never stronger evidence than exact agreement."""
    return em.cap_unestimated(m, u, [[count >= _RARE for count in row] for row in level_counts])


def train(
    session: Session,
    keys: KeyRing,
    *,
    sample_records: int = 5000,
    random_pairs: int = 50_000,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> TrainingReport:
    """Estimate u, m and the prior; store the model; return what was learnt."""
    rng = random.Random(seed)
    say = progress or (lambda _msg: None)
    n_records = session.scalar(select(func.count()).select_from(IdentityRecord)) or 0
    base = Model.default(n_records)
    names = list(COMPARISONS)

    say("term frequencies")
    recount_terms(session)

    say("random pairs (u)")
    pool = _load(session, _sample_ids(session, min(4000, n_records), rng))
    pool_ids = list(pool)
    random_patterns: Counter[em.Pattern] = Counter()
    if len(pool_ids) >= 2:
        for _ in range(random_pairs):
            a, b = rng.sample(pool_ids, 2)
            random_patterns[level_vector(compare(pool[a], pool[b], base))] += 1
    u, level_counts = u_from_random_pairs(random_patterns, base)

    say("blocked pairs (m)")
    hasher = KeyHasher(keys.identifier_hash_key)
    sample = _load(session, _sample_ids(session, min(sample_records, n_records), rng))
    pair_kinds: dict[tuple[int, int], set[KeyKind]] = {}
    for rid, ident in sample.items():
        kinds = dict(record_keys(ident, hasher))
        if not kinds:
            continue
        params: list[int] = []
        for key, kind in kinds.items():
            params.extend((key, block_cap(KeyKind(kind)) + 1))
        members: dict[int, list[int]] = {}
        for key, other in rows(session, block_sql(len(kinds)), params):
            members.setdefault(key, []).append(other)
        for key, others in members.items():
            if len(others) > block_cap(KeyKind(kinds[key])):
                continue
            for other in others:
                if other != rid:
                    pair_kinds.setdefault((rid, other), set()).add(KeyKind(kinds[key]))
    others = _load(session, sorted({b for _, b in pair_kinds} - set(sample)))
    others.update(sample)
    vectors: dict[tuple[int, int], em.Pattern] = {
        pair: level_vector(compare(sample[pair[0]], others[pair[1]], base)) for pair in pair_kinds if pair[1] in others
    }
    report = TrainingReport(records=n_records, random_pairs=sum(random_patterns.values()), blocked_pairs=len(vectors))

    prior_m = [[base.params[name][level][0] for level in LEVEL_NAMES[name]] for name in names]
    results: list[tuple[em.EMResult, set[int]]] = []
    for label, (kinds, fixed_names) in SESSIONS.items():
        patterns = Counter(v for pair, v in vectors.items() if pair_kinds[pair] & kinds)
        fixed = {names.index(n) for n in fixed_names}
        if sum(patterns.values()) < 50:
            report.sessions[label] = {"pairs": sum(patterns.values()), "used": False}
            continue
        result = em.run_em(patterns, prior_m, u, 0.05, fixed=fixed)
        usable = result.converged and 1e-5 < result.lambda_ < 0.99
        report.sessions[label] = {"pairs": sum(patterns.values()), "lambda": round(result.lambda_, 5),
                                  "iterations": result.iterations, "converged": result.converged, "used": usable}
        if usable:
            results.append((result, fixed))
    m = em.combine_sessions(results, prior_m) if results else prior_m

    say("prior")
    all_patterns = Counter(vectors.values())
    overall = em.run_em(all_patterns, m, u, 0.05, max_iterations=1) if all_patterns else None
    matched_pairs = overall.lambda_ * sum(all_patterns.values()) if overall else 0.0
    # One identity = the record itself plus the records EM judges to be of the same identity.
    links = 1.0 + matched_pairs / max(len(sample), 1)
    report.links_per_identity = round(min(max(links, 1.5), 10.0), 3)

    u = unestimated_capped(m, u, level_counts)
    params = {name: {level: (m[c][i], u[c][i]) for i, level in enumerate(LEVEL_NAMES[name])}
              for c, name in enumerate(names)}
    model = Model(params=params, links_per_identity=report.links_per_identity, n_records=max(n_records, 1),
                  tf_floor=base.tf_floor, trained=True,
                  info={"sessions": report.sessions, "random_pairs": report.random_pairs,
                        "blocked_pairs": report.blocked_pairs})
    row = IdentityModel(created_at=clock.now(), params=model.to_json(), n_records=n_records,
                        n_pairs=report.blocked_pairs)
    session.add(row)
    session.flush()
    report.model_id = row.id
    forget_model()
    return report
