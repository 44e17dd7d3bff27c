"""Time stamps as exports write them: a zone in the stamp places it; without one it is the file's zone."""

from datetime import datetime, timezone

import pytest

from loyaltyctl.core.dates import local_date, parse_instant

CLOVER = "%d-%b-%Y %I:%M %p %Z"


def utc(*fields: int) -> int:
    return int(datetime(*fields, tzinfo=timezone.utc).timestamp())


@pytest.mark.parametrize("stamp, instant", [
    ("28-Oct-2026 09:12 AM EDT", utc(2026, 10, 28, 13, 12)),   # 09:12 at -4
    ("02-Nov-2026 11:05 AM EST", utc(2026, 11, 2, 16, 5)),     # 11:05 at -5
    ("02-Nov-2026 11:05 AM CST", utc(2026, 11, 2, 17, 5)),     # -6
    ("01-Jul-2026 08:00 AM CDT", utc(2026, 7, 1, 13, 0)),      # -5
    ("01-Jul-2026 08:00 AM MDT", utc(2026, 7, 1, 14, 0)),      # -6
    ("02-Nov-2026 08:00 AM MST", utc(2026, 11, 2, 15, 0)),     # -7 (Arizona all year)
    ("31-Oct-2026 11:30 PM PDT", utc(2026, 11, 1, 6, 30)),     # -7
    ("02-Nov-2026 08:00 AM PST", utc(2026, 11, 2, 16, 0)),     # -8
    ("02-Nov-2026 08:00 AM AKST", utc(2026, 11, 2, 17, 0)),    # -9
    ("01-Jul-2026 08:00 AM AKDT", utc(2026, 7, 1, 16, 0)),     # -8
    ("01-Jul-2026 08:00 AM HST", utc(2026, 7, 1, 18, 0)),      # -10
    ("01-Nov-2026 02:00 AM UTC", utc(2026, 11, 1, 2, 0)),
    ("01-Nov-2026 02:00 AM GMT", utc(2026, 11, 1, 2, 0)),
    ("01-Nov-2026 02:00 AM edt", utc(2026, 11, 1, 6, 0)),      # any case
])
def test_a_zone_abbreviation_is_read_with_its_offset_whatever_the_files_zone(stamp, instant):
    assert parse_instant(stamp, "Asia/Tokyo", (CLOVER,)) == instant


def test_an_instant_in_utc_lands_on_the_programs_local_day():
    # 2026-11-01 02:00 UTC is 2026-10-31 22:00 in New York (EDT until 06:00 UTC that day).
    instant = parse_instant("2026-11-01 02:00:00 UTC", "America/New_York", ("%Y-%m-%d %H:%M:%S %Z",))
    assert local_date(instant, "America/New_York").isoformat() == "2026-10-31"
    offset = parse_instant("2026-11-01 02:00:00 +0000", "America/New_York", ("%Y-%m-%d %H:%M:%S %z",))
    assert offset == instant
    # without a zone in the stamp it is the file's: 02:00 on 11-01 in New York (after the fall back, EST)
    assert parse_instant("2026-11-01 02:00:00", "America/New_York", ("%Y-%m-%d %H:%M:%S",)) == utc(2026, 11, 1, 7)


def test_formats_are_tried_in_order_and_the_first_that_reads_the_stamp_wins():
    formats = ("%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d-%b-%Y %I:%M:%S %p %Z")
    assert parse_instant("03/04/2026 10:00", "UTC", formats) == utc(2026, 4, 3, 10)    # both read it: 3 April
    assert parse_instant("12/25/2026 10:00", "UTC", formats) == utc(2026, 12, 25, 10)  # only the second
    assert parse_instant("07-Nov-2026 10:00:12 AM EST", "UTC", formats) == utc(2026, 11, 7, 15, 0, 12)


def test_a_stamp_no_format_reads_says_which_were_tried_and_the_zones_there_are():
    with pytest.raises(ValueError) as error:
        parse_instant("31-Oct-2026 08:00 PM CET", "UTC", (CLOVER, "%Y-%m-%d"))
    assert str(error.value) == ("'31-Oct-2026 08:00 PM CET' does not match '%d-%b-%Y %I:%M %p %Z' or '%Y-%m-%d' "
                                "(%Z reads UTC, GMT, EST, EDT, CST, CDT, MST, MDT, PST, PDT, AKST, AKDT, HST)")
    with pytest.raises(ValueError, match=r"^'2026-13-01' is not an ISO 8601 date or time"):
        parse_instant("2026-13-01", "UTC")
