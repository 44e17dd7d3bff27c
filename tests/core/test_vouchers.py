"""What a voucher is at an instant, decided in one place: its expiry, its life and its status."""

from datetime import date, datetime, timezone

from msgspec.structs import replace

from loyaltyctl.core.vouchers import Voucher, expiry, valid_through


def instant(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp())


NEW_YORK = "America/New_York"


def test_a_voucher_expires_at_the_start_of_the_day_after_its_last_valid_day_in_the_programs_zone():
    # Issued 2026-06-01 02:00 UTC, still 31 May in New York (EDT, UTC-4): 30 days run to 30 June, and it
    # expires at midnight starting 1 July in New York, 04:00 UTC.
    issued = instant("2026-06-01T02:00:00")
    assert expiry(issued, 30, NEW_YORK) == instant("2026-06-30T04:00:00")
    assert expiry(issued, 0, NEW_YORK) is None  # no voucher_days: it never expires
    voucher = Voucher("ABCD-EFGH-JKLM", 1, "M1", "five-off", 7, 500, 500, issued, expiry(issued, 30, NEW_YORK), False)
    assert valid_through(voucher, NEW_YORK) == date(2026, 6, 29)


def test_a_use_counts_from_its_instant_and_only_within_the_vouchers_life():
    issued, expires = instant("2026-06-01T09:00:00"), instant("2026-07-01T00:00:00")
    unused = Voucher("ABCD-EFGH-JKLM", 1, "M1", "five-off", 7, 500, 500, issued, expires, False)
    used = replace(unused, used_at=instant("2026-06-05T12:00:00"))
    assert unused.used_within_life() and used.used_within_life()
    assert not used.used_by(instant("2026-06-05T11:59:59")) and used.used_by(instant("2026-06-05T12:00:00"))
    assert (used.status(instant("2026-06-04T00:00:00")), used.status(instant("2026-06-06T00:00:00"))) == ("issued", "used")
    late = replace(unused, used_at=expires)
    early = replace(unused, used_at=issued - 1)
    assert not late.used_within_life() and not early.used_within_life()
