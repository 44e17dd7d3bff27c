"""Accounting reports against the ledger under random postings (hypothesis).

Whatever was posted: the liability's figures are the sum of members' own
balances, its aging adds up to the points outstanding, the roll-forward runs
from one liability to the other, the journal balances and moves the liability
account by exactly the change in liability, and running `expire` changes none
of it, nor does closing periods (a roll-forward then opens from the close).

Vouchers are among the postings: issued by redemptions, used, cancelled by a
reversal, expired. Their roll-forward runs from one liability's vouchers to
the next and the journal's vouchers account moves by exactly that. The points
of expired vouchers that give them back are posted (by `expire`) before the
figures are taken: that return is the one thing `expire` posts that reports
do not count until it is posted.
"""

import os
from msgspec.structs import replace
from datetime import date, timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from loyaltyctl.core.dates import cutoff
from loyaltyctl.errors import Refused
from loyaltyctl.model import Accounting
from loyaltyctl.operations import ledger as ops
from loyaltyctl.operations.accounting import journal_report, liability_report, rollforward_report
from loyaltyctl.operations.periods import close_period
from loyaltyctl.operations.reports import Period
from loyaltyctl.operations.vouchers import use_voucher
from loyaltyctl.storage import ledger as store
from loyaltyctl.storage.members import find_member
from loyaltyctl.operations.posting import posting
from loyaltyctl.operations.vouchers import post_returns
from loyaltyctl.storage import programs
from loyaltyctl.storage import vouchers as voucher_store
from loyaltyctl.storage.db import write
from tests.property.test_ledger_properties import LATER, MEMBERS, PROGRAM, START, _post, _setup, member, step

VOUCHER_PROGRAM = PROGRAM + """[[rewards]]
code = "keep"
name = "Keep"
points = 100
value = "1.50"
voucher = true
voucher_days = 20
[[rewards]]
code = "back"
name = "Back"
points = 80
value = "0.80"
voucher = true
voucher_days = 10
return_points_on_expiry = true
"""
voucher_step = st.one_of(step, st.tuples(st.integers(0, 6), st.one_of(
    st.tuples(st.just("voucher"), member, st.sampled_from(["keep", "back"])),
    st.tuples(st.sampled_from(["use", "cancel"]), st.integers(0, 9)))))

TZ = "America/New_York"


def _member_balances(db, day: date) -> list[int]:
    return [store.balance_as_of(db, find_member(db, 1, "p", m)[0], cutoff(day, TZ)) for m in MEMBERS]


def _figures(db, days: list[date]) -> list:
    """Every figure of the reports, less the count of expiries not posted yet (which `expire` changes by design)."""
    figures = []
    for day in days:
        figures.append(replace(liability_report(db, "p", day)[1], unposted_expiries=0, unposted_points=0))
    for first, last in zip(days, days[1:]):
        j = journal_report(db, "p", Period(first + timedelta(days=1), last))
        figures.append((replace(j.rollforward, unposted_expiries=0), j.entries))
    return figures


def _check(db, days: list[date]) -> None:
    for day in days:
        report = liability_report(db, "p", day)[1]
        balances = _member_balances(db, day)
        assert report.outstanding == sum(b for b in balances if b > 0), day
        assert report.owed == -sum(b for b in balances if b < 0), day
        assert report.members_with_points == sum(1 for b in balances if b > 0), day
        for buckets in (report.by_age, report.by_expiry):
            assert sum(b.points for b in buckets) == report.outstanding
            assert sum(b.value for b in buckets) == report.gross
    for first, last in zip(days, days[1:]):
        j = journal_report(db, "p", Period(first + timedelta(days=1), last))
        rolled, accounts, entries = j.rollforward, j.accounts, j.entries
        assert rolled.opening_points == liability_report(db, "p", first)[1].net_points
        assert rolled.closing_points == liability_report(db, "p", last)[1].net_points
        assert rolled.balances
        assert rolled == rollforward_report(db, "p", Period(first + timedelta(days=1), last))[1]
        for entry in entries:
            assert sum(amount for _, amount in entry.postings) == 0, entry
        moved = sum(amount for entry in entries for account, amount in entry.postings if account == accounts.liability)
        assert -moved == rolled.closing_liability - rolled.opening_liability
        assert accounts == Accounting()
        vouchers = rolled.vouchers
        if vouchers is not None:
            assert vouchers.opening == liability_report(db, "p", first)[1].voucher_value
            assert vouchers.closing == liability_report(db, "p", last)[1].voucher_value
            assert (vouchers.opening + vouchers.issued - vouchers.used - vouchers.cancelled - vouchers.expired
                    == vouchers.closing)
            held = sum(amount for entry in entries for account, amount in entry.postings if account == accounts.vouchers)
            assert -held == vouchers.closing - vouchers.opening


@settings(max_examples=int(os.environ.get("LEDGER_EXAMPLES", 40)), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(policy=st.sampled_from(["lot", "inactivity", "none"]), steps=st.lists(voucher_step, min_size=1, max_size=20))
@example(policy="lot", steps=[(0, ("earn", "A", 300)), (1, ("voucher", "A", "keep")), (1, ("voucher", "A", "back")),
                              (1, ("cancel", 0)), (0, ("voucher", "A", "keep")), (2, ("use", 2)),
                              (40, ("earn", "B", 200)), (0, ("voucher", "B", "back"))])  # each way a voucher ends
def test_reports_reconcile_with_the_ledger(policy, steps):
    os.environ["LOYALTYCTL_NOW"] = LATER  # every expiry these steps ask for has happened
    db, _ = _setup(policy, VOUCHER_PROGRAM)
    day = START
    for number, (gap, op) in enumerate(steps):
        day += timedelta(days=gap)
        at = f"{day.isoformat()}T12:00"
        if op[0] == "expire":
            continue
        try:
            if op[0] == "voucher":
                ops.post_redeem(db, "p", op[1], reward_code=op[2], key=f"k{number}", at=at)
            elif op[0] in ("use", "cancel"):
                issued = voucher_store.fetch_vouchers(db, 1)
                if issued and op[0] == "use":
                    use_voucher(db, "p", issued[op[1] % len(issued)].code, at=at)
                elif issued:
                    ops.post_reverse(db, "p", issued[op[1] % len(issued)].entry, "cancel", f"k{number}", at)
            else:
                _post(db, op, at, f"k{number}")
        except Refused:
            pass
    ref = programs.fetch_program_ref(db, "p")
    with write(db, "p"), posting(db, ref) as poster:  # the points of expired vouchers that give them back
        post_returns(db, ref, poster, cutoff(day + timedelta(days=400), TZ))
    days = [START - timedelta(days=1), START + timedelta(days=90), START + timedelta(days=200), day + timedelta(days=400)]
    _check(db, days)
    before = _figures(db, days)
    ops.run_expire(db, "p", day + timedelta(days=400))
    assert _figures(db, days) == before, "posting expiries changed a report"
    for through in days[1:3]:
        close_period(db, "p", through)
    assert _figures(db, days) == before, "a roll-forward opening from a period close differs from the full sum"
