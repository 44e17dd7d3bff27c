"""Period close at the edges: what a close does to members added later, payments, and repeated closes."""

import json

from tests.conftest import run, snapshot, write

PROGRAM = """\
[program]
code = "club"
name = "Club"
currency = "USD"
timezone = "UTC"
point_value = "0.01"
effective_from = 2026-01-01

[earn]
points_per_unit = "1"

[bonuses]
signup = 50

[membership]
fee = "20.00"
term = "annual"
"""


def _club(tmp_path):
    assert run("program", "apply", write(tmp_path / "club.toml", PROGRAM)).exit_code == 0
    closed = run("period", "close", "-p", "club", "--through", "2026-03-31", "--format", "json")
    assert closed.exit_code == 0, closed.stderr
    return json.loads(closed.stdout)


def test_a_member_who_joined_in_a_closed_period_gets_the_signup_bonus_the_day_after_it(tmp_path, db_path):
    _club(tmp_path)
    members = write(tmp_path / "members.csv", "member_id,joined\nOLD,2026-02-10\nNEW,2026-05-02\n")
    imported = run("member", "import", "-p", "club", members, "--format", "json")
    assert imported.exit_code == 0, imported.stderr
    assert json.loads(imported.stdout)["signup_bonus_points"] == 100  # 50 each
    old = json.loads(run("statement", "-p", "club", "OLD", "--from", "2026-02-01", "--to", "2026-04-30",
                         "--format", "json").stdout)
    # joined 10 February, in the period closed through 31 March: the 50 points arrive on 1 April
    assert [(e["at"][:10], e["points"], e["description"]) for e in old["entries"]] == [
        ("2026-04-01", 50, "signup bonus (joined 2026-02-10, in a closed period)")]
    new = json.loads(run("balance", "-p", "club", "NEW", "--as-of", "2026-05-02", "--format", "json").stdout)
    assert new["points"] == 50
    liability = json.loads(run("report", "liability", "-p", "club", "--as-of", "2026-03-31", "--format", "json").stdout)
    assert liability["outstanding_points"] == 0


def test_closing_again_or_earlier_changes_nothing_and_an_unfinished_day_cannot_be_closed(tmp_path, db_path):
    first = _club(tmp_path)
    assert (first["through"], first["already_closed"]) == ("2026-03-31", False)
    before = snapshot(db_path)
    for through in ("2026-03-31", "2026-02-28"):
        again = run("period", "close", "-p", "club", "--through", through, "--format", "json")
        assert again.exit_code == 0
        assert (json.loads(again.stdout)["through"], json.loads(again.stdout)["already_closed"]) == ("2026-03-31", True)
    assert snapshot(db_path) == before
    # the clock says 2026-06-15 16:00 UTC: that day is not over
    today = run("period", "close", "-p", "club", "--through", "2026-06-15")
    assert today.exit_code == 1 and "has not ended yet" in today.stderr
    assert snapshot(db_path) == before
    listed = json.loads(run("period", "list", "-p", "club", "--format", "json").stdout)
    assert [p["through"] for p in listed["periods"]] == ["2026-03-31"]
    spreadsheet = run("period", "list", "-p", "club", "--format", "csv").stdout.splitlines()
    close = listed["periods"][0]
    assert spreadsheet == ["through,expiries_posted,closing_points,closing_liability,closed_at",
                           f"2026-03-31,{close['expiries_posted']},{close['closing_points']},"
                           f"{close['closing_liability']},{close['closed_at']}"]


def test_a_membership_payment_dated_in_a_closed_period_is_refused(tmp_path, db_path):
    _club(tmp_path)
    assert run("member", "add", "-p", "club", "M1", "--joined", "2026-04-02").exit_code == 0
    before = snapshot(db_path)
    paid = run("member", "pay", "-p", "club", "M1", "--at", "2026-03-15")
    assert paid.exit_code == 1 and "closed period" in paid.stderr
    assert snapshot(db_path) == before
    assert run("member", "pay", "-p", "club", "M1", "--at", "2026-04-02").exit_code == 0
