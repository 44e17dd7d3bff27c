"""`report journal --format qbo|xero|sage50|iif`: each file read back as the package would, journal by journal.

One member, points at 0.01, lots expiring after a month; the book starts on 2026-05-01:
  04-20  earns 300 (before the book: the opening, 3.00; the lot expires 05-20)
  05-05  earns 200 (expires 06-05)                                        +2.00
  05-10  redeems 100 points, from the April lot (soonest to expire)        -1.00
  05-12  adjusted -10, from the April lot                                  -0.10
  05-20  the April lot's last 190 expire                                   -1.90
Closing: the May lot's 200 points, 2.00 = `report liability --as-of 2026-05-31`'s net liability. Five journals:
the opening (05-01), then one a day and kind.
"""

import csv
import io
import json
from collections import defaultdict
from decimal import Decimal

import pytest

from tests.conftest import ok, run, write

PROGRAM = """\
[program]
code = "shop"
name = "Shop"
currency = "{currency}"
timezone = "America/New_York"
point_value = "0.01"
effective_from = 2026-01-01

[earn]
points_per_unit = "1"

[expiry]
policy = "lot"
months = 1

[accounting]
breakage = "Income:Loyalty:Breakage"
{packages}"""
CODES = """
[accounting.xero]
liability = "2150"
expense = "6150"
redemptions = "6160"
breakage = "4150"
opening = "3000"
tax_rate = "BAS Excluded"

[accounting.sage50]
liability = "2110"
expense = "7900"
redemptions = "7901"
breakage = "4900"
opening = "3260"
"""
MAY = ("--from", "2026-05-01", "--to", "2026-05-31")


@pytest.fixture
def shop(tmp_path):
    ok("program", "apply", write(tmp_path / "shop.toml", PROGRAM.format(currency="USD", packages=CODES)))
    ok("member", "add", "-p", "shop", "A", "--joined", "2026-04-01")
    ok("earn", "-p", "shop", "A", "300", "--reason", "r", "--at", "2026-04-20T10:00")
    ok("earn", "-p", "shop", "A", "200", "--reason", "r", "--at", "2026-05-05T10:00")
    ok("redeem", "-p", "shop", "A", "--points", "100", "--at", "2026-05-10T10:00")
    ok("adjust", "-p", "shop", "A", "-10", "--reason", "double-counted", "--at", "2026-05-12T10:00")
    liability = json.loads(ok("report", "liability", "-p", "shop", "--as-of", "2026-05-31", "-f", "json").stdout)
    assert liability["net_liability"] == "2.00"
    return tmp_path


def journal(fmt, *extra):
    return ok("report", "journal", "-p", "shop", *MAY, "--format", fmt, *extra).stdout


def check_journals(journals: dict, liability_account: str) -> None:
    """Five journals, each balancing to the cent; the liability account ends at the report's 2.00, a credit."""
    assert len(journals) == 5
    for lines in journals.values():
        assert sum(amount for _, amount in lines) == 0
    held = -sum(amount for lines in journals.values() for account, amount in lines if account == liability_account)
    assert held == Decimal("2.00")


def test_quickbooks_online_journal_entries(shop):
    rows = list(csv.DictReader(io.StringIO(journal("qbo"))))
    assert list(rows[0]) == ["Journal No", "Journal Date", "Account Name", "Debits", "Credits", "Description", "Name"]
    journals = defaultdict(list)
    for row in rows:
        assert bool(row["Debits"]) != bool(row["Credits"])  # one of them per line
        amount = Decimal(row["Debits"] or "0") - Decimal(row["Credits"] or "0")
        journals[row["Journal No"]].append((row["Account Name"], amount))
    assert list(journals) == ["LC-20260501-1", "LC-20260505-1", "LC-20260510-1", "LC-20260512-1", "LC-20260520-1"]
    assert rows[0]["Journal Date"] == "05/01/2026" and rows[0]["Account Name"] == "Equity:Opening-Balances"
    assert rows[0]["Debits"] == "3.00"
    check_journals(journals, "Liabilities:Loyalty:Points")


def test_xero_manual_journals_post_to_account_codes(shop):
    rows = list(csv.DictReader(io.StringIO(journal("xero"))))
    journals = defaultdict(list)
    for row in rows:
        assert row["*TaxRate"] == "BAS Excluded"
        journals[(row["*Narration"], row["*Date"])].append((row["*AccountCode"], Decimal(row["*Amount"])))
    assert [date for _, date in journals] == ["01/05/2026", "05/05/2026", "10/05/2026", "12/05/2026", "20/05/2026"]
    assert journals[("shop: points expired (-190 points)", "20/05/2026")] == [("2150", Decimal("1.90")),
                                                                             ("4150", Decimal("-1.90"))]
    check_journals(journals, "2150")


def test_sage_50_audit_trail_journal_debits_and_credits(shop):
    rows = list(csv.DictReader(io.StringIO(journal("sage50"))))
    journals = defaultdict(list)
    for row in rows:
        assert (row["Tax Code"], row["Tax Amount"]) == ("T9", "0.00")
        sign = {"JD": 1, "JC": -1}[row["Type"]]
        journals[row["Reference"]].append((row["Nominal A/C Ref"], sign * Decimal(row["Net Amount"])))
    assert rows[0]["Date"] == "01/05/2026" and rows[0]["Nominal A/C Ref"] == "3260"
    check_journals(journals, "2110")


def test_quickbooks_desktop_iif_transactions(shop):
    lines = journal("iif").splitlines()
    assert lines[:3] == ["!TRNS\tTRNSID\tTRNSTYPE\tDATE\tACCNT\tNAME\tAMOUNT\tDOCNUM\tMEMO",
                         "!SPL\tSPLID\tTRNSTYPE\tDATE\tACCNT\tNAME\tAMOUNT\tDOCNUM\tMEMO", "!ENDTRNS"]
    journals, current = {}, None
    for line in lines[3:]:
        cells = line.split("\t")
        if cells[0] == "TRNS":
            current = cells[7]
            journals[current] = []
        if cells[0] in ("TRNS", "SPL"):
            assert (cells[2], cells[3][-4:]) == ("GENERAL JOURNAL", "2026")
            journals[current].append((cells[4], Decimal(cells[6])))
    assert lines.count("ENDTRNS") == 5
    assert lines[3].split("\t")[3:5] == ["05/01/2026", "Equity:Opening-Balances"]
    check_journals(journals, "Liabilities:Loyalty:Points")


def test_without_its_codes_xero_is_refused_naming_the_keys_to_set(tmp_path):
    ok("program", "apply", write(tmp_path / "shop.toml", PROGRAM.format(currency="USD", packages="")))
    ok("member", "add", "-p", "shop", "A")
    ok("earn", "-p", "shop", "A", "300", "--reason", "r", "--at", "2026-05-20T10:00")
    result = run("report", "journal", "-p", "shop", *MAY, "--format", "xero")
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: --format xero posts to account codes: set [accounting.xero] liability, "
                                     "[accounting.xero] expense (the account code of Liabilities:Loyalty:Points)")
    assert run("report", "journal", "-p", "shop", *MAY, "--format", "qbo").exit_code == 0  # names: as they are


def test_a_currency_with_three_decimals_is_refused(tmp_path):
    ok("program", "apply", write(tmp_path / "shop.toml", PROGRAM.format(currency="KWD", packages="")))
    result = run("report", "journal", "-p", "shop", *MAY, "--format", "qbo")
    assert result.exit_code == 2 and "at most 2 decimals; KWD has 3" in result.stderr


def test_a_range_without_movements_is_a_file_of_headers(shop):
    empty = ok("report", "journal", "-p", "shop", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "sage50")
    assert empty.stdout.splitlines() == [
        "Type,Account Reference,Nominal A/C Ref,Department Code,Date,Reference,Details,Net Amount,Tax Code,Tax Amount"]


def test_xero_files_split_at_300_lines_never_inside_a_journal(shop, tmp_path):
    # 151 days of purchases, and their lots expiring a month later: hundreds of journals of 2 lines
    rows = "".join(f"T{n},A,2026-{6 + n // 30:02d}-{1 + n % 30:02d}T10:00,5.00\n" for n in range(151))
    ok("txn", "import", "-p", "shop", write(tmp_path / "sales.csv", "txn_id,member_id,occurred_at,amount\n" + rows))
    period = ("--from", "2026-05-21", "--to", "2026-11-30")
    refused = run("report", "journal", "-p", "shop", *period, "--format", "xero")
    assert refused.exit_code == 2 and "give -o FILE.csv" in refused.stderr
    ok("report", "journal", "-p", "shop", *period, "--format", "xero", "-o", tmp_path / "june.csv")
    files = sorted(tmp_path.glob("june*.csv"), key=lambda path: (len(path.name), path.name))
    read = [list(csv.DictReader(open(path, newline=""))) for path in files]
    postings = len(ok("report", "journal", "-p", "shop", *period, "--format", "qbo").stdout.splitlines()) - 1
    assert len(files) > 1 and [path.name for path in files[:2]] == ["june.csv", "june-2.csv"]
    assert all(len(rows) <= 300 for rows in read) and sum(len(rows) for rows in read) == postings
    assert all(len(rows) > 298 for rows in read[:-1])  # each file full but for a journal that would not fit
    journals = [{(row["*Narration"], row["*Date"]) for row in rows} for rows in read]
    assert all(a.isdisjoint(b) for n, a in enumerate(journals) for b in journals[n + 1:])
