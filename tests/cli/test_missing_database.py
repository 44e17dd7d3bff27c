"""A path with no database behind it (SPEC "Missing database"): only init, demo and program apply create one.

Everything else exits 2 with one line and leaves the folder as it was, so a
mistyped --db (or LOYALTYCTL_DB) in a cron line fails loudly instead of
starting an empty ledger.
"""

import os

import pytest

from tests.conftest import MINIMAL_PROGRAM, run, write

pytestmark = pytest.mark.sqlite_only  # files; an empty PostgreSQL database: tests/storage/test_postgres.py

TXN_CSV = "txn_id,member_id,occurred_at,amount\nT1,M1,2026-06-01T10:00,12.00\n"

COMMANDS = {
    "balance": ["balance", "-p", "shop", "M1"],
    "earn": ["earn", "-p", "shop", "M1", "10", "--reason", "welcome"],
    "redeem": ["redeem", "-p", "shop", "M1", "--points", "5"],
    "txn import": ["txn", "import", "-p", "shop", "sales.csv"],
    "expire": ["expire", "-p", "shop"],
    "statement": ["statement", "-p", "shop", "M1"],
    "report liability": ["report", "liability", "-p", "shop"],
    "report journal": ["report", "journal", "-p", "shop", "--from", "2026-01-01", "--to", "2026-01-31"],
    "member add": ["member", "add", "-p", "shop", "M1"],
    "member list": ["member", "list", "-p", "shop"],
    "program list": ["program", "list"],
    "program show": ["program", "show", "shop"],
    "period close": ["period", "close", "-p", "shop", "--through", "2026-01-31"],
    "db verify": ["db", "verify"],
    "db backup": ["db", "backup", "copy.db"],
    "bonus birthday": ["bonus", "birthday", "-p", "shop"],
}


@pytest.fixture
def folder(tmp_path):
    """The working folder, holding only the CSV that `txn import` reads."""
    write(tmp_path / "sales.csv", TXN_CSV)
    return tmp_path


def missing(path) -> str:
    return f"error: no loyaltyctl database at {path}; `loyaltyctl init` creates one\n"


@pytest.mark.parametrize("name", COMMANDS)
def test_a_command_on_a_missing_db_path_exits_2_and_creates_nothing(folder, name):
    before = sorted(os.listdir(folder))
    result = run("--db", "typo.db", *COMMANDS[name])
    assert (result.exit_code, result.stderr) == (2, missing("typo.db"))
    assert sorted(os.listdir(folder)) == before


@pytest.mark.parametrize("name", COMMANDS)
def test_loyaltyctl_db_naming_a_missing_file_is_the_same_error(folder, name, monkeypatch):
    monkeypatch.setenv("LOYALTYCTL_DB", str(folder / "typo.db"))
    before = sorted(os.listdir(folder))
    result = run(*COMMANDS[name])
    assert (result.exit_code, result.stderr) == (2, missing(folder / "typo.db"))
    assert sorted(os.listdir(folder)) == before


def test_the_default_path_is_not_created_either(folder, monkeypatch):
    monkeypatch.delenv("LOYALTYCTL_DB")
    result = run("balance", "-p", "shop", "M1")
    assert (result.exit_code, result.stderr) == (2, missing("loyalty.db"))
    assert sorted(os.listdir(folder)) == ["sales.csv"]


def test_a_missing_folder_is_the_same_error(folder):
    result = run("--db", folder / "no-such-folder" / "loyalty.db", "program", "list")
    assert (result.exit_code, result.stderr) == (2, missing(folder / "no-such-folder" / "loyalty.db"))
    assert sorted(os.listdir(folder)) == ["sales.csv"]


@pytest.mark.parametrize("creating", [["init"], ["program", "apply", "shop.toml"], ["demo"]],
                         ids=["init", "program apply", "demo"])
def test_init_program_apply_and_demo_create_the_database(folder, creating):
    write(folder / "shop.toml", MINIMAL_PROGRAM)
    result = run("--db", "new.db", *creating)
    assert result.exit_code == 0, result.stderr
    assert (folder / "new.db").is_file()
    assert run("--db", "new.db", "db", "verify").exit_code == 0


def test_once_init_has_run_the_other_commands_work(folder):
    assert run("--db", "new.db", "init").exit_code == 0
    result = run("--db", "new.db", "program", "list", "--format", "json")
    assert (result.exit_code, result.stdout) == (0, "[]\n")
