"""The tamper-evident hash chain over a program's ledger entries."""

import hashlib

GENESIS = b"\x00" * 32


def entry_digest(previous: bytes, fields: tuple) -> bytes:
    """SHA-256 over the previous entry's digest and this entry's canonical fields.

    Fields are joined with a unit separator; None is written as an empty field
    marked apart from the empty string, so no two entries share a preimage.
    """
    canonical = "\x1f".join("\x00" if value is None else str(value) for value in fields)
    return hashlib.sha256(previous + canonical.encode()).digest()
