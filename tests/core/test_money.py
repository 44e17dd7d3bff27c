from loyaltyctl.money import display_money


def test_an_amount_reads_as_a_member_would_write_it():
    assert display_money(500, "USD") == "$5.00"
    assert display_money(-44, "GBP") == "-£0.44"
    assert display_money(123456, "EUR") == "€1234.56"
    assert display_money(1200, "JPY") == "¥1200"  # no minor digits
    assert display_money(12000, "SEK") == "120.00 SEK"  # no sign of its own: the code, after
    assert display_money(2500, "CAD") == "CA$25.00"  # "$" alone would read as US dollars
