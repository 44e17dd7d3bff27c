"""A database the previous release built opens with this one: migrated in place, same figures, chain intact.

The file and the figures that release printed from it are in tests/data/previous-release (its
README says how they were made). On PostgreSQL the migrated file is moved with `db copy`, the way
a shop that outgrows its file moves, and must print the same figures there.
"""

import gzip
import json
import shutil
from pathlib import Path

import pytest

from loyaltyctl.formats.compiled_program import COMPILED_FORMAT
from loyaltyctl.storage.connect import open_db
from loyaltyctl.storage.migrations import applied, known_migrations
from loyaltyctl.storage.programs import fetch_all_version_rows
from tests.conftest import new_postgres_database, run

PREVIOUS = Path(__file__).parent.parent / "data" / "previous-release"
FIGURES = PREVIOUS / "figures"
PROGRAMS = ("beauty-club", "corner-cafe", "fashion-house", "outdoor-coop", "roastery")
YEAR = ("--from", "2026-01-01", "--to", "2026-10-31")


@pytest.fixture
def previous_file(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-11-23T12:00:00+00:00")
    path = tmp_path / "previous.db"
    with gzip.open(PREVIOUS / "demo.db.gz") as packed, path.open("wb") as unpacked:
        shutil.copyfileobj(packed, unpacked)
    return path


def ok(*args) -> str:
    result = run(*args)
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout


def assert_same_figures(db: str) -> None:
    for program in PROGRAMS:
        liability = ok("--db", db, "report", "liability", "-p", program, "--as-of", "2026-10-31", "-f", "json")
        printed = json.loads((FIGURES / f"liability-{program}.json").read_text())
        # since issue 19 the liability names vouchers (none in that release) and the total they make with the net
        printed |= {"vouchers_outstanding": {"count": 0, "value": "0.00"}, "total_liability": printed["net_liability"],
                    "unposted_voucher_returns": 0}  # and, since issue 28, the voucher returns `expire` has to post
        assert json.loads(liability) == printed, program
        rolled = ok("--db", db, "report", "rollforward", "-p", program, *YEAR, "-f", "json")
        printed = json.loads((FIGURES / f"rollforward-{program}.json").read_text()) | {"vouchers": None}
        printed |= {"actions": 0}  # since issue 33 the roll-forward says how much of `issued` was for actions
        assert json.loads(rolled) == printed, program
    journal = ok("--db", db, "report", "journal", "-p", "beauty-club", *YEAR, "--format", "csv")
    assert journal == (FIGURES / "journal-beauty-club.csv").read_text()
    statement = ok("--db", db, "statement", "-p", "fashion-house", "M001", *YEAR, "-f", "json")
    printed = json.loads((FIGURES / "statement.json").read_text())
    printed["next_tier"]["basis"] = "spend"  # since issue 18 the statement's next_tier is balance's: it names its basis
    assert json.loads(statement) == printed


def test_previous_release_database_migrates_in_place_and_keeps_its_figures(previous_file, backend):
    # a figure worked from the fixture by hand: beauty-club's liability is its 18,622 points at $0.10
    assert json.loads((FIGURES / "liability-beauty-club.json").read_text())["net_liability"] == "1862.20"
    assert "hash chain intact" in ok("--db", previous_file, "db", "verify")
    store = open_db(str(previous_file))
    assert applied(store) == known_migrations()  # migrated in place by the first command that opened it
    # and each program version it stored compiled, so no command parses a program's TOML again
    assert {row.compiled_by for row in fetch_all_version_rows(store)} == {COMPILED_FORMAT}
    store.close()
    db, drop = str(previous_file), None
    if backend == "postgresql":
        db, drop = new_postgres_database()
        ok("db", "copy", previous_file, db)
    try:
        assert_same_figures(db)
        posted = json.loads(ok("--db", db, "earn", "-p", "corner-cafe", "M001", "7", "-r", "after the upgrade",
                               "--at", "2026-11-23", "-f", "json"))
        assert posted["entries"][0]["points"] == 7
        # the upgrade folded the emails the release stored: a member is found by email in any case
        found = json.loads(ok("--db", db, "balance", "-p", "corner-cafe", "Xavi.Brooks24@Example.com", "-f", "json"))
        assert found["member"] == "M024"
        assert "hash chain intact" in ok("--db", db, "db", "verify")
    finally:
        if drop:
            drop()


@pytest.mark.sqlite_only
def test_the_upgrade_verifies_the_program_chains_and_seals_where_each_ended(previous_file):
    import sqlite3

    conn = sqlite3.connect(previous_file)
    ends = dict(conn.execute("SELECT program_id, entry FROM chain_heads").fetchall())
    conn.close()
    sealed = json.loads(ok("--db", previous_file, "db", "verify", "--format", "json"))["seals"]
    assert sorted(sealed) == sorted(PROGRAMS)  # a seal a program, its digest to keep elsewhere
    conn = sqlite3.connect(previous_file)
    assert dict(conn.execute("SELECT program_id, legacy_entry FROM seals").fetchall()) == ends
    assert conn.execute("SELECT count(*) FROM entries WHERE seq IS NOT NULL").fetchone()[0] == 0  # none rewritten
    conn.close()


@pytest.mark.sqlite_only
def test_an_upgrade_will_not_seal_a_broken_chain(previous_file):
    import sqlite3

    conn = sqlite3.connect(previous_file)
    conn.execute("DROP TRIGGER entries_no_update")
    edited = conn.execute("SELECT min(id) FROM entries WHERE kind = 'earn'").fetchone()[0]
    conn.execute(f"UPDATE entries SET points = points + 1 WHERE id = {edited}")
    conn.commit()
    conn.close()
    result = run("--db", previous_file, "balance", "-p", "corner-cafe", "M001")
    assert (result.exit_code, result.stderr) == (2, (
        f"error: {previous_file}: the ledger's hash chain does not verify at entry {edited}; this loyaltyctl seals the "
        "chain as it upgrades the database and will not seal a broken one (restore a backup, or run `db verify` "
        "with the loyaltyctl that wrote it)\n"))


@pytest.mark.postgres_only
def test_a_postgresql_database_of_the_previous_release_migrates_in_place_and_keeps_its_figures(backend):
    """Restored from the previous release's own dump: opened by this release it verifies that release's
    chains, seals them, and prints what that release printed."""
    import psycopg

    db, drop = new_postgres_database()
    dump = gzip.decompress((PREVIOUS / "postgres" / "demo.sql.gz").read_bytes()).decode()
    with psycopg.connect(db, autocommit=True) as conn:  # psql's meta-commands (\restrict) left out
        conn.execute("\n".join(line for line in dump.splitlines() if not line.startswith("\\")))
    try:
        verified = json.loads(ok("--db", db, "db", "verify", "--format", "json"))  # migrated by its first command
        assert verified["ok"] and sorted(verified["seals"]) == sorted(PROGRAMS)
        for program in PROGRAMS:
            printed = json.loads((PREVIOUS / "postgres" / f"liability-{program}.json").read_text())
            liability = json.loads(ok("--db", db, "report", "liability", "-p", program, "--as-of", "2026-10-31",
                                      "-f", "json"))
            assert liability == printed | {"unposted_voucher_returns": 0}, program
        posted = json.loads(ok("--db", db, "earn", "-p", "corner-cafe", "M001", "7", "-r", "after the upgrade",
                               "-f", "json"))
        assert posted["entries"][0]["points"] == 7
        # the upgrade folded the emails the release stored: a member is found by email in any case
        found = json.loads(ok("--db", db, "balance", "-p", "corner-cafe", "Xavi.Brooks24@Example.com", "-f", "json"))
        assert found["member"] == "M024"
        assert json.loads(ok("--db", db, "db", "verify", "--format", "json"))["ok"]
    finally:
        drop()
