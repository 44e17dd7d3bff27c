from datetime import date

import pytest

from loyaltyctl.core.members import anonymised, parse_member, plan_members, referral_code
from loyaltyctl.model import Member

TODAY = date(2026, 6, 15)


def member(member_id: str, **fields) -> Member:
    return parse_member({"member_id": member_id, **fields}, "cafe", TODAY)


def stored(member_id: str, **fields) -> Member:
    values = {"joined": date(2026, 1, 1), "referral_code": referral_code("cafe", member_id)} | fields
    return Member(program="cafe", member_id=member_id, **values)


def rows(*members):
    return [(line, (), m) for line, m in enumerate(members, start=2)]


def test_parse_member_trims_and_parses_dates():
    m = parse_member({"member_id": " M1 ", "name": " Ann ", "birthday": "1990-02-28", "card": ""}, "cafe", TODAY)
    assert m == Member("cafe", "M1", name="Ann", birthday=date(1990, 2, 28))


@pytest.mark.parametrize(
    "fields, reason",
    [
        ({"member_id": ""}, "member_id is empty"),
        ({"member_id": "M1", "birthday": "1990-13-01"}, "birthday '1990-13-01' is not a date (YYYY-MM-DD)"),
        ({"member_id": "M1", "birthday": "2030-01-01"}, "birthday 2030-01-01 is in the future"),
        ({"member_id": "M1", "joined": "15/06/2026"}, "joined '15/06/2026' is not a date (YYYY-MM-DD)"),
        ({"member_id": "M1", "email": "not-an-email"}, "email 'not-an-email' is not an email address"),
    ],
)
def test_parse_member_rejects_bad_fields(fields, reason):
    with pytest.raises(ValueError, match="^" + reason.replace("(", r"\(").replace(")", r"\)") + "$"):
        parse_member(fields, "cafe", TODAY)


def test_new_members_join_today_and_get_a_stable_referral_code():
    plan = plan_members(rows(member("M1")), {}, TODAY)
    (added,) = plan.added
    assert added.joined == TODAY
    assert added.referral_code == referral_code("cafe", "M1")
    assert len(added.referral_code) == 8


def test_the_same_rows_again_change_nothing():
    existing = {"M1": stored("M1", name="Ann", card="111")}
    plan = plan_members(rows(member("M1", name="Ann", card="111")), existing, TODAY)
    assert (plan.added, plan.updated, plan.unchanged, plan.rejected) == ((), (), 1, ())


def test_an_update_fills_in_given_fields_and_keeps_the_rest():
    existing = {"M1": stored("M1", name="Ann", email="ann@example.com")}
    plan = plan_members(rows(member("M1", card="222")), existing, TODAY)
    assert plan.updated == (stored("M1", name="Ann", email="ann@example.com", card="222"),)


def test_duplicate_member_id_and_card_are_rejected_with_their_lines():
    existing = {"M9": stored("M9", card="999")}
    plan = plan_members(rows(member("M1", card="111"), member("M1"), member("M2", card="999"), member("M3", card="111")), existing, TODAY)
    assert [m.member_id for m in plan.added] == ["M1"]
    assert [(r.line, r.reason) for r in plan.rejected] == [
        (3, "duplicate member_id 'M1' (first on line 2)"),
        (4, "card '999' already belongs to member 'M9'"),
        (5, "card '111' already belongs to member 'M1'"),
    ]


def test_referrals_by_member_id_later_in_the_file_or_by_referral_code():
    existing = {"M9": stored("M9")}
    plan = plan_members(
        rows(member("M1", referred_by="M2"), member("M2"), member("M3", referred_by=referral_code("cafe", "M9"))),
        existing,
        TODAY,
    )
    assert [(m.member_id, m.referred_by) for m in plan.added] == [("M1", "M2"), ("M2", None), ("M3", "M9")]


def test_a_referral_to_a_rejected_row_is_rejected_too():
    plan = plan_members(rows(member("M1", referred_by="M2"), member("M3", card="7"), member("M2", card="7")), {}, TODAY)
    assert [m.member_id for m in plan.added] == ["M3"]
    assert [(r.line, r.reason) for r in plan.rejected] == [
        (2, "referred_by 'M2' is not a member id or referral code"),
        (4, "card '7' already belongs to member 'M3'"),
    ]


def test_unknown_and_self_referrals_are_rejected():
    plan = plan_members(rows(member("M1", referred_by="NOPE"), member("M2", referred_by="M2")), {}, TODAY)
    assert [r.reason for r in plan.rejected] == [
        "referred_by 'NOPE' is not a member id or referral code",
        "a member cannot refer themselves",
    ]


def test_parse_failures_pass_through_as_rejections():
    plan = plan_members([(7, ("x",), "birthday 'x' is not a date (YYYY-MM-DD)")], {}, TODAY)
    assert [(r.line, r.reason, r.row) for r in plan.rejected] == [(7, "birthday 'x' is not a date (YYYY-MM-DD)", ("x",))]


def test_anonymised_erases_personal_fields_and_an_email_id():
    ann = Member("shop", "ann@example.com", "Ann", "ann@example.com", date(1990, 2, 28), "77", date(2025, 1, 1),
                 "M0", "R7K2QX4M")
    assert anonymised(ann) == Member("shop", "anon-R7K2QX4M", "", "", None, None, date(2025, 1, 1), "M0", "R7K2QX4M")
    kept = Member("shop", "C-1042", "Bo", "bo@example.com", referral_code="ABCD2345")
    assert anonymised(kept).member_id == "C-1042"
    assert anonymised(anonymised(ann)) == anonymised(ann)  # a second run changes nothing


def test_a_name_finds_a_member_by_id_then_card_then_email_then_id_in_another_case():
    from loyaltyctl.core.members import MemberIndex

    index = MemberIndex([(1, "M1", "C1", "Ann@Example.com"), (2, "C1", None, None), (3, "M3", None, "ann@example.com"),
                         (4, "bo@example.com", None, None), (5, "M5", None, "BO@example.com")])
    assert index.find("C1") == 2  # an id wins over a card
    assert index.find("ANN@EXAMPLE.COM") == 1  # of two members with one email, the first added
    assert index.find("bo@example.com") == 4  # the id as given
    assert index.find("Bo@Example.com") == 5  # an email before an id in another case
    assert index.find("bo@example.com", by="email") == 5
    assert index.find("nobody") is None


def test_an_anonymised_id_taken_by_another_member_moves_to_the_next_free_one():
    ann = stored("ann@example.com")
    own = "anon-" + ann.referral_code
    assert anonymised(ann, {own}).member_id == own + "-2"
    assert anonymised(ann, {own, own + "-2"}).member_id == own + "-3"
