"""Statement figures: the period's lines with a running balance, and what a balance can buy.

Pure. The lines are the period's ledger entries plus one line for each
expiry that fell in the period but was not posted yet (expiry is a function
of time), so opening + lines = closing always holds.
"""

from collections.abc import Iterable, Sequence

from msgspec import Struct

from loyaltyctl.model import Reward


class Movement(Struct, frozen=True):
    at: int
    kind: str
    points: int
    description: str


class Line(Struct, frozen=True):
    at: int
    kind: str
    points: int
    balance: int
    description: str


def statement_lines(opening: int, movements: Iterable[Movement]) -> list[Line]:
    """Movements in time order, each with the balance after it."""
    balance, lines = opening, []
    for m in sorted(movements, key=lambda m: m.at):
        balance += m.points
        lines.append(Line(m.at, m.kind, m.points, balance, m.description))
    return lines


def available_points(points: int, pending: int) -> int:
    """What a member can spend now: their points less those still pending, never below nothing (a member
    who owes points has none to spend; what they owe shows in their points)."""
    return max(0, points - pending)


def affordable(rewards: Sequence[Reward], available: int) -> list[Reward]:
    """Rewards the available points pay for now, cheapest first."""
    return sorted((r for r in rewards if r.points <= available), key=lambda r: (r.points, r.code))
