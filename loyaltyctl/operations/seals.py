"""Sealing a program's ledger: the heads of the members' chains that grew since its last seal, chained to it
(see `core.chain`). Every expiry run and period close seals; so does `db seal`."""

import time

from loyaltyctl.core.chain import GENESIS, seal_digest
from loyaltyctl.storage import programs
from loyaltyctl.storage.db import Store
from loyaltyctl.storage.ledger import compact_totals
from loyaltyctl.storage.seals import Seal, fetch_last_seal, fetch_unsealed_heads, insert_seal


def seal(db: Store, ref: programs.ProgramRef) -> Seal | None:
    """Seal the program (inside a write that holds it, after its postings are saved); the last seal, or
    None when it has none and nothing to seal. Week totals are folded into one row a week on the way."""
    compact_totals(db, ref.id)
    last = fetch_last_seal(db, ref.id)
    heads = fetch_unsealed_heads(db, ref.id)
    if not heads:
        return last
    previous, sealed_at = last.digest if last else GENESIS, int(time.time())
    new = Seal(ref.id, sealed_at, len(heads), None, None, previous,
               seal_digest(previous, ref.id, sealed_at, None, heads))
    insert_seal(db, new, heads)
    return new
