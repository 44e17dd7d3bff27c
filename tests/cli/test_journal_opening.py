"""Journals that open a book: started on any day, extended month by month, the liability agrees with the report.

`report journal` with declarations (the default) starts with one transaction on the `--from` day that
moves the opening liability from `[accounting] opening` (default Equity:Opening-Balances) into the
liability account. The amount is the roll-forward's opening liability, which is *net* of points members
owe (the basis every movement is posted on), so it is `report liability --as-of (from - 1 day)`'s
`net_liability`, not its `gross_liability`. The two differ at the end of February in the scenario of
tests/cli/test_accounting.py (whose fixtures these tests reuse): D owes 30 points.

Net liability at each month end, from that scenario (0.015 a point; the liability account, a credit, shows
the negative of it):
  01-31  910 points        13.65
  02-28  470 held - 30 owed = 440: 6.60 (gross 7.05)
  03-31  416               6.24
  04-30  416 - 60 (BD expires 04-14) - 30 (T5 expires 04-25) = 326: 4.89
Hand-worked, the book started on 2026-02-01: the opening entry is the end of January's 910 x 0.015 = 13.65
(Equity:Opening-Balances debit, liability credit). February's movements: bonus 0.90 + earn 0.45 - redeemed
4.50 - expired 0.60 - donated 1.50 - adjusted 1.80 = -7.05, so the account stands at -(13.65 - 7.05) = -6.60
at the end of February: the net liability (the gross 7.05 would be 0.45 off, D's 30 points owed).
"""

import csv
import io
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli.test_accounting import (  # noqa: F401  (books, built_scenarios and scenario are fixtures)
    EXPIRY,
    LIABILITY,
    OPENING,
    PROGRAM,
    books,
    built_scenarios,
    liability,
    ok,
    scenario,
)
from tests.conftest import write

needs_hledger = pytest.mark.skipif(
    shutil.which("hledger") is None and not os.environ.get("CI"),
    reason="hledger is not installed (.ci/run installs it; under CI this test runs regardless)")

NET_LIABILITY = {"2026-01-31": "13.65", "2026-02-28": "6.60", "2026-03-31": "6.24", "2026-04-30": "4.89"}
LATER_MONTHS = (("2026-02-01", "2026-02-28"), ("2026-03-01", "2026-03-31"), ("2026-04-01", "2026-04-30"))
# Where a book starts: its first period runs to the end of that month, then month by month to April.
# 2026-02-15 opens at the end of 02-14: 910 - 300 redeemed (02-05) - 40 expired (02-10) + 60 birthday bonus
# (02-14) = 630 points, 9.45.
STARTS = {"january": ("2026-01-01", "2026-01-31"), "february": ("2026-02-01", "2026-02-28"),
          "mid-february": ("2026-02-15", "2026-02-28"), "march": ("2026-03-01", "2026-03-31")}


def periods_from(first: tuple[str, str]) -> list[tuple[str, str]]:
    return [first] + [period for period in LATER_MONTHS if period[0] > first[1]]


def journal(start: str, end: str, fmt: str, *extra: str) -> str:
    return ok("report", "journal", "-p", "acct", "--from", start, "--to", end, "--format", fmt, *extra).stdout


def book(folder: Path, fmt: str, periods: list[tuple[str, str]]) -> Path:
    """The first period's journal with its declarations (and opening), the later ones with --no-declarations."""
    parts = [journal(*period, fmt, *(["--no-declarations"] if i else [])) for i, period in enumerate(periods)]
    path = folder / f"book.{fmt}"
    path.write_text("\n".join(parts))
    return path


def day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def hledger_balance(path: Path, account: str, end: str) -> Decimal:
    """`hledger balance ACCOUNT --end NEXTDAY`: the account's balance at the end of `end`."""
    result = subprocess.run(["hledger", "-f", str(path), "balance", account, "--end", day_after(end), "-N", "-E",
                             "-O", "csv"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = {row["account"]: row["balance"] for row in csv.DictReader(io.StringIO(result.stdout))}
    return Decimal(rows[account].split()[0])


def bean_check(path: Path) -> None:
    bean_check = Path(sys.executable).with_name("bean-check")
    checked = subprocess.run([str(bean_check), str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def beancount_balance(path: Path, account: str, end: str) -> Decimal:
    """What bean-query's `SELECT sum(position) WHERE account = ACCOUNT AND date <= END` gives, from beancount's
    own loader and realization (bean-query is a separate package; beancount itself is a test dependency)."""
    from beancount import loader
    from beancount.core import realization

    entries, errors, _ = loader.load_file(str(path))
    assert errors == [], [e.message for e in errors]
    real = realization.realize([e for e in entries if e.date <= date.fromisoformat(end)])
    return realization.compute_balance(realization.get(real, account)).get_currency_units("USD").number


@pytest.mark.parametrize("first", list(STARTS.values()), ids=list(STARTS))
def test_a_beancount_book_started_on_any_day_holds_the_net_liability_at_every_month_end(books, first):
    path = book(books, "beancount", periods_from(first))
    bean_check(path)
    for _, end in periods_from(first):
        net = liability(end)["net_liability"]
        assert net == NET_LIABILITY[end], end
        assert beancount_balance(path, LIABILITY, end) == -Decimal(net), end


@needs_hledger
@pytest.mark.parametrize("first", list(STARTS.values()), ids=list(STARTS))
def test_an_hledger_book_started_on_any_day_holds_the_net_liability_at_every_month_end(books, first):
    path = book(books, "ledger", periods_from(first))
    checked = subprocess.run(["hledger", "-f", str(path), "check", "accounts", "commodities", "ordereddates"],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    for _, end in periods_from(first):
        net = liability(end)["net_liability"]
        assert net == NET_LIABILITY[end], end
        assert hledger_balance(path, LIABILITY, end) == -Decimal(net), end


def test_a_csv_book_started_on_any_day_holds_the_net_liability_at_every_month_end(books):
    parts = [journal(*period, "csv", *(["--no-declarations"] if i else []))
             for i, period in enumerate(periods_from(STARTS["mid-february"]))]
    rows = [row for part in parts for row in csv.DictReader(io.StringIO(part))]
    for _, end in periods_from(STARTS["mid-february"]):
        balance = sum(Decimal(r["debit"] or 0) - Decimal(r["credit"] or 0)
                      for r in rows if r["account"] == LIABILITY and r["date"] <= end)
        assert balance == -Decimal(liability(end)["net_liability"]), end


def test_the_opening_is_the_net_liability_of_the_day_before_not_the_gross(books):
    # End of 02-28: 470 held (7.05 gross), D owes 30: net 440 = 6.60, the March book's opening.
    before = liability("2026-02-28")
    assert (before["gross_liability"], before["net_liability"], before["net_points"]) == ("7.05", "6.60", 440)
    text = journal("2026-03-01", "2026-03-31", "ledger")
    assert ("2026-03-01 acct: opening balance of the liability (440 points)  ; points: 440\n"
            f"    {OPENING:<28}{'6.60':>16} USD\n"
            f"    {LIABILITY:<28}{'-6.60':>16} USD\n") in text
    text = journal("2026-03-01", "2026-03-31", "beancount")
    assert (f'2026-03-01 open {OPENING} USD\n' in text
            and '2026-03-01 * "loyaltyctl" "acct: opening balance of the liability (440 points)"\n'
                "  points: 440\n"
                f"  {OPENING:<28}{'6.60':>16} USD\n"
                f"  {LIABILITY:<28}{'-6.60':>16} USD\n" in text)


def test_the_csv_journal_opens_with_the_opening_balance_as_entry_one(books):
    rows = list(csv.DictReader(io.StringIO(journal("2026-03-01", "2026-03-31", "csv"))))
    narration = "acct: opening balance of the liability (440 points)"
    assert [list(r.values()) for r in rows[:2]] == [
        ["2026-03-01", "1", narration, OPENING, "6.60", "", "USD", "440"],
        ["2026-03-01", "1", narration, LIABILITY, "", "6.60", "USD", "440"]]
    assert [r for r in rows if r["entry"] == "1"] == rows[:2]


@pytest.mark.parametrize("fmt", ["csv", "beancount", "ledger"])
def test_no_declarations_means_no_opening(books, fmt):
    text = journal("2026-03-01", "2026-03-31", fmt, "--no-declarations")
    assert "opening balance" not in text and OPENING not in text
    assert "opening balance of the liability (440 points)" in journal("2026-03-01", "2026-03-31", fmt)


@pytest.mark.parametrize("fmt", ["csv", "beancount", "ledger"])
def test_a_book_opened_before_the_first_entry_has_no_opening_transaction(books, fmt):
    # Nothing was posted before O0 on 2024-11-15: the opening liability is 0.00, and a zero entry would be noise.
    text = journal("2024-11-01", "2024-11-30", fmt)
    assert "opening balance of the liability" not in text
    assert (OPENING in text) == (fmt != "csv")  # still declared, like every account the program names


def test_the_opening_account_comes_from_the_program(books, tmp_path):
    custom = "Equity:Loyalty:Opening"
    ok("program", "apply", write(tmp_path / "v3.toml", PROGRAM.format(effective_from="2026-04-01", expiry=EXPIRY)
                                 + f'opening = "{custom}"\n'))
    text = journal("2026-04-01", "2026-04-30", "ledger")
    # End of 03-31: 416 points, 6.24
    assert f"account {custom}\n" in text and OPENING not in text
    assert (f"2026-04-01 acct: opening balance of the liability (416 points)  ; points: 416\n"
            f"    {custom:<28}{'6.24':>16} USD\n") in text
    exported = ok("program", "export", "acct").stdout
    assert f'opening = "{custom}"' in exported
