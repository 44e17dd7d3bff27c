"""Ctrl-C: one line saying what was and was not written, exit 130, never a traceback."""

import json
import sqlite3
import subprocess
import sys

import loyaltyctl.api
from loyaltyctl.cli import statement as statement_command
from tests.conftest import run, snapshot, write

# The CLI in a process of its own that gets a real SIGINT when the import meets its first bad row: by then
# the first chunk of 2,000 rows has been written inside the import's transaction. Ctrl-C is heeded as at a
# terminal even where the tests run in the background (whose shell started them ignoring SIGINT, and
# a process inherits that).
CTRL_C_AT_FIRST_BAD_ROW = (
    "import os, signal, sys\n"
    "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
    "from loyaltyctl.formats import csv_input\n"
    "csv_input.RejectWriter.add = lambda self, *row: os.kill(os.getpid(), signal.SIGINT)\n"
    "from loyaltyctl.cli import main\n"
    "sys.argv[1:] = sys.argv[2:]\n"
    "main()\n"
)


def test_ctrl_c_in_the_middle_of_an_import_writes_nothing(shop, db_path, tmp_path):
    assert run("member", "add", "-p", "shop", "M1").exit_code == 0
    rows = "".join(f"T{n},M1,2026-06-01T10:00,10.00\n" for n in range(2500))
    sales = write(tmp_path / "sales.csv", "txn_id,member_id,occurred_at,amount\n" + rows + "T9,M1,2026-06-01,1e3\n")
    before = snapshot(db_path)
    done = subprocess.run([sys.executable, "-c", CTRL_C_AT_FIRST_BAD_ROW, "loyaltyctl", "txn", "import", "-p", "shop",
                           str(sales)], capture_output=True, text=True, cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "interrupted: nothing was written\n")
    assert snapshot(db_path) == before
    assert not list(tmp_path.glob("*rejects*")), "a reject file (or its temporary file) was left"
    rerun = run("txn", "import", "-p", "shop", sales, "--format", "json")
    assert (rerun.exit_code, json.loads(rerun.stdout)["imported"]) == (3, 2500)  # the whole file, once


def test_a_drivers_error_as_it_stops_for_ctrl_c_is_not_what_it_says(shop, monkeypatch):
    """psycopg stopped mid-statement fails in turn as it cleans up ("another command is already in
    progress"): the news is still the Ctrl-C, not a lost connection or an internal error."""

    def cut_short(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise sqlite3.OperationalError("another command is already in progress")

    monkeypatch.setattr(loyaltyctl.api.Ledger, "liability", cut_short)
    result = run("report", "liability", "-p", "shop")
    assert (result.exit_code, result.stdout, result.stderr) == (130, "", "interrupted: nothing was written\n")


def test_ctrl_c_after_a_posting_was_committed_says_it_was_written(shop, db_path, monkeypatch):
    """A Ctrl-C while `earn` prints comes after its COMMIT: "nothing was written" would invite a second earn."""
    assert run("member", "add", "-p", "shop", "M1").exit_code == 0

    def stopped_while_printing(*args):
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr("loyaltyctl.formats.ledger.posted_view", stopped_while_printing)
        result = run("earn", "-p", "shop", "M1", "25", "--reason", "missed at till")
    assert (result.exit_code, result.stderr) == (
        130, f"interrupted: {db_path} had been written to before it stopped; what was written is kept\n")
    assert json.loads(run("balance", "-p", "shop", "M1", "--format", "json").stdout)["points"] == 25


def test_ctrl_c_in_statement_all_says_which_files_are_there(shop, db_path, tmp_path, monkeypatch):
    for member in ("M1", "M2", "M3"):
        assert run("member", "add", "-p", "shop", member).exit_code == 0
        assert run("earn", "-p", "shop", member, "10", "--reason", "welcome").exit_code == 0
    written = []

    def second_stops(statement):
        if written:
            raise KeyboardInterrupt
        written.append(statement.member.member_id)
        return "<p>statement</p>"

    monkeypatch.setitem(statement_command.RENDERERS, statement_command.StatementFormat.html, second_stops)
    before = snapshot(db_path)
    out = tmp_path / "june"
    result = run("statement", "-p", "shop", "--all", "--out-dir", out)
    assert (result.exit_code, result.stderr) == (
        130, f"interrupted: the statements written so far are whole files in {out}, the rest and its index.csv were "
             "not written; the database was not changed (run it again to write them all)\n")
    assert sorted(path.name for path in out.iterdir()) == ["M1.html"]  # no index.csv, no temporary file
    assert snapshot(db_path) == before
