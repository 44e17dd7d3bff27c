"""Vouchers end to end: issued by a redemption, used once at the till, cancelled, expired (with and without
their points back), and counted by the liability, the roll-forward and the journal to the cent.

The scenario (UTC, 0.01 a point; the tests' clock is 2026-06-15 16:00):
  05-01  M1 earns 3000 (lots expire 2027-05-01)
  06-01  redeems five-off (500 points, $5, 30 days)            -> V1, valid through 06-30
  06-01  redeems ten-back (1000 points, $10, 10 days, points back if unused) -> V2, valid through 06-10
  06-02  redeems five-off                                       -> V3, valid through 07-01
  06-05  V1 used for order R-1
  06-06  V3's redemption reversed: V3 cancelled, its 500 points back
  06-11  V2 expires unused; `expire` gives its 1000 points back, dated 06-11
Points: 3000 - 500 - 1000 - 500 + 500 + 1000 = 2500.
"""

import csv
import io
import json
import re
from decimal import Decimal

import pytest

from loyaltyctl.core.vouchers import check_symbol, parse_code
from tests.conftest import run, write
from tests.storage.test_integrity import behind_the_tools_back

SHOP = """\
[program]
code = "shop"
name = "Shop"
currency = "USD"
timezone = "UTC"
point_value = "0.01"
effective_from = 2026-01-01

[earn]
points_per_unit = "1"

[expiry]
policy = "lot"
months = 12

[[rewards]]
code = "five-off"
name = "$5 voucher"
points = 500
value = "5.00"
voucher = true
voucher_days = 30

[[rewards]]
code = "ten-back"
name = "$10 voucher"
points = 1000
value = "10.00"
voucher = true
voucher_days = 10
return_points_on_expiry = true

[[rewards]]
code = "one-off"
name = "$1 off now"
points = 100
value = "1.00"
"""
CODE = re.compile(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}")


def ok(*args) -> str:
    result = run(*args)
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout


def refused(*args) -> tuple[int, str]:
    result = run(*args)
    return result.exit_code, result.stderr


def redeem(reward: str, at: str, *extra: str) -> dict:
    return json.loads(ok("redeem", "-p", "shop", "M1", "--reward", reward, "--at", at, "--format", "json", *extra))


@pytest.fixture
def shop(tmp_path):
    ok("program", "apply", write(tmp_path / "shop.toml", SHOP))
    ok("member", "add", "-p", "shop", "M1", "--email", "m1@example.com")
    ok("earn", "-p", "shop", "M1", "3000", "-r", "opening points", "--at", "2026-05-01T10:00")
    return tmp_path


@pytest.fixture
def scenario(shop):
    codes = [redeem("five-off", "2026-06-01T09:00")["voucher"]["code"],
             redeem("ten-back", "2026-06-01T09:30")["voucher"]["code"]]
    third = redeem("five-off", "2026-06-02T09:00")
    codes.append(third["voucher"]["code"])
    ok("voucher", "use", "-p", "shop", codes[0], "--order", "R-1", "--at", "2026-06-05T12:00")
    ok("reverse", "-p", "shop", str(third["entries"][0]["id"]), "-r", "changed their mind", "--at", "2026-06-06T10:00")
    returned = json.loads(ok("expire", "-p", "shop", "--format", "json"))
    assert returned["vouchers_returned"] == 1
    return codes


def points(as_of: str) -> int:
    return json.loads(ok("balance", "-p", "shop", "M1", "--as-of", as_of, "--format", "json"))["points"]


@pytest.mark.citus
def test_redeeming_a_voucher_reward_issues_a_code_the_till_can_type(shop):
    posted = redeem("five-off", "2026-06-01T09:00")
    voucher = posted["voucher"]
    assert CODE.fullmatch(voucher["code"]) and parse_code(voucher["code"]) == voucher["code"]
    assert {k: voucher[k] for k in ("member", "reward", "points", "value", "valid_through", "status")} == {
        "member": "M1", "reward": "five-off", "points": 500, "value": "5.00", "valid_through": "2026-06-30",
        "status": "issued"}
    assert (posted["entries"][0]["points"], posted["balance"]) == (-500, 2500)
    again = json.loads(ok("redeem", "-p", "shop", "M1", "--reward", "five-off", "--key", "k1", "--format", "json"))
    repeat = json.loads(ok("redeem", "-p", "shop", "M1", "--reward", "five-off", "--key", "k1", "--format", "json"))
    assert repeat["duplicate"] and repeat["voucher"]["code"] == again["voucher"]["code"]
    assert redeem("one-off", "2026-06-01T10:00")["voucher"] is None  # a reward without a voucher issues none


def test_codes_refuse_typing_mistakes_rather_than_match_another_voucher():
    body = "7KQMX2RH9TC"
    code = body + check_symbol(body)
    assert parse_code(code.lower()) == parse_code(f" {code[:6]} {code[6:]} ") == f"{code[:4]}-{code[4:8]}-{code[8:]}"
    for position in range(len(code)):  # every single-symbol slip is caught
        for wrong in "23456789ABCDEFGHJKLMNPQRSTUVWXYZ":
            if wrong != code[position]:
                with pytest.raises(ValueError, match="mistyped"):
                    parse_code(code[:position] + wrong + code[position + 1:])
    swapped = code[1] + code[0] + code[2:]
    with pytest.raises(ValueError, match="mistyped"):
        parse_code(swapped)
    with pytest.raises(ValueError, match="codes never use 'O'"):
        parse_code("O" + code[1:])


def test_codes_take_only_their_alphabet_and_any_dash_between_groups():
    body = "SSKQMX2RH9T"
    code = body + check_symbol(body)
    written = f"{code[:4]}-{code[4:8]}-{code[8:]}"
    assert parse_code(f"{code[:4]}\u2013{code[4:8]} \u2014 {code[8:]}") == written  # en and em dash, as phones type
    # `upper()` would make ß into SS and ſ (long s) into S: they would name this very voucher
    for lookalike, symbol in ((code.replace("SS", "ß", 1), "ß"), ("ſ" + code[1:], "ſ"), (code.replace("2", "２"), "２")):
        with pytest.raises(ValueError, match=f"codes never use '{symbol}'"):
            parse_code(lookalike)


@pytest.mark.citus
def test_a_voucher_is_used_once_and_a_second_use_names_when_and_where(shop):
    code = redeem("five-off", "2026-06-01T09:00")["voucher"]["code"]
    used = json.loads(ok("voucher", "use", "-p", "shop", code.lower().replace("-", ""), "--order", "R-1",
                         "--at", "2026-06-05T12:00", "--format", "json"))
    assert (used["status"], used["used_at"], used["order"]) == ("used", "2026-06-05T12:00:00+00:00", "R-1")
    assert ok("voucher", "use", "-p", "shop", code, "--order", "R-1", "--format", "json")  # the same order: exit 0
    assert refused("voucher", "use", "-p", "shop", code, "--order", "R-2") == (
        1, f"error: voucher {code} was already used on 2026-06-05 for order R-1\n")


def test_the_till_needs_only_the_code(shop, tmp_path):
    ok("program", "apply", write(tmp_path / "other.toml", SHOP.replace('code = "shop"', 'code = "other"')))
    code = redeem("five-off", "2026-06-01T09:00")["voucher"]["code"]
    shown = json.loads(ok("voucher", "show", code, "--format", "json"))
    assert (shown["program"], shown["status"]) == ("shop", "issued")
    used = json.loads(ok("voucher", "use", code, "--order", "R-1", "--at", "2026-06-05T12:00", "--format", "json"))
    assert (used["program"], used["status"], used["order"]) == ("shop", "used", "R-1")
    assert refused("voucher", "use", code, "--order", "R-2") == (
        1, f"error: voucher {code} was already used on 2026-06-05 for order R-1\n")
    body = "22222222222"
    unknown = parse_code(body + check_symbol(body))
    assert refused("voucher", "use", unknown) == (1, f"error: no voucher {unknown}\n")


def test_codes_that_are_not_this_programs_unused_vouchers_are_refused(shop, tmp_path):
    code = redeem("five-off", "2026-06-01T09:00")["voucher"]["code"]
    mistyped = code[:-1] + ("2" if code[-1] != "2" else "3")
    assert refused("voucher", "use", "-p", "shop", mistyped) == (2, f"error: {mistyped!r} is mistyped: its check "
                                                                    "symbol does not match\n")
    body = "22222222222"
    unknown = parse_code(body + check_symbol(body))
    assert refused("voucher", "show", "-p", "shop", unknown) == (1, f"error: no voucher {unknown}\n")
    ok("program", "apply", write(tmp_path / "other.toml", SHOP.replace('code = "shop"', 'code = "other"')))
    assert refused("voucher", "use", "-p", "other", code) == (
        1, f"error: voucher {code} belongs to program 'shop', not 'other'\n")
    assert refused("voucher", "use", "-p", "shop", code, "--at", "2026-05-31") == (
        1, f"error: voucher {code} was issued on 2026-06-01, after 2026-05-31\n")
    assert refused("voucher", "use", "-p", "shop", code, "--at", "2026-07-01T00:00") == (
        1, f"error: voucher {code} expired on 2026-07-01\n")
    ok("period", "close", "-p", "shop", "--through", "2026-06-10")
    exit_code, message = refused("voucher", "use", "-p", "shop", code, "--at", "2026-06-09T12:00")
    assert exit_code == 1 and "falls in a closed period" in message
    assert json.loads(ok("voucher", "show", "-p", "shop", code, "--format", "json"))["status"] == "issued"


@pytest.mark.citus
def test_a_code_drawn_again_in_another_program_is_drawn_anew(shop, tmp_path, monkeypatch):
    """Codes are unique across programs (on Citus, across shards): a till types only the code."""
    first, second = (parse_code(body + check_symbol(body)) for body in ("22222222222", "33333333333"))
    draws = iter([first, first, second])
    monkeypatch.setattr("loyaltyctl.operations.vouchers.new_code", lambda random_bytes: next(draws))
    assert redeem("five-off", "2026-06-01T09:00")["voucher"]["code"] == first
    ok("program", "apply", write(tmp_path / "other.toml", SHOP.replace('code = "shop"', 'code = "other"')))
    ok("member", "add", "-p", "other", "M1")
    ok("earn", "-p", "other", "M1", "800", "-r", "opening points", "--at", "2026-05-01T10:00")
    posted = json.loads(ok("redeem", "-p", "other", "M1", "--reward", "five-off", "--at", "2026-06-01T09:00",
                           "--format", "json"))
    assert (posted["voucher"]["code"], posted["balance"]) == (second, 300)
    assert json.loads(ok("voucher", "show", "-p", "shop", first, "--format", "json"))["member"] == "M1"
    assert refused("voucher", "use", "-p", "other", first) == (
        1, f"error: voucher {first} belongs to program 'shop', not 'other'\n")
    ok("db", "verify")


@pytest.mark.citus
def test_cancelled_expired_and_returned_vouchers(scenario):
    v1, v2, v3 = scenario
    assert points("2026-06-15") == 2500
    assert (points("2026-06-10"), points("2026-06-11")) == (1500, 2500)  # V2's 1000 back from its expiry day
    statuses = {v["code"]: (v["status"], v["points_returned"])
                for v in json.loads(ok("voucher", "list", "-p", "shop", "--format", "json"))["vouchers"]}
    assert statuses == {v1: ("used", False), v2: ("expired", True), v3: ("cancelled", False)}
    assert refused("voucher", "use", "-p", "shop", v3) == (
        1, f"error: voucher {v3} was cancelled on 2026-06-06 (its redemption was reversed)\n")
    assert refused("voucher", "use", "-p", "shop", v2) == (
        1, f"error: voucher {v2} expired on 2026-06-11 and its points were given back\n")
    again = json.loads(ok("expire", "-p", "shop", "--format", "json"))
    assert again["vouchers_returned"] == 0  # once
    redemption = json.loads(ok("voucher", "show", "-p", "shop", v1, "--format", "json"))
    assert redemption["status"] == "used"
    entries = json.loads(ok("redeem", "-p", "shop", "M1", "--reward", "five-off", "--key", "x", "--format", "json"))
    ok("voucher", "use", "-p", "shop", entries["voucher"]["code"])
    exit_code, message = refused("reverse", "-p", "shop", str(entries["entries"][0]["id"]), "-r", "too late")
    assert exit_code == 1 and "used on 2026-06-15: its points were spent" in message
    # earn, three redemptions, the cancellation, the return and one more redemption
    assert ok("db", "verify").startswith("7 entries: hash chain intact")


def test_a_use_moved_past_the_vouchers_expiry_is_found_by_verify(scenario, db_path):
    # V1 (valid through 06-30) was used on 06-05; a use moved 30 days on, to 07-05, is after its expiry.
    behind_the_tools_back(db_path, "UPDATE voucher_uses SET used_at = used_at + 30 * 86400")
    result = run("db", "verify", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["problems"] == [f"voucher {scenario[0]}: used outside its life"]


def test_a_voucher_that_gives_no_points_back_is_breakage_when_it_expires(shop):
    code = redeem("five-off", "2026-06-01T09:00")["voucher"]["code"]
    ok("expire", "-p", "shop")  # nothing to give back: V1 is valid through 06-30
    assert json.loads(ok("voucher", "list", "-p", "shop", "--as-of", "2026-07-01", "--format", "json")
                      )["vouchers"][0]["status"] == "expired"
    assert points("2026-07-01") == 2500
    assert json.loads(ok("voucher", "show", "-p", "shop", code, "--format", "json"))["status"] == "issued"  # today


@pytest.mark.citus
def test_liability_counts_vouchers_outstanding(scenario):
    # end of 06-05: points 3000 - 2000 = 1000 ($10.00); V2 ($10) and V3 ($5) outstanding, V1 used that day
    report = json.loads(ok("report", "liability", "-p", "shop", "--as-of", "2026-06-05", "--format", "json"))
    assert (report["net_liability"], report["vouchers_outstanding"], report["total_liability"]) == (
        "10.00", {"count": 2, "value": "15.00"}, "25.00")
    later = json.loads(ok("report", "liability", "-p", "shop", "--as-of", "2026-06-15", "--format", "json"))
    assert (later["net_liability"], later["vouchers_outstanding"]["count"], later["total_liability"]) == (
        "25.00", 0, "25.00")
    outstanding = json.loads(ok("report", "vouchers", "-p", "shop", "--as-of", "2026-06-05", "--format", "json"))
    assert ([v["code"] for v in outstanding["vouchers"]], outstanding["outstanding_value"]) == (
        scenario[1:], "15.00")


@pytest.mark.citus
def test_rollforward_and_journal_reconcile_with_vouchers(scenario):
    rolled = json.loads(ok("report", "rollforward", "-p", "shop", "--from", "2026-06-01", "--to", "2026-06-15",
                           "--format", "json"))
    # points: 3000 - 2000 redeemed + 1500 given back (500 cancelled, 1000 returned) = 2500
    assert (rolled["opening_points"], rolled["redeemed"], rolled["adjusted"], rolled["closing_points"]) == (
        3000, 2000, 1500, 2500)
    assert rolled["vouchers"] == {"opening": "0.00", "issued": "20.00", "used": "5.00", "cancelled": "5.00",
                                  "expired": "10.00", "closing": "0.00"}
    # a book opened on 05-01 and run to 06-05: the voucher account holds V2 and V3, the points account 1000 points
    for start, end, points_account, vouchers_account in (("2026-05-01", "2026-06-05", "-10.00", "-15.00"),
                                                         ("2026-05-01", "2026-06-15", "-25.00", "0.00"),
                                                         ("2026-06-03", "2026-06-15", "-25.00", "0.00")):
        journal = ok("report", "journal", "-p", "shop", "--from", start, "--to", end, "--format", "csv")
        sums: dict[str, Decimal] = {}
        for row in csv.DictReader(io.StringIO(journal)):
            sums[row["account"]] = (sums.get(row["account"], Decimal(0)) + Decimal(row["debit"] or 0)
                                    - Decimal(row["credit"] or 0))
        assert sum(sums.values()) == 0
        assert (sums["Liabilities:Loyalty:Points"], sums.get("Liabilities:Loyalty:Vouchers", Decimal(0))) == (
            Decimal(points_account), Decimal(vouchers_account)), (start, end)


def test_list_and_export_for_the_shop(scenario, tmp_path):
    ok("redeem", "-p", "shop", "M1", "--reward", "five-off", "--at", "2026-06-15T09:00")
    issued = json.loads(ok("voucher", "list", "-p", "shop", "--status", "issued", "--format", "json"))["vouchers"]
    assert len(issued) == 1
    code = issued[0]["code"]
    assert ok("voucher", "export", "-p", "shop", "--format", "shopify") == f"Code\n{code}\n"
    ok("voucher", "export", "-p", "shop", "-o", tmp_path / "codes.csv")
    assert (tmp_path / "codes.csv").read_text() == (
        "code,value,currency,valid_through,member,reward\n" f"{code},5.00,USD,2026-07-14,M1,five-off\n")
    listed = list(csv.reader(io.StringIO(ok("voucher", "list", "-p", "shop", "--format", "csv"))))
    assert listed[0] == ["code", "member", "reward", "points", "value", "issued", "valid_through", "status",
                         "used_at", "order", "value_used", "points_returned"]
    assert listed[1][:8] == [scenario[0], "M1", "five-off", "500", "5.00", "2026-06-01", "2026-06-30", "used"]
    assert refused("voucher", "list", "-p", "shop", "--status", "spent") == (
        2, "error: --status must be one of issued, used, cancelled, expired, got 'spent'\n")


PERCENT = SHOP + """
[[rewards]]
code = "pct10"
name = "10% off"
points = 200
kind = "percent"
percent = "10"
max_value = "8.00"

[[rewards]]
code = "pct20"
name = "20% off voucher"
points = 300
kind = "percent"
percent = "20"
max_value = "15.00"
voucher = true
voucher_days = 30
"""


@pytest.fixture
def percent_shop(tmp_path):
    ok("program", "apply", write(tmp_path / "shop.toml", PERCENT))
    ok("member", "add", "-p", "shop", "M1")
    ok("earn", "-p", "shop", "M1", "3000", "-r", "opening points", "--at", "2026-05-01T10:00")
    return tmp_path


def test_a_percent_reward_takes_its_share_of_the_order_up_to_its_most(percent_shop):
    # 10% of 50.00 = 5.00; 10% of 120.00 = 12.00, capped at 8.00; 10% of 0.05 = 0.005 -> 0.01 (half up)
    values = [json.loads(ok("redeem", "-p", "shop", "M1", "--reward", "pct10", "--order-amount", order,
                            "--format", "json"))["entries"][0]["value"] for order in ("50.00", "120.00", "0.05")]
    assert values == ["5.00", "8.00", "0.01"]
    assert refused("redeem", "-p", "shop", "M1", "--reward", "pct10", "--order-amount", "0.04") == (
        2, "error: --order-amount 0.04: 10% of it is less than the smallest coin; nothing to take off\n")
    assert refused("redeem", "-p", "shop", "M1", "--reward", "pct10") == (
        2, "error: reward 'pct10' takes 10% off the order: give --order-amount\n")
    assert refused("redeem", "-p", "shop", "M1", "--reward", "one-off", "--order-amount", "10.00") == (
        2, "error: --order-amount is for a percent-off reward; 'one-off' is worth 1.00\n")
    assert refused("redeem", "-p", "shop", "M1", "--reward", "pct20", "--order-amount", "10.00") == (
        2, "error: --order-amount: 'pct20' issues a voucher, whose order comes at the till (voucher use "
           "--order-amount)\n")


@pytest.mark.citus
def test_a_voucher_takes_what_the_order_allows_and_the_rest_is_breakage(percent_shop):
    # pct20 (most 15.00) on an order of 40.00 takes 8.00; five-off (5.00) on an order of 3.00 takes 3.00
    percent = redeem("pct20", "2026-06-01T09:00")["voucher"]
    assert (percent["value"], percent["percent"]) == ("15.00", "20")  # the liability counts it at its most
    assert refused("voucher", "use", "-p", "shop", percent["code"]) == (
        2, f"error: voucher {percent['code']} takes 20% off the order: give --order-amount\n")
    # 20% of 0.04 = 0.008 -> 0.01; of 0.02 = 0.004 -> 0.00: nothing to take off, the voucher stays usable
    assert refused("voucher", "use", "-p", "shop", percent["code"], "--order-amount", "0.02") == (
        2, "error: --order-amount 0.02: 20% of it is less than the smallest coin; nothing to take off\n")
    assert json.loads(ok("voucher", "show", percent["code"], "--format", "json"))["status"] == "issued"
    used = json.loads(ok("voucher", "use", "-p", "shop", percent["code"], "--order-amount", "40.00",
                         "--at", "2026-06-03T12:00", "--format", "json"))
    assert used["value_used"] == "8.00"
    fixed = redeem("five-off", "2026-06-01T10:00")["voucher"]["code"]
    assert json.loads(ok("voucher", "use", "-p", "shop", fixed, "--order-amount", "3.00", "--at", "2026-06-04T12:00",
                         "--format", "json"))["value_used"] == "3.00"
    journal = ok("report", "journal", "-p", "shop", "--from", "2026-06-01", "--to", "2026-06-05", "--format", "csv")
    moved: dict[str, Decimal] = {}
    for row in csv.DictReader(io.StringIO(journal)):
        if "vouchers used" in row["narration"]:
            moved[row["account"]] = (moved.get(row["account"], Decimal(0)) + Decimal(row["debit"] or 0)
                                     - Decimal(row["credit"] or 0))
    # used: 15.00 + 5.00 leave the vouchers account; 8.00 + 3.00 were taken off orders; 7.00 + 2.00 breakage
    assert moved == {"Liabilities:Loyalty:Vouchers": Decimal("20.00"), "Expenses:Loyalty:Redemptions": Decimal("-11.00"),
                     "Income:Loyalty:Breakage": Decimal("-9.00")}


def test_redeeming_an_amount_of_money_takes_the_points_it_is_worth_rounded_up(percent_shop, tmp_path):
    cashback = json.loads(ok("redeem", "-p", "shop", "M1", "--amount", "12.50", "--format", "json"))
    assert (cashback["entries"][0]["points"], cashback["entries"][0]["value"]) == (-1250, "12.50")
    ok("program", "apply", write(tmp_path / "dear.toml", PERCENT.replace('point_value = "0.01"', 'point_value = "0.03"')
                                 .replace("effective_from = 2026-01-01", "effective_from = 2026-06-01")))
    dear = json.loads(ok("redeem", "-p", "shop", "M1", "--amount", "1.00", "--format", "json"))
    assert (dear["entries"][0]["points"], dear["entries"][0]["value"]) == (-34, "1.00")  # 33.33 points -> 34
    assert refused("redeem", "-p", "shop", "M1", "--amount", "1.005")[0] == 2
    assert refused("redeem", "-p", "shop", "M1", "--amount", "0") == (2, "error: --amount must be more than 0, got 0\n")
    assert refused("redeem", "-p", "shop", "M1", "--amount", "5.00", "--points", "5") == (
        2, "error: give one of --reward CODE, --points N or --amount MONEY\n")


@pytest.mark.parametrize("reward, message", [
    ('value = "1.00"\nvoucher = true\nkind = "donation"\ncharity = "Trust"', "a donation goes to the charity"),
    ('value = "1.00"\nvoucher_days = 30', "rewards[0].voucher_days: is only for rewards with voucher = true"),
    ('value = "1.00"\nvoucher = true\nvoucher_days = 0', "rewards[0].voucher_days: must be greater than 0"),
    ('value = "1.00"\nvoucher = true\nvoucher_days = 3000000',
     "rewards[0].voucher_days: must be at most 36500 (100 years), got 3000000"),
    ('value = "1.00"\nreturn_points_on_expiry = true',
     "rewards[0].return_points_on_expiry: is only for rewards with voucher = true"),
    ('kind = "percent"\npercent = "0"', "rewards[0].percent: must be more than 0 and at most 100, got 0"),
    ('kind = "percent"\npercent = "120"', "must be more than 0 and at most 100, got 120"),
    ('kind = "percent"\npercent = "10"\nvoucher = true', "rewards[0].max_value: is required for a percent voucher"),
    ('kind = "discount"\nvalue = "1.00"\npercent = "10"', "rewards[0].percent: is only for rewards of kind 'percent'"),
])
def test_reward_settings_that_cannot_work_are_refused(tmp_path, reward, message):
    text = SHOP.split("[[rewards]]")[0] + f'[[rewards]]\ncode = "r"\nname = "R"\npoints = 10\n{reward}\n'
    result = run("program", "validate", write(tmp_path / "p.toml", text))
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_a_percent_reward_round_trips_through_export(percent_shop):
    exported = ok("program", "export", "shop")
    assert 'kind = "percent"\npercent = "10"\nmax_value = "8.00"' in exported
    again = json.loads(ok("program", "apply", write(percent_shop / "again.toml", exported), "--format", "json"))
    assert [a["status"] for a in again] == ["unchanged"]


def test_closing_a_period_gives_back_the_points_of_vouchers_that_expired_in_it(shop):
    redeem("ten-back", "2026-06-01T09:30")  # valid through 06-10, expires 06-11: 1000 points come back then
    assert points("2026-06-12") == 2000  # not yet: `expire` has not run
    ok("period", "close", "-p", "shop", "--through", "2026-06-12")
    assert (points("2026-06-10"), points("2026-06-12")) == (2000, 3000)
    assert json.loads(ok("expire", "-p", "shop", "--format", "json"))["vouchers_returned"] == 0


def test_a_backdated_use_or_reversal_cannot_undo_what_happened_later(shop):
    cancelled = redeem("five-off", "2026-06-01T09:00")
    ok("reverse", "-p", "shop", str(cancelled["entries"][0]["id"]), "-r", "x", "--at", "2026-06-10T10:00")
    code = cancelled["voucher"]["code"]
    assert refused("voucher", "use", "-p", "shop", code, "--at", "2026-06-05T10:00") == (
        1, f"error: voucher {code} was cancelled on 2026-06-10 (its redemption was reversed)\n")
    used = redeem("five-off", "2026-06-01T09:00")
    ok("voucher", "use", "-p", "shop", used["voucher"]["code"], "--at", "2026-06-10T10:00")
    exit_code, message = refused("reverse", "-p", "shop", str(used["entries"][0]["id"]), "-r", "x",
                                 "--at", "2026-06-05T10:00")
    assert exit_code == 1 and "used on 2026-06-10: its points were spent" in message
    returned = redeem("ten-back", "2026-06-01T09:00")["voucher"]["code"]
    ok("expire", "-p", "shop")
    assert refused("voucher", "use", "-p", "shop", returned, "--at", "2026-06-09T10:00") == (
        1, f"error: voucher {returned} expired on 2026-06-11 and its points were given back\n")


def test_a_return_with_nothing_left_to_give_back_is_not_reported_as_waiting(tmp_path):
    # lots of 20 days: points earned 04-01 expire 04-21, before the 30-day voucher of 04-05 (05-05)
    program = SHOP.replace("months = 12", "days = 20").replace("voucher_days = 10", "voucher_days = 30")
    ok("program", "apply", write(tmp_path / "shop.toml", program))
    ok("member", "add", "-p", "shop", "M1")
    ok("earn", "-p", "shop", "M1", "3000", "-r", "x", "--at", "2026-04-01T10:00")
    redeem("ten-back", "2026-04-05T10:00")
    assert json.loads(ok("expire", "-p", "shop", "--format", "json"))["vouchers_returned"] == 0
    result = run("report", "liability", "-p", "shop", "--as-of", "2026-06-01")
    assert result.exit_code == 0 and "give their points back" not in result.stderr
