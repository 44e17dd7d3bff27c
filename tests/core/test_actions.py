"""Actions from plain values: what each takes, the periods limits count in, their refusals, and NPS."""

from datetime import date

from loyaltyctl.core.actions import Nps, action_problem, limit_period, limit_refusal, nps
from loyaltyctl.model import Action

REVIEW = Action("review", "A review", 50, needs_key=True)
SHARE = Action("instagram-share", "An Instagram share", 10, limit="per-week", max=2)
SURVEY = Action("survey", "The after-visit survey", 5, limit="per-month", kind="survey")


def test_what_each_action_takes():
    assert action_problem(REVIEW, None, None) == "action 'review' needs a key (--key: the review id, the post's address)"
    assert action_problem(REVIEW, "r-1", None) is None
    assert action_problem(SURVEY, None, None) == "action 'survey' is a survey: give its --score, 0 to 10"
    assert action_problem(SURVEY, None, 11) == "a score is 0 to 10, got 11"
    assert action_problem(SURVEY, None, 0) is None
    assert action_problem(SHARE, None, 7) == "action 'instagram-share' takes no score (only survey actions do)"


def test_periods_are_calendar_periods_with_weeks_from_monday():
    sunday = date(2026, 12, 6)
    assert limit_period(SHARE, sunday) == (date(2026, 11, 30), date(2026, 12, 6))
    assert limit_period(SURVEY, date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert limit_period(Action("a", "a", 1, limit="per-year"), sunday) == (date(2026, 1, 1), date(2026, 12, 31))
    assert limit_period(Action("a", "a", 1, limit="once"), sunday) == (date.min, date.max)
    assert limit_period(REVIEW, sunday) is None


def test_a_limit_refuses_once_its_period_is_full_and_names_it():
    assert limit_refusal(SHARE, "M001", 1, date(2026, 12, 2)) is None
    assert limit_refusal(SHARE, "M001", 2, date(2026, 12, 2)) == (
        "M001 already earned 'instagram-share' 2 times in the week of 2026-11-30 (limit per-week, at most 2)")
    assert limit_refusal(Action("a", "a", 1, limit="once"), "M1", 1, date(2026, 1, 1)) == (
        "M1 already earned 'a' (once per member)")
    assert limit_refusal(REVIEW, "M1", 40, date(2026, 1, 1)) is None


def test_nps_rounds_half_away_from_zero():
    # 2 promoters, 1 passive, 1 detractor of 4: 100 x (2 - 1) / 4 = 25
    assert nps({10: 1, 9: 1, 8: 1, 3: 1}) == Nps(4, 2, 1, 1) and Nps(4, 2, 1, 1).score == 25
    assert Nps(8, 1, 0, 2).score == -13  # -12.5
    assert Nps(8, 2, 5, 1).score == 13  # 12.5
    assert Nps(0, 0, 0, 0).score is None
