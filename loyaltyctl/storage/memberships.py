"""Paid membership terms (money, not points: they live beside the ledger, not in it)."""

import time
from collections.abc import Sequence

from loyaltyctl.storage.db import Store, in_chunks

from loyaltyctl.core.membership import Term

_TERM_COLUMNS = "paid_at, fee, term, valid_from, valid_until"


def insert_term(db: Store, program_id: int, member: int, term: Term, key: str | None) -> None:
    db.execute(
        f"""INSERT INTO memberships (program_id, member, {_TERM_COLUMNS}, key, recorded_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [program_id, member, term.paid_at, term.fee, term.term, term.valid_from, term.valid_until, key, int(time.time())],
    )


def fetch_terms(db: Store, members: Sequence[int]) -> dict[int, list[Term]]:
    """Every term each member paid for, oldest first."""
    found: dict[int, list[Term]] = {member: [] for member in members}
    for chunk, marks in in_chunks(members):
        rows = db.execute(
            f"""SELECT member, {_TERM_COLUMNS} FROM memberships
                WHERE member IN ({marks}) ORDER BY member, valid_from""",
            chunk,
        )
        for member, *term in rows:
            found[member].append(Term(*term))
    return found


def fetch_term_by_key(db: Store, program_id: int, key: str) -> tuple[int, Term] | None:
    row = db.execute(f"SELECT member, {_TERM_COLUMNS} FROM memberships WHERE program_id = ? AND key = ?",
                     [program_id, key]).fetchone()
    return (row[0], Term(*row[1:])) if row else None
