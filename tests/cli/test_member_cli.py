import pytest
import csv
import json

from loyaltyctl.core.members import referral_code
from tests.conftest import change, run, snapshot, write

HEADER = "member_id,name,email,birthday,card,joined,referred_by\n"


def members_json(program="shop"):
    return json.loads(run("member", "list", "--program", program, "--format", "json").stdout)


@pytest.mark.citus
def test_add_then_show_by_id_or_card(shop):
    added = run("member", "add", "--program", "shop", "M1", "--name", "Ann Lee", "--email", "ann@example.com",
                "--birthday", "1990-02-28", "--card", "4000123", "--format", "json")
    assert added.exit_code == 0, added.stderr
    expected = {
        "member_id": "M1", "name": "Ann Lee", "email": "ann@example.com", "birthday": "1990-02-28",
        "card": "4000123", "joined": "2026-06-15", "referred_by": None, "referral_code": referral_code("shop", "M1"),
        "accepts_marketing": None,
    }
    assert json.loads(added.stdout) == expected | {"signup_bonus_points": 0}
    by_card = run("member", "show", "--program", "shop", "4000123", "--format", "json")
    assert json.loads(by_card.stdout) == expected | {"points": 0, "available": 0, "pending": 0, "expiring": [],
                                                     "tier": None, "next_tier": None, "tier_history": [],
                                                     "membership": None}


def test_show_gives_the_balance_as_balance_does(shop):
    run("member", "add", "--program", "shop", "M1", "--card", "77")
    assert run("earn", "--program", "shop", "M1", "40", "--reason", "visit").exit_code == 0
    assert run("earn", "--program", "shop", "M1", "2", "--reason", "visit").exit_code == 0
    shown = json.loads(run("member", "show", "--program", "shop", "77", "--format", "json").stdout)
    balance = json.loads(run("balance", "--program", "shop", "M1", "--format", "json").stdout)
    assert (shown["points"], shown["available"], shown["pending"]) == (42, 42, 0)
    assert {k: shown[k] for k in ("points", "available", "pending", "expiring")} == \
        {k: balance[k] for k in ("points", "available", "pending", "expiring")}


def test_member_id_wins_over_a_card_with_the_same_text(shop):
    run("member", "add", "--program", "shop", "M1", "--card", "M2")
    run("member", "add", "--program", "shop", "M2")
    shown = run("member", "show", "--program", "shop", "M2", "--format", "json")
    assert json.loads(shown.stdout)["member_id"] == "M2"


def test_a_member_named_by_email_is_found_whatever_its_case_at_every_command(shop, tmp_path):
    # jon.smith@gmail.com arrives from an import keyed by email (its id is the folded email); Bo was added
    # by hand with an email in capitals, and is named in small letters
    sales = write(tmp_path / "sales.csv", "txn_id,member_id,occurred_at,amount\nT1,jon.smith@gmail.com,2026-06-01,80.00\n")
    assert run("txn", "import", "--program", "shop", sales, "--create-members").exit_code == 0
    run("member", "add", "--program", "shop", "B7", "--name", "Bo", "--email", "Bo.Park@Example.COM")
    jon, bo = "Jon.Smith@Gmail.Com", "bo.park@example.com"

    def posted(*args):
        result = run(*args, "--format", "json")
        assert result.exit_code == 0, (args, result.stderr)
        return json.loads(result.stdout)

    assert posted("balance", "--program", "shop", jon)["points"] == 80
    assert posted("earn", "--program", "shop", bo, "30", "--reason", "welcome")["member"] == "B7"
    assert posted("transfer", "--program", "shop", jon, "BO.PARK@EXAMPLE.COM", "20")["balance"] == 60  # 80 - 20
    assert posted("redeem", "--program", "shop", bo, "--points", "50")["balance"] == 0  # 30 + 20 - 50
    assert posted("member", "show", "--program", "shop", bo)["member_id"] == "B7"
    assert posted("member", "update", "--program", "shop", jon, "--name", "Jon")["name"] == "Jon"
    assert posted("statement", "--program", "shop", jon)["closing_points"] == 60
    assert posted("member", "anonymise", "--program", "shop", bo)["email"] == ""
    assert run("balance", "--program", "shop", bo).exit_code == 1  # the email went with the person


def test_of_two_members_with_one_email_the_first_added_is_found_and_an_id_wins(shop):
    run("member", "add", "--program", "shop", "M1", "--email", "ann@example.com")
    run("member", "add", "--program", "shop", "M2", "--email", "Ann@Example.com")
    run("member", "add", "--program", "shop", "ann@example.com")
    shown = lambda ident: json.loads(run("member", "show", "--program", "shop", ident, "--format", "json").stdout)  # noqa: E731
    assert shown("ANN@EXAMPLE.COM")["member_id"] == "M1"
    assert shown("ann@example.com")["member_id"] == "ann@example.com"  # a member id as given wins over an email


def test_referred_by_a_referral_code(shop):
    run("member", "add", "--program", "shop", "M1")
    result = run("member", "add", "--program", "shop", "M2", "--referred-by", referral_code("shop", "M1"), "--format", "json")
    assert json.loads(result.stdout)["referred_by"] == "M1"


def test_add_refusals_exit_1_and_change_nothing(shop, db_path):
    run("member", "add", "--program", "shop", "M1", "--card", "77")
    before = snapshot(db_path)
    cases = [
        (["M1"], "error: member 'M1' already exists in 'shop' (member import updates members)"),
        (["M2", "--card", "77"], "error: card '77' already belongs to member 'M1'"),
        (["M2", "--referred-by", "NOBODY"], "error: referred_by 'NOBODY' is not a member id or referral code"),
    ]
    for args, message in cases:
        result = run("member", "add", "--program", "shop", *args)
        assert (result.exit_code, result.stderr) == (1, message + "\n")
    assert snapshot(db_path) == before


def test_add_with_a_bad_date_is_bad_input(shop, db_path):
    before = snapshot(db_path)
    result = run("member", "add", "--program", "shop", "M1", "--birthday", "1990-02-30")
    assert (result.exit_code, result.stderr) == (2, "error: birthday '1990-02-30' is not a date (YYYY-MM-DD)\n")
    assert snapshot(db_path) == before


def test_add_to_an_unknown_program_is_refused():
    run("init")
    result = run("member", "add", "--program", "nope", "M1")
    assert (result.exit_code, result.stderr) == (1, "error: unknown program 'nope' (see `loyaltyctl program list`)\n")


@pytest.mark.citus
def test_import_adds_updates_and_is_idempotent(shop, tmp_path):
    path = write(tmp_path / "m.csv", HEADER + "M1,Ann,,,C1,2026-01-02,\nM2,Bob,,,C2,,M1\n")
    first = run("member", "import", "--program", "shop", path, "--format", "json")
    assert first.exit_code == 0
    assert json.loads(first.stdout) == {
        "rows": 2, "added": 2, "updated": 0, "unchanged": 0, "rejected": 0, "signup_bonus_points": 0,
        "reject_file": None, "dry_run": False,
    }
    second = run("member", "import", "--program", "shop", path, "--format", "json")
    assert json.loads(second.stdout)["unchanged"] == 2
    write(path, HEADER + "M1,Ann Smith,,,,,\n")
    third = run("member", "import", "--program", "shop", path, "--format", "json")
    assert json.loads(third.stdout)["updated"] == 1
    assert [(m["member_id"], m["name"], m["card"], m["joined"], m["referred_by"]) for m in members_json()] == [
        ("M1", "Ann Smith", "C1", "2026-01-02", None),
        ("M2", "Bob", "C2", "2026-06-15", "M1"),
    ]


def test_a_card_moves_from_a_member_to_a_new_one_in_one_import(shop, tmp_path):
    # M1 had C1 and M2 C2; the next file gives M1 a new card, C5, and C1 to a new member, M9 (it was a
    # crash on the unique index, exit 70).
    run("member", "import", "--program", "shop", write(tmp_path / "a.csv", "member_id,name,card\nM1,One,C1\nM2,Two,C2\n"))
    moved = run("member", "import", "--program", "shop", write(tmp_path / "b.csv", "member_id,name,card\nM1,One,C5\nM9,Nine,C1\n"),
                "--format", "json")
    assert moved.exit_code == 0, moved.stderr
    assert (json.loads(moved.stdout)["added"], json.loads(moved.stdout)["updated"]) == (1, 1)
    assert [(m["member_id"], m["card"]) for m in members_json()] == [("M1", "C5"), ("M2", "C2"), ("M9", "C1")]


def test_import_headers_match_loosely_and_by_map(shop, tmp_path):
    path = write(tmp_path / "m.csv", " Member_ID ,Full Name,CARD\nM1,Ann,C1\n")
    result = run("member", "import", "--program", "shop", path, "--map", "Full Name=name")
    assert result.exit_code == 0, result.stderr
    assert [(m["member_id"], m["name"], m["card"]) for m in members_json()] == [("M1", "Ann", "C1")]


def test_bad_rows_go_to_the_reject_file_and_exit_3(shop, tmp_path):
    path = write(
        tmp_path / "m.csv",
        HEADER
        + "M1,Ann,,,C1,,\n"
        + "M1,Ann again,,,,,\n"
        + "M2,Bob,,1990-13-01,,,\n"
        + "M3,Cy,,,C1,,\n"
        + "M4,Di,,,,,\n",
    )
    result = run("member", "import", "--program", "shop", path, "--format", "json")
    assert result.exit_code == 3
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["added"], summary["rejected"]) == (5, 2, 3)
    assert summary["reject_file"] == str(tmp_path / "m.rejects.csv")
    with open(tmp_path / "m.rejects.csv", newline="") as handle:
        rejects = list(csv.reader(handle))
    assert rejects == [
        ["line", "reason", "member_id", "name", "email", "birthday", "card", "joined", "referred_by"],
        ["3", "duplicate member_id 'M1' (first on line 2)", "M1", "Ann again", "", "", "", "", ""],
        ["4", "birthday '1990-13-01' is not a date (YYYY-MM-DD)", "M2", "Bob", "", "1990-13-01", "", "", ""],
        ["5", "card 'C1' already belongs to member 'M1'", "M3", "Cy", "", "", "C1", "", ""],
    ]
    assert f"{path}:3: duplicate member_id 'M1' (first on line 2)" in result.stderr
    assert [m["member_id"] for m in members_json()] == ["M1", "M4"]


def test_missing_required_column_exits_2_and_writes_nothing(shop, tmp_path, db_path):
    path = write(tmp_path / "m.csv", "id,name\nM1,Ann\n")
    before = snapshot(db_path)
    result = run("member", "import", "--program", "shop", path)
    assert (result.exit_code, result.stderr) == (2, f"error: {path}:1: missing required column member_id (found: id, name)\n")
    assert snapshot(db_path) == before


def test_non_utf8_file_exits_2_and_writes_nothing(shop, tmp_path, db_path):
    path = tmp_path / "m.csv"
    path.write_bytes(HEADER.encode() + "M1,Ann,,,,,\nM2,Zo\xeb,,,,,\n".encode("latin-1"))
    before = snapshot(db_path)
    result = run("member", "import", "--program", "shop", path)
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}:3: not UTF-8 text; save the file as UTF-8 (with or without BOM) and try again\n"
    assert snapshot(db_path) == before


def test_utf8_with_bom_is_read(shop, tmp_path):
    path = tmp_path / "m.csv"
    path.write_bytes("\ufeffmember_id,name\nM1,Zoë\n".encode("utf-8"))
    assert run("member", "import", "--program", "shop", path).exit_code == 0
    assert members_json()[0]["name"] == "Zoë"


def test_dry_run_writes_nothing(shop, tmp_path, db_path):
    path = write(tmp_path / "m.csv", HEADER + "M1,Ann,,,,,\n")
    before = snapshot(db_path)
    result = run("member", "import", "--program", "shop", path, "--dry-run", "--format", "json")
    assert json.loads(result.stdout)["added"] == 1
    assert snapshot(db_path) == before


def test_a_reject_file_in_a_missing_folder_is_refused_before_writing(shop, tmp_path, db_path):
    path = write(tmp_path / "m.csv", HEADER + "M1,Ann,,,,,\nM1,Dup,,,,,\n")
    before = snapshot(db_path)
    target = tmp_path / "nowhere" / "r.csv"
    result = run("member", "import", "--program", "shop", path, "--reject-file", target)
    assert (result.exit_code, result.stderr) == (2, f"error: {target}: cannot write the reject file there: No such file or directory\n")
    assert snapshot(db_path) == before


def member_update(*args: str):
    return run("member", "update", "--program", "shop", *args, "--format", "json")


@pytest.mark.citus
def test_update_changes_only_the_fields_given_and_twice_changes_nothing(shop):
    run("member", "add", "--program", "shop", "M1", "--name", "Ann Lee", "--email", "ann@example.com", "--card", "77")
    first = member_update("77", "--email", "ann.lee@example.com", "--birthday", "1990-02-28")  # found by card
    assert first.exit_code == 0, first.stderr
    assert {k: v for k, v in json.loads(first.stdout).items() if k in ("member_id", "name", "email", "birthday",
                                                                       "card", "changed")} == {
        "member_id": "M1", "name": "Ann Lee", "email": "ann.lee@example.com", "birthday": "1990-02-28",
        "card": "77", "changed": True}
    again = member_update("M1", "--email", "ann.lee@example.com")
    assert json.loads(again.stdout)["changed"] is False
    shown = json.loads(run("member", "show", "--program", "shop", "M1", "--format", "json").stdout)
    assert (shown["email"], shown["birthday"]) == ("ann.lee@example.com", "1990-02-28")


def test_update_refusals_change_nothing(shop, db_path):
    run("member", "add", "--program", "shop", "M1", "--card", "77")
    run("member", "add", "--program", "shop", "M2")
    before = snapshot(db_path)
    cases = [
        (["M2", "--card", "77"], 1, "error: card '77' already belongs to member 'M1'"),
        (["M2", "--email", "not-an-address"], 2, "error: email 'not-an-address' is not an email address"),
        (["M2", "--birthday", "1990-02-30"], 2, "error: birthday '1990-02-30' is not a date (YYYY-MM-DD)"),
        (["M9", "--name", "Nobody"], 1, "error: unknown member 'M9' in program 'shop'"),
        (["M2"], 2, "error: name what to change: --name, --email, --birthday, --card or --accepts-marketing"),
    ]
    for args, code, message in cases:
        result = member_update(*args)
        assert (result.exit_code, result.stderr) == (code, message + "\n"), args
    assert snapshot(db_path) == before


@pytest.mark.citus
def test_anonymise_erases_the_person_and_keeps_the_ledger(shop):
    run("member", "add", "--program", "shop", "ann@example.com", "--name", "Ann Lee", "--email", "ann@example.com",
        "--birthday", "1990-02-28", "--card", "77")
    assert run("earn", "--program", "shop", "77", "40", "--reason", "visit").exit_code == 0
    result = run("member", "anonymise", "--program", "shop", "77", "--format", "json")
    assert result.exit_code == 0, result.stderr
    erased = json.loads(result.stdout)
    anonymous = "anon-" + referral_code("shop", "ann@example.com")  # an email id is personal too
    assert {k: erased[k] for k in ("member_id", "name", "email", "birthday", "card", "changed")} == {
        "member_id": anonymous, "name": "", "email": "", "birthday": None, "card": None, "changed": True}
    assert json.loads(run("balance", "--program", "shop", anonymous, "--format", "json").stdout)["points"] == 40
    assert run("balance", "--program", "shop", "ann@example.com").exit_code == 1  # neither id nor card finds them
    assert run("balance", "--program", "shop", "77").exit_code == 1
    again = run("member", "anonymise", "--program", "shop", anonymous, "--format", "json")
    assert json.loads(again.stdout)["changed"] is False
    assert run("db", "verify").exit_code == 0


def test_anonymise_takes_a_free_id_when_an_older_member_holds_its_own(shop, db_path):
    # a member added as anon-CODE before the form was reserved (set behind loyaltyctl's back here)
    anonymous = "anon-" + referral_code("shop", "ann@example.com")
    run("member", "add", "--program", "shop", "M9")
    change(db_path, f"UPDATE members SET member_id = '{anonymous}' WHERE member_id = 'M9'")
    run("member", "add", "--program", "shop", "ann@example.com", "--email", "ann@example.com")
    result = run("member", "anonymise", "--program", "shop", "ann@example.com", "--format", "json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["member_id"] == anonymous + "-2"
    assert run("db", "verify").exit_code == 0


def test_ids_and_cards_in_the_anonymised_form_are_refused(shop, tmp_path, db_path):
    run("member", "add", "--program", "shop", "M1")
    before = snapshot(db_path)
    reserved = "error: member_id 'anon-R7K2QX4M' is reserved: ids starting with 'anon-' are given to anonymised members\n"
    added = run("member", "add", "--program", "shop", "anon-R7K2QX4M")
    assert (added.exit_code, added.stderr) == (2, reserved)
    assert run("member", "add", "--program", "shop", "ANON-X").exit_code == 2  # in any case
    carded = run("member", "add", "--program", "shop", "M2", "--card", "anon-1")
    assert (carded.exit_code, carded.stderr) == (
        2, "error: card 'anon-1' is reserved: 'anon-' starts the ids of anonymised members\n")
    assert member_update("M1", "--card", "Anon-2").exit_code == 2
    assert snapshot(db_path) == before
    imported = run("member", "import", "--program", "shop", write(tmp_path / "m.csv", HEADER + "anon-R7K2QX4M,Ann,,,,,\n"
                                                                                        "M3,Bo,,,anon-3,,\n"
                                                                                        "M4,Cy,,,,,\n"))
    assert imported.exit_code == 3
    with open(tmp_path / "m.rejects.csv", newline="") as handle:
        assert [row["reason"] for row in csv.DictReader(handle)] == [reserved[len("error: "):-1],
                                                                     "card 'anon-3' is reserved: 'anon-' starts the "
                                                                     "ids of anonymised members"]
    sales = write(tmp_path / "s.csv", "txn_id,member_id,occurred_at,amount\nT1,anon-Z,2026-06-01,10.00\n")
    created = run("txn", "import", "--program", "shop", sales, "--create-members")
    assert created.exit_code == 3 and "cannot add the member: member_id 'anon-Z' is reserved" in created.stderr
    assert [m["member_id"] for m in members_json()] == ["M1", "M4"]


def test_anonymise_keeps_an_id_that_is_not_personal(shop):
    run("member", "add", "--program", "shop", "C-1042", "--name", "Bo", "--email", "bo@example.com")
    erased = json.loads(run("member", "anonymise", "--program", "shop", "C-1042", "--format", "json").stdout)
    assert (erased["member_id"], erased["name"], erased["email"]) == ("C-1042", "", "")


@pytest.mark.citus
def test_member_list_picks_members_for_outreach_by_points_and_activity(shop):
    # the clock is 2026-06-15; an adjustment is not activity (only earns and redemptions are)
    for member in ("M1", "M2", "M3", "M4"):
        run("member", "add", "--program", "shop", member, "--email", f"{member.lower()}@example.com",
            "--joined", "2025-12-01")
    assert run("earn", "--program", "shop", "M1", "40", "-r", "visit", "--at", "2026-05-01").exit_code == 0
    assert run("earn", "--program", "shop", "M2", "10", "-r", "visit", "--at", "2026-01-10").exit_code == 0
    assert run("adjust", "--program", "shop", "M4", "100", "-r", "goodwill", "--at", "2026-06-01").exit_code == 0

    def listed(*args: str) -> list[tuple]:
        result = run("member", "list", "--program", "shop", *args, "--format", "json")
        assert result.exit_code == 0, result.stderr
        return [(m["member_id"], m["points"], m["last_activity"], m["tier"]) for m in json.loads(result.stdout)]

    assert listed() == [("M1", 40, "2026-05-01", None), ("M2", 10, "2026-01-10", None), ("M3", 0, None, None),
                        ("M4", 100, None, None)]
    assert [m for m, *_ in listed("--min-points", "20")] == ["M1", "M4"]
    assert [m for m, *_ in listed("--max-points", "10")] == ["M2", "M3"]
    assert [m for m, *_ in listed("--min-points", "5", "--inactive-since", "2026-03-01")] == ["M2", "M4"]
    assert [m for m, *_ in listed("--active-since", "2026-03-01")] == ["M1"]
    assert listed("--as-of", "2026-04-30") == [("M1", 0, None, None), ("M2", 10, "2026-01-10", None),
                                               ("M3", 0, None, None), ("M4", 0, None, None)]
    mail_merge = run("member", "list", "--program", "shop", "--active-since", "2026-01-01", "--format", "csv")
    assert mail_merge.stdout == ("member_id,name,email,card,joined,points,last_activity,tier,accepts_marketing\n"
                                 "M1,,m1@example.com,,2025-12-01,40,2026-05-01,,\n"
                                 "M2,,m2@example.com,,2025-12-01,10,2026-01-10,,\n")
    for args, message in ((["--active-since", "2026-02-30"], "error: --active-since '2026-02-30' is not a date "
                                                                "(YYYY-MM-DD)"),
                          (["--tier", "gold"], "error: --tier 'gold': shop has no tiers"),
                          (["--min-points", "50", "--max-points", "10"], "error: --min-points 50 is above --max-points 10")):
        bad = run("member", "list", "--program", "shop", *args)
        assert (bad.exit_code, bad.stderr) == (2, message + "\n"), args


def test_marketing_consent_from_a_csv_and_by_hand_and_a_mail_merge_of_those_who_said_yes(shop, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("member_id,email,accepts_marketing\n"
                    "M1,m1@example.com,yes\n" "M2,m2@example.com,No\n" "M3,m3@example.com,\n" "M4,m4@example.com,maybe\n")
    result = run("member", "import", "--program", "shop", path, "--format", "json")
    assert result.exit_code == 3 and "members.csv:5: accepts_marketing 'maybe' is not yes or no" in result.stderr

    def consent() -> dict[str, object]:
        return {m["member_id"]: m["accepts_marketing"] for m in members_json()}

    assert consent() == {"M1": True, "M2": False, "M3": None}  # M3 never said; M4's row was rejected
    path.write_text("member_id,accepts_marketing\nM1,\nM2,1\n")  # an empty cell keeps what was stored
    assert run("member", "import", "--program", "shop", path).exit_code == 0
    assert consent() == {"M1": True, "M2": True, "M3": None}
    assert run("member", "update", "--program", "shop", "M1", "--accepts-marketing", "no").exit_code == 0
    assert run("member", "add", "--program", "shop", "M5", "--accepts-marketing", "yes").exit_code == 0
    assert run("member", "anonymise", "--program", "shop", "M2").exit_code == 0  # consent goes with the person
    assert consent() == {"M1": False, "M2": None, "M3": None, "M5": True}
    merge = run("member", "list", "--program", "shop", "--accepts-marketing", "--format", "csv")
    assert merge.stdout == ("member_id,name,email,card,joined,points,last_activity,tier,accepts_marketing\n"
                            "M5,,,,2026-06-15,0,,,yes\n")  # as the table says it, and as imports read it
    bad = run("member", "update", "--program", "shop", "M1", "--accepts-marketing", "sure")
    assert (bad.exit_code, bad.stderr) == (2, "error: accepts_marketing 'sure' is not yes or no\n")


def test_member_list_at_80_columns_keeps_emails_and_points_whole(shop, monkeypatch):
    """Six columns with long emails do not fit 80: one block per member, nothing cut."""
    email = "someone.with.a.rather.long.address@example-company.co.uk"
    run("member", "add", "--program", "shop", "M1", "--name", "Alexandra Montgomery-Smythe", "--email", email)
    run("earn", "--program", "shop", "M1", "1234567", "-r", "x", "--at", "2026-05-01")
    monkeypatch.setenv("COLUMNS", "80")
    shown = run("member", "list", "--program", "shop").stdout
    assert all(len(line) <= 80 for line in shown.splitlines())
    assert f"email         {email}\n" in shown and "points        1234567\n" in shown
    assert "name          Alexandra Montgomery-Smythe\n" in shown
