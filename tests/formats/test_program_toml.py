from msgspec.structs import replace
from datetime import date
from decimal import Decimal

import pytest

from loyaltyctl.errors import InvalidProgram
from loyaltyctl.formats.program_toml import dump_program, parse_program
from loyaltyctl.formats.toml_tables import locate_key
from loyaltyctl.model import Accounting, Bonuses, EarnRules, Expiry, Multiplier, Reward
from loyaltyctl.samples import samples_dir
from tests.conftest import MINIMAL_PROGRAM


def problems(text: str) -> list[str]:
    with pytest.raises(InvalidProgram) as caught:
        parse_program(text, "p.toml")
    return caught.value.problems


def test_minimal_program_fills_defaults():
    program = parse_program(MINIMAL_PROGRAM)
    assert program.code == "shop"
    assert program.point_value == Decimal("0.01")
    assert program.earn == EarnRules(points_per_unit=Decimal(1))
    assert program.unit == "points"
    assert program.expiry is None and program.tiers is None and program.rewards == ()


def test_money_is_minor_units_and_rates_are_decimals():
    text = MINIMAL_PROGRAM + """\
min_spend = "5.00"
[[earn.multipliers]]
category = "skincare"
factor = 2
[expiry]
policy = "lot"
months = 12
[[rewards]]
code = "ten-off"
name = "$10 off"
points = 100
value = "10.00"
[bonuses]
birthday = 100
referral_min_spend = "20"
"""
    program = parse_program(text)
    assert program.earn.min_spend == 500
    assert program.earn.multipliers == (Multiplier("skincare", Decimal(2)),)
    assert program.expiry == Expiry("lot", 12)
    assert program.rewards == (Reward("ten-off", "$10 off", 100, 1000, "discount", None),)
    assert program.bonuses == Bonuses(birthday=100, referral_min_spend=2000)


def test_every_sample_program_validates_and_round_trips():
    files = sorted(samples_dir().glob("*.toml"))
    assert len(files) >= 4
    for path in files:
        program = parse_program(path.read_text(), str(path))
        again = parse_program(dump_program(program))
        assert again == program
        assert dump_program(again) == dump_program(program)


def test_round_trip_keeps_effective_from():
    program = replace(parse_program(MINIMAL_PROGRAM), effective_from=date(2026, 3, 1))
    assert parse_program(dump_program(program)).effective_from == date(2026, 3, 1)


@pytest.mark.parametrize(
    "extra, expected",
    [
        ('bogus = 1\n', "p.toml:10: earn.bogus: unknown key"),
        ('rounding = "up"\n', "p.toml:10: earn.rounding: 'up' is not one of floor, round, ceil"),
        ('max_points_per_txn = "ten"\n', "p.toml:10: earn.max_points_per_txn: must be a whole number, not a string"),
        ('min_spend = "1,5"\n', "p.toml:10: earn.min_spend: '1,5' is not a decimal number (write it like \"1.5\")"),
        ('min_spend = "abc"\n', "p.toml:10: earn.min_spend: 'abc' is not a decimal number (write it like \"1.5\")"),
        ('min_spend = "5.001"\n', "p.toml:10: earn.min_spend: 5.001 has more than 2 decimal places for USD"),
        ('pending_days = -1\n', "p.toml:10: earn.pending_days: must not be negative, got -1"),
        ('exclude_categories = "gift-cards"\n', "p.toml:10: earn.exclude_categories: must be an array of strings, not a string"),
        ('points_per_visit = true\n', "p.toml:10: earn.points_per_visit: must be a decimal number written as a string, not a boolean"),
    ],
)
def test_bad_earn_values_name_file_line_and_key(extra, expected):
    assert problems(MINIMAL_PROGRAM + extra) == [expected]


@pytest.mark.parametrize("factor, shown", [('"0"', "0"), ('"-2"', "-2"), ("0", "0")])
def test_multiplier_factor_must_be_positive(factor, shown):
    text = MINIMAL_PROGRAM + f'[[earn.multipliers]]\ncategory = "a"\nfactor = "1"\n[[earn.multipliers]]\ncategory = "b"\nfactor = {factor}\n'
    assert problems(text) == [f"p.toml:15: earn.multipliers[1].factor: must be greater than 0, got {shown}"]


def test_invalid_toml_syntax_reports_line():
    (message,) = problems(MINIMAL_PROGRAM + "points_per_visit = \n")
    assert message.startswith("p.toml: invalid TOML: ")
    assert "line 10" in message


def test_unknown_currency_and_timezone():
    text = MINIMAL_PROGRAM.replace('"USD"', '"USX"').replace("America/New_York", "Mars/Olympus")
    assert problems(text) == [
        "p.toml:4: program.currency: 'USX' is not an ISO 4217 currency code",
        "p.toml:5: program.timezone: 'Mars/Olympus' is not a known time zone (e.g. America/New_York, UTC)",
    ]


@pytest.mark.parametrize("zone", ["America", "america/new_york", "posixrules", "right/UTC", "zone.tab", "../UTC"])
def test_a_time_zone_must_be_one_the_zone_database_lists(zone):
    # a folder of zones, another case (accepted by a case-insensitive disk, then not by Linux), and
    # files of the zone database that are not zones
    text = MINIMAL_PROGRAM.replace("America/New_York", zone)
    assert problems(text) == [f"p.toml:5: program.timezone: {zone!r} is not a known time zone (e.g. America/New_York, UTC)"]


def test_missing_required_sections_and_keys():
    assert problems('[program]\ncode = "Bad Code"\n') == [
        "p.toml: earn: the [earn] table is required",
        "p.toml:1: program.name: is required",
        "p.toml:1: program.currency: is required",
        "p.toml:1: program.timezone: is required",
        "p.toml:1: program.point_value: is required",
        "p.toml:2: program.code: 'Bad Code' must use only a-z, 0-9 and '-'",
    ]


def test_duplicate_reward_codes_and_donation_needs_charity():
    rewards = """
[[rewards]]
code = "ten-off"
name = "A"
points = 100
value = "10.00"
[[rewards]]
code = "ten-off"
name = "B"
points = 100
value = "10.00"
kind = "donation"
"""
    assert problems(MINIMAL_PROGRAM + rewards) == [
        "p.toml:16: rewards[1].charity: is required for a donation reward",
        "p.toml:17: rewards[1].code: duplicate reward code 'ten-off'",
    ]


TIERS = """
[tiers]
basis = "spend"
[[tiers.levels]]
code = "member"
threshold = "0"
[[tiers.levels]]
code = "{second}"
threshold = "{threshold}"
multiplier = "1.5"
"""


def test_duplicate_tier_code():
    assert problems(MINIMAL_PROGRAM + TIERS.format(second="member", threshold="500")) == [
        "p.toml:17: tiers.levels[1].code: duplicate tier code 'member'"
    ]


@pytest.mark.parametrize("threshold", ["0", "-5"])
def test_tier_thresholds_must_increase(threshold):
    (message,) = problems(MINIMAL_PROGRAM + TIERS.format(second="vip", threshold=threshold))
    assert message.startswith("p.toml:18: tiers.levels[1].threshold: ")


def test_promotion_window_must_not_end_before_it_starts():
    text = MINIMAL_PROGRAM + '[[earn.promotions]]\nname = "x"\nstarts = 2026-11-30\nends = 2026-11-27\nfactor = "2"\n'
    assert problems(text) == ["p.toml:13: earn.promotions[0].ends: 2026-11-27 is before starts 2026-11-30"]


def test_account_names_must_suit_plain_text_accounting():
    text = MINIMAL_PROGRAM + '[accounting]\nliability = "Liabilities:loyalty"\n'
    (message,) = problems(text)
    assert message.startswith("p.toml:11: accounting.liability: 'Liabilities:loyalty' is not an account name")


def test_the_opening_balance_account_has_a_default_is_checked_and_is_exported():
    assert parse_program(MINIMAL_PROGRAM + '[accounting]\nliability = "Liabilities:Points"\n').accounting == Accounting(
        liability="Liabilities:Points", opening="Equity:Opening-Balances")
    program = parse_program(MINIMAL_PROGRAM + '[accounting]\nopening = "Equity:Loyalty:Opening"\n')
    assert program.accounting == Accounting(opening="Equity:Loyalty:Opening")
    assert 'opening = "Equity:Loyalty:Opening"' in dump_program(program)
    assert parse_program(dump_program(program)) == program
    (message,) = problems(MINIMAL_PROGRAM + '[accounting]\nopening = "Opening Balances"\n')
    assert message.startswith("p.toml:11: accounting.opening: 'Opening Balances' is not an account name")


def test_locate_key_finds_array_of_tables_entries():
    text = '[earn]\nx = 1\n[[earn.multipliers]]\nfactor = 1\n[[earn.multipliers]]\ncategory = "a"\nfactor = 2\n'
    assert locate_key(text, "earn.multipliers[1].factor") == 7
    assert locate_key(text, "earn.multipliers[0].category") == 3  # missing key: its table's header
    assert locate_key(text, "nowhere.key") is None


def test_expiry_and_effective_date_stay_where_dates_can_be_computed():
    expiry = '\n[expiry]\npolicy = "lot"\nmonths = 1201\n'
    assert problems(MINIMAL_PROGRAM + expiry) == ["p.toml:13: expiry.months: must be at most 1200 (100 years), got 1201"]
    text = MINIMAL_PROGRAM.replace('point_value = "0.01"', 'point_value = "0.01"\neffective_from = 9999-01-01')
    assert problems(text) == ["p.toml:7: program.effective_from: 9999-01-01 is outside the dates loyaltyctl "
                              "handles (1900-01-01 to 9000-12-31)"]


@pytest.mark.parametrize("toml_value, unit", [('"pts\\"x"', 'pts"x'), ('"x\\ny"', "x\ny"), ('"a;b"', "a;b")])
def test_a_unit_that_would_break_a_journal_narration_is_refused(toml_value, unit):
    text = MINIMAL_PROGRAM.replace('point_value = "0.01"', f'point_value = "0.01"\nunit = {toml_value}')
    assert problems(text) == [f"p.toml:7: program.unit: {unit!r} must be at most 30 characters, "
                              'without quotes, backslashes, ";" or line breaks']


def test_units_people_use_are_accepted():
    for unit in ("points", "stamps", "Beauty Points", "air-miles", "étoiles", "stars ⭐", "points (x2)"):
        text = MINIMAL_PROGRAM.replace('point_value = "0.01"', f'point_value = "0.01"\nunit = "{unit}"')
        assert parse_program(text).unit == unit


@pytest.mark.parametrize("expiry, message", [
    ('months = 12\ndays = 90', "p.toml:14: expiry.days: give months or days, not both"),
    ("days = 0", "p.toml:13: expiry.days: must be greater than 0"),
    ("days = -5", "p.toml:13: expiry.days: must not be negative, got -5"),
    ("days = 36501", "p.toml:13: expiry.days: must be at most 36500 (100 years), got 36501"),
    ("", "p.toml:11: expiry.months: (or days) is required when policy is 'lot'"),
])
def test_expiry_in_days_or_months_never_both(expiry, message):
    assert problems(MINIMAL_PROGRAM + f'\n[expiry]\npolicy = "lot"\n{expiry}\n') == [message]


def test_expiry_in_days_round_trips():
    program = parse_program(MINIMAL_PROGRAM + '\n[expiry]\npolicy = "inactivity"\ndays = 90\n')
    assert (program.expiry.policy, program.expiry.days, program.expiry.months) == ("inactivity", 90, 0)
    assert parse_program(dump_program(program)) == program
    assert "days = 90" in dump_program(program) and "months" not in dump_program(program)
