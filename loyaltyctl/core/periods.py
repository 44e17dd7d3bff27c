"""Closed periods: after `period close --through D`, nothing effective on or before the end of D may be posted."""

from datetime import date

from msgspec import Struct

from loyaltyctl.core.dates import local_date


class ClosedThrough(Struct, frozen=True):
    """The latest close of a program: everything before `before` (the end of `through`) is closed."""

    program: str
    through: date
    before: int
    timezone: str

    def covers(self, instant: int) -> bool:
        return instant < self.before

    def refusal(self, instant: int, what: str = "an entry") -> str:
        day = local_date(instant, self.timezone)
        return (f"{what} dated {day} falls in a closed period ({self.program!r} is closed through {self.through}); "
                f"date the correction after {self.through}")
