"""ombud.audit.merkle against the RFC 6962 vectors, and properties over any tree size and index."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ombud.audit import merkle

VECTORS = Path(__file__).parent / "data" / "rfc6962"
LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]


def _b(text):
    return base64.b64decode(text)


def _cases(kind):
    files = sorted((VECTORS / kind).rglob("*.json"))
    assert files, f"no {kind} vectors found"
    return [pytest.param(json.loads(f.read_text()), id=str(f.relative_to(VECTORS / kind))) for f in files]


@pytest.mark.parametrize("case", _cases("inclusion"))
def test_inclusion_vectors(case):
    proof = [_b(p) for p in case["proof"] or []]
    ok = merkle.verify_inclusion(_b(case["leafHash"]), case["leafIdx"], case["treeSize"], proof, _b(case["root"]))
    assert ok is (not case["wantErr"]), case["desc"]


@pytest.mark.parametrize("case", _cases("consistency"))
def test_consistency_vectors(case):
    proof = [_b(p) for p in case["proof"] or []]
    ok = merkle.verify_consistency(case["size1"], case["size2"], proof, _b(case["root1"]), _b(case["root2"]))
    assert ok is (not case["wantErr"]), case["desc"]


def test_the_eight_leaf_tree_has_the_published_root():
    hashes = [merkle.leaf_hash(d) for d in LEAVES]
    assert merkle.root(hashes).hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert merkle.root([]) == hashlib.sha256(b"").digest()
    assert merkle.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()


def test_generated_proofs_equal_the_vectors():
    hashes = [merkle.leaf_hash(d) for d in LEAVES]
    store = _store(hashes)
    for f in (VECTORS / "inclusion").glob("[0-9]/happy-path.json"):
        case = json.loads(f.read_text())
        proof = merkle.inclusion_proof(case["leafIdx"], case["treeSize"], store.get)
        assert [base64.b64encode(p).decode() for p in proof] == (case["proof"] or [])
    for f in (VECTORS / "consistency").glob("[0-9]/happy-path.json"):
        case = json.loads(f.read_text())
        proof = merkle.consistency_proof(case["size1"], case["size2"], store.get)
        assert [base64.b64encode(p).decode() for p in proof] == (case["proof"] or [])


# --- a reference implementation straight from RFC 9162's recursive definitions -------------------------------


def _mth(d):
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = 1 << ((len(d) - 1).bit_length() - 1)
    return merkle.node_hash(_mth(d[:k]), _mth(d[k:]))


def _path(m, d):
    if len(d) == 1:
        return []
    k = 1 << ((len(d) - 1).bit_length() - 1)
    if m < k:
        return [*_path(m, d[:k]), _mth(d[k:])]
    return [*_path(m - k, d[k:]), _mth(d[:k])]


def _subproof(m, d, whole):
    if m == len(d):
        return [] if whole else [_mth(d)]
    k = 1 << ((len(d) - 1).bit_length() - 1)
    if m <= k:
        return [*_subproof(m, d[:k], whole), _mth(d[k:])]
    return [*_subproof(m - k, d[k:], False), _mth(d[:k])]


class _Store:
    """Complete-subtree hashes kept the way the database keeps them, built by Frontier.append."""

    def __init__(self, leaves):
        self.nodes = {}
        frontier = merkle.Frontier()
        for i, h in enumerate(leaves):
            self.nodes[(0, i)] = h
            done = []
            frontier.append(h, done)
            for level, idx, node in done:
                self.nodes[(level, idx)] = node
        self.frontier = frontier

    def get(self, ids):
        return [self.nodes[i] for i in ids]


def _store(leaves):
    return _Store(leaves)


def _leaves(n):
    return [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.data())
def test_proofs_from_the_store_match_the_rfc_and_verify(size, data):
    leaves = _leaves(size)
    store = _store(leaves)
    root = merkle.root(leaves)
    assert root == _mth(leaves) == store.frontier.root() == merkle.root_from_nodes(size, store.get)
    index = data.draw(st.integers(0, size - 1))
    proof = merkle.inclusion_proof(index, size, store.get)
    assert proof == _path(index, leaves)
    assert merkle.verify_inclusion(leaves[index], index, size, proof, root)
    first = data.draw(st.integers(1, size))
    cproof = merkle.consistency_proof(first, size, store.get)
    assert cproof == (_subproof(first, leaves, True) if first < size else [])
    assert merkle.verify_consistency(first, size, cproof, merkle.root(leaves[:first]), root)


def _flip(proof, i, bit):
    changed = bytearray(proof[i])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:i], bytes(changed), *proof[i + 1 :]]


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 200), st.data())
def test_any_altered_inclusion_proof_is_rejected(size, data):
    leaves = _leaves(size)
    root = merkle.root(leaves)
    index = data.draw(st.integers(0, size - 1))
    proof = _path(index, leaves)
    leaf = leaves[index]
    how = data.draw(st.sampled_from(["bit", "index", "size", "root", "leaf", "drop", "extra", "swap"]))
    if how == "bit":
        i = data.draw(st.integers(0, len(proof) - 1))
        args = (leaf, index, size, _flip(proof, i, data.draw(st.integers(0, 255))), root)
    elif how == "index":
        other = data.draw(st.integers(0, size - 1).filter(lambda j: j != index))
        args = (leaf, other, size, proof, root)
    elif how == "size":
        other = data.draw(st.integers(1, 2 * size).filter(lambda n: n != size))
        # Sizes whose paths have the same shape are indistinguishable from hashes alone (RFC 9162).
        assume(other <= index or len(_path(index, _leaves(other))) != len(proof))
        args = (leaf, index, other, proof, root)
    elif how == "root":
        args = (leaf, index, size, proof, _flip([root], 0, data.draw(st.integers(0, 255)))[0])
    elif how == "leaf":
        args = (_flip([leaf], 0, data.draw(st.integers(0, 255)))[0], index, size, proof, root)
    elif how == "drop":
        args = (leaf, index, size, proof[:-1], root)
    elif how == "extra":
        args = (leaf, index, size, [*proof, leaves[0]], root)
    else:
        assume(len(proof) >= 2 and proof[0] != proof[1])
        args = (leaf, index, size, [proof[1], proof[0], *proof[2:]], root)
    assert not merkle.verify_inclusion(*args)


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 200), st.data())
def test_any_altered_consistency_proof_is_rejected(size2, data):
    leaves = _leaves(size2)
    size1 = data.draw(st.integers(1, size2 - 1))
    root1, root2 = merkle.root(leaves[:size1]), merkle.root(leaves)
    proof = _subproof(size1, leaves, True)
    assert merkle.verify_consistency(size1, size2, proof, root1, root2)
    how = data.draw(st.sampled_from(["bit", "size1", "size2", "root1", "root2", "drop", "extra"]))
    if how == "bit":
        i = data.draw(st.integers(0, len(proof) - 1))
        args = (size1, size2, _flip(proof, i, data.draw(st.integers(0, 255))), root1, root2)
    elif how == "size1":
        other = data.draw(st.integers(1, size2).filter(lambda n: n != size1))
        assume(merkle.root(leaves[:other]) != root1)
        args = (other, size2, proof, root1, root2)
    elif how == "size2":
        other = data.draw(st.integers(size1, 2 * size2).filter(lambda n: n != size2))
        # Sizes whose proofs have the same shape are indistinguishable from hashes alone (RFC 9162).
        assume(len(_subproof(size1, _leaves(other), True)) != len(proof))
        args = (size1, other, proof, root1, root2)
    elif how == "root1":
        args = (size1, size2, proof, _flip([root1], 0, data.draw(st.integers(0, 255)))[0], root2)
    elif how == "root2":
        args = (size1, size2, proof, root1, _flip([root2], 0, data.draw(st.integers(0, 255)))[0])
    elif how == "drop":
        args = (size1, size2, proof[:-1], root1, root2)
    else:
        args = (size1, size2, [*proof, leaves[0]], root1, root2)
    assert not merkle.verify_consistency(*args)


@given(
    st.binary(max_size=40), st.integers(-5, 2**64), st.integers(-5, 2**64),
    st.lists(st.binary(max_size=40), max_size=70), st.binary(max_size=40),
)
def test_verifiers_never_raise_on_garbage(leaf, index, size, proof, root):
    merkle.verify_inclusion(leaf, index, size, proof, root)
    merkle.verify_consistency(index, size, proof, leaf, root)


def test_verifiers_return_false_for_non_bytes():
    assert merkle.verify_inclusion("x" * 32, 0, 1, [], "x" * 32) is False  # type: ignore[arg-type]
    assert merkle.verify_consistency(1, 2, [None], b"x" * 32, b"y" * 32) is False  # type: ignore[list-item]


@given(st.integers(0, 2**20), st.integers(0, 2**20))
def test_range_nodes_cover_a_range_with_aligned_complete_subtrees(a, b):
    begin, end = min(a, b), max(a, b)
    nodes = merkle.range_nodes(begin, end)
    position = begin
    for level, idx in nodes:
        assert idx << level == position
        position += 1 << level
    assert position == end
    assert len(nodes) <= 2 * max(end, 1).bit_length()


def test_frontier_round_trips_and_refuses_the_wrong_shape():
    store = _store(_leaves(13))
    again = merkle.Frontier.from_bytes(13, store.frontier.to_bytes())
    assert again.hashes == store.frontier.hashes and again.root() == merkle.root(_leaves(13))
    with pytest.raises(ValueError):
        merkle.Frontier(13, store.frontier.hashes[:2])


def test_proof_requests_outside_the_tree_are_refused():
    store = _store(_leaves(4))
    with pytest.raises(ValueError):
        merkle.inclusion_proof(4, 4, store.get)
    with pytest.raises(ValueError):
        merkle.consistency_proof(0, 4, store.get)
