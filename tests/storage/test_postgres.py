"""What only PostgreSQL has to show: its own refusals, append-only through psql, writers of other programs
going on while one program's writer holds its lock, and URLs in messages without their passwords."""

import json
import subprocess
import sys
import time
import uuid

import pytest

from tests.cli.test_ledger_cli import CLUB, post
from tests.conftest import MINIMAL_PROGRAM, database_exists, run, snapshot, write

pytestmark = pytest.mark.postgres_only


def connect(url: str):
    import psycopg

    return psycopg.connect(url, autocommit=True)


@pytest.fixture
def club(tmp_path, db_path):
    run("program", "apply", write(tmp_path / "club.toml", CLUB))
    run("member", "add", "-p", "club", "M1")
    post("earn", "-p", "club", "M1", "100", "-r", "welcome", "--at", "2026-06-01T10:00")
    post("earn", "-p", "club", "M1", "40", "-r", "again", "--at", "2026-06-02T10:00")
    return db_path


@pytest.mark.parametrize("statement", ["UPDATE entries SET points = 1000", "DELETE FROM entries", "TRUNCATE entries CASCADE"])
def test_entries_cannot_be_changed_with_psql(club, statement):
    import psycopg

    with connect(club) as conn, pytest.raises(psycopg.errors.RaiseException, match="ledger entries are append-only"):
        conn.execute(statement)


def test_an_edit_made_with_the_triggers_off_is_found_by_verify(club):
    with connect(club) as conn:  # a superuser can switch the triggers off; the hash chain still knows
        conn.execute("ALTER TABLE entries DISABLE TRIGGER USER")
        conn.execute("UPDATE entries SET points = 1000 WHERE reason = 'again'")
        edited = conn.execute("SELECT id FROM entries WHERE reason = 'again'").fetchone()[0]
    result = run("db", "verify", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["first_bad_entry"] == edited


def test_an_empty_database_is_not_a_ledger_until_init(db_path):
    result = run("balance", "-p", "shop", "M1")
    assert (result.exit_code, result.stderr) == (2, f"error: no loyaltyctl database at {db_path}; "
                                                    "`loyaltyctl init` creates one\n")
    assert not database_exists(db_path)
    assert run("init").exit_code == 0
    assert database_exists(db_path)


def test_another_applications_database_is_refused_and_left_untouched(db_path):
    with connect(db_path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER)")
    before = snapshot(db_path)
    result = run("init")
    assert (result.exit_code, result.stderr) == (2, f"error: {db_path}: not a loyaltyctl database "
                                                    "(it holds other tables)\n")
    assert snapshot(db_path) == before


def test_a_database_from_a_newer_loyaltyctl_is_refused_and_left_untouched(db_path):
    assert run("init").exit_code == 0
    with connect(db_path) as conn:
        conn.execute("INSERT INTO loyaltyctl_migrations (migration_set, name, applied_at)"
                     " VALUES ('loyaltyctl', 'm999_future', 'now')")
    before = snapshot(db_path)
    result = run("program", "list")
    assert result.exit_code == 2
    assert "database schema is newer than this loyaltyctl (migration m999_future)" in result.stderr
    assert snapshot(db_path) == before


def test_a_server_that_does_not_answer_is_one_line_without_the_password():
    url = "postgresql://till:s3cret@127.0.0.1:1/loyalty"
    result = run("--db", url, "balance", "-p", "shop", "M1")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: postgresql://till:***@127.0.0.1:1/loyalty: cannot connect: ")
    assert "s3cret" not in result.stderr and result.stderr.count("\n") == 1
    assert "Connection refused" in result.stderr and "\t" not in result.stderr  # the reason, on one line


@pytest.fixture
def till_role(db_path):
    """A login role of its own (the README's `till`), dropped afterwards with all it owns."""
    role = f"till_{uuid.uuid4().hex[:8]}"
    with connect(db_path) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
    yield role
    with connect(db_path) as conn:
        for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datdba = "
                                    "(SELECT oid FROM pg_roles WHERE rolname = %s)", [role]).fetchall():
            conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
        conn.execute(f"DROP ROLE {role}")


def test_a_role_without_rights_to_the_ledger_hears_what_it_lacks(db_path, till_role):
    assert run("init").exit_code == 0  # the server's owner made the tables: PostgreSQL 15 gives others none
    before = snapshot(db_path)
    result = run("--db", db_path.replace("postgres@", f"{till_role}@", 1), "program", "list")
    assert (result.exit_code, result.stderr) == (
        2, "error: permission denied (permission denied for table loyaltyctl_migrations); loyaltyctl's role "
           "needs its tables: make the database its own (createdb -O ROLE) or grant them\n")
    assert snapshot(db_path) == before


def test_a_database_made_for_the_role_is_one_it_can_init_and_use(tmp_path, db_path, till_role):
    """The README's recipe: `createdb -O till loyalty`, then every command as till."""
    database = f"loyalty_{till_role}"
    with connect(db_path) as conn:
        conn.execute(f"CREATE DATABASE {database} OWNER {till_role}")
    url = db_path.replace("postgres@", f"{till_role}@", 1).rsplit("/", 1)[0] + f"/{database}"
    assert run("--db", url, "init").exit_code == 0
    assert run("--db", url, "program", "apply", write(tmp_path / "club.toml", CLUB)).exit_code == 0
    assert run("--db", url, "member", "add", "-p", "club", "M1").exit_code == 0
    assert run("--db", url, "earn", "-p", "club", "M1", "25", "-r", "sale").exit_code == 0
    result = run("--db", url, "balance", "-p", "club", "M1", "--format", "json")
    assert (result.exit_code, json.loads(result.stdout)["points"]) == (0, 25)


def test_a_writer_of_one_program_does_not_wait_for_another_programs_writer(tmp_path, db_path):
    run("program", "apply", write(tmp_path / "club.toml", CLUB))
    run("program", "apply", write(tmp_path / "shop.toml", MINIMAL_PROGRAM))
    for program in ("club", "shop"):
        run("member", "add", "-p", program, "M1")
    with connect(db_path) as holder:  # a till of `club` in the middle of a write
        holder.execute("BEGIN")
        holder.execute("SELECT id FROM programs WHERE code = 'club' FOR UPDATE")
        started = time.monotonic()
        assert run("earn", "-p", "shop", "M1", "5", "-r", "x").exit_code == 0
        assert time.monotonic() - started < 5
        waiting = subprocess.Popen([sys.executable, "-m", "loyaltyctl", "--db", db_path, "earn", "-p", "club", "M1",
                                    "7", "-r", "y", "--format", "json"], stdout=subprocess.PIPE, text=True)
        time.sleep(1.5)
        assert waiting.poll() is None  # club's second till waits for the first
        holder.execute("COMMIT")
        out, _ = waiting.communicate(timeout=60)
    assert waiting.returncode == 0
    assert json.loads(out)["balance"] == 7
    assert run("db", "verify").exit_code == 0


def test_an_import_of_one_program_does_not_hold_up_another_programs_import(tmp_path, db_path):
    # `club` imports 20,000 rows (several seconds, refreshing the planner's statistics as it grows);
    # meanwhile `shop` imports 3 rows and is done long before.
    run("program", "apply", write(tmp_path / "club.toml", CLUB))
    run("program", "apply", write(tmp_path / "shop.toml", MINIMAL_PROGRAM))
    run("member", "import", "-p", "club", write(tmp_path / "m.csv", "member_id\n" + "".join(f"M{n}\n" for n in range(300))))
    run("member", "add", "-p", "shop", "S1")
    big = write(tmp_path / "big.csv", "txn_id,member_id,occurred_at,amount\n"
                + "".join(f"T{n},M{n % 300},2026-05-{1 + n % 28:02d}T12:00,12.00\n" for n in range(20_000)))
    small = write(tmp_path / "small.csv", "txn_id,member_id,occurred_at,amount\n"
                  + "".join(f"S{n},S1,2026-05-02T12:00,10.00\n" for n in range(3)))
    command = [sys.executable, "-m", "loyaltyctl", "--db", db_path, "txn", "import"]
    long_one = subprocess.Popen([*command, "-p", "club", str(big)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(3)  # well into its chunks, past its first statistics refresh
    short_one = subprocess.run([*command, "-p", "shop", str(small)], capture_output=True, text=True, timeout=60)
    assert short_one.returncode == 0, short_one.stderr
    assert long_one.poll() is None, "the long import ended first: the file is too small to show the overlap"
    assert long_one.wait(timeout=300) == 0, long_one.stderr.read()
    assert json.loads(run("balance", "-p", "shop", "S1", "--format", "json").stdout)["points"] == 30
    assert run("db", "verify").exit_code == 0


def test_every_bytea_column_goes_through_a_write_as_hex(club):
    """A write's rows go out as JSON (`PostgresStore._flush`): bytes reach a BYTEA column only as hex text."""
    from loyaltyctl.storage.postgres import _BYTES_COLUMNS

    with connect(club) as conn:
        found = {row[0] for row in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND data_type = 'bytea'")}
    assert found and found <= _BYTES_COLUMNS


@pytest.mark.parametrize("command", [
    ["txn", "import", "-p", "club", "{inbox}/sales.csv"],  # a program-wide write, pipelined
    ["expire", "-p", "club"],
    ["earn", "-p", "club", "M1", "5", "-r", "visit"],  # a posting
])
def test_a_read_only_database_refuses_a_write_in_one_line(club, tmp_path, command, caplog):
    """A write the server refuses ends its pipeline quietly: the user reads one line (psycopg's own
    'error ignored terminating <Pipeline>' warning came first), and nothing changes."""
    write(tmp_path / "sales.csv", "txn_id,member_id,occurred_at,amount\nT1,M1,2026-06-05T10:00,5.00\n")
    name = str(club).rsplit("/", 1)[1]
    with connect(club) as conn:
        conn.execute(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
    before = snapshot(club)
    result = run(*(arg.format(inbox=tmp_path) for arg in command))
    assert result.exit_code == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {club}: the database is read-only (cannot execute ")
    assert line.endswith("in a read-only transaction); nothing was written (commands that only read it still work)")
    # pytest takes log records before they reach stderr, where a user reads them: none from psycopg
    assert [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")] == []
    assert snapshot(club) == before
