"""Bonuses: fixed points for joining, birthdays, referrals and campaigns.

Every bonus carries an idempotency key that names what it is for, so no
run, however often repeated, can pay one twice.
"""

import calendar
from datetime import date


def signup_key(member_id: str) -> str:
    return f"signup:{member_id}"


def birthday_key(year: int, member_id: str) -> str:
    return f"birthday:{year}:{member_id}"


def anniversary_key(year: int, member_id: str) -> str:
    return f"anniversary:{year}:{member_id}"


def first_purchase_key(member: int) -> str:
    """By the member's row: the bonus is the member's once, whatever their id becomes (anonymised)."""
    return f"first-purchase:{member}"


def referral_keys(referee_id: str) -> tuple[str, str]:
    """Keys of the referee's bonus and of the referrer's bonus for the same referral."""
    return f"referral:{referee_id}", f"referral:{referee_id}:referrer"


def grant_key(key: str) -> str:
    """Campaign keys live in their own namespace, so they cannot collide with a posting's --key."""
    return f"grant:{key}"


def birthdays_on(day: date) -> tuple[str, ...]:
    """The MM-DD birthdays (or join days) celebrated on a day: 29 February ones on 28 February in other years."""
    month_day = f"{day.month:02d}-{day.day:02d}"
    if month_day == "02-28" and not calendar.isleap(day.year):
        return (month_day, "02-29")
    return (month_day,)
