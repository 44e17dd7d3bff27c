from loyaltyctl.money import display_money


def test_an_amount_reads_as_a_member_would_write_it():
    assert display_money(500, "USD") == "$5.00"
    assert display_money(-44, "GBP") == "-£0.44"
    assert display_money(123456, "EUR") == "€1234.56"
    assert display_money(1200, "JPY") == "¥1200"  # no minor digits
    assert display_money(12000, "SEK") == "120.00 SEK"  # no sign of its own: the code, after
    assert display_money(2500, "CAD") == "CA$25.00"  # "$" alone would read as US dollars


def test_amounts_and_whole_numbers_take_ascii_digits_only():
    import pytest

    from loyaltyctl.money import parse_export_money, parse_plain_money, parse_whole

    assert parse_plain_money("10.00", "USD") == 1000
    assert parse_export_money("$1,149.00", "USD") == 114900
    assert parse_whole(" -50 ") == -50
    # full-width (U+FF11...) and Arabic-Indic digits are digits to Python's `\d`, `Decimal()` and `int()`
    for text in ("１０.00", "٣.50", "$１,149.00"):
        with pytest.raises(ValueError):
            parse_export_money(text, "USD")
    with pytest.raises(ValueError, match="is not a plain decimal"):
        parse_plain_money("１０.00", "USD")
    for text in ("１０", "1_000", "1e3", "12.0", "+5", ""):
        with pytest.raises(ValueError, match="is not a whole number"):
            parse_whole(text)


def test_points_a_posting_is_given_are_a_whole_count_within_bounds():
    import pytest

    from loyaltyctl.money import MAX_POINTS, check_points

    assert check_points(MAX_POINTS) == MAX_POINTS
    assert check_points(-MAX_POINTS, signed=True) == -MAX_POINTS
    for points, signed, message in ((0, False, "positive"), (-5, False, "positive"), (0, True, "non-zero"),
                                    (MAX_POINTS + 1, False, "one posting may carry"),
                                    (-MAX_POINTS - 1, True, "one posting may carry"),
                                    (True, False, "whole number"), ("5", False, "whole number")):
        with pytest.raises(ValueError, match=message):
            check_points(points, signed=signed)
