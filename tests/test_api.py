"""The library as a web shop, a till integration or a script uses it: `loyaltyctl.connect`, on both backends."""

import json
import os
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

import loyaltyctl
from loyaltyctl import results
from loyaltyctl.formats.shapes import plain
from tests.cli.test_ledger_cli import CLUB
from tests.conftest import run, write


@pytest.fixture
def ledger(tmp_path):
    """The club program (1 point per 1.00, $10 reward for 100 points), members M1 (card C1) and M2."""
    with loyaltyctl.connect(os.environ["LOYALTYCTL_DB"], create=True) as opened:
        opened.apply_programs([loyaltyctl_program(tmp_path)])
        opened.add_member("club", {"member_id": "M1", "card": "C1"})
        opened.add_member("club", {"member_id": "M2"})
        yield opened


def loyaltyctl_program(tmp_path):
    from loyaltyctl.formats.program_toml import load_program

    return load_program(write(tmp_path / "club.toml", CLUB))


def test_a_posting_returns_its_entries_and_the_balance_after_it(ledger):
    posted = ledger.earn("club", "M1", 120, reason="sale", key="till3-0042", at="2026-06-01T10:00")
    assert isinstance(posted, results.Posted)
    assert (posted.program, posted.member, posted.duplicate, posted.balance, posted.available) == (
        "club", "M1", False, 120, 120)
    [entry] = posted.entries
    assert (entry.kind, entry.points, entry.key, entry.reason) == ("earn", 120, "till3-0042", "sale")
    assert entry.effective_at == datetime(2026, 6, 1, 14, 0, tzinfo=timezone.utc)  # 10:00 in New York (EDT)
    assert entry.effective_at.utcoffset().total_seconds() == -4 * 3600  # in the program's time zone
    again = ledger.earn("club", "M1", 120, reason="sale", key="till3-0042")
    assert (again.duplicate, again.entries[0].id, again.balance) == (True, entry.id, 120)


def test_redeem_by_reward_points_or_amount_and_the_value_is_money(ledger):
    ledger.earn("club", "M1", 500, reason="stock", at=date(2026, 6, 1))
    by_reward = ledger.redeem("club", "C1", reward="ten-off")  # a card finds the member, as at the counter
    assert (by_reward.member, by_reward.entries[0].points, by_reward.entries[0].value) == ("M1", -100, Decimal("10.00"))
    assert ledger.redeem("club", "M1", points=50).entries[0].value == Decimal("5.00")  # 50 x 0.10
    by_amount = ledger.redeem("club", "M1", amount="2.35")  # 23.5 points, rounded up to 24
    assert (by_amount.entries[0].points, by_amount.balance) == (-24, 326)
    balance = ledger.balance("club", "M1")
    assert (balance.points, balance.available, balance.pending, balance.as_of) == (326, 326, 0, date(2026, 6, 15))


def test_the_results_are_the_json_the_commands_print(ledger):
    """Scripts reading `--format json` and code calling the library see the same fields and values."""
    posted = ledger.earn("club", "M2", 40, reason="visit", key="k1", at="2026-06-02")
    printed = json.loads(run("earn", "-p", "club", "M2", "40", "-r", "visit", "--key", "k1", "-f", "json").stdout)
    assert printed == plain(posted) | {"duplicate": True}
    as_printed = json.loads(run("balance", "-p", "club", "M2", "-f", "json").stdout)
    assert as_printed == {k: v for k, v in plain(ledger.balance("club", "M2")).items() if k != "tier_standing"}
    liability = json.loads(run("report", "liability", "-p", "club", "--as-of", "2026-06-14", "-f", "json").stdout)
    assert liability == plain(ledger.liability("club", as_of="2026-06-14"))
    assert ledger.liability("club", as_of=date(2026, 6, 14)).net_liability == Decimal("4.00")  # 40 x 0.10


def test_errors_are_loyaltyctl_exceptions_with_their_exit_codes(ledger):
    with pytest.raises(loyaltyctl.Refused, match="short balance: member 'M1' has 0 points available, needs 100"):
        ledger.redeem("club", "M1", reward="ten-off")
    with pytest.raises(loyaltyctl.Refused, match="unknown member 'M9' in program 'club'"):
        ledger.earn("club", "M9", 5, reason="x")
    with pytest.raises(loyaltyctl.BadInput, match="give one of --reward CODE, --points N or --amount MONEY"):
        ledger.redeem("club", "M1")
    assert issubclass(loyaltyctl.Refused, loyaltyctl.Error) and issubclass(loyaltyctl.BadInput, loyaltyctl.Error)
    assert (loyaltyctl.Refused.exit_code, loyaltyctl.BadInput.exit_code) == (1, 2)
    assert ledger.balance("club", "M1").points == 0  # nothing was written
    for entry in (10**30, 2**63, 0):  # no entry has an id past 64 bits (an OverflowError on SQLite before)
        with pytest.raises(loyaltyctl.Refused, match=f"unknown entry {entry} in 'club'"):
            ledger.reverse("club", entry, reason="typo")


def test_transfer_reverse_adjust_and_expire(ledger):
    ledger.earn("club", "M1", 200, reason="stock", at="2026-01-10")
    moved = ledger.transfer("club", "M1", "M2", 50, key="gift")
    assert [(e.member, e.kind, e.points) for e in moved.entries] == [("M1", "transfer_out", -50),
                                                                      ("M2", "transfer_in", 50)]
    assert moved.balance == 150  # the giver's
    undone = ledger.reverse("club", moved.entries[1].id, reason="by mistake")  # one side reverses both
    assert sorted((e.member, e.points) for e in undone.entries) == [("M1", 50), ("M2", -50)]
    assert ledger.adjust("club", "M2", -5, reason="correction").balance == -5  # owed
    expired = ledger.expire("club")  # the club's points live 12 months: nothing due by 2026-06-15
    assert (expired.lots, expired.points) == (0, 0)
    assert ledger.verify().ok


def test_imports_and_reports_through_the_library(ledger, tmp_path):
    sales = write(tmp_path / "sales.csv", "txn_id,member_id,occurred_at,amount\nT1,M1,2026-06-01T10:00,12.50\n"
                                          "T2,M2,2026-06-02T11:00,7.00\nT3,M9,2026-06-02T12:00,3.00\n")
    summary = ledger.import_transactions("club", sales, reject_file=tmp_path / "bad.csv")
    assert (summary.imported, summary.rejected, summary.points_earned) == (2, 1, 19)
    assert ledger.import_transactions("club", sales, reject_file=tmp_path / "bad.csv").duplicates == 2
    assert ledger.verify().entries == 2


def test_a_connection_is_a_context_manager_and_reopens_on_a_file(tmp_path):
    location = tmp_path / "new.db"
    with pytest.raises(loyaltyctl.BadInput, match="no loyaltyctl database at"):
        loyaltyctl.connect(location)
    with loyaltyctl.connect(location, create=True) as opened:
        assert opened.schema_version() >= 13
    assert location.exists()


def test_a_naive_datetime_is_refused_rather_than_guessed(ledger):
    with pytest.raises(loyaltyctl.BadInput, match="aware datetime"):
        ledger.earn("club", "M1", 5, reason="x", at=datetime(2026, 6, 1, 10, 0))
