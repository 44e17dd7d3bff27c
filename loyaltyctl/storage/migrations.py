"""Schema migrations, applied in order, each atomic. Never rename or edit one that has landed."""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATION_SET = "loyaltyctl"
migrations = Migrations(MIGRATION_SET)


@migrations()
def m001_programs_and_members(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE programs (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            currency TEXT NOT NULL,
            timezone TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE program_versions (
            id INTEGER PRIMARY KEY,
            program_id INTEGER NOT NULL REFERENCES programs(id),
            version INTEGER NOT NULL,
            effective_from TEXT NOT NULL,
            applied_at INTEGER NOT NULL,
            digest TEXT NOT NULL,
            definition TEXT NOT NULL,
            UNIQUE (program_id, version)
        );
        CREATE TABLE members (
            id INTEGER PRIMARY KEY,
            program_id INTEGER NOT NULL REFERENCES programs(id),
            member_id TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            birthday TEXT,
            card TEXT,
            joined TEXT NOT NULL,
            referred_by INTEGER REFERENCES members(id),
            referral_code TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (program_id, member_id),
            UNIQUE (program_id, card),
            UNIQUE (program_id, referral_code)
        );
        """
    )


def known_migrations() -> list[str]:
    return [migration.name for migration in migrations._migrations]


@migrations()
def m002_ledger(db: Database) -> None:
    """Append-only entries, the lots credits create, what each debit took, and debts.

    Entries never change (triggers refuse it). Lots and debts carry running
    `remaining` figures that `db verify` checks against the consumptions.
    """
    db.executescript(
        """
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            program_id INTEGER NOT NULL REFERENCES programs(id),
            member INTEGER NOT NULL REFERENCES members(id),
            kind TEXT NOT NULL,
            points INTEGER NOT NULL,
            effective_at INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            key TEXT,
            reason TEXT,
            reward TEXT,
            money INTEGER,
            charity TEXT,
            ref INTEGER REFERENCES entries(id),
            hash BLOB NOT NULL
        );
        CREATE UNIQUE INDEX entries_key ON entries(program_id, key) WHERE key IS NOT NULL;
        CREATE INDEX entries_member_time ON entries(member, effective_at, points);
        CREATE UNIQUE INDEX entries_reversed_once ON entries(ref) WHERE kind = 'reverse';
        CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
            BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
        CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
            BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;

        CREATE TABLE lots (
            id INTEGER PRIMARY KEY,
            entry INTEGER NOT NULL REFERENCES entries(id),
            member INTEGER NOT NULL REFERENCES members(id),
            points INTEGER NOT NULL,
            earned_at INTEGER NOT NULL,
            expires_at INTEGER,
            available_at INTEGER NOT NULL,
            remaining INTEGER NOT NULL,
            expired INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX lots_entry ON lots(entry);
        CREATE INDEX lots_open ON lots(member, expires_at) WHERE remaining > 0 OR expired > 0;
        CREATE INDEX lots_due ON lots(expires_at) WHERE remaining > 0;

        CREATE TABLE consumptions (
            debit INTEGER NOT NULL REFERENCES entries(id),
            lot INTEGER NOT NULL REFERENCES lots(id),
            points INTEGER NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX consumptions_lot ON consumptions(lot, at);
        CREATE INDEX consumptions_debit ON consumptions(debit);

        CREATE TABLE debts (
            debit INTEGER PRIMARY KEY REFERENCES entries(id),
            member INTEGER NOT NULL REFERENCES members(id),
            points INTEGER NOT NULL,
            remaining INTEGER NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX debts_open ON debts(member) WHERE remaining > 0;

        CREATE TABLE chain_heads (
            program_id INTEGER PRIMARY KEY REFERENCES programs(id),
            entry INTEGER NOT NULL,
            hash BLOB NOT NULL
        );
        """
    )


@migrations()
def m003_transactions(db: Database) -> None:
    """Imported purchases and refunds: the idempotency key of an import is (program, txn_id)."""
    db.executescript(
        """
        CREATE TABLE transactions (
            id INTEGER PRIMARY KEY,
            program_id INTEGER NOT NULL REFERENCES programs(id),
            txn_id TEXT NOT NULL,
            member INTEGER NOT NULL REFERENCES members(id),
            occurred_at INTEGER NOT NULL,
            amount INTEGER NOT NULL,
            category TEXT,
            store TEXT,
            partner TEXT,
            refund_of INTEGER REFERENCES transactions(id),
            description TEXT,
            points INTEGER NOT NULL,
            entry INTEGER REFERENCES entries(id),
            note TEXT,
            UNIQUE (program_id, txn_id)
        );
        CREATE INDEX transactions_refunds ON transactions(refund_of) WHERE refund_of IS NOT NULL;
        """
    )


@migrations()
def m004_memberships_and_tier_activity(db: Database) -> None:
    """Paid membership terms, and each transaction's qualifying spend for tier status.

    `qualifying` is the spend a row counts toward a spend tier (excluded
    categories count nothing; a refund counts minus what it returns), fixed at
    import by the version in force. The covering index reads one member's
    activity in time order without touching the table.
    """
    db.executescript(
        """
        CREATE TABLE memberships (
            id INTEGER PRIMARY KEY,
            program_id INTEGER NOT NULL REFERENCES programs(id),
            member INTEGER NOT NULL REFERENCES members(id),
            paid_at INTEGER NOT NULL,
            fee INTEGER NOT NULL,
            term TEXT NOT NULL,
            valid_from INTEGER NOT NULL,
            valid_until INTEGER,
            key TEXT,
            recorded_at INTEGER NOT NULL
        );
        CREATE INDEX memberships_member ON memberships(member, valid_from);
        CREATE UNIQUE INDEX memberships_key ON memberships(program_id, key) WHERE key IS NOT NULL;
        ALTER TABLE transactions ADD COLUMN qualifying INTEGER NOT NULL DEFAULT 0;
        UPDATE transactions SET qualifying = amount;
        CREATE INDEX transactions_member_time ON transactions(member, occurred_at, qualifying, points);
        """
    )


@migrations()
def m005_lots_by_member(db: Database) -> None:
    """Every lot of a member, by expiry: point-in-time questions (pending, expiring, held at D) read a
    member's lots whatever they hold now, which the partial `lots_open` index cannot serve."""
    db.executescript("CREATE INDEX lots_member ON lots(member, expires_at);")


@migrations()
def m006_accounting(db: Database) -> None:
    """Closed periods, and indexes for the accounting reports.

    `entries_program_time` covers what the roll-forward, journal and KPIs read
    (a program's entries in a time range, by kind), so they scan a narrow index
    range instead of the table; `entries_money` finds redemptions and donations,
    `consumptions_at` what lots gave up after a date (to age lots as of it).
    `lots.issued_at` is when a lot's points were first issued, for a lot that
    carries points on (a transfer, a reversed debit): the liability is aged from
    then; NULL means `earned_at`. A close records the figures it saw, so `db verify` can show that a closed
    period's reports have not changed.
    """
    db.executescript(
        """
        CREATE TABLE period_closes (
            id INTEGER PRIMARY KEY,
            program_id INTEGER NOT NULL REFERENCES programs(id),
            through TEXT NOT NULL,
            closed_before INTEGER NOT NULL,
            expiries_posted INTEGER NOT NULL,
            closing_points INTEGER NOT NULL,
            closing_liability INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL,
            UNIQUE (program_id, through)
        );
        ALTER TABLE lots ADD COLUMN issued_at INTEGER;
        CREATE INDEX entries_program_time ON entries(program_id, effective_at, kind, points);
        CREATE INDEX entries_money ON entries(program_id, effective_at) WHERE money IS NOT NULL;
        CREATE INDEX consumptions_at ON consumptions(at, lot, points);
        CREATE INDEX transactions_partner_time ON transactions(program_id, occurred_at)
            WHERE partner IS NOT NULL AND partner != '';
        """
    )


@migrations()
def m007_lots_held(db: Database) -> None:
    """Lots still holding points, with all the liability's aging reads: a covering index, so aging a
    program's points reads this index alone instead of looking up each lot in the table (7x faster on
    7 million lots)."""
    db.executescript(
        "CREATE INDEX lots_held ON lots(member, expires_at, earned_at, issued_at, remaining) WHERE remaining > 0;")


@migrations()
def m008_entries_by_ref(db: Database) -> None:
    """Entries by the entry they refer to: what refunds took back from a credit, the other side of a
    transfer, what expired from a credit's lots, all read by the posting rules without a scan."""
    db.executescript("CREATE INDEX entries_ref ON entries(ref, kind) WHERE ref IS NOT NULL;")


@migrations()
def m009_refunds_by_member(db: Database) -> None:
    """Each member's refunds by time: a posting dated before a refund replays the member, so the
    poster asks for a member's latest refund as often as for their latest entry."""
    db.executescript(
        "CREATE INDEX transactions_member_refunds ON transactions(member, occurred_at) WHERE refund_of IS NOT NULL;")
