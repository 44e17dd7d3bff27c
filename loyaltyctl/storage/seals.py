"""Seals: each program's record of its members' chain heads (see `core.chain`), and what they cover."""

from collections.abc import Iterator, Sequence

from msgspec import Struct

from loyaltyctl.storage.db import Store


class Seal(Struct, frozen=True):
    program_id: int
    sealed_at: int
    members: int  # heads it records
    legacy_entry: int | None  # where the program's chain of an older ledger ended (its first seal only)
    legacy_hash: bytes | None
    previous: bytes
    digest: bytes
    id: int | None = None

    @property
    def legacy(self) -> tuple[int, bytes] | None:
        return (self.legacy_entry, self.legacy_hash) if self.legacy_entry is not None else None


_COLUMNS = "program_id, sealed_at, members, legacy_entry, legacy_hash, previous, digest"


def _seal(row: Sequence) -> Seal:
    program_id, sealed_at, members, legacy_entry, legacy_hash, previous, digest, seal_id = row
    return Seal(program_id, sealed_at, members, legacy_entry, bytes(legacy_hash) if legacy_hash else None,
                bytes(previous), bytes(digest), seal_id)


def fetch_last_seal(db: Store, program_id: int) -> Seal | None:
    row = db.execute(f"SELECT {_COLUMNS}, id FROM seals WHERE program_id = ? ORDER BY id DESC LIMIT 1",
                     [program_id]).fetchone()
    return _seal(row) if row else None


def fetch_unsealed_heads(db: Store, program_id: int) -> list[tuple[int, int, bytes]]:
    """(member, seq, digest) of each member whose chain grew since the program's last seal."""
    return [(member, seq, bytes(digest)) for member, seq, digest in db.execute(
        """SELECT m.id, m.head_seq, m.head_hash FROM members m
           WHERE m.program_id = ? AND m.head_seq > coalesce((SELECT max(s.seq) FROM seal_heads s
                                                           WHERE s.program_id = m.program_id
                                                             AND s.member = m.id), 0)
           ORDER BY m.id""", [program_id])]


def insert_seal(db: Store, seal: Seal, heads: Sequence[tuple[int, int, bytes]]) -> None:
    seal_id = db.execute(f"INSERT INTO seals ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                         [seal.program_id, seal.sealed_at, seal.members, seal.legacy_entry, seal.legacy_hash,
                          seal.previous, seal.digest]).fetchone()[0]
    db.insert("seal_heads", ("seal", "member", "seq", "hash", "program_id"),
              [(seal_id, *head, seal.program_id) for head in heads])


def stream_seals(db: Store) -> Iterator[tuple[Seal, list[tuple[int, int, bytes]]]]:
    """Every seal, by program and in order, with the heads it records."""
    seals = [_seal(row) for row in db.execute(f"SELECT {_COLUMNS}, id FROM seals ORDER BY program_id, id")]
    for seal in seals:
        heads = [(member, seq, bytes(digest)) for member, seq, digest in db.execute(
            "SELECT member, seq, hash FROM seal_heads WHERE seal = ? ORDER BY member", [seal.id])]
        yield seal, heads
