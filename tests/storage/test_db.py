import sqlite3

import pytest

from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.formats.program_toml import parse_program
from loyaltyctl.operations.imports import import_transactions
from loyaltyctl.operations.setup import apply_programs
from loyaltyctl.storage.connect import open_db, schema_version
from loyaltyctl.storage.sqlite import APPLICATION_ID
from loyaltyctl.storage.integrity import count_entries, first_broken_link
from loyaltyctl.storage.migrations import applied, known_migrations
from tests.conftest import MINIMAL_PROGRAM, snapshot

pytestmark = pytest.mark.sqlite_only  # the SQLite file itself; PostgreSQL's: tests/storage/test_postgres.py


def test_blank_database_is_migrated_to_the_full_schema(tmp_path):
    db = open_db(tmp_path / "new.db", create=True)
    assert schema_version(db) == len(known_migrations())
    assert {"programs", "program_versions", "members"} <= db.tables()
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_reopening_applies_nothing_new(tmp_path):
    open_db(tmp_path / "a.db", create=True)
    db = open_db(tmp_path / "a.db")
    assert applied(db) == known_migrations()


def test_only_create_makes_a_missing_database(tmp_path):
    with pytest.raises(BadInput, match="no loyaltyctl database at .*typo.db; `loyaltyctl init` creates one"):
        open_db(tmp_path / "typo.db")
    assert list(tmp_path.iterdir()) == []
    open_db(tmp_path / "typo.db", create=True)
    assert schema_version(open_db(tmp_path / "typo.db")) == len(known_migrations())


def test_a_file_that_is_not_sqlite_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "notes.db"
    path.write_bytes(b"shopping list: eggs, milk\n" * 40)
    before = path.read_bytes()
    with pytest.raises(BadInput, match="not a loyaltyctl database"):
        open_db(path)
    assert path.read_bytes() == before


def test_another_applications_database_is_refused_and_left_untouched(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(BadInput, match="other.db: not a loyaltyctl database \\(it holds other tables\\)"):
        open_db(path)
    assert path.read_bytes() == before


def test_a_database_from_a_newer_loyaltyctl_is_refused(tmp_path):
    path = tmp_path / "future.db"
    open_db(path, create=True).conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('loyaltyctl', 'm999_future', 'now')"
    )
    with pytest.raises(BadInput, match="database schema is newer than this loyaltyctl \\(migration m999_future\\)"):
        open_db(path)


def test_a_full_disk_refuses_the_whole_write_and_keeps_nothing(tmp_path):
    """SQLITE_FULL mid-import (max_page_count stands in for the disk): exit 1, rolled back, nothing kept."""
    path = tmp_path / "full.db"
    db = open_db(path, create=True)
    apply_programs(db, [parse_program(MINIMAL_PROGRAM)])
    sales = tmp_path / "sales.csv"
    sales.write_text("txn_id,member_id,occurred_at,amount\n"
                     + "".join(f"T{n},M{n % 50},2026-06-15T10:00,12.00\n" for n in range(3000)), encoding="utf-8")
    before = snapshot(path)
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(Refused) as refused:
        import_transactions(db, "shop", sales, create_members=True)
    assert str(refused.value) == (f"{path}: the disk is full (database or disk is full); "
                                  "nothing was written, free some space and run it again")
    assert refused.value.exit_code == 1
    assert not db.conn.in_transaction
    assert snapshot(path) == before
    assert sorted(p.name for p in tmp_path.iterdir() if "rejects" in p.name) == []
    db.execute("PRAGMA max_page_count = 1073741823")  # room again: the same connection imports it all
    assert import_transactions(db, "shop", sales, create_members=True).imported == 3000
    assert count_entries(db) == 3000 and first_broken_link(db) is None

