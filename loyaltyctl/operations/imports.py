"""`txn import`: a sales export into the ledger, in one transaction, streaming.

The file is read through a source profile (`formats.sources`) into baskets
(`formats.sales`), in chunks: one query per chunk finds txn ids already imported;
purchases of members who owe nothing are buffered and written with
executemany; refunds, and members with debt, take the exact one-by-one path
(after a flush, so they see every row before them). Each purchase earns at
the member's tier and membership at its own instant (`MemberStates`, kept
current as rows import), and may pay a pending referral bonus. A chunk's
rejected rows are compared with those earlier imports rejected (by a digest of
their cells and how they are read): a row rejected before is counted, not
reported again.
"""

from collections.abc import Callable, Mapping
from datetime import date
from itertools import islice
from pathlib import Path

from msgspec import Struct, field
from msgspec.structs import replace

from loyaltyctl.storage.db import Store

from loyaltyctl.core.dates import DAY, local_date
from loyaltyctl.core.posting import Book, clawback_points, contribution
from loyaltyctl import clock
from loyaltyctl.core.members import is_email, parse_member, reserved_refusal, unused_referral_code
from loyaltyctl.core.rules import EarnRules, Line, Purchase, refund_qualifying
from loyaltyctl.formats.csv_input import CsvRow, RejectWriter
from loyaltyctl.formats.sales import Sale, SaleReader, TxnRow, open_export
from loyaltyctl.formats.sources import SourceProfile, load_source
from loyaltyctl.operations.csv_run import CsvSummary, run_csv, sort_rejects
from loyaltyctl.model import Member
from loyaltyctl.storage import ledger as ledger_store
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs
from loyaltyctl.storage import transactions as txn_store
from loyaltyctl.operations.bonuses import FirstPurchases, Referrals, post_signup_bonuses
from loyaltyctl.operations.member_state import MemberStates
from loyaltyctl.money import format_money
from loyaltyctl.operations.posting import Poster, posting
from loyaltyctl.storage.ledger import NewEntry

CHUNK_ROWS = 2000
HELD = "held"  # a refund whose purchase is not imported yet: tried again at the end of the file
IMPORT_CACHE_KIB = 32768  # a larger page cache makes index inserts for big files much cheaper


class ImportSummary(CsvSummary):
    imported: int = 0  # file rows imported (a basket's lines each count)
    duplicates: int = 0
    rejected_before: int = 0  # rows an earlier import into the program rejected, with the same content
    skipped: int = 0  # rows that are not loyalty purchases (see skipped_reasons)
    transactions: int = 0  # baskets imported
    points_earned: int = 0
    points_clawed_back: int = 0
    earned_nothing: int = 0
    without_membership: int = 0  # of those that earned nothing: no valid paid membership
    limited: int = 0  # purchases that earned less (or nothing) for the member's daily or monthly limit
    bonus_points: int = 0  # referral and first-purchase bonuses, and signup bonuses of --create-members
    members_created: int = 0
    non_member_sales: int = 0  # skipped walk-in baskets recorded as non-member sales (for `report analytics`)
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    unread_columns: list[str] = field(default_factory=list)  # optional profile columns the file lacks

    def as_json(self) -> dict:
        data = super().as_json()
        del data["unread_columns"]  # a warning for profiles of one's own (the CLI's), not a figure
        return data

    @property
    def nothing_new(self) -> bool:
        """The run imported, posted and newly rejected nothing (a cron re-run of a file seen before)."""
        return not (self.imported or self.rejected or self.points_clawed_back or self.members_created
                    or self.non_member_sales)


class _Created(Struct):
    """A member this import added: dated by their earliest purchase in the file, whatever its order."""

    member: Member
    joined: date


class _Importer:
    def __init__(self, db: Store, ref: programs.ProgramRef, poster: Poster, source: SourceProfile,
                 create_members: bool, summary: ImportSummary, rejects: RejectWriter,
                 digest: Callable[[CsvRow], str] | None):
        self.db, self.ref, self.poster = db, ref, poster
        self.member_key = source.member_key
        self.source = source.name
        self.create_members = create_members
        self.summary, self.rejects = summary, rejects
        self.versions = poster.versions
        self.rules = {id(p): EarnRules(p) for p in self.versions.all()}
        self.states = MemberStates(db, ref, self.versions)
        self.referrals = Referrals(db, ref.id)
        self.first_purchases = FirstPurchases(db, ref.id)
        self.members = member_store.fetch_member_index(db, ref.id)
        self.created: dict[int, _Created] = {}
        self.txn_rows: list[tuple] = []
        self.walk_in_rows: list[tuple] = []
        self.walk_ins_known: set[str] = set()  # the chunk's walk-in txn ids recorded already, or just now
        self.buffered_members: set[int] = set()  # members and txn ids with rows not yet written
        self.buffered_txns: set[str] = set()
        self.referral_codes: set[str] | None = None  # loaded when --create-members first needs it
        self.held: list[Sale] | None = []  # refunds waiting for the end of the file (None once there)
        self.digest = digest  # a row's fingerprint (None: every bad row is reported, rejected before or not)
        self.rejecting: list[tuple[Sale, str]] = []  # the chunk's rejected sales, sorted out at its end
        self.rejected_now: set[str] = set()  # digests of the rows this run rejected (and remembered)

    def flush(self) -> None:
        self.poster.write_rows(forget=True)
        txn_store.insert_transactions(self.db, self.txn_rows)
        txn_store.insert_walk_ins(self.db, self.walk_in_rows)
        self.txn_rows.clear()
        self.walk_in_rows.clear()
        self.buffered_members.clear()
        self.buffered_txns.clear()

    def chunk(self, sales: list[Sale]) -> None:
        self.summary.rows += sum(len(sale.rows) for sale in sales)
        self.take(sales)
        self.flush()  # what the chunk decided leaves memory: flat in file size, refunds or none
        self.sort_rejects()

    def finish(self) -> None:
        """Refunds whose purchase came later in the file (newest-first exports), then the members added."""
        self.flush()
        held, self.held = self.held, None
        if held:
            self.take(held)
            self.flush()
            self.sort_rejects()
        self.welcome()

    def take(self, sales: list[Sale]) -> None:
        txns = [sale.txn for sale in sales if sale.txn and not sale.skipped]
        known = txn_store.fetch_known_txn_ids(self.db, self.ref.id, [t.txn_id for t in txns])
        self.walk_ins_known = txn_store.fetch_known_walk_ins(
            self.db, self.ref.id, [sale.txn.txn_id for sale in sales if sale.txn and sale.skipped])
        members = [m for t in txns if (m := self.find(t)) is not None]
        self.states.load(members)
        self.poster.preload(members)
        summary = self.summary
        for sale in sales:
            txn = sale.txn
            if sale.skipped:
                summary.skipped += len(sale.rows)
                summary.skipped_reasons[sale.skipped] = summary.skipped_reasons.get(sale.skipped, 0) + len(sale.rows)
                if txn is not None:
                    self.walk_in(sale)
                continue
            if txn is None:
                self.reject(sale, sale.problem or "")
                continue
            repeat = txn.txn_id in known or txn.txn_id in self.buffered_txns  # (an earlier chunk's, not written yet)
            if sale.refunded and (reason := self.refunded_refusal(sale, repeat)):
                self.reject(sale, reason)
                continue
            if repeat:
                summary.duplicates += len(sale.rows)
            elif (closed := self.poster.closed) and closed.covers(txn.occurred_at):
                self.reject(sale, closed.refusal(txn.occurred_at, "a transaction"))
                continue
            elif reason := self.post(txn):
                if reason is HELD:
                    self.held.append(sale)
                else:
                    self.reject(sale, reason)
                continue
            else:
                known.add(txn.txn_id)
                summary.imported += len(sale.rows)
                summary.transactions += 1
            if sale.refunded:
                self.refunded_amount(sale)

    def post(self, txn: TxnRow) -> str | None:
        """Import a transaction; why not, if it cannot be (or HELD)."""
        if txn.amount >= 0:
            return self.purchase(txn)
        return self.refund(txn) if txn.refund_of else self.unlinked_refund(txn)

    def reject(self, sale: Sale, reason: str) -> None:
        self.rejecting.append((sale, reason))

    def sort_rejects(self) -> None:
        """The chunk's rejected sales, a sale's rows together (`csv_run.sort_rejects`)."""
        rejecting, self.rejecting = self.rejecting, []
        if rejecting:
            self.summary.rejected_before += sort_rejects(
                self.db, self.ref.id, [(sale.rows, reason) for sale, reason in rejecting], self.digest, self.rejects,
                self.rejected_now)

    def refunded_at(self, sale: Sale) -> int:
        return sale.refunded_at or clock.at_or_now(None, self.ref.timezone)

    def refunded_refusal(self, sale: Sale, repeat: bool) -> str | None:
        """Why a row's refunded amount could not be posted, checked before the row counts as anything."""
        at = self.refunded_at(sale)
        if (closed := self.poster.closed) and closed.covers(at):
            return f"refunded amount: {closed.refusal(at, 'a refund')}"
        if repeat:
            if sale.txn.txn_id in self.buffered_txns:
                self.flush()
            original = txn_store.fetch_original(self.db, self.ref.id, sale.txn.txn_id)
            if original and original.member != self.find(sale.txn):
                return f"{sale.txn.txn_id} was imported for another member"
        return None

    def refunded_amount(self, sale: Sale) -> None:
        """A purchase's refunded-amount column: a refund of what it grew by since the last import."""
        txn = sale.txn
        if txn.txn_id in self.buffered_txns:
            self.flush()
        original = txn_store.fetch_original(self.db, self.ref.id, txn.txn_id)
        grown = sale.refunded - original.refunded
        if grown <= 0:
            return
        refund = TxnRow(f"{txn.txn_id}/refunded-{sale.refunded}", txn.member_id, self.refunded_at(sale), -grown,
                        (Line(-grown, txn.category),), txn.store, txn.partner, txn.txn_id, "refunded amount")
        self.refund(refund)  # what could refuse it was checked first (`refunded_refusal`)

    def walk_in(self, sale: Sale) -> None:
        """A sale without a member, recorded as a non-member sale (a re-import's are already there), with
        what its refunded-amount column grew by since the last import as a refund of it."""
        txn = sale.txn
        if txn.txn_id not in self.walk_ins_known:
            self.walk_ins_known.add(txn.txn_id)
            self.walk_in_rows.append((self.ref.id, txn.txn_id, txn.occurred_at, txn.amount, txn.store or None,
                                      self.source, txn.refund_of or None))
            self.summary.non_member_sales += 1
        if sale.refunded:
            self.flush()
            grown = sale.refunded - txn_store.fetch_walk_in_refunded(self.db, self.ref.id, txn.txn_id)
            if grown > 0:
                self.walk_in_rows.append((self.ref.id, f"{txn.txn_id}/refunded-{sale.refunded}", self.refunded_at(sale),
                                          -grown, txn.store or None, self.source, txn.txn_id))

    def find(self, txn: TxnRow) -> int | None:
        return self.members.find(txn.member_id, self.member_key)

    def member(self, txn: TxnRow) -> int | None:
        """The row's member, added first with --create-members (only once the row is known to import)."""
        found = self.find(txn)
        if found is None and self.create_members:
            found = self.add_member(txn)
        elif found in self.created:
            created = self.created[found]
            created.joined = min(created.joined, local_date(txn.occurred_at, self.ref.timezone))
        return found

    def add_member(self, txn: TxnRow) -> int:
        """A member for the row's customer, with the export's name and email; the join date and signup
        bonus wait for the end of the file (`welcome`)."""
        if self.referral_codes is None:
            self.referral_codes = member_store.fetch_referral_codes(self.db, self.ref.id)
        by_email = self.member_key == "email" or (self.member_key == "member_id" and is_email(txn.member_id))
        card = txn.member_id if self.member_key == "card" else None
        member_id = txn.member_id.casefold() if by_email else txn.member_id
        email = (txn.email or (txn.member_id if by_email else "")).casefold()
        code = unused_referral_code(self.ref.code, member_id, self.referral_codes)
        self.referral_codes.add(code)
        joined = local_date(txn.occurred_at, self.ref.timezone)
        checked = parse_member({"member_id": member_id, "name": txn.name, "accepts_marketing": txn.accepts_marketing},
                               self.ref.code, joined)  # ValueError: the row is rejected
        if reason := reserved_refusal(replace(checked, card=card)):
            raise ValueError(reason)
        member = replace(checked, email=email if is_email(email) else "", card=card, joined=joined,
                         referral_code=code)
        member_store.save_members(self.db, self.ref.id, (member,), ())
        row = member_store.find_member(self.db, self.ref.id, self.ref.code, member_id)[0]
        self.members.add(row, member_id, card, member.email)
        self.created[row] = _Created(member, joined)
        self.poster.joined(row)
        self.summary.members_created += 1
        return row

    def welcome(self) -> None:
        """Date each member this import added by their earliest purchase in the file, and pay their signup bonus."""
        if not self.created:
            return
        member_store.set_joined(self.db, {row: c.joined for row, c in self.created.items()})
        self.summary.bonus_points += post_signup_bonuses(
            self.poster, self.versions, [(row, replace(c.member, joined=c.joined)) for row, c in self.created.items()])

    def purchase(self, txn: TxnRow) -> str | None:
        day = local_date(txn.occurred_at, self.ref.timezone)
        program = self.versions.on(day)
        rules = self.rules[id(program)]
        if txn.partner and not rules.knows_partner(txn.partner):
            return f"unknown partner {txn.partner!r}"
        try:
            member = self.member(txn)
        except ValueError as error:  # a customer that cannot be a member as the export names them
            return f"cannot add the member: {error}"
        if member is None:
            return f"unknown member {txn.member_id!r} (add them first, or import with --create-members)"
        purchase = Purchase(txn.lines, day, txn.partner)
        state = self.states.state(member, txn.occurred_at, program)
        earning = rules.earn_points(purchase, state)
        self.summary.limited += earning.limited_by is not None
        entry_id = None
        if earning.points:
            entry_id = self.poster.credit(NewEntry(member, "earn", earning.points, txn.occurred_at,
                                                   reason=txn.description or txn.store or "purchase",
                                                   available_at=txn.occurred_at + program.earn.pending_days * DAY))
            self.summary.points_earned += earning.points
            self.summary.bonus_points += self.first_purchases.on_earning(self.poster, program, member, txn.occurred_at)
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

    def unlinked_refund(self, txn: TxnRow) -> str | None:
        """A till return that names no sale (a profile's `unlinked_refunds = "claw-back"`): its qualifying
        spend at the program's base rate is clawed back from the member, like any clawback, so it may
        leave points owed."""
        if txn.partner:
            return "a refund at a partner must name refund_of"
        member = self.find(txn)  # a refund never adds a member
        if member is None:
            return HELD if self.held is not None else f"unknown member {txn.member_id!r}"
        day = local_date(txn.occurred_at, self.ref.timezone)
        rules = self.rules[id(self.versions.on(day))]
        refund = Purchase(txn.lines, day)
        points, qualifying = rules.base_points(refund), rules.qualifying_spend(refund)
        entry_id = None
        if points:
            clawback = NewEntry(member, "clawback", -points, txn.occurred_at,
                                reason=txn.description or "refund without its sale")
            entry_id = self.poster.post([member], txn.occurred_at, lambda book: [clawback])[0]
        self.summary.points_clawed_back += points
        self.states.record_activity(member, txn.occurred_at, qualifying, -points)
        self.txn_rows.append((self.ref.id, txn.txn_id, member, txn.occurred_at, txn.amount, txn.category, txn.store,
                              txn.partner, None, txn.description, -points, entry_id, None, qualifying))
        self.buffered_members.add(member)
        self.buffered_txns.add(txn.txn_id)
        return None

    def refund(self, txn: TxnRow) -> str | None:
        member = self.find(txn)  # a refund never adds a member: its purchase must be there
        if member is None and self.held is not None:
            return HELD  # its purchase (and the member it adds) may come later in the file
        if member is None:
            return f"unknown member {txn.member_id!r}"
        if txn.refund_of in self.buffered_txns or member in self.buffered_members:
            self.flush()  # the clawback must see the original and every lot of the member
        original = txn_store.fetch_original(self.db, self.ref.id, txn.refund_of)
        if original is None and self.held is not None:
            return HELD  # its purchase may come later in the file
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
        # Written before its clawback is posted, so that a replay that posting causes sees this refund
        # too; the member's earlier postings are replayed first, without it.
        self.poster.settle([member])
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
        if original.entry is None:
            return None  # it earned nothing
        reversed_at, clawed = ledger_store.fetch_refunds_standing(self.db, original.entry)
        if reversed_at is not None and reversed_at <= txn.occurred_at:
            return None  # its earn entry was reversed by then: nothing more to take back
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
    db: Store,
    program: str,
    path: Path,
    *,
    source: SourceProfile | None = None,
    reject_file: Path | None = None,
    mapping: Mapping[str, str] | None = None,
    delimiter: str = ",",
    dry_run: bool = False,
    strict: bool = False,
    create_members: bool = False,
    on_bytes: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import a sales export (default: the generic CSV): all of it or (after a crash) none of it.

    Rejected rows go to the reject file and the rest still import, unless
    `strict`, which refuses the whole file on any bad row (BadInput, exit 2).
    Skipped rows (not loyalty purchases) are counted, not rejected.
    """
    source = source or load_source("generic")
    ref = programs.fetch_program_ref(db, program)
    export = open_export(path, source, mapping, delimiter, on_bytes)
    sales = SaleReader(source, ref.currency, ref.timezone, export.has_line).sales(export.rows)
    summary = ImportSummary(dry_run=dry_run, unread_columns=list(export.unread))
    db.set_cache_size(IMPORT_CACHE_KIB)

    def work(rejects: RejectWriter) -> None:
        with posting(db, ref) as poster:
            importer = _Importer(db, ref, poster, source, create_members, summary, rejects,
                                 None if strict else export.digest)  # --strict: any bad row refuses the file
            for number, chunk in enumerate(iter(lambda: list(islice(sales, CHUNK_ROWS)), []), start=1):
                importer.chunk(chunk)
                if number & (number - 1) == 0:  # after chunks 1, 2, 4, 8 …: the tables have doubled
                    db.refresh_statistics()
            importer.finish()

    run_csv(db, program, path, export.header, summary, work, reject_file=reject_file, strict=strict)
    return summary
