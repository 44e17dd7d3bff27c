import importlib
import re
import json
import sqlite3
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from loyaltyctl.cli import COMMANDS, GROUPS, ORDER, app, make_app
from loyaltyctl.cli.common import defined_commands
from loyaltyctl.samples import samples_dir
from tests.conftest import run


def test_demo_applies_samples_imports_members_and_posts(tmp_path, monkeypatch):
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-11-23T12:00:00+00:00")
    result = run("demo", "--db", tmp_path / "demo.db")
    assert result.exit_code == 0, result.stderr
    assert "program corner-cafe: version 1, created" in result.stdout
    assert "members: 60 added, 0 updated, 0 unchanged, 2 rejected" in result.stdout
    programs = json.loads(run("--db", tmp_path / "demo.db", "program", "list", "--format", "json").stdout)
    assert [(p["code"], p["members"]) for p in programs] == [
        ("beauty-club", 48), ("corner-cafe", 60), ("fashion-house", 42), ("outdoor-coop", 40), ("roastery", 3)
    ]
    demo_db = tmp_path / "demo.db"
    redeemed = json.loads(run("--db", demo_db, "redeem", "-p", "beauty-club", "M001", "--reward", "ten-off",
                              "--key", "demo-3", "--format", "json").stdout)
    assert (redeemed["duplicate"], redeemed["entries"][0]["points"]) == (True, -100)
    again = run("--db", demo_db, "txn", "import", "-p", "corner-cafe", samples_dir() / "corner-cafe.transactions.csv",
                "--reject-file", tmp_path / "r.csv", "--format", "json")
    summary = json.loads(again.stdout)
    # the demo's 7 bad rows were rejected before: counted, not reported again (exit 0)
    assert (again.exit_code, summary["rows"], summary["imported"], summary["duplicates"], summary["rejected"],
            summary["rejected_before"]) == (0, 440, 0, 433, 0, 7)
    assert "db verify: hash chain intact, balances reconcile" in result.stdout


def test_demo_shows_memberships_bonuses_tiers_partners_and_donations(tmp_path, monkeypatch):
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-11-23T12:00:00+00:00")
    demo_db = tmp_path / "demo.db"
    shown = run("demo", "--db", demo_db).stdout
    # every 8th of the co-op's 40 members did not pay: M008, M016, M024, M032, M040
    assert "outdoor-coop: 35 members paid the membership fee when they joined, 5 did not" in shown
    # beauty-club.grants.csv: 4 good keys (25 + 25 + 25 + 40), one repeated key, one unknown member
    assert "beauty-club campaign grant: 4 granted (115 points), 1 duplicates, 1 rejected" in shown
    # the cafe's M007 was born on 29 February: paid on 28 February 2026
    with sqlite3.connect(demo_db) as conn:
        birthday = conn.execute("SELECT kind, points, reason FROM entries WHERE key = 'birthday:2026:M007'").fetchall()
    assert birthday == [("bonus", 5, "birthday bonus 2026")]
    for title in ("fashion-house members by tier today", "What partners owe outdoor-coop", "Donations at beauty-club"):
        assert title in shown
    unpaid = json.loads(run("--db", demo_db, "member", "show", "-p", "outdoor-coop", "M008", "--format", "json").stdout)
    assert unpaid["membership"] == {"valid": False, "term": None, "valid_through": None, "fees_paid": "0.00",
                                    "payments": []}


def test_demo_twice_changes_nothing_the_second_time(tmp_path):
    run("demo", "--db", tmp_path / "demo.db")
    again = run("demo", "--db", tmp_path / "demo.db")
    assert again.exit_code == 0
    assert "version 1, unchanged" in again.stdout
    assert "members: 0 added, 0 updated, 60 unchanged, 2 rejected" in again.stdout


def _wide_help(words: tuple[str, ...]) -> str:
    """`loyaltyctl WORDS --help` on a terminal wide enough that Rich wraps nothing."""
    argv = [*words, "--help"]
    return CliRunner(env={"COLUMNS": "1000"}).invoke(make_app(argv), argv, prog_name="loyaltyctl").stdout


def _listed(shown: str) -> list[str]:
    """The commands a group's help lists, in order."""
    if "─ Commands ─" not in shown:
        return []
    return re.findall(r"^│ (\S+) ", shown[shown.index("─ Commands ─"):], re.M)


def _commands(words: tuple[str, ...] = ()):
    """Every command a user can run, found as a user finds them: through the lists `--help` prints."""
    for name in _listed(_wide_help(words)):
        shown = _wide_help((*words, name))
        if _listed(shown):
            yield from _commands((*words, name))
        else:
            yield " ".join((*words, name)), shown


COMMAND_HELP = dict(_commands())


def test_the_root_group_lists_every_command_its_modules_define():
    """cli/__init__.py names each command's module by hand: a command missing there would vanish."""
    for name, target in {**COMMANDS, **GROUPS}.items():
        module, attribute = target.split(":")
        found = getattr(importlib.import_module(module), attribute)
        if name in COMMANDS:
            assert set(defined_commands(found)) == {n for n, t in COMMANDS.items() if t == target}, target
        else:
            assert set(defined_commands(found)) <= {c.split()[1] for c in COMMAND_HELP if c.split()[0] == name}
    assert sorted(ORDER) == sorted({"init", *GROUPS, *COMMANDS})
    assert _listed(_wide_help(())) == list(ORDER)


@pytest.mark.parametrize("name", list(COMMAND_HELP))
def test_every_command_has_help_that_reads_like_gits(name, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    # each paragraph is one line for the terminal to wrap: none breaks where the docstring's lines end
    shown = COMMAND_HELP[name].splitlines()
    start = next(n for n, line in enumerate(shown) if "Usage:" in line) + 1
    end = next(n for n, line in enumerate(shown) if line.startswith("╭"))
    paragraphs = "\n".join(line.strip() for line in shown[start:end]).strip().split("\n\n")
    assert paragraphs[0], f"{name} has no help text"
    assert all("\n" not in paragraph for paragraph in paragraphs), f"{name}: {paragraphs}"
    assert len(paragraphs[0]) <= 62, f"{name}: a one-line summary fits the command list"
    result = run(*name.split(), "--help")
    assert result.exit_code == 0
    usage = next(line for line in result.stdout.splitlines() if "Usage:" in line).split()
    assert usage[:len(name.split()) + 3] == ["Usage:", "loyaltyctl", *name.split(), "[OPTIONS]"]
    arguments = [piece.strip("{}[]") for piece in usage[len(name.split()) + 3:]]
    for piece in usage[len(name.split()) + 3:]:  # MEMBER, required {MEMBER} or optional [AMOUNT], in capitals
        assert re.fullmatch(r"\{[A-Z_]+\}|\[[A-Z_]+\]|[A-Z_]+", piece), f"{name}: {' '.join(usage)}"
    options = result.stdout[result.stdout.index("─ Options ─"):]
    for artefact in ("list[", "--no-"):
        assert artefact not in options.replace("--no-declarations", ""), f"{name}: {artefact} in its options"
    assert not re.search(r"<[a-z]+>", options), f"{name}: a type name, not a metavar, in its options"
    if arguments:  # listed by the names the usage gives them (Typer 0.26.8+ adds each one's type: <str>)
        panel = result.stdout[result.stdout.index("─ Arguments ─"):result.stdout.index("─ Options ─")]
        assert re.findall(r"^│ [ *]\s+([A-Z_]+) ", panel, re.M) == arguments, f"{name}: {panel}"


def test_a_typo_is_answered_with_the_command_meant():
    result = run("--db", "x.db", "balanse", "-p", "club", "M1")
    assert result.exit_code == 2
    assert "No such command 'balanse'. Did you mean 'balance'?" in result.stderr
    assert "Did you mean 'program'?" in run("progam", "list").stderr


def test_version_and_the_command_list():
    from loyaltyctl import __version__

    assert run("--version").stdout == f"loyaltyctl {__version__}\n"
    assert run("--version", "balance").stdout == f"loyaltyctl {__version__}\n"
    for args in ((), ("--help",)):
        assert _listed(run(*args).stdout) == list(ORDER), args
    assert _listed(CliRunner().invoke(app, ["--help"]).stdout) == list(ORDER)  # the whole app, for embedding
    missing = run("--db", "x.db")
    assert (missing.exit_code, missing.stdout) == (2, "")
    assert "Usage: loyaltyctl [OPTIONS] COMMAND [ARGS]..." in missing.stderr and "Missing command." in missing.stderr


@pytest.mark.parametrize("args, modules", [
    (["--db", "{db}", "balance", "-p", "club", "M1"], {"common", "ledger"}),
    (["--db={db}", "txn", "sources", "--format", "json"], {"common", "txn"}),
    (["init"], {"common"}),
])
def test_a_command_imports_its_own_module_only(tmp_path, args, modules):
    """Start-up: a counter command loads its module, not the importer, the reports and the demo."""
    script = ("import sys\nfrom loyaltyctl.cli import main\nsys.argv[1:] = sys.argv[2:]\n"
              "try:\n    main()\nexcept SystemExit:\n    pass\n"
              "print(sorted(m for m in sys.modules if m.startswith('loyaltyctl.cli.')))\n")
    argv = [a.replace("{db}", str(tmp_path / "x.db")) for a in args]
    done = subprocess.run([sys.executable, "-c", script, "loyaltyctl", *argv], capture_output=True, text=True,
                          cwd=tmp_path)
    loaded = done.stdout.strip().splitlines()[-1]
    assert loaded == repr(sorted(f"loyaltyctl.cli.{m}" for m in modules)), done.stderr


def test_demo_ends_with_a_liability_the_roll_forward_closes_at(tmp_path, monkeypatch):
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-11-23T12:00:00+00:00")
    demo_db = tmp_path / "demo.db"
    shown = run("demo", "--db", demo_db).stdout
    assert "Points liability of beauty-club as of the end of 2026-10-31 (USD)" in shown
    assert "Roll-forward of beauty-club, 2026-01-01 to 2026-10-31 (USD)" in shown
    liability = json.loads(run("--db", demo_db, "report", "liability", "-p", "beauty-club", "--as-of", "2026-10-31",
                               "--format", "json").stdout)
    rolled = json.loads(run("--db", demo_db, "report", "rollforward", "-p", "beauty-club", "--from", "2026-01-01",
                            "--to", "2026-10-31", "--format", "json").stdout)
    assert rolled["closing_points"] == liability["net_points"] and rolled["closing_liability"] == liability["net_liability"]
    # the tables print what the JSON says: the closing balance line carries the same points and money
    assert "│ closing balance" in shown and f"{rolled['closing_points']} │ {rolled['closing_liability']} │" in shown
