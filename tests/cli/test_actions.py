"""Actions end to end (SPEC.md "Actions"): reviews paid once per key, shares limited per week, surveys
scored, imported idempotently, counted in the roll-forward, the NPS and the detractors' list.

The clock is 2026-06-15 (a Monday) 12:00 in New York; the week before runs Monday 06-08 to Sunday 06-14.
"""

import csv
import io
import json

import pytest

from tests.conftest import ok, run, write

CAFE = """\
[program]
code = "cafe"
name = "Cafe"
currency = "USD"
timezone = "America/New_York"
point_value = "0.01"
effective_from = 2026-01-01

[earn]
points_per_unit = "1"

[[actions]]
code = "review"
name = "A review"
points = 50
needs_key = true

[[actions]]
code = "share"
name = "An Instagram share"
points = 10
limit = "per-week"
max = 2

[[actions]]
code = "survey"
name = "The monthly survey"
points = 5
limit = "per-month"
kind = "survey"

[[actions]]
code = "visit-app"
name = "Installed the app"
points = 20
limit = "once"
"""


@pytest.fixture
def cafe(tmp_path):
    ok("program", "apply", write(tmp_path / "cafe.toml", CAFE))
    for member in ("M1", "M2", "M3"):
        ok("member", "add", "-p", "cafe", member, "--joined", "2026-01-01")
    return tmp_path


def action(*args):
    return run("action", "-p", "cafe", *args, "--format", "json")


def points(member):
    return json.loads(ok("balance", "-p", "cafe", member, "--format", "json").stdout)["points"]


@pytest.mark.citus
def test_a_review_is_paid_once_per_key_and_to_one_member(cafe):
    first = action("M1", "review", "--key", "g-1")
    assert first.exit_code == 0 and json.loads(first.stdout)["entries"][0]["kind"] == "action"
    again = action("M1", "review", "--key", "g-1")
    assert again.exit_code == 0 and json.loads(again.stdout)["duplicate"] is True
    other = action("M2", "review", "--key", "g-1")
    assert (other.exit_code, other.stderr.strip()) == (1, "error: key 'g-1' already used for 'review'")
    keyless = action("M2", "review")
    assert keyless.exit_code == 2 and "needs a key" in keyless.stderr
    assert action("M2", "review", "--key", "g-2").exit_code == 0  # another review: paid
    assert (points("M1"), points("M2")) == (50, 50)


@pytest.mark.citus
def test_a_week_at_its_limit_refuses_even_an_action_dated_before_the_ones_posted(cafe):
    assert action("M1", "share", "--at", "2026-06-10T09:00").exit_code == 0  # Wednesday
    assert action("M1", "share", "--at", "2026-06-14T09:00").exit_code == 0  # Sunday: the same week
    backdated = action("M1", "share", "--at", "2026-06-08T09:00")  # Monday, before both: first posted wins
    assert backdated.exit_code == 1
    assert backdated.stderr.strip() == ("error: M1 already earned 'share' 2 times in the week of 2026-06-08 "
                                        "(limit per-week, at most 2)")
    assert action("M1", "share", "--at", "2026-06-15T09:00").exit_code == 0  # Monday: a new week
    assert action("M2", "share", "--at", "2026-06-08T09:00").exit_code == 0  # limits are per member
    assert points("M1") == 30


def test_a_reversed_action_frees_its_place_and_takes_its_points_back(cafe):
    entry = json.loads(action("M1", "share", "--at", "2026-06-10T09:00").stdout)["entries"][0]["id"]
    action("M1", "share", "--at", "2026-06-11T09:00")
    assert action("M1", "share", "--at", "2026-06-12T09:00").exit_code == 1
    ok("reverse", "-p", "cafe", str(entry), "--reason", "not our post")
    assert action("M1", "share", "--at", "2026-06-12T09:00").exit_code == 0
    assert points("M1") == 20


def test_once_means_once_per_member_ever(cafe):
    assert action("M1", "visit-app", "--at", "2026-02-01T09:00").exit_code == 0
    refused = action("M1", "visit-app")
    assert (refused.exit_code, refused.stderr.strip()) == (1, "error: M1 already earned 'visit-app' (once per member)")


@pytest.mark.parametrize("args, code, message", [
    (("M1", "survey"), 2, "action 'survey' is a survey: give its --score, 0 to 10"),
    (("M1", "survey", "--score", "11"), 2, "a score is 0 to 10, got 11"),
    (("M1", "share", "--score", "7"), 2, "action 'share' takes no score (only survey actions do)"),
    (("M1", "tiktok"), 1, "unknown action 'tiktok' in program 'cafe' (its actions: review, share, survey, visit-app)"),
    (("M9", "share"), 1, "unknown member 'M9' in program 'cafe'"),
])
def test_bad_actions_are_one_line_and_post_nothing(cafe, args, code, message):
    result = action(*args)
    assert (result.exit_code, result.stderr.strip()) == (code, f"error: {message}")
    assert points("M1") == 0


def test_an_action_in_a_closed_period_is_refused(cafe):
    ok("period", "close", "-p", "cafe", "--through", "2026-05-31")
    refused = action("M1", "share", "--at", "2026-05-30T09:00")
    assert refused.exit_code == 1 and "2026-05-31" in refused.stderr


IMPORT = (
    "member_id,action,occurred_at,key,score\n"
    "M1,review,2026-06-01T10:00,g-10,\n"      # 50
    "M1,review,2026-06-01T10:00,g-10,\n"      # the same key, the same member: a duplicate
    "M2,review,2026-06-02T10:00,g-10,\n"      # the same key, another member: rejected
    "M2,share,2026-06-09T10:00,,\n"           # 10, identified by member, action and time
    "M2,share,2026-06-09T10:00,,\n"           # the same: a duplicate
    "M2,share,2026-06-10T10:00,,\n"           # 10
    "M2,share,2026-06-11T10:00,,\n"           # a third in the week: rejected
    "M3,survey,2026-06-05T10:00,r-1,2\n"      # 5
    "M3,survey,2026-06-06T10:00,r-2,x\n"      # the score does not read: rejected
    "M9,share,2026-06-01T10:00,,\n"           # unknown member: rejected
    "M1,selfie,2026-06-01T10:00,,\n"          # unknown action: rejected
)


def test_action_import_is_idempotent_and_rejects_bad_rows_with_their_reason(cafe):
    path = write(cafe / "actions.csv", IMPORT)
    result = run("action", "import", "-p", "cafe", path, "--format", "json")
    assert result.exit_code == 3, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["posted"], summary["duplicates"], summary["rejected"], summary["points"]) == (
        11, 4, 2, 5, 50 + 10 + 10 + 5)
    with open(cafe / "actions.rejects.csv", newline="") as rejects:
        assert [(row["line"], row["reason"]) for row in csv.DictReader(rejects)] == [
            ("4", "key 'g-10' already used for 'review'"),
            ("8", "M2 already earned 'share' 2 times in the week of 2026-06-08 (limit per-week, at most 2)"),
            ("10", "score 'x' is not a whole number"), ("11", "unknown member 'M9'"),
            ("12", "unknown action 'selfie' in program 'cafe' (its actions: review, share, survey, visit-app)")]
    assert (points("M1"), points("M2"), points("M3")) == (50, 20, 5)
    # the nightly re-run: the posted rows are duplicates, the bad ones were reported already (exit 0)
    again = run("action", "import", "-p", "cafe", path, "--format", "json")
    assert again.exit_code == 0, again.stderr
    summary = json.loads(again.stdout)
    assert (summary["posted"], summary["duplicates"], summary["rejected"], summary["rejected_before"]) == (0, 6, 0, 5)
    assert (points("M1"), points("M2"), points("M3")) == (50, 20, 5)


def test_action_points_are_issued_in_the_roll_forward_with_an_actions_line(cafe):
    action("M1", "review", "--key", "g-1", "--at", "2026-06-02T09:00")
    action("M2", "share", "--at", "2026-06-03T09:00")
    ok("earn", "-p", "cafe", "M1", "7", "--reason", "a purchase the till missed", "--at", "2026-06-04T09:00")
    report = json.loads(ok("report", "rollforward", "-p", "cafe", "--from", "2026-06-01", "--to", "2026-06-14",
                           "--format", "json").stdout)
    assert (report["issued"], report["actions"], report["closing_points"]) == (67, 60, 67)
    kpis = json.loads(ok("report", "kpis", "-p", "cafe", "--from", "2026-06-01", "--to", "2026-06-14",
                         "--format", "json").stdout)
    assert kpis["points_issued"] == 67
    journal = list(csv.DictReader(io.StringIO(ok("report", "journal", "-p", "cafe", "--from", "2026-06-01",
                                                 "--to", "2026-06-14").stdout)))
    actions = [(row["date"], row["account"], row["debit"], row["credit"]) for row in journal
               if "points for actions" in row["narration"]]
    assert actions == [("2026-06-02", "Expenses:Loyalty:Points", "0.50", ""),
                       ("2026-06-02", "Liabilities:Loyalty:Points", "", "0.50"),
                       ("2026-06-03", "Expenses:Loyalty:Points", "0.10", ""),
                       ("2026-06-03", "Liabilities:Loyalty:Points", "", "0.10")]


def test_nps_is_over_each_members_latest_answer_in_the_range(cafe):
    # M3 answered 9 in May and 2 in June; in June: M1 10, M2 9 (promoters), M3 2 (a detractor):
    # 100 x (2 - 1) / 3 = 33.3 -> 33. In May: M3's 9 alone: 100.
    for member, day, score in (("M3", "2026-05-20", 9), ("M1", "2026-06-02", 10), ("M2", "2026-06-03", 9),
                               ("M3", "2026-06-05", 2)):
        assert action(member, "survey", "--score", str(score), "--at", f"{day}T09:00").exit_code == 0

    def nps(start, end):
        return json.loads(ok("report", "analytics", "-p", "cafe", "--from", start, "--to", end,
                             "--format", "json").stdout)["nps"]

    assert nps("2026-06-01", "2026-06-14") == {"responses": 3, "promoters": 2, "passives": 0, "detractors": 1,
                                               "score": 33}
    assert nps("2026-05-01", "2026-05-31") == {"responses": 1, "promoters": 1, "passives": 0, "detractors": 0,
                                               "score": 100}
    assert nps("2026-04-01", "2026-04-30")["score"] is None
    listed = json.loads(ok("member", "list", "-p", "cafe", "--detractors", "--format", "json").stdout)
    assert [(m["member_id"], m["score"]) for m in listed] == [("M3", 2)]


@pytest.mark.parametrize("table, problem", [
    ('code = "a"\nname = "A"\npoints = 5\nmax = 3\n', "actions[0].max"),
    ('code = "a"\nname = "A"\npoints = 5\nlimit = "per-fortnight"\n', "actions[0].limit"),
    ('code = "a"\nname = "A"\npoints = 5\nkind = "quiz"\n', "actions[0].kind"),
    ('code = "a"\nname = "A"\npoints = 5\nevery = "day"\n', "actions[0].every"),
    ('code = "a"\nname = "A"\npoints = 0\n', "actions[0].points"),
])
def test_a_bad_actions_table_names_its_key(tmp_path, table, problem):
    path = write(tmp_path / "bad.toml", CAFE.split("[[actions]]")[0] + "[[actions]]\n" + table)
    result = run("program", "validate", path)
    assert result.exit_code == 2 and problem in result.stderr
