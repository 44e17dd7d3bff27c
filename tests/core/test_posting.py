"""The posting rules without a database: lots, debts, consumption orders, replay, corrections."""

import itertools

from loyaltyctl.core.posting import (
    Book,
    Debt,
    ExpiryRules,
    Lot,
    PostedExpiry,
    Posting,
    Refund,
    Revision,
    allocate_expiries,
    clawback_points,
    contribution,
    debit_reversal,
    expiry_corrections,
    new_shortfalls,
    replay,
)
from loyaltyctl.model import Expiry

DAY = 86400
NEVER = ExpiryRules(lambda at: None, "UTC")
LOT_1M = ExpiryRules(lambda at: Expiry("lot", 1), "UTC")
INACTIVE_1M = ExpiryRules(lambda at: Expiry("inactivity", 1), "UTC")
JAN = 1767225600  # 2026-01-01 00:00 UTC


def lot(id, entry, points, earned=0, expires=None, available=None, member=1):
    return Lot(id, entry, member, points, earned, expires, earned if available is None else available, points)


def test_a_debit_takes_the_soonest_expiring_lot_then_the_oldest_and_never_expiring_last():
    book = Book([lot(1, 10, 50, earned=5), lot(2, 11, 50, earned=1, expires=100), lot(3, 12, 50, earned=2)])
    assert book.debit(20, 1, "redeem", 120, at=10) == 0
    assert [(t.lot, t.points) for t in book.takes] == [(2, 50), (3, 50), (1, 20)]


def test_a_clawback_takes_its_own_purchase_first_and_may_take_pending_points():
    book = Book([lot(1, 10, 50, expires=100), lot(2, 11, 30, expires=200, available=50)])
    book.debit(20, 1, "clawback", 40, at=10, own=11)
    assert [(t.lot, t.points) for t in book.takes] == [(2, 30), (1, 10)]


def test_a_redemption_skips_pending_and_expired_lots_and_owes_nothing_itself_it_could_not_cover():
    book = Book([lot(1, 10, 50, expires=10), lot(2, 11, 30, available=50)])
    assert book.debit(20, 1, "redeem", 40, at=10) == 40  # lot 1 died at 10, lot 2 pending until 50
    assert book.debts[20].remaining == 40


def test_a_new_lot_pays_the_oldest_debt_first_and_a_lot_dead_on_arrival_pays_nothing():
    book = Book(debts=[Debt(7, 1, 30, 30, at=5), Debt(6, 1, 20, 20, at=3)])
    book.credit(30, 1, 25, at=10, expires_at=None)
    assert (book.debts[6].remaining, book.debts[7].remaining) == (0, 25)
    book.credit(31, 1, 40, at=10, expires_at=8)  # given back into a lot past expiry
    assert book.debts[7].remaining == 25
    assert [(t.debit, t.points) for t in book.takes] == [(6, 20), (7, 5)]


def test_under_inactivity_an_earn_pushes_every_live_lot_out():
    feb1 = JAN + 31 * DAY
    postings = [Posting(1, 1, "earn", 100, JAN), Posting(2, 1, "earn", 10, JAN + 20 * DAY)]
    book = replay(postings, INACTIVE_1M)
    assert {lot.expires_at for lot in book.lots.values()} == {feb1 + 20 * DAY}  # 2026-02-21 for both


def test_replay_is_the_same_whatever_order_the_entries_arrive_in():
    postings = [Posting(1, 1, "earn", 100, JAN), Posting(2, 1, "earn", 100, JAN + 14 * DAY),
                Posting(3, 1, "redeem", -100, JAN + 19 * DAY), Posting(4, 1, "clawback", -100, JAN + 9 * DAY, ref=1)]
    forward, backward = replay(postings, NEVER), replay(list(reversed(postings)), NEVER)
    held = lambda book: sorted((lot.entry, lot.remaining) for lot in book.lots.values())  # noqa: E731
    assert held(forward) == held(backward) == [(1, 0), (2, 0)]
    assert forward.debts == {}  # the clawback dated 01-10 took the first purchase, the redemption the second


def test_what_a_credit_still_contributes_leaves_out_what_expired():
    book = Book([lot(1, 10, 50, expires=100)])
    book.debit(20, 1, "redeem", 20, at=50)
    assert contribution(book, 10, 50, taken_back=0, at=99) == 50
    assert contribution(book, 10, 50, taken_back=0, at=100) == 20  # the 30 it held expired at 100
    assert contribution(book, 10, 50, taken_back=20, at=100) == 0


def test_reversing_a_debit_gives_back_what_it_owes_and_what_it_took_from_lots_not_yet_expired():
    book = Book([lot(1, 10, 30, expires=100), lot(2, 11, 30, expires=300)], lot_ids=itertools.count(3))
    book.debit(20, 1, "redeem", 70, at=50)  # 30 + 30 taken, 10 owed
    assert debit_reversal(book, 20, at=200) == 40  # lot 1 is past expiry at 200: its 30 stay breakage


def test_refunds_in_parts_add_up_to_what_the_purchase_earned():
    clawed, refunded, taken = 0, 0, []
    for refund in (1000, 1000, 1000):  # three refunds of 10.00 of a 30.00 purchase that earned 100
        points = clawback_points(100, 3000, refunded, refund, clawed, still_contributes=100 - clawed)
        taken.append(points)
        clawed, refunded = clawed + points, refunded + refund
    assert taken == [33, 34, 33]
    assert clawback_points(100, 3000, 0, 3000, 0, still_contributes=60) == 60  # 40 of it had expired


def test_a_posted_expiry_the_replay_no_longer_supports_is_given_back():
    # The lot held 100 when `expire` posted it; a debit dated before the expiry now takes 60 of it, so only
    # 40 expired: 60 of the posted expiry are given back.
    postings = [Posting(1, 1, "earn", 100, 0), Posting(3, 1, "redeem", -60, 50)]
    rules = ExpiryRules(lambda at: Expiry("lot", 1), "UTC")
    book = replay(postings, rules)
    expires = book.lots_of(1)[0].expires_at
    posted = [PostedExpiry(2, 1, expires, -100)]
    assert expiry_corrections(book, posted) == [(1, 1, expires, 60)]
    allocate_expiries(book, [*posted, PostedExpiry(4, 1, expires, 60)])
    assert [(t.debit, t.points) for t in book.takes if t.debit in (2, 4)] == [(2, 100), (4, -60)]
    assert (book.lots_of(1)[0].remaining, book.lots_of(1)[0].expired) == (0, 40)


def test_a_redemption_dated_earlier_is_short_when_it_spends_what_a_later_one_spent():
    earlier = [Posting(1, 1, "earn", 100, 0), Posting(2, 1, "redeem", -100, 20)]
    with_new = [*earlier, Posting(3, 1, "redeem", -50, 10)]
    short = new_shortfalls(replay(earlier, NEVER), replay(with_new, NEVER), with_new)
    assert [p.id for p in short] == [2]


def test_a_replay_revises_a_clawback_that_a_debit_dated_before_its_refund_changes():
    # Lot, 1 month: 100 earned on 01-05 (entry 1) expire 02-05; the refund of all 100.00 on 03-01 took
    # nothing (everything had expired). Redeeming 50 on 01-20 leaves 50 to expire, so in date order the
    # refund takes back 100 - 50 expired = 50: a revision of -50 on 03-01, owed since nothing is left.
    jan5, jan20, mar1 = JAN + 4 * DAY, JAN + 19 * DAY, JAN + 59 * DAY
    refund = Refund(txn=9, credit=1, member=1, at=mar1, amount=10000, paid=10000, earned=100)
    postings = [Posting(1, 1, "earn", 100, jan5), Posting(2, 1, "redeem", -50, jan20)]
    book = replay(postings, LOT_1M, [refund])
    assert book.revisions == [Revision("clawback", 1, 1, mar1, -50, txn=9)]
    assert book.debts[-1].remaining == 50
    # Once the revision is posted (entry 3), replaying again agrees with it.
    again = replay([*postings, Posting(3, 1, "clawback", -50, mar1, 1)], LOT_1M, [refund])
    assert again.revisions == [] and again.debts[3].remaining == 50


def test_a_replay_gives_back_what_a_clawback_took_too_much_of():
    # The same purchase, a clawback of 50 posted (entry 3, owed), then a credit dated 01-01 (expire 02-01)
    # that the redemption spends first: all 100 of entry 1 expire and the refund should take nothing.
    # The revision gives 50 back, which cancels the 50 owed.
    jan1, jan5, jan20, mar1 = JAN, JAN + 4 * DAY, JAN + 19 * DAY, JAN + 59 * DAY
    refund = Refund(txn=9, credit=1, member=1, at=mar1, amount=10000, paid=10000, earned=100)
    postings = [Posting(1, 1, "earn", 100, jan5), Posting(2, 1, "redeem", -50, jan20),
                Posting(3, 1, "clawback", -50, mar1, 1), Posting(4, 1, "adjust", 50, jan1)]
    book = replay(postings, LOT_1M, [refund])
    assert book.revisions == [Revision("clawback", 1, 1, mar1, 50, txn=9)]
    assert book.debts[3].remaining == 0
    assert sum(lot.remaining for lot in book.lots.values() if lot.alive_at(mar1)) == 0


LOT_60D = ExpiryRules(lambda at: Expiry("lot", days=60), "UTC")
DEC25 = JAN - 7 * DAY  # 2025-12-25


def held_at(book, at, member=1):
    """What a member holds at an instant: lots alive then, less what they owe."""
    return (sum(lot.remaining for lot in book.member_lots(member) if lot.alive_at(at))
            - sum(d.remaining for d in book.debts.values() if d.member == member))


def test_a_reversal_of_a_redemption_gives_back_only_what_is_still_alive_when_a_credit_is_dated_before_it():
    # Lots live 60 days. 812 earned 01-10 (entry 1, expire 03-11); 285 redeemed 01-22 (2), reversed 03-01 (3)
    # for all 285, then 100 earned 12-25 (4, expire 02-23) posted last. In date order the redemption takes
    # those 100 first and 185 of entry 1; by 03-01 the 100 have expired, so the reversal gives back 185: a
    # revision of -100, taken from the 100 the reversal could not return (never-expiring, so they would
    # have lived on). Held on 03-05: 812 - 185 + 185 = 812 (not 912); from 03-11 nothing.
    jan10, jan22, mar1 = JAN + 9 * DAY, JAN + 21 * DAY, JAN + 59 * DAY
    postings = [Posting(1, 1, "earn", 812, jan10), Posting(2, 1, "redeem", -285, jan22),
                Posting(3, 1, "reverse", 285, mar1, ref=2), Posting(4, 1, "earn", 100, DEC25)]
    book = replay(postings, LOT_60D)
    assert book.revisions == [Revision("reverse", 1, 3, mar1, -100)]
    assert held_at(book, mar1 + 4 * DAY) == 812
    assert held_at(book, JAN + 69 * DAY) == 0  # 03-11: entry 1's lot and what came back into it expire
    again = replay([*postings, Posting(5, 1, "reverse", -100, mar1, ref=3)], LOT_60D)
    assert again.revisions == [] and held_at(again, mar1 + 4 * DAY) == 812


def test_a_reversal_of_a_credit_is_revised_both_ways_by_debits_and_credits_dated_before_it():
    # Lots live 60 days. 100 earned 01-05 (entry 1, expire 03-06); 40 redeemed 01-20 (2) from it; entry 1
    # reversed 03-10 (3) by what it still contributes: 100 - 60 expired = 40, all spent, so 40 owed.
    jan1, jan5, jan20, jan25, mar10 = JAN, JAN + 4 * DAY, JAN + 19 * DAY, JAN + 24 * DAY, JAN + 68 * DAY
    postings = [Posting(1, 1, "earn", 100, jan5), Posting(2, 1, "redeem", -40, jan20),
                Posting(3, 1, "reverse", -40, mar10, ref=1)]
    assert replay(postings, LOT_60D).revisions == []
    # A redemption of 30 dated 01-25, posted after: only 30 of entry 1 expire, it contributes 70 on 03-10,
    # so the reversal takes 30 more: owed 70 (without the revision, 40, and 30 points made from nothing).
    spent_more = replay([*postings, Posting(4, 1, "redeem", -30, jan25)], LOT_60D)
    assert spent_more.revisions == [Revision("reverse", 1, 3, mar10, -30)]
    assert held_at(spent_more, mar10 + DAY) == -70
    # Instead, 50 earned 01-01 (expire 03-02), posted after: the redemption takes them first, all 100 of
    # entry 1 expire, it contributes nothing on 03-10, and the revision gives the 40 back: nothing owed.
    earned_before = replay([*postings, Posting(4, 1, "earn", 50, jan1)], LOT_60D)
    assert earned_before.revisions == [Revision("reverse", 1, 3, mar10, 40)]
    assert held_at(earned_before, mar10 + DAY) == 0


def test_refunds_of_one_purchase_at_one_instant_are_worked_out_together():
    # Two refunds of 25.00 each of a 100.00 purchase (100 points) at the same instant, clawbacks of 25 and
    # 25 posted: round(100 x 50/100) = 50 in all, nothing to revise.
    jan5, feb1 = JAN + 4 * DAY, JAN + 31 * DAY
    refunds = [Refund(8, 1, 1, feb1, 2500, 10000, 100), Refund(9, 1, 1, feb1, 2500, 10000, 100)]
    postings = [Posting(1, 1, "earn", 100, jan5), Posting(2, 1, "clawback", -25, feb1, 1),
                Posting(3, 1, "clawback", -25, feb1, 1)]
    assert replay(postings, NEVER, refunds).revisions == []


def test_the_local_day_is_exact_where_a_day_starts_inside_a_quarter_hour():
    from datetime import date, datetime, timezone

    from loyaltyctl.core.dates import local_date
    # Monrovia ran at -0:44:30 until 1972: 00:44:40 UTC on 15 June 1971 is 00:00:10 local, the 15th.
    assert local_date(int(datetime(1971, 6, 15, 0, 44, 40, tzinfo=timezone.utc).timestamp()), "Africa/Monrovia") == \
        date(1971, 6, 15)
    # St John's fell back at 00:01 on 7 November 2010: 02:40 UTC is 23:10 on the 6th.
    assert local_date(int(datetime(2010, 11, 7, 2, 40, tzinfo=timezone.utc).timestamp()), "America/St_Johns") == \
        date(2010, 11, 6)
