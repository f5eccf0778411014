"""RFC 6962 / RFC 9162 Merkle trees: hashing, roots, proofs and their verification; pure, no database.

A tree over leaves D[0:n] is addressed by node ids (level, index): node (L, i) is the root of the complete
subtree over leaves [i * 2**L, (i + 1) * 2**L). Every proof element is the hash of a range D[a:b] that splits
into at most log2(n) complete subtrees, so a store that keeps complete-subtree hashes serves any proof with
O(log n) reads.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Final

HASH_SIZE: Final = 32
LEAF_PREFIX: Final = b"\x00"
NODE_PREFIX: Final = b"\x01"
#: The root of the empty tree: SHA-256 of no bytes.
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()

NodeId = tuple[int, int]
"""(level, index): the complete subtree over leaves [index * 2**level, (index + 1) * 2**level)."""

GetNodes = Callable[[Sequence[NodeId]], Sequence[bytes]]
"""Fetches the hashes of complete subtrees, in the order asked (one round trip for the lot)."""

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """RFC 6962 leaf hash: SHA-256(0x00 || data)."""
    return _sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 6962 interior node hash: SHA-256(0x01 || left || right)."""
    return _sha256(NODE_PREFIX + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (RFC 9162 section 2.1.1) of a list of leaf hashes."""
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while len(level) > 1:
        # Pairing left to right and promoting a lone last node gives the same tree as RFC 9162's
        # "split at the largest power of two smaller than n".
        nxt = [_sha256(NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range given as its complete subtrees left to right (descending sizes)."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = _sha256(NODE_PREFIX + h + acc).digest()
    return acc


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def range_nodes(begin: int, end: int) -> list[NodeId]:
    """The maximal complete subtrees covering leaves [begin, end), left to right."""
    nodes: list[NodeId] = []
    while begin < end:
        # The biggest aligned subtree starting at `begin` that still fits.
        level = (begin & -begin).bit_length() - 1 if begin else (end - begin).bit_length() - 1
        while begin + (1 << level) > end:
            level -= 1
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make the inclusion proof of leaf `index` in a tree of `size`, bottom up."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_of_two_below(hi - lo)
        if index < lo + k:
            path.append((lo + k, hi))
            hi = lo + k
        else:
            path.append((lo, lo + k))
            lo += k
    path.reverse()
    return path


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes make the consistency proof from size1 to size2 (RFC 9162 2.1.4.1)."""
    if not 0 < size1 <= size2:
        raise ValueError(f"no consistency proof from size {size1} to size {size2}")
    out: list[tuple[int, int]] = []
    lo, hi, m, whole = 0, size2, size1, True
    while True:
        n = hi - lo
        if m == n:
            if not whole:
                out.append((lo, hi))
            break
        k = _largest_power_of_two_below(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            m -= k
            lo += k
            whole = False
    out.reverse()
    return out


def _proof_from_ranges(ranges: Sequence[tuple[int, int]], get_nodes: GetNodes) -> list[bytes]:
    plans = [range_nodes(a, b) for a, b in ranges]
    wanted = sorted({node for plan in plans for node in plan})
    hashes = dict(zip(wanted, get_nodes(wanted), strict=True))
    return [fold([hashes[node] for node in plan]) for plan in plans]


def inclusion_proof(index: int, size: int, get_nodes: GetNodes) -> list[bytes]:
    """The inclusion proof of leaf `index` in the tree of `size` leaves, from a store of complete subtrees."""
    return _proof_from_ranges(inclusion_ranges(index, size), get_nodes)


def consistency_proof(size1: int, size2: int, get_nodes: GetNodes) -> list[bytes]:
    """The consistency proof between tree sizes size1 <= size2, from a store of complete subtrees."""
    if size1 == size2:
        return []
    return _proof_from_ranges(consistency_ranges(size1, size2), get_nodes)


def root_from_nodes(size: int, get_nodes: GetNodes) -> bytes:
    """The root of the tree of `size` leaves, from a store of complete subtrees."""
    if size == 0:
        return EMPTY_ROOT
    nodes = range_nodes(0, size)
    return fold(list(get_nodes(nodes)))


def _all_hashes(*values: bytes) -> bool:
    return all(isinstance(v, bytes | bytearray) and len(v) == HASH_SIZE for v in values)


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """True when `proof` shows the leaf at `index` is in the tree of `tree_size` with `root` (RFC 9162 2.1.3.2)."""
    try:
        if index < 0 or index >= tree_size or not _all_hashes(leaf_hash, root, *proof):
            return False
        fn, sn = index, tree_size - 1
        r = bytes(leaf_hash)
        for p in proof:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                r = _sha256(NODE_PREFIX + p + r).digest()
                if not fn & 1:
                    while not fn & 1 and fn != 0:
                        fn >>= 1
                        sn >>= 1
            else:
                r = _sha256(NODE_PREFIX + r + p).digest()
            fn >>= 1
            sn >>= 1
        return sn == 0 and r == root
    except (TypeError, ValueError):
        return False


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> bool:
    """True when `proof` shows the tree of size2 with root2 extends the tree of size1 with root1 (RFC 9162 2.1.4.2)."""
    try:
        if size1 <= 0 or size2 < size1:
            return False  # nothing is proved about an empty tree, and a log never shrinks
        if size1 == size2:
            return len(proof) == 0 and root1 == root2
        if not proof or not _all_hashes(root1, root2, *proof):
            return False
        path = list(proof)
        if size1 & (size1 - 1) == 0:  # size1 is a power of two: its root is the first node of the path
            path.insert(0, root1)
        fn, sn = size1 - 1, size2 - 1
        while fn & 1:
            fn >>= 1
            sn >>= 1
        fr = sr = path[0]
        for c in path[1:]:
            if sn == 0:
                return False
            if fn & 1 or fn == sn:
                fr = _sha256(NODE_PREFIX + c + fr).digest()
                sr = _sha256(NODE_PREFIX + c + sr).digest()
                if not fn & 1:
                    while not fn & 1 and fn != 0:
                        fn >>= 1
                        sn >>= 1
            else:
                sr = _sha256(NODE_PREFIX + sr + c).digest()
            fn >>= 1
            sn >>= 1
        return sn == 0 and fr == root1 and sr == root2
    except (TypeError, ValueError):
        return False


class Frontier:
    """The right edge of a growing tree: one hash per complete subtree of the decomposition of [0, size).

    Appending a leaf merges equal-sized subtrees and reports every interior node it completes, so a store
    can keep all complete-subtree hashes while never recomputing what it already has.
    """

    __slots__ = ("hashes", "size")

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)
        if len(self.hashes) != size.bit_count():
            raise ValueError(f"a frontier of size {size} holds {size.bit_count()} hashes, not {len(self.hashes)}")

    @classmethod
    def from_bytes(cls, size: int, blob: bytes) -> Frontier:
        """A frontier from its stored form (the hashes concatenated, largest subtree first)."""
        return cls(size, [bytes(blob[i : i + HASH_SIZE]) for i in range(0, len(blob), HASH_SIZE)])

    def to_bytes(self) -> bytes:
        """The stored form: the hashes concatenated, largest subtree first."""
        return b"".join(self.hashes)

    def append(self, leaf: bytes, completed: list[tuple[int, int, bytes]] | None = None) -> None:
        """Add a leaf hash; each interior node it completes is added to `completed` as (level, index, hash)."""
        h = leaf
        n = self.size
        level = 0
        hashes = self.hashes
        while n & 1:
            h = _sha256(NODE_PREFIX + hashes.pop() + h).digest()
            n >>= 1
            level += 1
            if completed is not None:
                completed.append((level, n, h))
        hashes.append(h)
        self.size += 1

    def root(self) -> bytes:
        """The root hash of the tree so far."""
        return fold(self.hashes) if self.hashes else EMPTY_ROOT

    def copy(self) -> Frontier:
        return Frontier(self.size, self.hashes)
