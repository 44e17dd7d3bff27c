"""`report journal` for accounting packages (SPEC.md "Accounting package journals"): QuickBooks Online's
journal entry import, Xero's manual journal import, Sage 50's audit trail import and QuickBooks Desktop's IIF.

Each journal entry (one per day and kind of movement, the opening balance first) becomes one journal of the
package's, balancing to the cent. Accounts are the program's `[accounting]`, with `[accounting.PACKAGE]`'s
names or codes over them; Xero and Sage 50 post to account codes, so each account a file uses must have one.
"""

import csv
import io
from collections.abc import Sequence
from datetime import date

from loyaltyctl.core.accounting import JournalEntry
from loyaltyctl.errors import BadInput
from loyaltyctl.formats.accounting import journal_narration
from loyaltyctl.model import Accounting
from loyaltyctl.money import MINOR_DIGITS, from_minor

CODED = {"xero": "account code", "sage50": "nominal code"}  # packages that post to codes, not names
XERO_LINES = 300  # the most lines Xero's manual journal import takes in one file
QBO_COLUMNS = ("Journal No", "Journal Date", "Account Name", "Debits", "Credits", "Description", "Name")
XERO_COLUMNS = ("*Narration", "*Date", "Description", "*AccountCode", "*TaxRate", "*Amount", "TrackingName1",
                "TrackingOption1")
SAGE50_COLUMNS = ("Type", "Account Reference", "Nominal A/C Ref", "Department Code", "Date", "Reference", "Details",
                  "Net Amount", "Tax Code", "Tax Amount")
IIF_FIELDS = ("TRNSTYPE", "DATE", "ACCNT", "NAME", "AMOUNT", "DOCNUM", "MEMO")


def package_accounts(package: str, accounting: Accounting, entries: Sequence[JournalEntry], currency: str
                     ) -> dict[str, str]:
    """Each account the entries post to, as the package names it; BadInput for an account a coded package
    has no code for, or a currency with more decimals than the package takes."""
    if MINOR_DIGITS[currency] > 2:
        raise BadInput(f"--format {package}: the package takes amounts with at most 2 decimals; "
                       f"{currency} has {MINOR_DIGITS[currency]}")
    ours, theirs = accounting.accounts(), accounting.in_package(package).accounts()
    used = {account for entry in entries for account, _ in entry.postings}
    own = accounting.packages.get(package, {})
    if package in CODED:
        missing = [key for key, account in ours.items() if account in used and key not in own]
        if missing:
            raise BadInput(f"--format {package} posts to {CODED[package]}s: set "
                           + ", ".join(f"[accounting.{package}] {key}" for key in missing)
                           + f" (the {CODED[package]} of {ours[missing[0]]})")
    return {ours[key]: theirs[key] for key in ours if ours[key] in used}


def package_journal(package: str, program: str, accounting: Accounting, entries: Sequence[JournalEntry],
                    currency: str, unit: str = "points") -> list[str]:
    """The file (Xero: the files) `package` imports for these journal entries."""
    names = package_accounts(package, accounting, entries, currency)

    def narration(entry: JournalEntry) -> str:
        return journal_narration(program, entry, unit)

    if package == "xero":
        return xero_journals(entries, names, narration, currency, accounting.packages.get("xero", {}))
    write = {"qbo": qbo_journal, "sage50": sage50_journal, "iif": iif_journal}[package]
    return [write(entries, names, narration, currency)]


def journal_numbers(entries: Sequence[JournalEntry]) -> list[str]:
    """`LC-YYYYMMDD-n`: the n-th journal of its day; the same period exported again numbers the same."""
    numbers, count = [], {}
    for entry in entries:
        count[entry.day] = count.get(entry.day, 0) + 1
        numbers.append(f"LC-{entry.day:%Y%m%d}-{count[entry.day]}")
    return numbers


def package_csv(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """CSV as the package reads it: amounts as written (`-0.50`, which the mail-merge writer would guard
    with an apostrophe); the text is the program's own (narrations, account names), not members'."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def _amount(minor: int, currency: str) -> str:
    return f"{from_minor(minor, currency):.2f}"


def _us(day: date) -> str:
    return f"{day:%m/%d/%Y}"


def _uk(day: date) -> str:
    return f"{day:%d/%m/%Y}"


def qbo_journal(entries: Sequence[JournalEntry], names: dict[str, str], narration, currency: str) -> str:
    rows = []
    for number, entry in zip(journal_numbers(entries), entries):
        for account, amount in entry.postings:
            debit, credit = (_amount(amount, currency), "") if amount > 0 else ("", _amount(-amount, currency))
            rows.append((number, _us(entry.day), names[account], debit, credit, narration(entry), ""))
    return package_csv(QBO_COLUMNS, rows)


def xero_journals(entries: Sequence[JournalEntry], names: dict[str, str], narration, currency: str,
                  settings: dict[str, str]) -> list[str]:
    """Files of at most XERO_LINES lines, a journal never split: its lines share a narration and a date."""
    written = _us if settings.get("date_format") == "MM/DD/YYYY" else _uk
    tax = settings.get("tax_rate", "Tax Exempt")
    files: list[list[tuple]] = [[]]
    for entry in entries:
        lines = [(narration(entry), written(entry.day), narration(entry), names[account], tax,
                  _amount(amount, currency), "", "") for account, amount in entry.postings]
        if len(files[-1]) + len(lines) > XERO_LINES:
            files.append([])
        files[-1].extend(lines)
    return [package_csv(XERO_COLUMNS, rows) for rows in files]


def sage50_journal(entries: Sequence[JournalEntry], names: dict[str, str], narration, currency: str) -> str:
    rows = []
    for number, entry in zip(journal_numbers(entries), entries):
        for account, amount in entry.postings:
            rows.append(("JD" if amount > 0 else "JC", "", names[account], "", _uk(entry.day), number,
                         narration(entry), _amount(abs(amount), currency), "T9", "0.00"))
    return package_csv(SAGE50_COLUMNS, rows)


def iif_journal(entries: Sequence[JournalEntry], names: dict[str, str], narration, currency: str) -> str:
    """Tab-separated: per journal a TRNS line (its first posting), SPL lines (the others), ENDTRNS."""
    lines = ["\t".join(("!TRNS", "TRNSID", *IIF_FIELDS)), "\t".join(("!SPL", "SPLID", *IIF_FIELDS)), "!ENDTRNS"]
    for number, entry in zip(journal_numbers(entries), entries):
        for index, (account, amount) in enumerate(entry.postings):
            cells = ("GENERAL JOURNAL", _us(entry.day), names[account], "", _amount(amount, currency), number,
                     _tabless(narration(entry)))
            lines.append("\t".join(("TRNS" if index == 0 else "SPL", "", *cells)))
        lines.append("ENDTRNS")
    return "\r\n".join(lines) + "\r\n"


def _tabless(text: str) -> str:
    return " ".join(text.split())
