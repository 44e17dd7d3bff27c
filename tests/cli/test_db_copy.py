"""`db copy` and `db backup`: the demo's ledger moved SQLite -> PostgreSQL -> SQLite reports the same to the cent."""

import json

import pytest

from loyaltyctl.samples import samples_dir
from tests.conftest import change, new_postgres_database, query, run

pytestmark = pytest.mark.postgres_only

# Reports an accountant and a member read, per demo program: they must not change by a move.
PERIOD = ("--from", "2026-01-01", "--to", "2026-06-30")


def reports(db: str) -> dict:
    found = {}
    for program in ("corner-cafe", "fashion-house", "outdoor-coop"):
        for name, args in (("liability", ["report", "liability", "--as-of", "2026-06-14"]),
                           ("rollforward", ["report", "rollforward", *PERIOD]),
                           ("journal", ["report", "journal", *PERIOD, "--format", "csv"]),
                           ("statement", ["statement", "M001", *PERIOD])):
            fmt = [] if "--format" in args else ["--format", "json"]
            result = run("--db", db, *args, "-p", program, *fmt)
            assert result.exit_code == 0, (db, args, result.stderr)
            found[program, name] = result.stdout
    return found


@pytest.fixture
def demo_file(tmp_path) -> str:
    path = tmp_path / "demo.db"
    assert run("demo", "--db", path).exit_code == 0
    return str(path)


def test_copy_to_postgresql_and_back_keeps_every_report_and_verifies(demo_file, tmp_path):
    server_db, drop = new_postgres_database()
    try:
        there = run("db", "copy", demo_file, server_db, "--format", "json")
        assert there.exit_code == 0, there.stderr
        copied = json.loads(there.stdout)
        entries = run("--db", demo_file, "db", "verify", "--format", "json")
        assert copied["verified"] and copied["rows"]["entries"] == json.loads(entries.stdout)["entries"]
        back = tmp_path / "back.db"
        assert run("db", "copy", server_db, back).exit_code == 0
        original = reports(demo_file)
        assert reports(server_db) == original
        assert reports(str(back)) == original
        for db in (server_db, str(back)):
            assert run("--db", db, "db", "verify").exit_code == 0
        backup = tmp_path / "backup.db"
        assert run("--db", server_db, "db", "backup", backup).exit_code == 0
        assert reports(str(backup)) == original
        # Posting on the copy goes on from the ids the original had used.
        earned = run("--db", server_db, "earn", "-p", "corner-cafe", "M001", "5", "-r", "after the move", "--format", "json")
        assert earned.exit_code == 0, earned.stderr
        assert json.loads(earned.stdout)["entries"][0]["id"] > copied["rows"]["entries"]
        assert run("--db", server_db, "db", "verify").exit_code == 0
        # The cron job, moved, still knows the rows it rejected: the demo's 7 bad beauty-club rows alert no more.
        rerun = run("--db", server_db, "txn", "import", "-p", "beauty-club", "--dry-run", "--format", "json",
                    samples_dir() / "beauty-club.transactions.csv")
        assert (rerun.exit_code, json.loads(rerun.stdout)["rejected_before"]) == (0, 7), rerun.stderr
    finally:
        drop()


def test_a_copy_into_a_database_that_holds_a_ledger_is_refused(demo_file, db_path):
    assert run("db", "copy", demo_file, db_path).exit_code == 0
    again = run("db", "copy", demo_file, db_path)
    assert (again.exit_code, again.stderr) == (2, f"error: {db_path}: already holds a loyaltyctl ledger; "
                                                  "copy into a new, empty database\n")


def test_a_copy_into_an_existing_file_is_refused(demo_file, tmp_path):
    taken = tmp_path / "taken.db"
    taken.write_bytes(b"")
    result = run("db", "copy", demo_file, taken)
    assert (result.exit_code, result.stderr) == (2, f"error: {taken}: already exists; choose a new file name\n")


def test_a_copy_that_does_not_verify_is_refused_and_leaves_the_target_empty(demo_file, db_path, tmp_path):
    change(demo_file, "DROP TRIGGER entries_no_update")
    change(demo_file, "UPDATE entries SET points = points + 1 WHERE id = 7")
    for target in (db_path, str(tmp_path / "copy.db")):
        result = run("db", "copy", demo_file, target)
        assert result.exit_code == 1
        assert result.stderr.startswith("error: ") and "the copy does not verify (entry 7:" in result.stderr
    assert not (tmp_path / "copy.db").exists()
    assert query("SELECT count(*) FROM entries") == [(0,)]  # the PostgreSQL target: empty, ready for a good copy
