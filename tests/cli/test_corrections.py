"""Corrections never create or destroy a point: reversals, refunds and expiry in any order.

Each test is one defect found on the earlier main, with its figures worked
out by hand in the comments. Program `fix`: 1 point per 1.00, New York time,
point value 0.10; the clock stands at 2026-06-15 12:00 EDT.
"""

import json

import pytest

from tests.conftest import query, run, snapshot, write

PROGRAM = """\
[program]
code = "fix"
name = "Fix"
currency = "USD"
timezone = "America/New_York"
point_value = "0.10"
effective_from = 2025-01-01

[earn]
points_per_unit = "{rate}"

{bonuses}
[[partners]]
code = "fleet"
name = "Fleet Rides"
points_per_unit = "2"
{expiry}
"""
HEADER = "txn_id,member_id,occurred_at,amount,refund_of,partner\n"


def program(tmp_path, expiry: str = "", rate: str = "1", signup: int = 0) -> None:
    text = PROGRAM.format(rate=rate, expiry=f"\n[expiry]\n{expiry}\n" if expiry else "",
                          bonuses=f"[bonuses]\nsignup = {signup}\n" if signup else "")
    assert run("program", "apply", write(tmp_path / "fix.toml", text)).exit_code == 0
    for member in ("A", "B"):
        assert run("member", "add", "-p", "fix", member, "--joined", "2025-01-01").exit_code == 0


def ok(*args) -> dict:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, (args, result.stderr)
    return json.loads(result.stdout)


def refused(*args) -> str:
    result = run(*args)
    assert result.exit_code == 1, (args, result.stdout, result.stderr)
    return result.stderr.strip()


def load(tmp_path, name: str, rows: str) -> dict:
    return ok("txn", "import", "-p", "fix", write(tmp_path / name, HEADER + rows))


def balance(member: str, day: str) -> int:
    return ok("balance", "-p", "fix", member, "--as-of", day)["points"]


def liability(day: str) -> dict:
    return ok("report", "liability", "-p", "fix", "--as-of", day)


def rollforward(first: str, last: str) -> dict:
    lines = ok("report", "rollforward", "-p", "fix", "--from", first, "--to", last)
    return {k: lines[k] for k in ("opening_points", "issued", "redeemed", "expired", "clawed_back", "adjusted",
                                  "closing_points")}


def verified() -> bool:
    return ok("db", "verify")["ok"]


def txn_column(txn_id: str, column: str, db_path) -> int:
    return query(f"SELECT {column} FROM transactions WHERE txn_id = ?", [txn_id])[0][0]


def earn_entry(txn_id: str, db_path) -> int:
    """The earn entry a purchase posted."""
    return txn_column(txn_id, "entry", db_path)


def test_activity_dated_before_a_posted_inactivity_expiry_gives_that_expiry_back(tmp_path):
    # Inactivity, 1 month: 100 earned on 01-05 expire at the start of 02-05, and `expire` posts -100 there.
    # A purchase dated 02-04 23:00 (10 points) then restarts the clock: everything now expires on 03-04.
    # The posted expiry is given back on 02-05 (+100), so the balance is 110 from 02-04 to 03-03, 0 from 03-04.
    program(tmp_path, 'policy = "inactivity"\nmonths = 1')
    ok("earn", "-p", "fix", "A", "100", "--reason", "welcome", "--at", "2026-01-05T12:00")
    assert ok("expire", "-p", "fix", "--as-of", "2026-02-05")["points"] == 100
    assert balance("A", "2026-02-05") == 0
    load(tmp_path, "late.csv", "T1,A,2026-02-04T23:00,10.00,,\n")
    assert [balance("A", day) for day in ("2026-02-03", "2026-02-04", "2026-02-05", "2026-03-03", "2026-03-04")] == [
        100, 110, 110, 110, 0]
    moves = [(e["at"][:10], e["kind"], e["points"])
             for e in ok("statement", "-p", "fix", "A", "--from", "2026-02-01", "--to", "2026-02-28")["entries"]]
    assert moves == [("2026-02-04", "earn", 10), ("2026-02-05", "expire", -100), ("2026-02-05", "expire", 100)]
    # February: 100 + 10 issued, expired -100 + 100 = 0; March: the 110 expire on 03-04
    assert rollforward("2026-02-01", "2026-02-28") == {
        "opening_points": 100, "issued": 10, "redeemed": 0, "expired": 0, "clawed_back": 0, "adjusted": 0,
        "closing_points": 110}
    assert rollforward("2026-03-01", "2026-03-31")["expired"] == 110
    assert ok("expire", "-p", "fix", "--as-of", "2026-03-31")["points"] == 110
    assert (balance("A", "2026-03-03"), balance("A", "2026-03-04")) == (110, 0)
    assert verified()


@pytest.mark.parametrize("reverse_first", [True, False])
def test_a_reversed_earn_and_a_refund_of_the_same_purchase_take_the_points_back_once(tmp_path, db_path,
                                                                                     reverse_first):
    # T1 (100.00) earned 100. Reversing its earn takes back what it still contributes; a refund of half of it
    # claws back round(100 x 50 / 100) = 50 but never more than the purchase still contributes.
    # Either order leaves 0, never -50.
    program(tmp_path)
    load(tmp_path, "t1.csv", "T1,A,2026-01-10T10:00,100.00,,\n")
    earned = earn_entry("T1", db_path)
    if reverse_first:
        reversal = ok("reverse", "-p", "fix", str(earned), "--reason", "fraud", "--at", "2026-02-01T10:00")
        assert reversal["entries"][0]["points"] == -100
        assert load(tmp_path, "r1.csv", "R1,A,2026-02-02T10:00,-50.00,T1,\n")["points_clawed_back"] == 0
    else:
        assert load(tmp_path, "r1.csv", "R1,A,2026-02-01T10:00,-50.00,T1,\n")["points_clawed_back"] == 50
        reversal = ok("reverse", "-p", "fix", str(earned), "--reason", "fraud", "--at", "2026-02-02T10:00")
        assert reversal["entries"][0]["points"] == -50  # 100 less the 50 the refund took
    assert balance("A", "2026-02-28") == 0
    assert liability("2026-02-28")["points_owed_by_members"] == 0
    assert verified()


def test_reversing_a_credit_never_takes_its_expired_points_again(tmp_path):
    # Lot policy, 1 month. 30 earned on 01-10 expire on 02-10: reversing it on 03-01 has nothing to take.
    program(tmp_path, 'policy = "lot"\nmonths = 1')
    earned = ok("earn", "-p", "fix", "A", "30", "--reason", "by mistake", "--at", "2026-01-10T12:00")["entries"][0]
    assert "nothing to reverse" in refused("reverse", "-p", "fix", earned["id"], "--reason", "x", "--at", "2026-03-01")
    assert balance("A", "2026-03-31") == 0
    # B: 50 earned 01-10, 20 of them redeemed 01-20, the other 30 expire 02-10. Reversed on 03-01, the credit
    # still contributes 50 - 30 expired = 20: those were spent, so B owes 20. Expired 30 once, adjusted -20.
    credit = ok("earn", "-p", "fix", "B", "50", "--reason", "by mistake", "--at", "2026-01-10T12:00")["entries"][0]
    ok("redeem", "-p", "fix", "B", "--points", "20", "--at", "2026-01-20T12:00")
    reversal = ok("reverse", "-p", "fix", str(credit["id"]), "--reason", "x", "--at", "2026-03-01T12:00")
    assert reversal["entries"][0]["points"] == -20
    assert (balance("B", "2026-02-28"), balance("B", "2026-03-01")) == (0, -20)
    assert rollforward("2026-01-01", "2026-03-31") == {
        "opening_points": 0, "issued": 80, "redeemed": 20, "expired": 60, "clawed_back": 0, "adjusted": -20,
        "closing_points": -20}  # A's 30 and B's 30 expired; 80 - 20 - 60 - 20 = -20
    assert verified()


def test_a_refund_dated_before_a_redemption_posted_earlier_leaves_no_phantom_points_owed(tmp_path):
    # In date order: 01-01 T1 +100 (lot a); 01-10 refund of T1 -100 (from a); 01-15 T2 +100 (lot b);
    # 01-20 redeem 100 (from b). So 100 / 0 / 100 / 0, and nobody owes anything: exactly what posting the
    # refund last must give too (before, the redemption had emptied lot a, so the refund left 100 owed and
    # lot b untouched: 100 held + 100 owed, which became -100 once b expired).
    program(tmp_path, 'policy = "lot"\nmonths = 12')
    load(tmp_path, "jan.csv", "T1,A,2026-01-01T10:00,100.00,,\nT2,A,2026-01-15T10:00,100.00,,\n")
    ok("redeem", "-p", "fix", "A", "--points", "100", "--at", "2026-01-20T10:00")
    assert load(tmp_path, "refund.csv", "R1,A,2026-01-10T10:00,-100.00,T1,\n")["points_clawed_back"] == 100
    assert [balance("A", day) for day in ("2026-01-05", "2026-01-12", "2026-01-16", "2026-01-25", "2027-01-20")] == [
        100, 0, 100, 0, 0]
    report = liability("2026-01-31")
    assert (report["outstanding_points"], report["points_owed_by_members"]) == (0, 0)
    assert verified()


def refund_points(txn_id: str, db_path) -> int:
    """What the transactions table records a refund took back (partner reports and tiers read it)."""
    return txn_column(txn_id, "points", db_path)


def test_a_redemption_dated_before_a_refund_posted_earlier_makes_the_refund_take_back_more(tmp_path, db_path):
    # Lot policy, 1 month. T1 100.00 on 01-05 earns 100 (expire 02-05); its full refund on 03-01 is imported
    # when all 100 have expired: it takes back nothing. A redemption of 50 dated 01-20 is posted after it.
    # In date order the redemption spends 50 of T1's points, 50 expire on 02-05, and the refund takes back
    # what T1 still contributes: 100 - 50 expired = 50, already spent, so A owes 50. The replay revises the
    # refund's clawback by -50 on 03-01.
    program(tmp_path, 'policy = "lot"\nmonths = 1')
    load(tmp_path, "t1.csv", "T1,A,2026-01-05T10:00,100.00,,\n")
    assert load(tmp_path, "r1.csv", "R1,A,2026-03-01T10:00,-100.00,T1,\n")["points_clawed_back"] == 0
    ok("redeem", "-p", "fix", "A", "--points", "50", "--at", "2026-01-20T10:00")
    assert [balance("A", day) for day in ("2026-01-20", "2026-02-05", "2026-02-28", "2026-03-01")] == [50, 0, 0, -50]
    moves = [(e["at"][:10], e["kind"], e["points"])
             for e in ok("statement", "-p", "fix", "A", "--from", "2026-03-01", "--to", "2026-03-31")["entries"]]
    assert moves == [("2026-03-01", "clawback", -50)]
    assert refund_points("R1", db_path) == -50
    assert rollforward("2026-01-01", "2026-03-31") == {
        "opening_points": 0, "issued": 100, "redeemed": 50, "expired": 50, "clawed_back": 50, "adjusted": 0,
        "closing_points": -50}
    assert liability("2026-03-31")["points_owed_by_members"] == 50
    # Replaying A again (a credit dated 02-10, after T1's points expired) finds nothing more to revise: the
    # clawback takes those 5 (alive until 03-10) and A owes 45.
    ok("adjust", "-p", "fix", "A", "5", "--reason", "x", "--at", "2026-02-10T10:00")
    assert balance("A", "2026-03-01") == -45
    assert len(ok("statement", "-p", "fix", "A", "--from", "2026-03-01", "--to", "2026-03-31")["entries"]) == 1
    assert liability("2026-03-31")["points_owed_by_members"] == 45
    assert verified()


def test_a_credit_dated_before_a_redemption_makes_a_refund_take_back_less(tmp_path, db_path):
    # Lot policy, 1 month. T1 100.00 on 01-05 earns 100 (expire 02-05); 50 redeemed on 01-20; T1 refunded in
    # full on 03-01: T1 still contributes 100 - 50 expired = 50, so the refund takes back 50 (owed: -50).
    # Then +50 is adjusted in, dated 01-01 (expire 02-01). In date order the redemption spends those 50
    # first (sooner to expire), all 100 of T1 expire on 02-05, and the refund has nothing left to take back:
    # the replay gives the 50 back on 03-01, and A owes nothing.
    program(tmp_path, 'policy = "lot"\nmonths = 1')
    load(tmp_path, "t1.csv", "T1,A,2026-01-05T10:00,100.00,,\n")
    ok("redeem", "-p", "fix", "A", "--points", "50", "--at", "2026-01-20T10:00")
    assert load(tmp_path, "r1.csv", "R1,A,2026-03-01T10:00,-100.00,T1,\n")["points_clawed_back"] == 50
    assert balance("A", "2026-03-01") == -50
    ok("adjust", "-p", "fix", "A", "50", "--reason", "goodwill", "--at", "2026-01-01T10:00")
    assert [balance("A", day) for day in ("2026-01-01", "2026-01-05", "2026-01-20", "2026-02-01", "2026-02-05",
                                          "2026-03-01")] == [50, 150, 100, 100, 0, 0]
    moves = [(e["at"][:10], e["kind"], e["points"])
             for e in ok("statement", "-p", "fix", "A", "--from", "2026-03-01", "--to", "2026-03-31")["entries"]]
    assert moves == [("2026-03-01", "clawback", -50), ("2026-03-01", "clawback", 50)]
    assert refund_points("R1", db_path) == 0
    assert rollforward("2026-01-01", "2026-03-31") == {
        "opening_points": 0, "issued": 100, "redeemed": 50, "expired": 100, "clawed_back": 0, "adjusted": 50,
        "closing_points": 0}
    assert liability("2026-03-31")["points_owed_by_members"] == 0
    assert verified()


def test_refunds_in_parts_take_back_exactly_what_the_purchase_earned(tmp_path):
    # 30.00 at 3.34 points per unit: floor(100.2) = 100 points. Three refunds of 10.00 claw back
    # round(100 x 10/30) = 33, round(100 x 20/30) - 33 = 67 - 33 = 34, round(100 x 30/30) - 67 = 33: 100.
    program(tmp_path, rate="3.34")
    assert load(tmp_path, "t.csv", "T1,A,2026-01-10T10:00,30.00,,\n")["points_earned"] == 100
    clawed = [load(tmp_path, f"r{n}.csv", f"R{n},A,2026-01-1{n}T10:00,-10.00,T1,\n")["points_clawed_back"]
              for n in (1, 2, 3)]
    assert clawed == [33, 34, 33]
    assert balance("A", "2026-01-31") == 0
    # Nothing is left of T1: a fourth refund is a rejected row, and nothing is written
    result = run("txn", "import", "-p", "fix", write(tmp_path / "r4.csv", HEADER + "R4,A,2026-01-20T10:00,-0.01,T1,\n"))
    assert result.exit_code == 3
    assert "refund 0.01 exceeds what is left of T1: 0.00" in result.stderr
    assert balance("A", "2026-01-31") == 0


def test_a_refund_dated_before_its_purchase_is_rejected(tmp_path):
    program(tmp_path)
    load(tmp_path, "t.csv", "T1,A,2026-01-10T10:00,30.00,,\n")
    result = run("txn", "import", "-p", "fix", write(tmp_path / "r.csv", HEADER + "R1,A,2026-01-09T10:00,-10.00,T1,\n"))
    assert result.exit_code == 3
    assert "refund_of 'T1' is dated after this refund" in result.stderr
    assert balance("A", "2026-01-31") == 30


def test_expire_refuses_a_day_that_has_not_happened(tmp_path, db_path):
    # Today is 2026-06-15 in New York: posting 06-16's expiries would post what has not happened yet.
    program(tmp_path, 'policy = "lot"\nmonths = 1')
    ok("earn", "-p", "fix", "A", "10", "--reason", "r", "--at", "2026-05-16T12:00")  # expires 06-16
    before = snapshot(db_path)
    result = run("expire", "-p", "fix", "--as-of", "2026-06-16")
    assert result.exit_code == 2
    assert "after today" in result.stderr
    assert snapshot(db_path) == before
    assert ok("expire", "-p", "fix", "--as-of", "2026-06-15")["points"] == 0


@pytest.mark.citus
def test_transfers_back_and_forth_then_expire_and_close(tmp_path, db_path):
    # Lot policy, 1 month. A earns 100 on 01-05 (expires 02-05) and 40 on 01-06 (expires 02-06). Points go
    # back and forth between A and B, each lot carried on keeps its expiry; by 02-06 all 140 have expired.
    # (Before, `expire` and `period close` failed with a foreign-key error once lots outnumbered entries.)
    program(tmp_path, 'policy = "lot"\nmonths = 1')
    ok("earn", "-p", "fix", "A", "100", "--reason", "r", "--at", "2026-01-05T12:00")
    ok("earn", "-p", "fix", "A", "40", "--reason", "r", "--at", "2026-01-06T12:00")
    for day, (giver, taker, points) in enumerate([("A", "B", 120), ("B", "A", 110), ("A", "B", 130),
                                                  ("B", "A", 125), ("A", "B", 120)], start=10):
        ok("transfer", "-p", "fix", giver, taker, str(points), "--at", f"2026-01-{day}T12:00")
    # A: 140 - 120 + 110 - 130 + 125 - 120 = 5; B: 120 - 110 + 130 - 125 + 120 = 135
    assert (balance("A", "2026-01-31"), balance("B", "2026-01-31")) == (5, 135)
    assert ok("expire", "-p", "fix", "--as-of", "2026-02-28")["points"] == 140
    assert ok("period", "close", "-p", "fix", "--through", "2026-02-28")["closing_points"] == 0
    assert (balance("A", "2026-02-06"), balance("B", "2026-02-06")) == (0, 0)
    # each expiry names the entry whose lot expired: A's own earnings had all been moved by 01-12
    refs = query("SELECT DISTINCT r.kind FROM entries e JOIN entries r ON r.program_id = e.program_id AND r.id = e.ref"
                 " WHERE e.kind = 'expire'")
    assert sorted(kind for (kind,) in refs) == ["transfer_in"]
    assert verified()


def test_create_members_adds_nobody_for_rows_that_are_rejected(tmp_path):
    # N1's only row names an unknown partner, N2's only row refunds an unknown purchase: both rejected,
    # neither member created, no signup bonus paid. N3's good row creates N3 with the 50-point signup bonus.
    program(tmp_path, signup=50)
    rows = ("X1,N1,2026-02-01T10:00,20.00,,nowhere\n"
            "X2,N2,2026-02-01T11:00,-5.00,T404,\n"
            "X3,N3,2026-02-01T12:00,20.00,,\n")
    result = run("txn", "import", "-p", "fix", write(tmp_path / "new.csv", HEADER + rows), "--create-members",
                 "--format", "json")
    assert result.exit_code == 3
    summary = json.loads(result.stdout)
    assert (summary["imported"], summary["rejected"], summary["members_created"], summary["bonus_points"]) == (
        1, 2, 1, 50)
    members = {m["member_id"] for m in ok("member", "list", "-p", "fix")}
    assert members == {"A", "B", "N3"}
    assert balance("N3", "2026-02-28") == 70


@pytest.mark.citus
def test_a_backdated_redemption_may_not_spend_points_a_later_one_spent(tmp_path, db_path):
    # 100 earned 01-01, 100 redeemed 01-20. A redemption of 50 dated 01-10 would leave the 01-20 one short:
    # refused, nothing written. One dated 01-10 after 50 more were earned on 01-05 fits: 150 - 50 - 100 = 0.
    program(tmp_path)
    ok("earn", "-p", "fix", "A", "100", "--reason", "r", "--at", "2026-01-01T12:00")
    ok("redeem", "-p", "fix", "A", "--points", "100", "--at", "2026-01-20T12:00")
    before = snapshot(db_path)
    assert "short balance" in refused("redeem", "-p", "fix", "A", "--points", "50", "--at", "2026-01-10T12:00")
    assert snapshot(db_path) == before
    ok("earn", "-p", "fix", "A", "50", "--reason", "r", "--at", "2026-01-05T12:00")
    ok("redeem", "-p", "fix", "A", "--points", "50", "--at", "2026-01-10T12:00")
    assert [balance("A", day) for day in ("2026-01-09", "2026-01-10", "2026-01-31")] == [150, 100, 0]
    assert liability("2026-01-31")["points_owed_by_members"] == 0
    assert verified()


def test_reversing_one_side_of_a_transfer_reverses_both(tmp_path):
    program(tmp_path)
    ok("earn", "-p", "fix", "A", "100", "--reason", "r", "--at", "2026-01-01T12:00")
    moved = ok("transfer", "-p", "fix", "A", "B", "60", "--at", "2026-01-02T12:00")["entries"]
    reversal = ok("reverse", "-p", "fix", str(moved[1]["id"]), "--reason", "wrong card", "--at", "2026-01-03T12:00")
    assert sorted((e["member"], e["points"]) for e in reversal["entries"]) == [("A", 60), ("B", -60)]
    assert (balance("A", "2026-01-03"), balance("B", "2026-01-03")) == (100, 0)
    assert "already reversed" in refused("reverse", "-p", "fix", moved[0]["id"], "--reason", "again")
    assert verified()


def test_a_reversal_comes_after_its_entry(tmp_path, db_path):
    program(tmp_path)
    earned = ok("earn", "-p", "fix", "A", "10", "--reason", "r", "--at", "2026-01-10T12:00")["entries"][0]
    before = snapshot(db_path)
    assert "before entry" in refused("reverse", "-p", "fix", earned["id"], "--reason", "x", "--at", "2026-01-09")
    assert snapshot(db_path) == before


def test_expiring_points_as_of_a_past_day_are_as_they_stood_then_under_inactivity(tmp_path):
    # Inactivity, 3 months. A earns 100 on 01-05 (to expire 04-05) and 10 on 03-01, which pushes all of
    # A's points out to 06-01; B earns 20 on 01-20 (expire 04-20) and nothing since. As of 02-10 nobody knew
    # of the 03-01 purchase: A's 100 were to expire on 04-05 (54 days on), B's 20 on 04-20 (69 days on).
    program(tmp_path, 'policy = "inactivity"\nmonths = 3')
    load(tmp_path, "t.csv", "T1,A,2026-01-05T12:00,100.00,,\nT2,B,2026-01-20T12:00,20.00,,\n"
                            "T3,A,2026-03-01T12:00,10.00,,\n")
    listed = ok("report", "expiring", "-p", "fix", "--as-of", "2026-02-10", "--within", "70")["members"]
    assert [(m["member"], m["points"], m["first_expiry"]) for m in listed] == [
        ("A", 100, "2026-04-05"), ("B", 20, "2026-04-20")]
    by_expiry = {b["bucket"]: b["points"] for b in liability("2026-02-10")["aging_by_expiry"]}
    assert by_expiry == {"within 30 days": 0, "31-60 days": 100, "61-90 days": 20, "later": 0, "never": 0}
    # As of 03-31 the 03-01 purchase is known: A's 110 expire 06-01 (62 days on), B's 20 on 04-20 (20 days).
    by_expiry = {b["bucket"]: b["points"] for b in liability("2026-03-31")["aging_by_expiry"]}
    assert by_expiry == {"within 30 days": 20, "31-60 days": 0, "61-90 days": 110, "later": 0, "never": 0}
    assert ok("balance", "-p", "fix", "A", "--as-of", "2026-02-10")["expiring"] == [{"on": "2026-04-05", "points": 100}]


def test_a_credit_dated_before_a_reversed_redemption_revises_what_the_reversal_gave_back(tmp_path, db_path):
    # Lots live 60 days. B earns 812 on 01-10 (expire 03-11), redeems 285 on 01-22, and the redemption is
    # reversed on 03-01: all 285 come back. Then 100 earned on 2025-12-25 (expire 02-23) are posted. In date
    # order the redemption spends those 100 first and 185 of January's; the 100 have expired by 03-01, so
    # the reversal gives back 185, not 285: a revision of -100 on 03-01. On 03-05 B holds 627 + 185 = 812
    # (not 912: 100 points made from nothing), and from 03-11 nothing.
    program(tmp_path, 'policy = "lot"\ndays = 60')
    ok("earn", "-p", "fix", "B", "812", "--reason", "sale", "--at", "2026-01-10T10:00")
    redeemed = ok("redeem", "-p", "fix", "B", "--points", "285", "--at", "2026-01-22T10:00")["entries"][0]["id"]
    assert ok("reverse", "-p", "fix", str(redeemed), "--reason", "wrong", "--at", "2026-03-01T10:00"
              )["entries"][0]["points"] == 285
    ok("earn", "-p", "fix", "B", "100", "--reason", "missed", "--at", "2025-12-25T10:00")
    assert [balance("B", day) for day in ("2026-02-22", "2026-03-01", "2026-03-05", "2026-03-11")] == [
        627, 812, 812, 0]
    moves = [(e["at"][:10], e["kind"], e["points"])
             for e in ok("statement", "-p", "fix", "B", "--from", "2026-03-01", "--to", "2026-03-31")["entries"]]
    assert moves[:2] == [("2026-03-01", "reverse", 285), ("2026-03-01", "reverse", -100)]
    assert rollforward("2026-03-01", "2026-03-31") == {
        "opening_points": 627, "issued": 0, "redeemed": 0, "expired": 812, "clawed_back": 0, "adjusted": 185,
        "closing_points": 0}
    assert verified()


def test_a_refund_dated_before_the_reversal_of_its_purchase_but_imported_after_it_still_claws_back(tmp_path):
    # T1 (21.69, 21 points) on 01-08; its earn is reversed on 03-02 (-21); then a refund of 10.85 dated
    # 02-14 is imported. In date order the refund claws back round(21 x 10.85 / 21.69) = round(10.50...) = 11,
    # so February ends at 10, and on 03-02 the reversal takes what is left, 10: a revision of +11.
    program(tmp_path)
    load(tmp_path, "t1.csv", "T1,A,2026-01-08T10:00,21.69,,\n")
    earned = query("SELECT entry FROM transactions WHERE txn_id = 'T1'")[0][0]
    assert ok("reverse", "-p", "fix", str(earned), "--reason", "fraud", "--at", "2026-03-02T10:00"
              )["entries"][0]["points"] == -21
    assert load(tmp_path, "r1.csv", "R1,A,2026-02-14T10:00,-10.85,T1,\n")["points_clawed_back"] == 11
    assert [balance("A", day) for day in ("2026-02-13", "2026-02-14", "2026-02-28", "2026-03-02")] == [21, 10, 10, 0]
    moves = [(e["at"][:10], e["kind"], e["points"])
             for e in ok("statement", "-p", "fix", "A", "--from", "2026-02-01", "--to", "2026-03-31")["entries"]]
    assert moves == [("2026-02-14", "clawback", -11), ("2026-03-02", "reverse", -21), ("2026-03-02", "reverse", 11)]
    assert verified()


def test_a_refused_posting_changes_no_figure_whatever_ids_it_skips(tmp_path, db_path):
    # PostgreSQL skips the ids a refused posting drew (sequences are not transactional); SQLite does not.
    # A script reverses by the id the posting printed, and every figure is the same on both backends:
    # 50 + 30 earned, the redemption of 500 refused, the 30 reversed: 50.
    program(tmp_path)
    first = ok("earn", "-p", "fix", "A", "50", "--reason", "sale")["entries"][0]["id"]
    assert refused("redeem", "-p", "fix", "A", "--points", "500").startswith("error: short balance")
    second = ok("earn", "-p", "fix", "A", "30", "--reason", "sale")["entries"][0]["id"]
    assert second > first
    assert ok("reverse", "-p", "fix", str(second), "--reason", "typo")["entries"][0]["points"] == -30
    assert ok("balance", "-p", "fix", "A")["points"] == 50
    statement = ok("statement", "-p", "fix", "A", "--from", "2026-06-01", "--to", "2026-06-30")
    assert [(e["kind"], e["points"], e["balance"]) for e in statement["entries"]] == [
        ("earn", 50, 50), ("earn", 30, 80), ("reverse", -30, 50)]
    assert verified()


def test_a_transfer_reversed_by_its_expired_side_keeps_its_key(tmp_path):
    # Inactivity, 6 months. A earns 100 on 01-05 and gives B 50 on 01-06 (B's 50 keep A's expiry, 07-05).
    # A buys again on 06-15, so A's lot lives to 12-15; B does nothing, so B's 50 expire on 07-05.
    # Reversing B's side (transfer_in) on 09-01 takes nothing from B (expired) and gives A back 50: that one
    # entry carries the key, so the same command again is a duplicate (exit 0), not "already reversed".
    program(tmp_path, 'policy = "inactivity"\nmonths = 6')
    ok("earn", "-p", "fix", "A", "100", "--reason", "welcome", "--at", "2025-01-05T12:00")
    moved = ok("transfer", "-p", "fix", "A", "B", "50", "--at", "2025-01-06T12:00")["entries"]
    ok("earn", "-p", "fix", "A", "10", "--reason", "visit", "--at", "2025-06-15T12:00")
    transfer_in = next(e["id"] for e in moved if e["kind"] == "transfer_in")
    command = ("reverse", "-p", "fix", str(transfer_in), "--reason", "wrong card", "--key", "undo-1",
               "--at", "2025-09-01T12:00")
    first = ok(*command)
    assert [(e["member"], e["points"], e["key"]) for e in first["entries"]] == [("A", 50, "undo-1")]
    assert first["member"] == "A"  # the member whose entry it wrote, as a replay of the key says
    again = ok(*command)
    assert again["duplicate"] and [e["id"] for e in again["entries"]] == [e["id"] for e in first["entries"]]
    assert again["member"] == "A"
    assert balance("A", "2025-09-01") == 110 and balance("B", "2025-09-01") == 0
