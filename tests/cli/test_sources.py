"""Sales exports load as their systems write them: Shopify, Square (items and transactions), Stripe, and a
profile of one's own (WooCommerce).

The files in tests/data/exports follow each system's real export (SOURCES.md says where each format comes
from). Program `shop`: USD, New York, 1 point per 1.00 rounded down. Every figure is worked out in the
comments from SPEC.md "Sales exports as their systems write them".
"""

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import run, snapshot, write

EXPORTS = Path(__file__).parent.parent / "data" / "exports"
NOW = "2026-11-30T17:00:00+00:00"  # 12:00 in New York: when refunded amounts without a date are dated
PROGRAM = """\
[program]
code = "shop"
name = "Shop"
currency = "USD"
timezone = "America/New_York"
point_value = "0.01"
effective_from = 2026-01-01

[earn]
points_per_unit = "1"
{extra}
"""
ANN, BO, CY = "ann.lee@example.com", "bo.chen@example.com", "cy.diaz@example.com"
SQUARE_ANN, SQUARE_BO, SQUARE_CY = "W8DQ4KJ3ZR6X1N0T5HBMGV2PCS", "A3N7TQ0Y8F2WGX5KJR9MDH6B1C", "R5K1P8ZC3V0M7XQ2H9TNWJD4YE"


@pytest.fixture
def program(tmp_path, monkeypatch):
    monkeypatch.setenv("LOYALTYCTL_NOW", NOW)

    def apply(extra: str = "") -> None:
        assert run("program", "apply", write(tmp_path / "shop.toml", PROGRAM.format(extra=extra))).exit_code == 0
    return apply


def copy(tmp_path, name: str) -> Path:
    return Path(shutil.copy(EXPORTS / name, tmp_path / name))


def load(path: Path, source: str, *more: str) -> tuple[int, dict]:
    result = run("txn", "import", "-p", "shop", path, "--source", source, "--format", "json", *more)
    assert result.stdout, result.stderr
    return result.exit_code, json.loads(result.stdout)


def points(member: str) -> int:
    return json.loads(run("balance", "-p", "shop", member, "--format", "json").stdout)["points"]


def members() -> list[tuple]:
    listed = json.loads(run("member", "list", "-p", "shop", "--format", "json").stdout)
    return [(m["member_id"], m["name"], m["email"], m["joined"]) for m in listed]


def counts(summary: dict) -> tuple:
    return tuple(summary[k] for k in ("rows", "imported", "duplicates", "rejected", "skipped", "transactions"))


def test_shopify_orders_export(program, tmp_path):
    # Orders, newest first. #1012 Ann: 3 rows (line items), Subtotal 90.00 -> 90. #1011: no Email, a walk-in
    # (skipped). #1010 Ann (as Ann.Lee@Example.com): 60, Refunded Amount 20.00 of Total 60.00 -> a refund of
    # 20.00 of the 60.00 subtotal, round(60 x 20/60) = 20 points back. #1009 Cy: 40, refunded 45.00 of Total
    # 45.00 (shipping included): all 40 back. #1008 pending and #1006 voided are skipped. #1007 Ann 1149,
    # #1005 Bo 45 (00:45 on 11-01 at -0400). Ann 90 + 60 - 20 + 1149 = 1279, Bo 45, Cy 0.
    program()
    path = copy(tmp_path, "shopify_orders.csv")
    code, summary = load(path, "shopify", "--create-members")
    assert code == 0
    assert counts(summary) == (11, 8, 0, 0, 3, 5)  # 3 + 2 + 1 + 1 + 1 rows in 5 orders; 3 skipped
    assert summary["skipped_reasons"] == {"no customer": 1, "Financial Status pending": 1,
                                          "Financial Status voided": 1}
    assert (summary["points_earned"], summary["points_clawed_back"]) == (90 + 60 + 40 + 1149 + 45, 20 + 40)
    assert (points(ANN), points(BO), points(CY)) == (1279, 45, 0)
    # Members by case-folded email, with the name the export has, joined on their earliest order
    assert members() == [(ANN, "Ann Lee", ANN, "2026-11-05"), (BO, "Bo Chen", BO, "2026-11-01"),
                         (CY, "Cy Diaz", CY, "2026-11-15")]
    # Accepts Marketing from the row that added each member (the file's first for them): Ann yes, Bo no, Cy no
    listed = json.loads(run("member", "list", "-p", "shop", "--format", "json").stdout)
    assert [(m["member_id"], m["accepts_marketing"]) for m in listed] == [(ANN, True), (BO, False), (CY, False)]
    code, again = load(path, "shopify")
    assert (code, counts(again), again["points_earned"], again["points_clawed_back"]) == (
        0, (11, 0, 8, 0, 3, 0), 0, 0)


def test_square_item_sales_are_baskets_of_lines_with_refund_rows(program, tmp_path):
    # A Bakery multiplier of 2 (Square writes "Bakery"; categories match case-insensitively).
    # Newest first. Ann: T1 latte 6 + croissant 4 x 2 + beans 18 = 32 (one basket, rounded once); T5 mug 20 +
    # tea 12 = 32, and a refund row of the mug (-20.00) dated 11-21 that comes before its payment in the file:
    # round(32 x 20/32) = 20 back. Ann 32 + 32 - 20 = 44. Bo: T3 1149 + T6 latte 6 + croissant 4 x 2 = 14:
    # 1163. Cy: T4 5, T7 beans 36 refunded in full on 11-05: 5. T2 (2 rows) has no customer.
    program('\n[[earn.multipliers]]\ncategory = "bakery"\nfactor = "2"\n')
    path = copy(tmp_path, "square_item_sales.csv")
    code, summary = load(path, "square-items", "--create-members")
    assert code == 0, summary
    assert counts(summary) == (14, 12, 0, 0, 2, 8)
    assert summary["skipped_reasons"] == {"no customer": 2}
    assert (summary["points_earned"], summary["points_clawed_back"]) == (32 + 1149 + 5 + 32 + 14 + 36, 20 + 36)
    assert (points(SQUARE_ANN), points(SQUARE_BO), points(SQUARE_CY)) == (44, 1163, 5)
    assert [m[:2] for m in members()] == [(SQUARE_BO, ""), (SQUARE_CY, "Cy Diaz"), (SQUARE_ANN, "Ann Lee")]
    assert [m[3] for m in members()] == ["2026-11-10", "2026-11-03", "2026-11-18"]
    code, again = load(path, "square-items")
    assert (code, counts(again), again["points_earned"]) == (0, (14, 0, 12, 0, 2, 0), 0)


def test_square_transactions_with_a_refund_row_and_partial_refunds(program, tmp_path):
    # Ann: T1 Net Sales 28; T5 32 with Partial Refunds ($21.78) of Total Collected $33.78 (money given back,
    # tax included): 32.00 x 21.78 / 33.78 = 20.632... -> a refund of 20.63, round(32 x 20.63/32) = 21 points.
    # Ann 28 + 32 - 21 = 39. Bo 1149 + 10 = 1159. Cy 5, and T7 36 with its Refund row ($36.00): 5.
    program()
    path = copy(tmp_path, "square_transactions.csv")
    code, summary = load(path, "square", "--create-members")
    assert code == 0, summary
    assert counts(summary) == (8, 7, 0, 0, 1, 7)
    assert summary["skipped_reasons"] == {"no customer": 1}
    assert (points(SQUARE_ANN), points(SQUARE_BO), points(SQUARE_CY)) == (39, 1159, 5)
    assert summary["points_clawed_back"] == 21 + 36


def test_stripe_payments_in_utc_newest_first_with_refunded_amounts(program, tmp_path):
    # A weekend promotion (x2, Saturday 11-28 and Sunday 11-29, New York days). Stripe's times are UTC:
    # Ann's 75.00 at 2026-11-28 02:30 UTC is Friday 21:30 in New York, so it earns 75, not 150; Bo's 40.00
    # at 11-29 15:20 UTC (Sunday) earns 80. Ann 120.00 with 45.00 refunded (on 11-24): 45 back. Cy 30.00
    # refunded in full: 30 back; Cy 1149. Bo's failed 60.00 (Captured false), the guest (no email), the
    # requires_payment_method and the pending rows are skipped. Ann 75 + 120 - 45 = 150, Bo 80 + 60 = 140,
    # Cy 1149 + 30 - 30 = 1149.
    program('\n[[earn.promotions]]\nname = "weekend"\nstarts = 2026-11-28\nends = 2026-11-29\nfactor = "2"\n')
    path = copy(tmp_path, "stripe_payments.csv")
    code, summary = load(path, "stripe", "--create-members")
    assert code == 0, summary
    assert counts(summary) == (10, 6, 0, 0, 4, 6)
    assert summary["skipped_reasons"] == {"Status failed": 1, "no customer": 1,
                                          "Status requires_payment_method": 1, "Status pending": 1}
    assert (points(ANN), points(BO), points(CY)) == (150, 140, 1149)
    # The file lists newest first; each member joined on their earliest payment in it.
    assert [(m[0], m[3]) for m in members()] == [(ANN, "2026-11-22"), (BO, "2026-11-20"), (CY, "2026-11-12")]
    refund = json.loads(run("statement", "-p", "shop", ANN, "--from", "2026-11-24", "--to", "2026-11-24",
                            "--format", "json").stdout)["entries"]
    assert [(e["at"], e["kind"], e["points"]) for e in refund] == [("2026-11-24T08:00:05-05:00", "clawback", -45)]
    # A later export in which Ann's refunded amount grew to 60.00 posts only the 15.00 difference: 15 points.
    grown = path.read_text().replace(",120.00,45.00,usd,true,120.00,45.00,", ",120.00,60.00,usd,true,120.00,60.00,")
    assert grown != path.read_text()
    code, again = load(write(tmp_path / "later.csv", grown), "stripe")
    assert (code, counts(again), again["points_clawed_back"]) == (0, (10, 0, 6, 0, 4, 0), 15)
    assert points(ANN) == 135
    code, same = load(tmp_path / "later.csv", "stripe")
    assert (same["points_clawed_back"], points(ANN)) == (0, 135)


def test_a_profile_of_ones_own_for_woocommerce(program, tmp_path):
    # tests/data/exports/woocommerce.toml. Ann: 2107 60 + 2104 80 = 140 (2104 as Ann.Lee@Example.com).
    # Bo, a guest with only a billing email: 2106 processing, 30. Skipped: 2105 refunded, 2103 pending,
    # 2102 cancelled, 2101 without a customer. Cy has no order that earns, so no member is added for her.
    program()
    code, summary = load(copy(tmp_path, "woocommerce_orders.csv"), str(EXPORTS / "woocommerce.toml"),
                         "--create-members")
    assert code == 0, summary
    assert counts(summary) == (7, 3, 0, 0, 4, 3)
    assert summary["skipped_reasons"] == {"status refunded": 1, "status pending": 1, "status cancelled": 1,
                                          "no customer": 1}
    assert (points(ANN), points(BO)) == (140, 30)
    assert [m[:2] for m in members()] == [(ANN, "Ann"), (BO, "Bo")]


def test_txn_sources_lists_the_built_in_profiles_and_shows_one(program):
    listed = json.loads(run("txn", "sources", "--format", "json").stdout)
    assert [s["name"] for s in listed] == ["generic", "shopify", "square", "square-items", "stripe"]
    shown = run("txn", "source", "show", "stripe")
    assert shown.exit_code == 0 and 'member_id = "Customer Email"' in shown.stdout
    assert "unknown source 'paypal'" in run("txn", "source", "show", "paypal").stderr


@pytest.mark.parametrize("change, message", [
    (('basket = "first"', 'basket = "first"\nbasket_mode = "lines"'), "read.basket_mode: unknown key"),
    (('time_format = "%Y-%m-%d %H:%M:%S %z"', 'time_format = "%Y-%m-%d %H:%M:%S %z"\ntime_zone = "Mars/Olympus"'),
     "read.time_zone: 'Mars/Olympus' is not a known time zone"),
    (('basket = "first"', 'basket = "first"\nmoney = "1 149,00"'),
     "read.money: '1 149,00' is not one of plain, 1,149.00, 1.149,00"),
    (('amount = "Subtotal"\n', ''), "columns.amount: is required"),
    (('time_format = "%Y-%m-%d %H:%M:%S %z"', 'time_format = "YYYY-MM-DD"'), "read.time_format: 'YYYY-MM-DD' must be"),
    (('[[status]]', '[[status]]\nvalues = ["paid"]'), "status[0].values: unknown key"),
    (('time_format = "%Y-%m-%d %H:%M:%S %z"', 'time_format = "%d/%m/%Y %H:%Q"'), "read.time_format: '%d/%m/%Y %H:%Q'"),
    (('"voided", "expired"]', '"voided", "expired", "paid"]'), "status[0].skip: paid is already in another list"),
])
def test_a_bad_profile_is_refused_with_file_line_and_key(program, tmp_path, db_path, change, message):
    program()
    text = run("txn", "source", "show", "shopify").stdout
    old, new = change
    assert old in text
    profile = write(tmp_path / "mine.toml", text.replace(old, new, 1))
    before = snapshot(db_path)
    result = run("txn", "import", "-p", "shop", copy(tmp_path, "shopify_orders.csv"), "--source", profile)
    assert result.exit_code == 2
    assert re.search(rf"^error: {re.escape(str(profile))}:\d+: {re.escape(message)}", result.stderr), result.stderr
    assert snapshot(db_path) == before


def test_an_export_missing_a_column_its_profile_needs_is_refused(program, tmp_path, db_path):
    program()
    path = write(tmp_path / "cut.csv", (EXPORTS / "stripe_payments.csv").read_text().replace("Customer Email", "Email"))
    before = snapshot(db_path)
    result = run("txn", "import", "-p", "shop", path, "--source", "stripe")
    assert result.exit_code == 2
    assert "missing required column 'Customer Email' (source stripe: columns.member_id)" in result.stderr
    assert snapshot(db_path) == before


def test_map_naming_a_missing_column_or_an_unknown_field_is_bad_usage(program, tmp_path, db_path):
    program()
    path = copy(tmp_path, "stripe_payments.csv")
    before = snapshot(db_path)
    lacking = run("txn", "import", "-p", "shop", path, "--source", "stripe", "--map", "Buyer=member_id")
    assert lacking.exit_code == 2
    assert "--map names column 'buyer', which the file does not have" in lacking.stderr
    unknown = run("txn", "import", "-p", "shop", path, "--source", "stripe", "--map", "Customer Email=buyer")
    assert unknown.exit_code == 2
    assert "--map customer email=buyer: there is no field 'buyer' (fields: txn_id, member_id," in unknown.stderr
    assert snapshot(db_path) == before
    # and --map does rename: Stripe's Customer ID as the member key instead of the email
    run("member", "add", "-p", "shop", "cus_RzD1aZ6yF3gH8s")
    code, summary = load(path, "stripe", "--map", "Customer ID=member_id")
    assert (code, points("cus_RzD1aZ6yF3gH8s")) == (3, 1149)


def test_a_stripe_refund_dated_before_its_charge_rejects_the_row(program, tmp_path):
    # One row, one outcome: the charge of 11-29 says it was refunded on 11-28, so the row is rejected whole.
    program()
    header = (EXPORTS / "stripe_payments.csv").read_text().splitlines()[0]
    row = ("ch_e4,2026-11-29 15:00:00,40.00,10.00,usd,true,40.00,10.00,usd,,Web order,1.46,2026-11-28 10:00:00,"
           "BKLYN,Paid,Payment complete.,0.00,pm_1,cus_1,,bo.chen@example.com,,")
    code, summary = load(write(tmp_path / "early.csv", f"{header}\n{row}\n"), "stripe", "--create-members")
    assert (code, counts(summary), summary["points_earned"]) == (3, (1, 0, 0, 1, 0, 0), 0)
    rejects = (tmp_path / "early.rejects.csv").read_text()
    assert "Refunded date (UTC) '2026-11-28 10:00:00' is before the purchase" in rejects


def test_an_amount_in_another_currencys_symbol_is_rejected(program, tmp_path):
    # A profile reads money as exports write it (money = "1,149.00", the default); the generic CSV's
    # amounts are plain decimals (SPEC), so there $7.00 is a rejected row.
    program()
    path = write(tmp_path / "eur.csv", "txn_id,member_id,occurred_at,amount\nT1,M1,2026-11-02T10:00,€7.00\n"
                                       "T2,M1,2026-11-02T11:00,$7.00\nT3,M1,2026-11-02T12:00,#7.00\n")
    run("member", "add", "-p", "shop", "M1")
    assert load(path, "generic")[1]["rejected"] == 3
    profile = write(tmp_path / "till.toml", '[source]\nname = "till"\n[columns]\ntxn_id = "txn_id"\n'
                    'member_id = "member_id"\noccurred_at = "occurred_at"\namount = "amount"\n')
    code, summary = load(path, str(profile))
    assert (code, summary["imported"], summary["rejected"], points("M1")) == (3, 1, 2, 7)
    rejects = (tmp_path / "eur.rejects.csv").read_text()
    assert "amount '€7.00' is not in USD" in rejects
    assert "amount '#7.00' is not an amount like 12.50, $1,149.00 or ($33.62)" in rejects


def test_a_folder_as_the_reject_file_is_refused_before_anything_is_written(program, tmp_path, db_path):
    program()
    (tmp_path / "rejects").mkdir()
    before = snapshot(db_path)
    result = run("txn", "import", "-p", "shop", copy(tmp_path, "stripe_payments.csv"), "--source", "stripe",
                 "--create-members", "--reject-file", tmp_path / "rejects")
    assert (result.exit_code, result.stderr) == (2, f"error: {tmp_path / 'rejects'}: is a folder; give the reject "
                                                    "file a file name\n")
    members = write(tmp_path / "m.csv", "member_id\nZ1\n")
    result = run("member", "import", "-p", "shop", members, "--reject-file", tmp_path / "rejects")
    assert result.exit_code == 2
    assert snapshot(db_path) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".rejects-")) == []


def test_a_column_ones_own_profile_names_and_the_file_lacks_is_warned_about(program, tmp_path):
    # A typo in a profile of one's own (Dept for the file's Dpt): the import runs, the category stays empty,
    # and stderr says so. Built-in profiles name optional columns older exports lack: no warning there.
    program()
    profile = write(tmp_path / "till.toml", '[source]\nname = "till"\n[columns]\ntxn_id = "Ref"\n'
                    'member_id = "Card"\noccurred_at = "When"\namount = "Total"\ncategory = "Dept"\n')
    run("member", "add", "-p", "shop", "M1")
    path = write(tmp_path / "till.csv", "Ref,Card,When,Total,Dpt\nR1,M1,2026-11-02T10:00,12.00,bakery\n")
    result = run("txn", "import", "-p", "shop", path, "--source", profile)
    assert result.exit_code == 0
    assert f"warning: {path} has no column Dept (columns.category); that field stays empty" in result.stderr
    assert points("M1") == 12
    quiet = run("txn", "import", "-p", "shop", copy(tmp_path, "stripe_payments.csv"), "--source", "stripe")
    assert "warning" not in quiet.stderr


def test_members_keyed_by_card_or_an_email_in_another_case_are_found_again(program, tmp_path):
    # An existing member alice@x.com gets Alice@X.com's purchase; a card-keyed profile adds C100 once, with
    # its card, and finds it again for the second row.
    program()
    run("member", "add", "-p", "shop", "alice@x.com")
    code, summary = load(write(tmp_path / "e.csv", "txn_id,member_id,occurred_at,amount\n"
                                                   "T1,Alice@X.com,2026-11-01T10:00,10.00\n"), "generic", "--create-members")
    assert (code, summary["members_created"], points("alice@x.com")) == (0, 0, 10)
    profile = write(tmp_path / "cards.toml", '[source]\nname = "cards"\n[columns]\ntxn_id = "id"\nmember_id = "card"\n'
                    'occurred_at = "at"\namount = "total"\n[read]\nmember_key = "card"\n')
    path = write(tmp_path / "c.csv", "id,card,at,total\nK1,C100,2026-11-02T10:00,5.00\nK2,C100,2026-11-03T10:00,7.00\n")
    code, summary = load(path, str(profile), "--create-members")
    assert (code, summary["members_created"], points("C100")) == (0, 1, 12)
    assert json.loads(run("member", "show", "-p", "shop", "C100", "--format", "json").stdout)["card"] == "C100"


def test_a_refunded_amount_that_cannot_be_posted_rejects_its_row_once(program, tmp_path):
    # ch_1 was imported for Ann; a later export names Bo for it with 10.00 refunded: one rejected row, nothing
    # else counted. A refund dated in a closed period: the row is rejected, the rest of the file imports.
    program()
    header = (EXPORTS / "stripe_payments.csv").read_text().splitlines()[0]

    def charge(email, refunded, refunded_on):
        return (f"ch_1,2026-11-01 15:00:00,100.00,{refunded},usd,true,100.00,{refunded},usd,,Web,1.46,{refunded_on},"
                f"B,Paid,ok,0.00,pm_1,cus_1,,{email},,")
    load(write(tmp_path / "a.csv", f"{header}\n{charge(ANN, '0.00', '')}\n"), "stripe", "--create-members")
    code, summary = load(write(tmp_path / "b.csv", f"{header}\n{charge(BO, '10.00', '2026-11-05 10:00:00')}\n"),
                         "stripe", "--create-members")
    assert (code, counts(summary)) == (3, (1, 0, 0, 1, 0, 0))
    assert "ch_1 was imported for another member" in (tmp_path / "b.rejects.csv").read_text()
    assert run("period", "close", "-p", "shop", "--through", "2026-11-10").exit_code == 0
    other = "ch_2,2026-11-20 15:00:00,20.00,0.00,usd,true,20.00,0.00,usd,,Web,1.46,,B,Paid,ok,0.00,pm_1,cus_1,,bo.chen@example.com,,"
    code, summary = load(write(tmp_path / "c.csv", f"{header}\n{charge(ANN, '10.00', '2026-11-05 10:00:00')}\n{other}\n"),
                         "stripe", "--create-members")
    assert (code, counts(summary)) == (3, (2, 1, 0, 1, 0, 1))
    assert points(ANN) == 100


def test_a_square_refund_of_nothing_is_skipped_not_earned(program, tmp_path):
    # A Refund row with Net Sales $0.00 refunds nothing; it must not take the purchase path (and earn a visit).
    program('points_per_visit = "10"')
    header = (EXPORTS / "square_item_sales.csv").read_text().splitlines()[0]
    cells = dict.fromkeys(header.split(","), "")
    cells.update({"Date": "2026-11-02", "Time": "10:00:00", "Time Zone": "Eastern Time (US & Canada)",
                  "Transaction ID": "TX1", "Customer ID": "CUST1"})
    payment = cells | {"Net Sales": "$5.00", "Event Type": "Payment"}
    refund = cells | {"Time": "11:00:00", "Net Sales": "$0.00", "Event Type": "Refund"}
    body = "\n".join(",".join(row[name] for name in header.split(",")) for row in (payment, refund))
    code, summary = load(write(tmp_path / "zero.csv", f"{header}\n{body}\n"), "square-items", "--create-members")
    assert (code, summary["points_earned"], summary["skipped_reasons"]) == (0, 15, {"a refund of nothing": 1})


def test_a_clover_like_export_with_zone_abbreviations_deductions_and_returns_without_their_sale(program, tmp_path):
    # tests/data/exports/clover.toml, newest first. Points on Order Total less Tax Amount and Tip: Ann's
    # N4TC 32.40 - 2.40 = 30.00 -> 30 (28-Oct 09:12 EDT); Bo's Q7MB 54.00 - 4.00 - 5.00 = 45.00 -> 45.
    # Returns rung up without their sale (claw-back): Ann's R5XK |-21.60| - 1.60 = 20.00 -> 20 back; Bo's
    # S3RB 64.80 - 4.80 = 60.00 -> 60 back from his 45: 15 owed. Both come before the purchase that adds
    # their member, so they wait for the end of the file. Skipped: Voided, Open, and a sale with no customer.
    program()
    code, summary = load(copy(tmp_path, "clover_orders.csv"), str(EXPORTS / "clover.toml"), "--create-members")
    assert code == 0, summary
    assert counts(summary) == (7, 4, 0, 0, 3, 4)
    assert summary["skipped_reasons"] == {"Payment State voided": 1, "Payment State open": 1, "no customer": 1}
    assert (summary["points_earned"], summary["points_clawed_back"]) == (30 + 45, 20 + 60)
    assert (points(ANN), points(BO)) == (10, -15)
    # names joined from first and last; each joined on their earliest purchase, in New York
    assert members() == [(ANN, "Ann Lee", ANN, "2026-10-28"), (BO, "Bo Chen", BO, "2026-11-02")]
    entries = json.loads(run("statement", "-p", "shop", ANN, "--from", "2026-10-01", "--to", "2026-11-30",
                             "--format", "json").stdout)["entries"]
    assert [(e["at"], e["kind"], e["points"], e["description"]) for e in entries] == [
        ("2026-10-28T09:12:00-04:00", "earn", 30, "purchase"),
        ("2026-11-06T16:40:00-05:00", "clawback", -20, "return without receipt")]
    assert run("db", "verify").exit_code == 0


def test_a_return_without_its_sale_is_rejected_unless_the_profile_claws_back(program, tmp_path):
    # The same export through the profile without `unlinked_refunds` (default "reject"): the two returns are
    # rejected. Through the profile that claws back they are read another way, so judged afresh, and import.
    program()
    path = copy(tmp_path, "clover_orders.csv")
    rejecting = write(tmp_path / "clover.toml",
                      (EXPORTS / "clover.toml").read_text().replace('unlinked_refunds = "claw-back"\n', ""))
    code, summary = load(path, str(rejecting), "--create-members")
    assert (code, counts(summary), summary["rejected_before"]) == (3, (7, 2, 0, 2, 3, 2), 0)
    reasons = {row.split(",")[1] for row in (tmp_path / "clover_orders.rejects.csv").read_text().splitlines()[1:]}
    assert reasons == {"a refund (negative amount) must name refund_of"}
    code, summary = load(path, str(EXPORTS / "clover.toml"))
    assert (code, counts(summary), summary["points_clawed_back"]) == (0, (7, 2, 2, 0, 3, 2), 80)
    assert (points(ANN), points(BO)) == (10, -15)


def test_an_export_without_a_column_its_profile_deducts_is_refused(program, tmp_path, db_path):
    # Without Tip the earning amount cannot be worked out: bad input, naming the column and the profile key.
    program()
    path = write(tmp_path / "c.csv", (EXPORTS / "clover_orders.csv").read_text().replace(",Tip,", ",Tips,", 1))
    before = snapshot(db_path)
    result = run("txn", "import", "-p", "shop", path, "--source", EXPORTS / "clover.toml")
    assert result.exit_code == 2
    assert "missing required column 'Tip' (source clover: columns.deduct[1])" in result.stderr
    assert snapshot(db_path) == before


def test_a_zone_in_the_stamp_wins_and_places_the_sale_on_the_programs_day(program, tmp_path):
    # A Halloween x2 on 10-31 (New York days). U1 at 02:00 UTC on 11-01 and U2 at +0000 are 22:00 EDT on 10-31:
    # 20 each. U3 has no zone: the file's (the program's) 02:00 EST on 11-01: 10. U4, 23:30 PDT on 10-31, is
    # 01:30 EST on 11-01 in New York: 10. U5's CET is no zone loyaltyctl knows: rejected. M1: 20 + 20 + 10 + 10.
    program('\n[[earn.promotions]]\nname = "halloween"\nstarts = 2026-10-31\nends = 2026-10-31\nfactor = "2"\n')
    run("member", "add", "-p", "shop", "M1")
    profile = write(tmp_path / "till.toml", '[source]\nname = "till"\n[columns]\ntxn_id = "id"\nmember_id = "card"\n'
                    'occurred_at = "at"\namount = "total"\n[read]\ntime_format = '
                    '["%Y-%m-%d %H:%M:%S %Z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S"]\n')
    path = write(tmp_path / "till.csv", "id,card,at,total\nU1,M1,2026-11-01 02:00:00 UTC,10.00\n"
                 "U2,M1,2026-11-01 02:00:00 +0000,10.00\nU3,M1,2026-11-01 02:00:00,10.00\n"
                 "U4,M1,2026-10-31 23:30:00 PDT,10.00\nU5,M1,2026-10-31 20:00:00 CET,10.00\n")
    code, summary = load(path, str(profile))
    assert (code, summary["imported"], summary["rejected"], points("M1")) == (3, 4, 1, 60)
    entries = json.loads(run("statement", "-p", "shop", "M1", "--from", "2026-10-31", "--to", "2026-11-01",
                             "--format", "json").stdout)["entries"]
    assert [(e["at"], e["points"]) for e in entries] == [
        ("2026-10-31T22:00:00-04:00", 20), ("2026-10-31T22:00:00-04:00", 20),
        ("2026-11-01T01:30:00-05:00", 10), ("2026-11-01T02:00:00-05:00", 10)]
    assert "at '2026-10-31 20:00:00 CET' does not match '%Y-%m-%d %H:%M:%S %Z' or" in (
        tmp_path / "till.rejects.csv").read_text()
