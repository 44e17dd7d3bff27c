"""Schema migrations, applied in order, atomic with their records. Never rename or edit one that has landed.

One list of steps serves both backends: each step's DDL is written for
SQLite and `schema` turns it into PostgreSQL's (see `postgres.postgres_ddl`);
the one step with triggers says both. The record of applied steps is the
table sqlite-utils' Migrations kept (so databases it migrated go on), named
after the backend.
"""

import datetime
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

from loyaltyctl.errors import BadInput
from loyaltyctl.storage.db import Store

MIGRATION_SET = "loyaltyctl"
_STEPS: list[tuple[str, Callable[[Store], None]]] = []


def migration(step: Callable[[Store], None]) -> Callable[[Store], None]:
    _STEPS.append((step.__name__, step))
    return step


def known_migrations() -> list[str]:
    return [name for name, _ in _STEPS]


def applied(db: Store) -> list[str]:
    """The steps the database has applied, in order (none for a new database)."""
    if db.migrations_table not in db.tables():
        return []
    return [row[0] for row in db.execute(
        f"SELECT name FROM {db.migrations_table} WHERE migration_set = ? ORDER BY id", [MIGRATION_SET])]


def pending(db: Store) -> list[str]:
    done = set(applied(db))
    return [name for name in known_migrations() if name not in done]


def refuse_unknown(location: str, names: Iterable[tuple[str]]) -> None:
    """Refuse a database with steps this loyaltyctl does not know: it is newer, and left untouched."""
    unknown = {row[0] for row in names} - set(known_migrations())
    if unknown:
        raise BadInput(f"{location}: database schema is newer than this loyaltyctl "
                       f"(migration {sorted(unknown)[0]}); upgrade loyaltyctl to use it")


def apply(db: Store) -> None:
    """Apply the pending steps; call inside `write()`: all of them and their records commit together, or none."""
    if db.migrations_table not in db.tables():
        db.mark_ours()
        db.executescript(schema(db, f"""
            CREATE TABLE {db.migrations_table} (
                id INTEGER PRIMARY KEY, migration_set TEXT, name TEXT, applied_at TEXT);
            CREATE UNIQUE INDEX idx_{db.migrations_table}_migration_set_name
                ON {db.migrations_table} (migration_set, name);"""))
    done = set(applied(db))
    for name, step in _STEPS:
        if name not in done:
            # The record first: a second process migrating at once waits on its unique index, then fails
            # and rolls back whole, rather than running the step twice.
            db.execute(f"INSERT INTO {db.migrations_table} (migration_set, name, applied_at) VALUES (?, ?, ?)",
                       [MIGRATION_SET, name, str(datetime.datetime.now(datetime.timezone.utc))])
            step(db)
    db.after_migrations()


def schema(db: Store, sql: str) -> str:
    """SQLite DDL as this backend writes it."""
    return db.ddl(sql)


@migration
def m001_programs_and_members(db: Store) -> None:
    db.executescript(schema(db, """
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
        """))


@migration
def m002_ledger(db: Store) -> None:
    """Append-only entries, the lots credits create, what each debit took, and debts.

    Entries never change (triggers refuse it). Lots and debts carry running
    `remaining` figures that `db verify` checks against the consumptions.
    """
    db.executescript(schema(db, """
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
        """))
    _append_only(db)
    if db.dialect == "postgresql":
        # SQLite's implicit rowid, made explicit: what a debit took is read back in the order it was taken.
        db.executescript("ALTER TABLE consumptions ADD COLUMN rowid BIGINT GENERATED BY DEFAULT AS IDENTITY")


def _append_only(db: Store, *tables: str) -> None:
    """Triggers that refuse any change to a row of these tables (default the ledger's entries) and, on
    PostgreSQL, emptying them."""
    for table in tables or ("entries",):
        what = "ledger entries are" if table == "entries" else f"{table.replace('_', ' ')} are"
        if db.dialect == "sqlite":
            db.executescript(f"""
                CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
                    BEGIN SELECT RAISE(ABORT, '{what} append-only'); END;
                CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
                    BEGIN SELECT RAISE(ABORT, '{what} append-only'); END;""")
        else:  # one statement each: Citus passes a new function on to its workers as it was sent
            db.execute(f"""CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql
                           AS $$ BEGIN RAISE EXCEPTION '{what} append-only'; END $$""")
            db.execute(f"""CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}
                           FOR EACH ROW EXECUTE FUNCTION {table}_append_only()""")
            db.execute(f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                           FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()""")


@migration
def m003_transactions(db: Store) -> None:
    """Imported purchases and refunds: the idempotency key of an import is (program, txn_id)."""
    db.executescript(schema(db, """
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
        """))


@migration
def m004_memberships_and_tier_activity(db: Store) -> None:
    """Paid membership terms, and each transaction's qualifying spend for tier status.

    `qualifying` is the spend a row counts toward a spend tier (excluded
    categories count nothing; a refund counts minus what it returns), fixed at
    import by the version in force. The covering index reads one member's
    activity in time order without touching the table.
    """
    db.executescript(schema(db, """
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
        """))


@migration
def m005_lots_by_member(db: Store) -> None:
    """Every lot of a member, by expiry: point-in-time questions (pending, expiring, held at D) read a
    member's lots whatever they hold now, which the partial `lots_open` index cannot serve."""
    db.executescript(schema(db, "CREATE INDEX lots_member ON lots(member, expires_at);"))


@migration
def m006_accounting(db: Store) -> None:
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
    db.executescript(schema(db, """
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
        """))


@migration
def m007_lots_held(db: Store) -> None:
    """Lots still holding points, with all the liability's aging reads: a covering index, so aging a
    program's points reads this index alone instead of looking up each lot in the table (7x faster on
    7 million lots)."""
    db.executescript(schema(db,
        "CREATE INDEX lots_held ON lots(member, expires_at, earned_at, issued_at, remaining) WHERE remaining > 0;"))


@migration
def m008_entries_by_ref(db: Store) -> None:
    """Entries by the entry they refer to: what refunds took back from a credit, the other side of a
    transfer, what expired from a credit's lots, all read by the posting rules without a scan."""
    db.executescript(schema(db, "CREATE INDEX entries_ref ON entries(ref, kind) WHERE ref IS NOT NULL;"))


@migration
def m009_refunds_by_member(db: Store) -> None:
    """Each member's refunds by time: a posting dated before a refund replays the member, so the
    poster asks for a member's latest refund as often as for their latest entry."""
    db.executescript(schema(db,
        "CREATE INDEX transactions_member_refunds ON transactions(member, occurred_at) WHERE refund_of IS NOT NULL;"))


@migration
def m010_entry_totals(db: Store) -> None:
    """Each program's points per week of effective time, kept by the ledger's writer as it appends: a
    roll-forward's opening balance sums a hundred weeks and the days since, not every earlier entry.
    Sums commute, so a backdated posting adds to its own week and nothing is ever recomputed."""
    db.executescript(schema(db, """
        CREATE TABLE entry_totals (
            program_id INTEGER NOT NULL REFERENCES programs(id),
            week INTEGER NOT NULL,
            points INTEGER NOT NULL,
            entries INTEGER NOT NULL,
            PRIMARY KEY (program_id, week)
        );
        INSERT INTO entry_totals (program_id, week, points, entries)
            SELECT program_id, (effective_at - ((effective_at % 604800) + 604800) % 604800) / 604800,
                   sum(points), count(*)
            FROM entries GROUP BY 1, 2;"""))


@migration
def m011_marketing_consent(db: Store) -> None:
    """Whether a member said yes to marketing mail (1), no (0) or never said (NULL): a mail merge of
    `member list --accepts-marketing` writes only to those who said yes."""
    db.executescript(schema(db, "ALTER TABLE members ADD COLUMN accepts_marketing INTEGER;"))


@migration
def m012_vouchers(db: Store) -> None:
    """Vouchers a redemption issued (a code the till takes, once) and their uses. Both only grow: a use is
    a row of its own, a cancellation or a return of points is the redemption's reversal in the ledger."""
    db.executescript(schema(db, """
        CREATE TABLE vouchers (
            id INTEGER PRIMARY KEY,
            program_id INTEGER NOT NULL REFERENCES programs(id),
            code TEXT NOT NULL UNIQUE,
            entry INTEGER NOT NULL UNIQUE REFERENCES entries(id),
            member INTEGER NOT NULL REFERENCES members(id),
            reward TEXT NOT NULL,
            points INTEGER NOT NULL,
            value INTEGER NOT NULL,
            issued_at INTEGER NOT NULL,
            expires_at INTEGER,
            returns_points INTEGER NOT NULL,
            percent TEXT
        );
        CREATE INDEX vouchers_program ON vouchers(program_id, issued_at);
        CREATE TABLE voucher_uses (
            voucher INTEGER PRIMARY KEY REFERENCES vouchers(id),
            used_at INTEGER NOT NULL,
            order_ref TEXT,
            value_used INTEGER NOT NULL,
            recorded_at INTEGER NOT NULL
        );"""))
    _append_only(db, "vouchers", "voucher_uses")


@migration
def m013_member_chains_and_kept_balances(db: Store) -> None:
    """Chains per member instead of per program, seals across them, kept balances, additive week totals.

    The program chains written so far are verified first and sealed (a
    broken one is refused: this is the last release that can check them as
    they were written); their entries keep their digests. Each member's row
    gains the head of their own chain, the latest instant anything happened
    to them, what they owe and their kept balance (unknown until their next
    posting). Week totals become rows that only ever arrive (a posting adds
    one, compaction folds them) so no row is updated by every posting.
    """
    from loyaltyctl.core.chain import GENESIS, seal_digest
    from loyaltyctl.storage.integrity import legacy_chains
    from loyaltyctl.storage.seals import Seal, insert_seal

    ends, broken = legacy_chains(db, member_chains=False)
    recorded = {program_id: (entry, bytes(digest))
                for program_id, entry, digest in db.execute("SELECT program_id, entry, hash FROM chain_heads")}
    if broken or ends != recorded:
        entry = broken[0] if broken else min(end[0] for _, end in ends.items() ^ recorded.items())
        raise BadInput(f"{db.location}: the ledger's hash chain does not verify at entry {entry}; this loyaltyctl "
                       "seals the chain as it upgrades the database and will not seal a broken one "
                       "(restore a backup, or run `db verify` with the loyaltyctl that wrote it)")
    db.executescript(schema(db, """
        ALTER TABLE programs ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE members ADD COLUMN head_seq INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE members ADD COLUMN head_hash BLOB;
        ALTER TABLE members ADD COLUMN latest_at INTEGER;
        ALTER TABLE members ADD COLUMN owed INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE members ADD COLUMN kept_at INTEGER;
        ALTER TABLE members ADD COLUMN kept_points INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE members ADD COLUMN kept_pending INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE members ADD COLUMN kept_until INTEGER;
        ALTER TABLE members ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE entries ADD COLUMN seq INTEGER;
        CREATE UNIQUE INDEX entries_member_seq ON entries(member, seq) WHERE seq IS NOT NULL;
        UPDATE members SET owed = (SELECT coalesce(sum(remaining), 0) FROM debts WHERE debts.member = members.id),
                           latest_at = (SELECT max(effective_at) FROM entries WHERE entries.member = members.id);
        UPDATE members SET latest_at = (SELECT max(occurred_at) FROM transactions t
                                        WHERE t.member = members.id AND t.refund_of IS NOT NULL)
            WHERE (SELECT max(occurred_at) FROM transactions t WHERE t.member = members.id AND t.refund_of IS NOT NULL)
                  > coalesce(latest_at, -9223372036854775807);

        CREATE TABLE seals (
            id INTEGER PRIMARY KEY,
            program_id INTEGER NOT NULL REFERENCES programs(id),
            sealed_at INTEGER NOT NULL,
            members INTEGER NOT NULL,
            legacy_entry INTEGER,
            legacy_hash BLOB,
            previous BLOB NOT NULL,
            digest BLOB NOT NULL
        );
        CREATE INDEX seals_program ON seals(program_id, id);
        CREATE TABLE seal_heads (
            seal INTEGER NOT NULL REFERENCES seals(id),
            member INTEGER NOT NULL REFERENCES members(id),
            seq INTEGER NOT NULL,
            hash BLOB NOT NULL,
            PRIMARY KEY (member, seq)
        );
        CREATE INDEX seal_heads_seal ON seal_heads(seal);

        CREATE TABLE entry_weeks (
            program_id INTEGER NOT NULL REFERENCES programs(id),
            week INTEGER NOT NULL,
            points INTEGER NOT NULL,
            entries INTEGER NOT NULL
        );
        INSERT INTO entry_weeks SELECT program_id, week, points, entries FROM entry_totals;
        DROP TABLE entry_totals;
        ALTER TABLE entry_weeks RENAME TO entry_totals;
        CREATE INDEX entry_totals_week ON entry_totals(program_id, week);
        DROP TABLE chain_heads;
        """))
    _append_only(db, "seals", "seal_heads")
    sealed_at = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
    for program_id, legacy in sorted(ends.items()):
        insert_seal(db, Seal(program_id, sealed_at, 0, *legacy, GENESIS,
                             seal_digest(GENESIS, program_id, sealed_at, legacy, [])), [])


@migration
def m014_member_email_keys(db: Store) -> None:
    """Each member's email as emails compare (case-folded, by Python, so both backends fold alike; SQL's
    lower() folds ASCII only on SQLite), indexed: a command names a member by email in any case with
    one index probe, not a scan (two members may share an email: the first added, the lowest id, is found)."""
    from loyaltyctl.core.members import email_key

    db.executescript(schema(db, """
        ALTER TABLE members ADD COLUMN email_key TEXT;
        CREATE INDEX members_email_key ON members(program_id, email_key, id);"""))
    db.executemany("UPDATE members SET email_key = ? WHERE id = ?",
                   [(email_key(email), row) for row, email in db.execute("SELECT id, email FROM members WHERE email != ''")])


@migration
def m015_rejected_rows(db: Store) -> None:
    """Rows an import rejected, by the digest of their cells: a nightly re-run counts a row rejected
    before as such, and does not report it again."""
    db.executescript(schema(db, """
        CREATE TABLE rejected_rows (
            program_id INTEGER NOT NULL REFERENCES programs(id),
            digest TEXT NOT NULL,
            PRIMARY KEY (program_id, digest)
        );"""))


@migration
def m016_indexes_queries_use(db: Store) -> None:
    """Only the indexes a query reads (README "Design" lists each with its query): `lots_open` served
    nothing `lots_held` does not (a member's lots holding points; no query asks for `expired > 0`), and
    every credit paid for it with one more index entry."""
    db.executescript(schema(db, "DROP INDEX lots_open;"))


@migration
def m017_members_updated_in_place(db: Store) -> None:
    """PostgreSQL: room on each members page (fillfactor 70) for the new version of a row a posting
    updates (its chain head and kept figures, none of them indexed), so the update stays on its page and
    leaves the five indexes alone (a heap-only update). Pages filled from now on keep the room; a
    database's existing pages get it when the table is rewritten (VACUUM FULL members). SQLite updates in
    place already."""
    if db.dialect == "postgresql":
        db.executescript("ALTER TABLE members SET (fillfactor = 70)")


@migration
def m018_compiled_programs(db: Store) -> None:
    """Each program version's definition also compiled (formats.compiled_program): a command decodes it instead
    of parsing the TOML, a fifth of a counter command's start-up. The TOML stays the record; the versions
    stored so far are compiled after the migrations (`open_db`'s `after_migrating`)."""
    db.executescript(schema(db, """
        ALTER TABLE program_versions ADD COLUMN compiled TEXT;
        ALTER TABLE program_versions ADD COLUMN compiled_by TEXT;"""))


# The ledger's tables that named their program only through a member, an entry or a voucher, and where from.
_PROGRAM_OF = {
    "lots": "SELECT program_id FROM members WHERE id = lots.member",
    "consumptions": "SELECT program_id FROM entries WHERE id = consumptions.debit",
    "debts": "SELECT program_id FROM members WHERE id = debts.member",
    "seal_heads": "SELECT program_id FROM members WHERE id = seal_heads.member",
    "voucher_uses": "SELECT program_id FROM vouchers WHERE id = voucher_uses.voucher",
}


@migration
def m019_program_on_every_ledger_row(db: Store) -> None:
    """Every ledger row names its program: the column a distributed database (Citus) places rows by, so a
    posting's rows all live on the shard of its program (README "Beyond one server"). PostgreSQL holds the
    column NOT NULL."""
    for table, source in _PROGRAM_OF.items():
        db.executescript(schema(db, f"ALTER TABLE {table} ADD COLUMN program_id INTEGER"))
        with _changes_allowed(db, table):
            db.executescript(f"UPDATE {table} SET program_id = ({source})")
        if db.dialect == "postgresql":
            db.executescript(f"ALTER TABLE {table} ALTER COLUMN program_id SET NOT NULL")


@migration
def m020_voucher_codes(db: Store) -> None:
    """Every voucher code once, whatever its program: where codes are kept unique in the whole database. On
    Citus, `vouchers` lives with its program's shard and its own key holds the program (each shard checks
    only its rows); this small table is a reference table there, one copy on every node."""
    db.executescript(schema(db, """
        CREATE TABLE voucher_codes (
            code TEXT PRIMARY KEY,
            program_id INTEGER NOT NULL REFERENCES programs(id)
        );
        INSERT INTO voucher_codes (code, program_id) SELECT code, program_id FROM vouchers;"""))
    _append_only(db, "voucher_codes")


@migration
def m021_walk_in_sales_and_analytics(db: Store) -> None:
    """Sales an import skips for points because no member made them (walk-ins), kept so analytics can set
    members' purchases beside everyone else's. A refund names the walk-in txn id it refunds, if any. Not
    ledger rows: nothing posts from them, and a txn id that is also a member's transaction counts as the
    member's (`storage.analytics`). Analytics read the program's transactions member by member off an
    index that holds all they need, and who has redeemed off one that holds only redemptions."""
    db.executescript(schema(db, """
        CREATE TABLE walk_in_sales (
            program_id INTEGER NOT NULL REFERENCES programs(id),
            txn_id TEXT NOT NULL,
            occurred_at INTEGER NOT NULL,
            amount INTEGER NOT NULL,
            store TEXT,
            source TEXT NOT NULL,
            refund_of TEXT,
            PRIMARY KEY (program_id, txn_id)
        );
        CREATE INDEX transactions_program_member ON transactions(program_id, member, occurred_at, amount);
        CREATE INDEX entries_redeemers ON entries(program_id, member, effective_at) WHERE kind = 'redeem';"""))


@migration
def m022_actions(db: Store) -> None:
    """Each action posted (SPEC.md "Actions"): its entry, member, code, effective time and, for a survey, the
    score. A limit counts a member's actions of a code in a period off `actions_member`; the feedback
    score reads the latest answers of a range. Rows are never changed: a reversed action is its entry's
    reversal. Programs compiled in format program/2 (with actions) after this step."""
    db.executescript(schema(db, """
        CREATE TABLE actions (
            program_id INTEGER NOT NULL REFERENCES programs(id),
            entry INTEGER NOT NULL,
            member INTEGER NOT NULL REFERENCES members(id),
            code TEXT NOT NULL,
            at INTEGER NOT NULL,
            score INTEGER,
            PRIMARY KEY (program_id, entry)
        );
        CREATE INDEX actions_member ON actions(member, code, at);"""))
    _append_only(db, "actions")


@contextmanager
def _changes_allowed(db: Store, table: str) -> Iterator[None]:
    """A migration's own change to rows of a table whose rows are otherwise never changed (inside the
    migration's transaction: no one else sees the table without its triggers)."""
    if table not in ("seal_heads", "voucher_uses"):
        yield
    elif db.dialect == "sqlite":
        db.executescript(f"DROP TRIGGER {table}_no_update;\nDROP TRIGGER {table}_no_delete;")
        yield
        _append_only(db, table)
    else:
        db.executescript(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_change")
        yield
        db.executescript(f"ALTER TABLE {table} ENABLE TRIGGER {table}_no_change")
