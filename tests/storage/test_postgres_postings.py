"""A posting on PostgreSQL: few round trips, only its members locked, exact when tills cross, and a
connection lost half way posts once when the same key is posted again."""

import os
import select

import pytest

import loyaltyctl
from loyaltyctl.storage import ledger as ledger_store
from tests.roundtrips import RoundTripCounter
from tests.test_api import loyaltyctl_program

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def counted(tmp_path):
    """A ledger reached through a proxy that counts round trips: club, members M1 and M2, 300 points for M1."""
    location = os.environ["LOYALTYCTL_DB"]
    with loyaltyctl.connect(location, create=True) as setup:
        setup.apply_programs([loyaltyctl_program(tmp_path)])
        for member in ("M1", "M2"):
            setup.add_member("club", {"member_id": member})
        setup.earn("club", "M1", 300, reason="stock", at="2026-06-01")
    proxy = RoundTripCounter(location)
    with loyaltyctl.connect(proxy.url) as ledger:
        ledger.balance("club", "M1")  # connected: what a till does once, not per posting
        proxy.reset()
        yield ledger, proxy
    proxy.close()


def test_a_posting_is_two_round_trips_and_its_first_on_a_connection_three(counted):
    ledger, proxy = counted
    ledger.earn("club", "M1", 10, reason="sale")
    assert proxy.reset() == 3  # the program read once for the connection, then the posting's read and write
    postings = [lambda: ledger.earn("club", "M2", 10, reason="sale"),
                lambda: ledger.redeem("club", "M1", reward="ten-off"),
                lambda: ledger.adjust("club", "M2", -3, reason="fix"),
                lambda: ledger.transfer("club", "M1", "M2", 20)]
    for post in postings:
        post()
        assert proxy.reset() == 2  # everything it decides on in one, everything it writes and the COMMIT in one
    with pytest.raises(loyaltyctl.Refused, match="short balance"):
        ledger.redeem("club", "M2", points=500)
    assert proxy.reset() == 1  # a refusal reads, decides, and writes nothing
    reversed_ = ledger.reverse("club", 3, reason="oops")  # finding the entry first: three
    assert proxy.reset() == 3 and reversed_.entries[0].ref == 3


def test_tills_that_cross_on_one_member_are_both_posted_exactly(counted, monkeypatch):
    """Till A reads M1's 300 points; till B redeems 200 of them before A writes; A's write finds M1 changed,
    writes nothing, and runs again holding M1's row: it sees 100 and refuses its redemption of 150."""
    ledger, _ = counted
    other = loyaltyctl.connect(os.environ["LOYALTYCTL_DB"])
    read, crossed = ledger_store.read_counter, []

    def read_then_cross(db, *args, **kwargs):
        found = read(db, *args, **kwargs)
        if db is ledger.store and not crossed:
            crossed.append(other.redeem("club", "M1", points=200))
        return found

    monkeypatch.setattr(ledger_store, "read_counter", read_then_cross)
    with pytest.raises(loyaltyctl.Refused, match="short balance: member 'M1' has 100 points available, needs 150"):
        ledger.redeem("club", "M1", points=150)
    assert ledger.earn("club", "M1", 7, reason="sale").balance == 107
    assert crossed[0].balance == 100 and ledger.verify().ok
    other.close()


def test_a_new_close_reaches_a_connection_that_read_the_program_before(counted):
    ledger, _ = counted
    ledger.earn("club", "M2", 5, reason="sale", at="2026-06-10")  # the connection keeps the program's state
    with loyaltyctl.connect(os.environ["LOYALTYCTL_DB"]) as other:
        other.close_period("club", "2026-06-12")
    with pytest.raises(loyaltyctl.Refused, match="falls in a closed period"):
        ledger.earn("club", "M2", 5, reason="late", at="2026-06-11")
    assert ledger.earn("club", "M2", 5, reason="after", at="2026-06-13").balance == 10


def test_a_connection_lost_before_the_answer_posts_once_when_the_same_key_is_posted_again(counted):
    ledger, proxy = counted
    ledger.earn("club", "M1", 1, reason="sale")  # the program read: a posting is now two round trips
    proxy.reset()
    proxy.cut_at = 2  # the posting's write reaches the server, which commits; its answer is lost
    with pytest.raises(loyaltyctl.Refused, match="lost the database connection"):
        ledger.earn("club", "M2", 25, reason="sale", key="till1-0001")
    again = ledger.earn("club", "M2", 25, reason="sale", key="till1-0001")  # the till retries; a new connection
    assert (again.duplicate, again.balance) == (True, 25)
    assert ledger.verify().entries == 3  # M1's stock and sale, and this sale once


def _drop_connections_of(ledger):
    """What a server restart or an idle timeout does to a till's connection while it waits for a sale."""
    pid = ledger.store.conn.info.backend_pid
    with loyaltyctl.connect(os.environ["LOYALTYCTL_DB"]) as admin:
        admin.store.execute("SELECT pg_terminate_backend(?, 5000)", [pid]).fetchall()  # gone when it returns
    select.select([ledger.store.conn.pgconn.socket], [], [], 5)  # its goodbye has reached the till


def test_a_connection_the_server_dropped_while_idle_is_opened_again_by_the_next_call(counted):
    ledger, _ = counted
    _drop_connections_of(ledger)
    assert ledger.earn("club", "M1", 2, reason="sale").balance == 302  # the posting's read found it dropped
    _drop_connections_of(ledger)
    assert ledger.balance("club", "M1").points == 302  # so did the report's BEGIN
    _drop_connections_of(ledger)
    ledger.add_member("club", {"member_id": "M3"})  # and the BEGIN of a write that holds the program
    assert [s.member.member_id for s in ledger.members("club")] == ["M1", "M2", "M3"]


def test_a_connection_lost_while_the_posting_reads_posts_it_on_a_new_one(counted):
    ledger, proxy = counted
    ledger.earn("club", "M1", 1, reason="sale")
    proxy.reset()
    proxy.cut_at = 1  # the posting's read is cut off: nothing was written, so it simply runs again
    assert ledger.earn("club", "M2", 25, reason="sale").balance == 25
    assert ledger.verify().entries == 3
