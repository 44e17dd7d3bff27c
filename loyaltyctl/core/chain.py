"""Tamper evidence: each member's entries chained by hash, and seals that chain the members' heads.

Every entry's digest covers its content and the digest of the member's
entry before it, so editing, inserting, removing or reordering entries of a
member breaks that member's chain from there on. Chains are per member, so
postings for different members never wait on one chain head. A seal (each
`db seal`, expiry run and period close) records the head of every member
whose chain grew since the last seal, and its own digest covers those heads
and the previous seal's digest: a member's chain cut back, or removed with
the member, no longer reaches a sealed head. Whoever keeps the last seal's
digest elsewhere can tell the seals themselves were not rewritten.

Ledgers written before per-member chains kept one chain per program; the
first seal of such a program records where that chain ended.
"""

from collections.abc import Iterable

GENESIS = b"\x00" * 32


def entry_digest(previous: bytes, fields: tuple) -> bytes:
    """SHA-256 over the previous entry's digest and this entry's canonical fields.

    Fields are joined with a unit separator; None is written as an empty field
    marked apart from the empty string, so no two entries share a preimage.
    """
    import hashlib  # here, not at the top: OpenSSL's start-up is a tenth of a `balance`, which hashes nothing

    canonical = "\x1f".join("\x00" if value is None else str(value) for value in fields)
    return hashlib.sha256(previous + canonical.encode()).digest()


def seal_digest(previous: bytes, program_id: int, sealed_at: int, legacy: tuple[int, bytes] | None,
                heads: Iterable[tuple[int, int, bytes]]) -> bytes:
    """A seal's digest: the previous seal's, the program, the time, the program chain it replaced (the
    first seal of an older ledger: its last entry and digest) and each (member, seq, digest) head, by member."""
    fields: list[object] = [program_id, sealed_at, *((legacy[0], legacy[1].hex()) if legacy else (None, None))]
    for member, seq, digest in sorted(heads):
        fields += (member, seq, digest.hex())
    return entry_digest(previous, tuple(fields))
