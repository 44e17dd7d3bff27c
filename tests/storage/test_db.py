import sqlite3

import pytest

from loyaltyctl.errors import BadInput
from loyaltyctl.storage.db import APPLICATION_ID, open_db, schema_version
from loyaltyctl.storage.migrations import known_migrations, migrations


def test_blank_database_is_migrated_to_the_full_schema(tmp_path):
    db = open_db(tmp_path / "new.db")
    assert schema_version(db) == len(known_migrations())
    assert {"programs", "program_versions", "members"} <= set(db.table_names())
    assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_reopening_applies_nothing_new(tmp_path):
    open_db(tmp_path / "a.db")
    db = open_db(tmp_path / "a.db")
    assert [m.name for m in migrations.applied(db)] == known_migrations()


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
    open_db(path).conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('loyaltyctl', 'm999_future', 'now')"
    )
    with pytest.raises(BadInput, match="database schema is newer than this loyaltyctl \\(migration m999_future\\)"):
        open_db(path)
