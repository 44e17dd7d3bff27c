"""Which program version is in force on a day."""

from bisect import bisect_right
from collections.abc import Sequence
from datetime import date
from typing import TypeVar

V = TypeVar("V")


def in_force(versions: Sequence[tuple[date, int, V]], day: date) -> V:
    """The version with the latest effective_from on or before `day` (the latest applied on ties).

    `versions` are (effective_from, version number, value) sorted ascending.
    Before the first version took effect (history imported from before the
    program was set up) the earliest version applies.
    """
    index = bisect_right(versions, (day, float("inf")), key=lambda v: (v[0], v[1]))
    if index == 0:
        earliest = versions[0][0]
        return max((v for v in versions if v[0] == earliest), key=lambda v: v[1])[2]
    return versions[index - 1][2]


class VersionTable:
    """A program's versions in memory, for code that asks about many days (imports, histories)."""

    def __init__(self, versions: Sequence[tuple[date, int, V]]):
        self.versions = sorted(versions, key=lambda v: (v[0], v[1]))

    def on(self, day: date):
        return in_force(self.versions, day)

    def all(self) -> list:
        return [value for _, _, value in self.versions]
