import sqlite3
import subprocess
import sys

import pytest

from tests.cli.test_ledger_cli import CLUB, post
from tests.conftest import change, query, run, write


@pytest.fixture
def ledger(tmp_path):
    run("program", "apply", write(tmp_path / "club.toml", CLUB))
    run("member", "add", "-p", "club", "M1")
    run("member", "add", "-p", "club", "M2")
    post("earn", "-p", "club", "M1", "300", "-r", "a", "--at", "2026-01-05")
    post("earn", "-p", "club", "M2", "40", "-r", "a", "--at", "2025-02-01")
    post("redeem", "-p", "club", "M1", "--reward", "ten-off")
    post("transfer", "-p", "club", "M1", "M2", "50")
    post("adjust", "-p", "club", "M2", "-80", "-r", "b")
    post("expire", "-p", "club")


@pytest.mark.citus
def test_verify_passes_on_an_untouched_ledger(ledger):
    result = run("db", "verify", "--format", "json")
    assert result.exit_code == 0
    verified = json_of(result)
    sealed = verified.pop("seals")  # the `expire` run sealed the club's ledger: its digest, to keep elsewhere
    assert verified == {"ok": True, "entries": 7, "first_bad_entry": None, "problems": []}
    assert list(sealed) == ["club"] and len(bytes.fromhex(sealed["club"])) == 32


def json_of(result):
    import json

    return json.loads(result.stdout)


@pytest.mark.sqlite_only  # PostgreSQL's: tests/storage/test_postgres.py
def test_entries_cannot_be_changed_through_sql(ledger, db_path):
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="ledger entries are append-only"):
        conn.execute("UPDATE entries SET points = 999 WHERE id = 2")
    with pytest.raises(sqlite3.IntegrityError, match="ledger entries are append-only"):
        conn.execute("DELETE FROM entries WHERE id = 2")


@pytest.mark.sqlite_only  # PostgreSQL's: tests/storage/test_postgres.py
def test_an_edit_behind_the_tools_back_is_found(ledger, db_path):
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER entries_no_update")
    conn.execute("UPDATE entries SET points = -10 WHERE id = 2")
    conn.commit()
    conn.close()
    result = run("db", "verify", "--format", "json")
    assert result.exit_code == 1
    assert json_of(result)["first_bad_entry"] == 2
    assert result.stderr.splitlines()[0] == "error: entry 2: member M2: its content or position does not match the hash chain"


@pytest.mark.citus
def test_a_lot_changed_behind_the_tools_back_is_found(ledger, db_path):
    lot = query("SELECT min(id) FROM lots")[0][0]
    change(db_path, f"UPDATE lots SET remaining = remaining + 5 WHERE id = {lot}")
    result = run("db", "verify")
    assert result.exit_code == 1
    assert f"error: lot {lot}: " in result.stderr


def test_a_week_total_changed_behind_the_tools_back_is_found(ledger, db_path):
    # the earn of 300 on Monday 2026-01-05 lies in Unix week 2922, which starts on Thursday
    # 2026-01-01 00:00 UTC (2,922 x 604,800 = 1,767,225,600) and ends a week later
    program, week = query("SELECT program_id, min(week) FROM entry_totals WHERE points = 300 GROUP BY 1")[0]
    assert week == 2922
    change(db_path, f"UPDATE entry_totals SET points = 299 WHERE program_id = {program} AND week = {week}")
    result = run("db", "verify")
    assert result.exit_code == 1
    assert (f"error: program {program}, week 2922: totals of (299, 1) (points, entries), "
            "but its 1 entries sum to 300") in result.stderr


def test_backup_is_a_working_copy_and_will_not_overwrite(ledger, tmp_path):
    copy = tmp_path / "copy.db"
    assert run("db", "backup", copy).exit_code == 0
    assert run("--db", copy, "db", "verify").exit_code == 0
    assert json_of(run("--db", copy, "balance", "-p", "club", "M1", "--format", "json"))["points"] == 150
    again = run("db", "backup", copy)
    assert (again.exit_code, again.stderr) == (2, f"error: {copy}: already exists; choose a new file name\n")


def test_backup_while_another_process_writes(ledger, db_path, tmp_path):
    writer = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys\nfrom loyaltyctl.cli import app\n"
            "for i in range(30):\n"
            "    try: app(['--db', sys.argv[1], 'earn', '-p', 'club', 'M1', '1', '-r', 'tick'])\n"
            "    except SystemExit: pass\n"
        ), str(db_path)],
        stdout=subprocess.DEVNULL,
    )
    copies = []
    for n in range(3):
        copies.append(tmp_path / f"b{n}.db")
        assert run("db", "backup", copies[-1]).exit_code == 0
    writer.wait(timeout=60)
    for copy in copies:
        assert run("--db", copy, "db", "verify").exit_code == 0


def test_backup_into_a_missing_folder_is_bad_usage(ledger, tmp_path):
    target = tmp_path / "nowhere" / "copy.db"
    result = run("db", "backup", target)
    assert (result.exit_code, result.stderr) == (2, f"error: {target}: cannot create the file: "
                                                    f"there is no folder {target.parent}\n")


def behind_the_tools_back(location, *statements: str) -> None:
    """Change the ledger as a superuser with a SQL shell could: with the append-only triggers off."""
    if str(location).startswith("postgresql://"):
        import psycopg

        with psycopg.connect(str(location)) as conn:  # one transaction
            if conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'citus'").fetchone()[0]:
                conn.execute("SET LOCAL citus.propagate_set_commands TO 'local'")  # the SET below on the workers too
            conn.execute("SET LOCAL session_replication_role = replica")  # user triggers and foreign keys off
            for statement in statements:
                conn.execute(statement)
        return
    conn = sqlite3.connect(location)
    for trigger in ("entries_no_update", "entries_no_delete", "seals_no_update", "seals_no_delete",
                    "seal_heads_no_update", "seal_heads_no_delete", "voucher_uses_no_update", "voucher_uses_no_delete"):
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    conn.close()


def verify_problem(expected_entry=None) -> str:
    result = run("db", "verify", "--format", "json")
    assert result.exit_code == 1
    verified = json_of(result)
    assert (verified["ok"], verified["first_bad_entry"]) == (False, expected_entry)
    return verified["problems"][0]


def member_row(member_id: str) -> int:
    return query("SELECT id FROM members WHERE member_id = ?", [member_id])[0][0]


# The ledger fixture's chains, entry ids in posting order: M1: 1 earn, 3 redeem, 4 transfer out;
# M2: 2 earn (2025-02-01), 5 transfer in, 6 adjust, 7 the expiry of entry 2's points on 2026-02-01.


def test_an_entry_removed_from_a_members_chain_is_found(ledger, db_path):
    second = query("SELECT id FROM entries WHERE member = ? AND seq = 2", [member_row("M1")])[0][0]
    behind_the_tools_back(db_path, f"DELETE FROM entries WHERE id = {second}")
    assert verify_problem(second + 1) == (f"entry {second + 1}: member M1's entry number 3 follows number 1 "
                                          "(an entry was removed, inserted or moved)")


def test_an_entry_inserted_with_a_forged_digest_is_found(ledger, db_path):
    m2 = member_row("M2")
    behind_the_tools_back(db_path,
        f"""INSERT INTO entries (id, program_id, member, seq, kind, points, effective_at, recorded_at, hash)
            SELECT 999, program_id, member, 99, 'adjust', 500, effective_at, recorded_at, hash
            FROM entries WHERE member = {m2} AND seq = 1""")
    assert verify_problem(999) == "entry 999: member M2's entry number 99 follows number 4 (an entry was removed, " \
                                  "inserted or moved)"


def test_a_members_history_removed_with_their_head_is_found_against_the_seal(ledger, db_path):
    """Rewriting a member's row to match a cut chain passes the chain check; the seal still names the
    entries that were there when it was made."""
    m2 = member_row("M2")
    behind_the_tools_back(db_path, f"DELETE FROM entries WHERE member = {m2}",
                          f"UPDATE members SET head_seq = 0, head_hash = NULL WHERE id = {m2}")
    assert verify_problem().startswith("member M2: entry number 4, sealed by seal")


@pytest.mark.citus
def test_a_rewritten_seal_is_found_and_the_digest_to_keep_changes(ledger, db_path):
    kept = json_of(run("db", "seal", "--format", "json"))["seals"]["club"]  # nothing new: the expiry run's seal stands
    assert json_of(run("db", "verify", "--format", "json"))["seals"]["club"] == kept
    behind_the_tools_back(db_path, "UPDATE seal_heads SET seq = seq - 1 WHERE seq > 1")
    assert verify_problem().endswith("does not match what it records (seals changed or removed?)")


def test_a_kept_balance_changed_is_found(ledger, db_path):
    behind_the_tools_back(db_path, "UPDATE members SET kept_points = kept_points + 50 WHERE kept_at IS NOT NULL")
    result = run("db", "verify", "--format", "json")
    assert result.exit_code == 1
    assert any(problem.startswith("member M") and "keeps" in problem for problem in json_of(result)["problems"])


@pytest.mark.citus
def test_db_seal_seals_what_grew_since(ledger):
    before = json_of(run("db", "verify", "--format", "json"))["seals"]["club"]
    post("earn", "-p", "club", "M1", "5", "-r", "after the seal")
    assert json_of(run("db", "verify", "--format", "json"))["seals"]["club"] == before  # not sealed yet
    sealed = json_of(run("db", "seal", "--format", "json"))["seals"]["club"]
    assert sealed != before and json_of(run("db", "verify", "--format", "json"))["seals"]["club"] == sealed
    assert run("db", "verify").exit_code == 0


def _quoted_points(amount: str) -> int:
    result = run("quote", "-p", "club", "M1", amount, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json_of(result)["points"]


def test_a_compiled_program_changed_behind_the_tools_back_is_found_and_one_of_another_format_is_not_read(ledger, db_path):
    # the club earns 1 point a dollar; its version 1 compiled to say 5 is what commands read, and verify
    # says it is not what the TOML says; tagged with another format, it is not read at all
    assert _quoted_points("20.00") == 20
    compiled = query("SELECT compiled FROM program_versions WHERE version = 1")[0][0]
    assert '"points_per_unit":"1"' in compiled
    tampered = compiled.replace('"points_per_unit":"1"', '"points_per_unit":"5"')
    change(db_path, f"UPDATE program_versions SET compiled = '{tampered}' WHERE version = 1")
    assert _quoted_points("20.00") == 100
    result = run("db", "verify")
    assert result.exit_code == 1
    program = query("SELECT id FROM programs WHERE code = 'club'")[0][0]
    assert f"error: program {program} version 1: its compiled form differs from its definition" in result.stderr
    change(db_path, "UPDATE program_versions SET compiled_by = 'program/0' WHERE version = 1")
    assert _quoted_points("20.00") == 20
    assert run("db", "verify").exit_code == 0
