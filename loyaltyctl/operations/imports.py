"""`txn import`: a transactions CSV into the ledger, in one transaction, streaming.

Rows are read in chunks: one query per chunk finds txn ids already imported;
purchases of members who owe nothing are buffered and written with
executemany; refunds, and members with debt, take the exact one-by-one path
(after a flush, so they see every row before them). Each purchase earns at
the member's tier and membership at its own instant (`MemberStates`, kept
current as rows import), and may pay a pending referral bonus.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from sqlite_utils import Database

from loyaltyctl.core.dates import DAY, local_date
from loyaltyctl.core.posting import Book, clawback_points, contribution
from loyaltyctl.core.members import unused_referral_code
from loyaltyctl.core.rules import EarnRules, Purchase, refund_qualifying
from loyaltyctl.errors import BadInput
from loyaltyctl.formats.csv_input import CsvRow, RejectWriter, default_reject_path, read_csv, run_summary_json
from loyaltyctl.formats.txn_csv import TXN_FIELDS, TXN_REQUIRED, TxnRow, parse_txn
from loyaltyctl.model import Member
from loyaltyctl.storage import ledger as ledger_store
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs
from loyaltyctl.storage import transactions as txn_store
from loyaltyctl.operations.bonuses import Referrals, post_signup_bonuses
from loyaltyctl.operations.member_state import MemberStates
from loyaltyctl.storage.db import Discard, set_cache_size, write
from loyaltyctl.money import format_money
from loyaltyctl.operations.posting import Poster, posting
from loyaltyctl.storage.ledger import NewEntry

CHUNK_ROWS = 2000
IMPORT_CACHE_KIB = 32768  # a larger page cache makes index inserts for big files much cheaper


@dataclass
class ImportSummary:
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    points_earned: int = 0
    points_clawed_back: int = 0
    earned_nothing: int = 0
    without_membership: int = 0  # of those that earned nothing: no valid paid membership
    bonus_points: int = 0  # referral bonuses, and signup bonuses of --create-members
    members_created: int = 0
    reject_file: Path | None = None
    dry_run: bool = False
    first_rejects: list[tuple[int, str]] = field(default_factory=list)

    def as_json(self) -> dict:
        return run_summary_json(self)


class _Importer:
    def __init__(self, db: Database, ref: programs.ProgramRef, poster: Poster, create_members: bool,
                 summary: ImportSummary, rejects: RejectWriter):
        self.db, self.ref, self.poster = db, ref, poster
        self.create_members = create_members
        self.summary, self.rejects = summary, rejects
        self.versions = poster.versions
        self.rules = {id(p): EarnRules(p) for p in self.versions.all()}
        self.states = MemberStates(db, ref, self.versions)
        self.referrals = Referrals(db, ref.id)
        self.by_id, self.by_card = member_store.fetch_member_index(db, ref.id)
        self.txn_rows: list[tuple] = []
        self.buffered_members: set[int] = set()  # members and txn ids with rows not yet written
        self.buffered_txns: set[str] = set()
        self.referral_codes: set[str] | None = None  # loaded when --create-members first needs it

    def flush(self) -> None:
        self.poster.chain.flush()
        txn_store.insert_transactions(self.db, self.txn_rows)
        self.txn_rows.clear()
        self.buffered_members.clear()
        self.buffered_txns.clear()

    def chunk(self, rows: list[CsvRow]) -> None:
        parsed: list[tuple[CsvRow, TxnRow | str]] = []
        for row in rows:
            if row.problem:
                parsed.append((row, row.problem))
                continue
            try:
                parsed.append((row, parse_txn(row.fields, self.ref.currency, self.ref.timezone)))
            except ValueError as error:
                parsed.append((row, str(error)))
        txns = [t for _, t in parsed if isinstance(t, TxnRow)]
        known = txn_store.fetch_known_txn_ids(self.db, self.ref.id, [t.txn_id for t in txns])
        members = [m for t in txns if (m := self.find(t)) is not None]
        self.states.load(members)
        self.poster.preload(members)
        for row, txn in parsed:
            self.summary.rows += 1
            if isinstance(txn, str):
                self.rejects.add(row.line, txn, row.raw)
            elif txn.txn_id in known:
                self.summary.duplicates += 1
            elif (closed := self.poster.closed) and closed.covers(txn.occurred_at):
                self.rejects.add(row.line, closed.refusal(txn.occurred_at, "a transaction"), row.raw)
            else:
                reason = self.refund(txn) if txn.amount < 0 else self.purchase(txn)
                if reason:
                    self.rejects.add(row.line, reason, row.raw)
                else:
                    known.add(txn.txn_id)
                    self.summary.imported += 1

    def find(self, txn: TxnRow) -> int | None:
        return self.by_id.get(txn.member_id) or self.by_card.get(txn.member_id)

    def member(self, txn: TxnRow) -> int | None:
        """The row's member, added first with --create-members (only once the row is known to import)."""
        found = self.find(txn)
        if found is None and self.create_members:
            if self.referral_codes is None:
                self.referral_codes = member_store.fetch_referral_codes(self.db, self.ref.id)
            code = unused_referral_code(self.ref.code, txn.member_id, self.referral_codes)
            self.referral_codes.add(code)
            joined = local_date(txn.occurred_at, self.ref.timezone)
            member = Member(self.ref.code, txn.member_id, joined=joined, referral_code=code)
            member_store.save_members(self.db, self.ref.id, (member,), ())
            found = self.by_id[txn.member_id] = member_store.find_member(self.db, self.ref.id, self.ref.code, txn.member_id)[0]
            self.poster.joined(found)
            self.summary.members_created += 1
            self.summary.bonus_points += post_signup_bonuses(self.poster, self.versions, [(found, member)])
        return found

    def purchase(self, txn: TxnRow) -> str | None:
        day = local_date(txn.occurred_at, self.ref.timezone)
        program = self.versions.on(day)
        rules = self.rules[id(program)]
        if txn.partner and not rules.knows_partner(txn.partner):
            return f"unknown partner {txn.partner!r}"
        member = self.member(txn)
        if member is None:
            return f"unknown member {txn.member_id!r} (add them first, or import with --create-members)"
        purchase = Purchase(txn.amount, day, txn.category, txn.partner)
        state = self.states.state(member, txn.occurred_at, program)
        earning = rules.earn_points(purchase, state)
        entry_id = None
        if earning.points:
            entry_id = self.poster.credit(NewEntry(member, "earn", earning.points, txn.occurred_at,
                                                   reason=txn.description or txn.store or "purchase",
                                                   available_at=txn.occurred_at + program.earn.pending_days * DAY))
            self.summary.points_earned += earning.points
        else:
            self.summary.earned_nothing += 1
            self.summary.without_membership += not state.may_earn
        qualifying = rules.qualifying_spend(purchase)
        self.states.record_activity(member, txn.occurred_at, qualifying, earning.points)
        if state.may_earn:  # a purchase that could not earn (no valid membership) cannot qualify a referral
            self.summary.bonus_points += self.referrals.on_purchase(self.poster, program, member, txn.amount,
                                                                    txn.occurred_at)
        self.txn_rows.append((self.ref.id, txn.txn_id, member, txn.occurred_at, txn.amount, txn.category, txn.store,
                              txn.partner, None, txn.description, earning.points, entry_id, earning.no_points_because,
                              qualifying))
        self.buffered_members.add(member)
        self.buffered_txns.add(txn.txn_id)
        return None

    def refund(self, txn: TxnRow) -> str | None:
        member = self.find(txn)  # a refund never adds a member: its purchase must be there
        if member is None:
            return f"unknown member {txn.member_id!r}"
        if txn.refund_of in self.buffered_txns or member in self.buffered_members:
            self.flush()  # the clawback must see the original and every lot of the member
        original = txn_store.fetch_original(self.db, self.ref.id, txn.refund_of)
        if original is None:
            return f"refund_of {txn.refund_of!r} is not an imported transaction"
        if original.is_refund:
            return f"refund_of {txn.refund_of!r} is itself a refund"
        if member != original.member:
            return f"refund_of {txn.refund_of!r} belongs to another member"
        if txn.partner and txn.partner != (original.partner or ""):
            return f"refund_of {txn.refund_of!r} was not a purchase at partner {txn.partner!r}"
        if txn.occurred_at < original.occurred_at:
            return f"refund_of {txn.refund_of!r} is dated after this refund"
        if original.refunded - txn.amount > original.amount:
            currency = self.ref.currency
            return (f"refund {format_money(-txn.amount, currency)} exceeds what is left of {txn.refund_of}: "
                    f"{format_money(original.amount - original.refunded, currency)}")
        qualifying = refund_qualifying(txn.amount, original.qualifying)
        # Written before its clawback is posted: a replay that posting causes must see this refund too.
        row = txn_store.insert_transaction(self.db, (
            self.ref.id, txn.txn_id, member, txn.occurred_at, txn.amount, txn.category, txn.store,
            original.partner, original.id, txn.description, 0, None, None, qualifying))
        entry_id, points = self.clawback(txn, original) or (None, 0)
        if entry_id is not None:
            txn_store.add_clawed_back(self.db, [(row, -points, entry_id)])
        self.poster.saw(member, txn.occurred_at)
        self.summary.points_clawed_back += points
        self.states.record_activity(member, txn.occurred_at, qualifying, -points)
        self.buffered_txns.update((txn.txn_id, txn.refund_of))  # a second refund of it must see this one
        return None

    def clawback(self, txn: TxnRow, original: txn_store.Original) -> tuple[int, int] | None:
        """Post the refund's clawback, if it takes anything back: (entry id, points)."""
        if original.entry is None or ledger_store.fetch_reversal(self.db, original.entry) is not None:
            return None  # it earned nothing, or its earn entry was reversed: nothing more to take back
        clawed = ledger_store.fetch_clawed_back(self.db, original.entry)
        decided: list[NewEntry] = []

        def take_back(book: Book) -> list[NewEntry]:
            still = contribution(book, original.entry, original.points, clawed, txn.occurred_at)
            points = clawback_points(original.points, original.amount, original.refunded, -txn.amount, clawed, still)
            if points:
                decided.append(NewEntry(original.member, "clawback", -points, txn.occurred_at,
                                        reason=f"refund of {txn.refund_of}", ref=original.entry))
            return decided

        ids = self.poster.post([original.member], txn.occurred_at, take_back, about=[original.entry])
        return (ids[0], -decided[0].points) if ids else None


def import_transactions(
    db: Database,
    program: str,
    path: Path,
    *,
    reject_file: Path | None = None,
    mapping: Mapping[str, str] | None = None,
    delimiter: str = ",",
    dry_run: bool = False,
    strict: bool = False,
    create_members: bool = False,
    on_bytes: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import a transactions CSV: all of it or (after a crash) none of it.

    Rejected rows go to the reject file and the rest still import, unless
    `strict`, which refuses the whole file on any bad row (BadInput, exit 2).
    """
    ref = programs.fetch_program_ref(db, program)
    set_cache_size(db, IMPORT_CACHE_KIB)
    header, rows = read_csv(path, TXN_FIELDS, TXN_REQUIRED, mapping, delimiter, on_bytes=on_bytes)
    summary = ImportSummary(dry_run=dry_run)
    rejects = RejectWriter(reject_file or default_reject_path(path), header)
    try:
        with write(db), posting(db, ref) as poster:
            importer = _Importer(db, ref, poster, create_members, summary, rejects)
            while chunk := list(islice(rows, CHUNK_ROWS)):
                importer.chunk(chunk)
            importer.flush()
            if dry_run or (strict and rejects.count):
                raise Discard
    except BaseException:
        rejects.discard()
        raise
    summary.rejected, summary.first_rejects = rejects.count, rejects.first
    summary.reject_file = rejects.finish(keep=not dry_run and not strict)
    if strict and summary.rejected:
        line, reason = summary.first_rejects[0]
        raise BadInput(f"{path}:{line}: {reason} ({summary.rejected} bad rows; --strict imported nothing)")
    return summary
