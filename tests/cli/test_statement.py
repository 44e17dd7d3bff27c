"""Member statements end to end, figures worked by hand."""

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import run, write

SHOP = """\
[program]
code = "shop"
name = "Corner & Co Rewards"
currency = "USD"
timezone = "UTC"
point_value = "0.01"
effective_from = 2025-01-01

[earn]
points_per_unit = "1"
rounding = "floor"

[expiry]
policy = "lot"
months = 3

[tiers]
basis = "spend"
window = "calendar-year"

[[tiers.levels]]
code = "member"
threshold = "0"

[[tiers.levels]]
code = "silver"
name = "Silver"
threshold = "300.00"
multiplier = "2"

[[tiers.levels]]
code = "gold"
name = "Gold"
threshold = "1000.00"
multiplier = "3"
perks = ["free gift wrap"]

[[rewards]]
code = "five-off"
name = "$5 off"
points = 100
value = "5.00"
"""
TXNS = """\
txn_id,member_id,occurred_at,amount,refund_of,description
T0,M1,2025-09-15T10:00,50.00,,September visit
T1,M1,2025-10-03T10:00,200.00,,Coat
T2,M1,2025-10-10T10:00,100.00,,Boots
T3,M1,2025-10-12T10:00,-50.00,T2,Boots returned
T4,M1,2025-10-20T10:00,40.00,,Scarf
"""
# T0 50 (lot expires 2025-12-15); T1 200 (member, expires 2026-01-03); T2 100 (member: 250.00 spent before it;
# 350.00 after: silver); T3 claws back round(100 x 50 / 100) = 50 from T2's lot, spend 300.00 = silver exactly;
# T4 40.00 x 2 = 80 (expires 2026-01-20). Redeem 100 on 2025-10-25: soonest expiry first: T0's 50, then 50 of T1's.


def setup_member(tmp_path) -> None:
    assert run("program", "apply", write(tmp_path / "shop.toml", SHOP)).exit_code == 0
    assert run("member", "add", "-p", "shop", "M1", "--name", "Ann <Lee> & Co", "--card", "C1",
               "--joined", "2025-01-01").exit_code == 0
    assert run("txn", "import", "-p", "shop", write(tmp_path / "t.csv", TXNS)).exit_code == 0
    assert run("redeem", "-p", "shop", "M1", "--reward", "five-off", "--at", "2025-10-25T12:00").exit_code == 0


def statement(*args: str) -> dict:
    result = run("statement", "-p", "shop", "M1", *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def balance(as_of: str) -> int:
    return json.loads(run("balance", "-p", "shop", "M1", "--as-of", as_of, "--format", "json").stdout)["points"]


@pytest.mark.citus
def test_october_statement_has_every_figure(tmp_path):
    setup_member(tmp_path)
    s = statement("--period", "2025-10")
    assert (s["from"], s["to"], s["opening_points"], s["closing_points"]) == ("2025-10-01", "2025-10-31", 50, 280)
    assert [(e["at"][:10], e["kind"], e["points"], e["balance"], e["description"]) for e in s["entries"]] == [
        ("2025-10-03", "earn", 200, 250, "Coat"),
        ("2025-10-10", "earn", 100, 350, "Boots"),
        ("2025-10-12", "clawback", -50, 300, "refund of T2"),
        ("2025-10-20", "earn", 80, 380, "Scarf"),
        ("2025-10-25", "redeem", -100, 280, "$5 off"),
    ]
    # 2025 spend: 50 + 200 + 100 - 50 + 40 = 340.00; gold at 1000.00
    assert (s["tier"], s["next_tier"]["code"], s["next_tier"]["remaining"]) == ("silver", "gold", "660.00")
    # lots left: T1 150 (2026-01-03), T2 50 (2026-01-10), T4 80 (2026-01-20), all within 90 days of 31 October
    assert s["expiring"] == [{"on": "2026-01-03", "points": 150}, {"on": "2026-01-10", "points": 50},
                             {"on": "2026-01-20", "points": 80}]
    assert [r["code"] for r in s["rewards_available"]] == ["five-off"]
    assert s["saved"] == "5.00"
    assert (s["opening_points"], s["closing_points"]) == (balance("2025-09-30"), balance("2025-10-31"))


def test_unposted_expiries_are_lines_so_the_statement_always_adds_up(tmp_path):
    setup_member(tmp_path)
    before = statement("--period", "2026-01")
    assert (before["opening_points"], before["closing_points"]) == (280, 0)
    assert [(e["at"][:10], e["kind"], e["points"], e["balance"]) for e in before["entries"]] == [
        ("2026-01-03", "expire", -150, 130), ("2026-01-10", "expire", -50, 80), ("2026-01-20", "expire", -80, 0)]
    assert run("expire", "-p", "shop", "--as-of", "2026-01-31").exit_code == 0
    after = statement("--period", "2026-01")
    assert [(e["points"], e["balance"]) for e in after["entries"]] == [(-150, 130), (-50, 80), (-80, 0)]
    assert (after["opening_points"], after["closing_points"]) == (balance("2025-12-31"), balance("2026-01-31"))


def test_text_fits_80_columns_and_csv_holds_the_lines(tmp_path):
    setup_member(tmp_path)
    text = run("statement", "-p", "shop", "C1", "--from", "2025-10-01", "--to", "2025-10-31", "--format", "text").stdout
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "Opening balance" in text and "Closing balance" in text
    # the figures under the lines are as of the period's end, and money reads as the reward names write it
    assert text.endswith("Available on 2025-10-31: 280 points\n"
                         "Tier: Silver; $660.00 more spend to Gold (free gift wrap)\n"
                         "Expiring: 150 points on 2026-01-03\n"
                         "Expiring: 50 points on 2026-01-10\n"
                         "Expiring: 80 points on 2026-01-20\n"
                         "Rewards within reach on 2025-10-31: $5 off (100 points)\n"
                         "Saved up to 2025-10-31: $5.00\n"), text
    rows = list(csv.reader(io.StringIO(run("statement", "-p", "shop", "M1", "--period", "2025-10",
                                           "--format", "csv").stdout)))
    assert rows[0] == ["date", "kind", "description", "points", "balance"]
    assert rows[3] == ["2025-10-12", "clawback", "refund of T2", "-50", "300"]


def test_html_is_one_well_formed_self_contained_page_with_every_figure(tmp_path):
    setup_member(tmp_path)
    page = run("statement", "-p", "shop", "M1", "--period", "2025-10", "--format", "html").stdout
    root = ET.fromstring(page.split("\n", 1)[1])  # after <!DOCTYPE html>
    assert root.tag == "html"
    assert not [el for el in root.iter() if el.tag in ("link", "script", "img")]
    text = "".join(root.itertext())
    for figure in ("Ann <Lee> & Co", "50", "+200", "-50", "+80", "-100", "280", "660.00", "5.00", "2026-01-03"):
        assert figure in text, figure


def test_default_period_is_this_month_and_bad_periods_are_bad_usage(tmp_path):
    setup_member(tmp_path)
    assert (statement()["from"], statement()["to"]) == ("2026-06-01", "2026-06-30")  # the clock is 2026-06-15
    assert run("statement", "-p", "shop", "M1", "--period", "2025-13").exit_code == 2
    assert run("statement", "-p", "shop", "M1", "--from", "2025-10-31", "--to", "2025-10-01").exit_code == 2
    assert run("statement", "-p", "shop", "M9").exit_code == 1


@pytest.mark.citus
def test_batch_writes_one_file_per_active_member_with_an_index_and_reruns_cleanly(tmp_path):
    setup_member(tmp_path)
    assert run("member", "add", "-p", "shop", "idle", "--joined", "2025-01-01").exit_code == 0  # nothing, ever
    assert run("member", "add", "-p", "shop", "../a b/ü", "--joined", "2025-01-01", "--email", "x@example.com").exit_code == 0
    assert run("adjust", "-p", "shop", "../a b/ü", "7", "--reason", "welcome", "--at", "2025-09-20").exit_code == 0
    out = tmp_path / "out"
    first = run("statement", "-p", "shop", "--all", "--period", "2025-10", "--out-dir", out, "--format", "json")
    assert first.exit_code == 0, first.stderr
    files = sorted(p.name for p in out.iterdir())
    unsafe = [name for name in files if name.startswith("___a_b__")]
    assert files == sorted(["M1.json", "index.csv", *unsafe]) and len(unsafe) == 1  # no activity in October, 7 points (expire 2025-12-20)
    assert json.loads((out / "M1.json").read_text())["closing_points"] == 280
    assert json.loads((out / unsafe[0]).read_text())["closing_points"] == 7
    index = list(csv.DictReader(io.StringIO((out / "index.csv").read_text())))
    assert [(r["member_id"], r["file"], r["closing_points"]) for r in index] == [
        ("../a b/ü", unsafe[0], "7"), ("M1", "M1.json", "280")]
    again = run("statement", "-p", "shop", "--all", "--period", "2025-10", "--out-dir", out, "--format", "json",
                "--include-inactive")
    assert again.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([*files, "idle.json"])  # overwritten, no temp files left


def test_batch_as_email_has_text_and_html_and_skips_members_without_an_address(tmp_path):
    from email import policy
    from email.parser import BytesParser

    setup_member(tmp_path)
    assert run("member", "import", "-p", "shop", write(tmp_path / "m.csv", "member_id,email\nM1,ann@example.com\n")).exit_code == 0
    assert run("member", "add", "-p", "shop", "M2", "--joined", "2025-01-01").exit_code == 0
    assert run("adjust", "-p", "shop", "M2", "5", "--reason", "x", "--at", "2025-10-02").exit_code == 0
    out = tmp_path / "mail"
    result = run("statement", "-p", "shop", "--all", "--period", "2025-10", "--out-dir", out, "--format", "eml",
                 "--sender", "rewards@corner.example")
    assert result.exit_code == 0 and "skipped no email" in result.stdout
    message = BytesParser(policy=policy.default).parsebytes((out / "M1.eml").read_bytes())
    assert message["Subject"] == "Corner & Co Rewards: your statement for October 2025"
    assert (message["From"], message["To"]) == ("rewards@corner.example", '"Ann <Lee> & Co" <ann@example.com>')
    assert "Closing balance" in message.get_body(("plain",)).get_content()
    assert "<table>" in message.get_body(("html",)).get_content()
    assert not (out / "M2.eml").exists()


def test_batch_email_run_again_on_unchanged_data_writes_the_same_bytes(tmp_path, monkeypatch):
    from email import policy
    from email.parser import BytesParser

    setup_member(tmp_path)
    members = "member_id,email\nM1,ann@example.com\nM2,bo@example.com\n"
    assert run("member", "import", "-p", "shop", write(tmp_path / "m.csv", members)).exit_code == 0
    assert run("adjust", "-p", "shop", "M2", "5", "--reason", "x", "--at", "2025-10-02").exit_code == 0

    def batch(out: str, period: str = "2025-10") -> dict[str, bytes]:
        result = run("statement", "-p", "shop", "--all", "--period", period, "--out-dir", tmp_path / out,
                     "--format", "eml", "--sender", "rewards@corner.example")
        assert result.exit_code == 0, result.stderr
        return {path.name: path.read_bytes() for path in (tmp_path / out).glob("*.eml")}

    first = batch("first")
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-07-01T09:30:00+00:00")  # a week later, another run of the cron job
    assert batch("second") == first and set(first) == {"M1.eml", "M2.eml"}
    m1, m2 = (BytesParser(policy=policy.default).parsebytes(first[name]) for name in ("M1.eml", "M2.eml"))
    assert m1["Date"] == "Sat, 01 Nov 2025 00:00:00 +0000"  # the end of October, in the program's time zone (UTC)
    ids = {m1["Message-ID"], m2["Message-ID"],
           BytesParser(policy=policy.default).parsebytes(batch("september", "2025-09")["M1.eml"])["Message-ID"]}
    assert len(ids) == 3  # one per member and period
    assert all(re.fullmatch(r"<stmt-[0-9a-f]{24}@corner\.example>", i) for i in ids), ids
    # A correction dated in October changes M2's statement: a new message; M1's stays byte for byte.
    assert run("adjust", "-p", "shop", "M2", "3", "--reason", "late fix", "--at", "2025-10-20").exit_code == 0
    corrected = batch("corrected")
    assert corrected["M1.eml"] == first["M1.eml"]
    assert BytesParser(policy=policy.default).parsebytes(corrected["M2.eml"])["Message-ID"] != m2["Message-ID"]


def test_batch_email_comes_from_the_sender_or_the_programs_address_and_never_a_made_up_one(tmp_path):
    from email import policy
    from email.parser import BytesParser

    setup_member(tmp_path)
    assert run("member", "import", "-p", "shop", write(tmp_path / "m.csv", "member_id,email\nM1,ann@example.com\n")).exit_code == 0
    out = tmp_path / "mail"
    batch = ("statement", "-p", "shop", "--all", "--period", "2025-10", "--out-dir", out, "--format", "eml")
    refused = run(*batch)
    assert (refused.exit_code, refused.stderr) == (2, 'error: --format eml needs a From address: --sender ADDRESS, '
                                                      'or email = "..." in the [program] table of shop\n')
    assert not out.exists()
    assert run(*batch, "--sender", "rewards at corner").stderr == "error: --sender 'rewards at corner' is not an email address\n"
    with_address = SHOP.replace('timezone = "UTC"', 'timezone = "UTC"\nemail = "hello@corner.example"')
    assert run("program", "apply", write(tmp_path / "shop.toml", with_address)).exit_code == 0
    assert run(*batch).exit_code == 0
    assert BytesParser(policy=policy.default).parsebytes((out / "M1.eml").read_bytes())["From"] == "hello@corner.example"


def test_a_program_email_must_be_an_address(tmp_path):
    bad = write(tmp_path / "shop.toml", SHOP.replace('timezone = "UTC"', 'timezone = "UTC"\nemail = "corner"'))
    result = run("program", "validate", bad)
    assert result.exit_code == 2
    assert f"{bad}:6: program.email: 'corner' is not an email address" in result.stderr


@pytest.mark.citus
def test_expiring_report_lists_members_to_warn_with_what_they_can_still_redeem(tmp_path):
    setup_member(tmp_path)

    def expiring(within: str) -> list[dict]:
        result = run("report", "expiring", "-p", "shop", "--within", within, "--as-of", "2025-10-31", "--format", "json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)["members"]

    assert expiring("60") == []  # to 2025-12-30: T0's lot (2025-12-15) was used up by the redemption
    # to 2026-01-05: T1's 150 left (2026-01-03)
    assert expiring("66") == [{"member": "M1", "name": "Ann <Lee> & Co", "email": "", "points": 150,
                               "first_expiry": "2026-01-03", "available": 280, "rewards": ["five-off"]}]
    assert expiring("90")[0]["points"] == 150 + 50 + 80
    rows = list(csv.reader(io.StringIO(run("report", "expiring", "-p", "shop", "--within", "90", "--as-of", "2025-10-31",
                                           "--format", "csv").stdout)))
    assert rows == [["member", "name", "email", "points", "first_expiry", "available", "rewards"],
                    ["M1", "Ann <Lee> & Co", "", "280", "2026-01-03", "280", "$5 off"]]  # a mail merge names rewards
    assert run("report", "expiring", "-p", "shop", "--within", "0").exit_code == 2


def test_member_list_of_those_with_points_expiring_soon(tmp_path):
    """The same lots as the expiring report: by 2026-01-05 M1's T1 150 (2026-01-03); none by 2025-12-30."""
    setup_member(tmp_path)
    assert run("member", "add", "-p", "shop", "M2", "--joined", "2025-01-01").exit_code == 0

    def expiring(days: str) -> list[tuple]:
        result = run("member", "list", "-p", "shop", "--expiring-within", days, "--as-of", "2025-10-31", "-f", "json")
        assert result.exit_code == 0, result.stderr
        return [(m["member_id"], m["points"], m["expiring_points"]) for m in json.loads(result.stdout)]

    assert (expiring("60"), expiring("66"), expiring("90")) == ([], [("M1", 280, 150)], [("M1", 280, 150 + 50 + 80)])
    bad = run("member", "list", "-p", "shop", "--expiring-within", "0")
    assert (bad.exit_code, bad.stderr) == (2, "error: --expiring-within must be a positive number of days, got 0\n")


def test_member_list_by_tier_as_of_a_day(tmp_path):
    # M1 spent 340.00 in 2025 by 2025-10-20 (silver from T2 on 2025-10-10); M2 spent nothing: member
    setup_member(tmp_path)
    assert run("member", "add", "-p", "shop", "M2", "--joined", "2025-01-01").exit_code == 0

    def by_tier(tier: str, as_of: str) -> list[str]:
        result = run("member", "list", "-p", "shop", "--tier", tier, "--as-of", as_of, "--format", "json")
        assert result.exit_code == 0, result.stderr
        return [m["member_id"] for m in json.loads(result.stdout)]

    assert (by_tier("silver", "2025-10-31"), by_tier("member", "2025-10-31")) == (["M1"], ["M2"])
    assert (by_tier("silver", "2025-10-05"), by_tier("member", "2025-10-05")) == ([], ["M1", "M2"])  # 250.00 then
    unknown = run("member", "list", "-p", "shop", "--tier", "platinum")
    assert (unknown.exit_code, unknown.stderr) == (2, "error: --tier 'platinum': shop has the tiers member, silver, gold\n")
