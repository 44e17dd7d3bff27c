"""Vouchers and their uses: written once, read with what happened to them since."""

import time
from decimal import Decimal

from loyaltyctl.core.vouchers import Voucher
from loyaltyctl.storage.db import Store
from loyaltyctl.storage.lot_life import unexpired_before



def voucher_columns(program: str = "v.program_id") -> str:
    """A voucher's columns (of VOUCHERS_FROM); `program` as for `members.member_columns`."""
    return f"""v.code, v.member, m.member_id, v.reward, v.entry, v.points, v.value, v.issued_at, v.expires_at,
              v.returns_points, v.percent, u.used_at, u.order_ref, u.value_used,
              (SELECT min(r.effective_at) FROM entries r
               WHERE r.program_id = {program} AND r.ref = v.entry AND r.kind = 'reverse')"""


VOUCHER_COLUMNS = voucher_columns()
VOUCHERS_FROM = ("FROM vouchers v JOIN members m ON m.program_id = v.program_id AND m.id = v.member"
                 " LEFT JOIN voucher_uses u ON u.program_id = v.program_id AND u.voucher = v.id")


def voucher_from_row(row: tuple) -> Voucher:
    return Voucher(*row[:9], bool(row[9]), None if row[10] is None else Decimal(row[10]), *row[11:])


def insert_voucher(db: Store, program_id: int, voucher: Voucher) -> None:
    """A voucher, its code claimed in the whole database first (`voucher_codes`)."""
    db.insert("voucher_codes", ("code", "program_id"), [(voucher.code, program_id)])
    db.insert("vouchers", ("program_id", "code", "entry", "member", "reward", "points", "value", "issued_at",
                           "expires_at", "returns_points", "percent"),
              [(program_id, voucher.code, voucher.entry, voucher.member, voucher.reward, voucher.points, voucher.value,
                voucher.issued_at, voucher.expires_at, int(voucher.returns_points),
                None if voucher.percent is None else str(voucher.percent))])


def fetch_voucher(db: Store, code: str) -> tuple[str, Voucher] | None:
    """(program code, voucher) of a code in any program, or None."""
    row = db.execute(f"SELECT p.code, {VOUCHER_COLUMNS} {VOUCHERS_FROM} JOIN programs p ON p.id = v.program_id WHERE v.code = ?",
                     [code]).fetchone()
    return (row[0], voucher_from_row(row[1:])) if row else None


def fetch_voucher_of_entry(db: Store, entry: int) -> Voucher | None:
    row = db.execute(f"SELECT {VOUCHER_COLUMNS} {VOUCHERS_FROM} WHERE v.entry = ?", [entry]).fetchone()
    return voucher_from_row(row) if row else None


def fetch_vouchers(db: Store, program_id: int, issued_before: int | None = None) -> list[Voucher]:
    """The program's vouchers (issued before an instant, if given), oldest first."""
    rows = db.execute(f"SELECT {VOUCHER_COLUMNS} {VOUCHERS_FROM} WHERE v.program_id = ? AND v.issued_at < ? ORDER BY v.issued_at, v.code",
                      [program_id, issued_before if issued_before is not None else 2**62])
    return [voucher_from_row(row) for row in rows]


def returnable_points(db: Store, voucher: Voucher) -> int:
    """What its redemption took from lots that outlive the voucher: what giving its points back can return."""
    return db.execute(
        f"""SELECT coalesce(sum(c.points), 0) FROM consumptions c JOIN lots l ON l.program_id = c.program_id AND l.id = c.lot
           WHERE c.debit = ? AND {unexpired_before('l', '? + 1')}""",
        [voucher.entry, voucher.expires_at]).fetchone()[0]


def insert_use(db: Store, code: str, used_at: int, order: str | None, value_used: int) -> None:
    """A voucher's use; its member's ledger revision moves on (a reversal of its redemption decided before
    the use must not be written)."""
    db.execute("INSERT INTO voucher_uses (voucher, used_at, order_ref, value_used, recorded_at, program_id) "
               "SELECT id, ?, ?, ?, ?, program_id FROM vouchers WHERE code = ?",
               [used_at, order, value_used, int(time.time()), code])
    db.execute("UPDATE members SET revision = revision + 1"
               " WHERE (program_id, id) = (SELECT program_id, member FROM vouchers WHERE code = ?)",
               [code])
