"""Ways to earn beyond purchases (SPEC.md "Actions"): what an action takes, the period its limit counts in,
what a limit refuses, and the feedback score (NPS) of survey answers."""

from datetime import date, timedelta
from decimal import Decimal

from msgspec import Struct

from loyaltyctl.core.dates import add_months
from loyaltyctl.model import Action
from loyaltyctl.money import ratio

SCORES = range(0, 11)
PROMOTERS, DETRACTORS = range(9, 11), range(0, 7)


def action_problem(action: Action, key: str | None, score: int | None) -> str | None:
    """Why an action cannot be posted as given (bad usage), or None."""
    if action.needs_key and not key:
        return f"action {action.code!r} needs a key (--key: the review id, the post's address)"
    if action.kind == "survey" and score is None:
        return f"action {action.code!r} is a survey: give its --score, 0 to 10"
    if action.kind != "survey" and score is not None:
        return f"action {action.code!r} takes no score (only survey actions do)"
    if score is not None and score not in SCORES:
        return f"a score is 0 to 10, got {score}"
    return None


def limit_period(action: Action, day: date) -> tuple[date, date] | None:
    """The calendar period of `day` the action's limit counts in, first and last day (weeks start on
    Monday; `once` is all time); None without a limit."""
    if action.limit == "none":
        return None
    if action.limit == "once":
        return date.min, date.max
    if action.limit == "per-day":
        return day, day
    if action.limit == "per-week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    if action.limit == "per-month":
        first = day.replace(day=1)
        return first, add_months(first, 1) - timedelta(days=1)
    return date(day.year, 1, 1), date(day.year, 12, 31)


def limit_refusal(action: Action, member_id: str, taken: int, day: date) -> str | None:
    """Why the action is refused on `day` when the member already has `taken` in its period, or None."""
    period = limit_period(action, day)
    if period is None:
        return None
    most = 1 if action.limit == "once" else action.max
    if taken < most:
        return None
    if action.limit == "once":
        return f"{member_id} already earned {action.code!r} (once per member)"
    where = {"per-day": f"on {day}", "per-week": f"in the week of {period[0]}", "per-month": f"in {day:%Y-%m}",
             "per-year": f"in {day.year}"}[action.limit]
    return (f"{member_id} already earned {action.code!r} {taken} {'time' if taken == 1 else 'times'} {where} "
            f"(limit {action.limit}, at most {most})")


class Nps(Struct, frozen=True):
    """Net promoter score over each member's latest answer: promoters 9-10, passives 7-8, detractors 0-6."""

    responses: int
    promoters: int
    passives: int
    detractors: int

    @property
    def score(self) -> int | None:
        """100 x (promoters - detractors) / responses, rounded half away from zero; None without answers."""
        score = ratio(100 * (self.promoters - self.detractors), self.responses, Decimal(1))
        return int(score) if score is not None else None


def nps(latest_scores: dict[int, int]) -> Nps:
    """From how many members answered each score (their latest answer)."""
    def answered(scores: range) -> int:
        return sum(latest_scores.get(score, 0) for score in scores)

    return Nps(sum(latest_scores.values()), answered(PROMOTERS), answered(range(7, 9)), answered(DETRACTORS))
