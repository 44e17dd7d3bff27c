"""What people read at an 80-column terminal: words, not keys; dates and kinds whole; one word for a boolean in
the table and the CSV; help that names what an option takes. (`--format json` documents are the SPEC's: unchanged.)"""

import csv
import io
import re

import pytest

from tests.cli.test_demo_and_help import COMMAND_HELP
from tests.conftest import run


@pytest.fixture(autouse=True)
def terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # Rich reads it as a terminal's width


def test_posting_tables_at_80_columns_keep_kinds_and_times_whole(shop):
    for member in ("M1", "M2"):
        assert run("member", "add", "-p", "shop", member).exit_code == 0
    assert run("earn", "-p", "shop", "M1", "100", "--reason", "welcome", "--at", "2026-06-01T09:30").exit_code == 0
    moved = run("transfer", "-p", "shop", "M1", "M2", "30", "--at", "2026-06-02T14:05").stdout.splitlines()
    assert moved[4:6] == ["│     2 │ M1     │ transfer out │    -30 │ 2026-06-02 14:05 │ to M2   │       │",
                          "│     3 │ M2     │ transfer in  │     30 │ 2026-06-02 14:05 │ from M1 │       │"]
    undone = run("reverse", "-p", "shop", "2", "--reason", "undone at the counter: the customer changed her mind",
                 "--at", "2026-06-03T10:00").stdout.splitlines()
    # 80 columns: the reason wraps between its words, the time and the kind stay on their line
    assert undone[4:6] == ["│     4 │ M1     │ reverse │     30 │ 2026-06-03 10:00 │ undone at the │       │",
                           "│       │        │         │        │                  │ counter: the  │       │"]
    assert max(len(line) for line in undone) == 80
    assert undone[-1] == "M1 now has 100 points (100 available)"  # 100 - 30 + 30


def test_records_show_words_and_one_point_reads_as_one(shop):
    added = run("member", "add", "-p", "shop", "M1", "--name", "Ann Lee", "--accepts-marketing", "yes").stdout
    assert "│ signup bonus points │ 0" in added and "│ accepts marketing   │ yes" in added and "_" not in added
    adjusted = run("adjust", "-p", "shop", "M1", "1", "--reason", "a point").stdout
    assert adjusted.splitlines()[-1] == "M1 now has 1 point (1 available)"
    assert "│ earning     │ 1 point per 1.00, rounding floor" in run("program", "show", "shop").stdout


def test_a_boolean_is_the_same_word_in_the_table_and_the_csv(shop):
    assert run("member", "add", "-p", "shop", "M1", "--accepts-marketing", "yes").exit_code == 0
    assert run("member", "add", "-p", "shop", "M2", "--accepts-marketing", "no").exit_code == 0
    rows = csv.DictReader(io.StringIO(run("member", "list", "-p", "shop", "--format", "csv").stdout))
    assert [(row["member_id"], row["accepts_marketing"]) for row in rows] == [("M1", "yes"), ("M2", "no")]
    assert "│ accepts marketing │ no " in run("member", "show", "-p", "shop", "M2").stdout


DATE_OPTIONS = ("--from", "--to", "--as-of", "--through", "--date", "--birthday", "--joined", "--inactive-since")


def test_help_says_path_for_the_database_and_date_wherever_a_date_is_taken():
    assert re.search(r"│ --db\s+PATH\s+Database: a file", run("--help").stdout)
    assert re.search(r"│ --db\s+PATH\s+Database: a file", COMMAND_HELP["demo"])
    taken = {f"{name} {option}": metavar for name, shown in COMMAND_HELP.items()
             for option, metavar in re.findall(r"^│ [ *]\s+(--[a-z-]+)(?:\s+-[a-zA-Z])?\s+(\S+)", shown, re.M)
             if option in DATE_OPTIONS}
    assert len(taken) >= 20, taken  # reports, statements, balances, expiry, periods, bonuses, members
    assert {where: metavar for where, metavar in taken.items() if metavar != "DATE"} == {}
    assert re.search(r"--period\s+MONTH\s", COMMAND_HELP["statement"])
