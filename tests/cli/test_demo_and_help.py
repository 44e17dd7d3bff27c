import json

import pytest
import typer

from loyaltyctl.cli import app
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
        ("beauty-club", 48), ("corner-cafe", 60), ("fashion-house", 42), ("outdoor-coop", 40)
    ]
    demo_db = tmp_path / "demo.db"
    redeemed = json.loads(run("--db", demo_db, "redeem", "-p", "beauty-club", "M001", "--reward", "ten-off",
                              "--key", "demo-3", "--format", "json").stdout)
    assert (redeemed["duplicate"], redeemed["entries"][0]["points"]) == (True, -100)
    again = run("--db", demo_db, "txn", "import", "-p", "corner-cafe", samples_dir() / "corner-cafe.transactions.csv",
                "--reject-file", tmp_path / "r.csv", "--format", "json")
    summary = json.loads(again.stdout)
    assert (summary["rows"], summary["imported"], summary["duplicates"], summary["rejected"]) == (440, 0, 433, 7)
    assert "db verify: hash chain intact, balances reconcile" in result.stdout


def test_demo_twice_changes_nothing_the_second_time(tmp_path):
    run("demo", "--db", tmp_path / "demo.db")
    again = run("demo", "--db", tmp_path / "demo.db")
    assert again.exit_code == 0
    assert "version 1, unchanged" in again.stdout
    assert "members: 0 added, 0 updated, 60 unchanged, 2 rejected" in again.stdout


def _commands(group: typer.Typer, prefix: str = ""):
    for info in group.registered_commands:
        yield f"{prefix}{info.name}", info
    for sub in group.registered_groups:
        yield from _commands(sub.typer_instance, f"{prefix}{sub.name} " if sub.name else prefix)


@pytest.mark.parametrize("name, info", list(_commands(app)), ids=lambda x: x if isinstance(x, str) else "")
def test_every_command_has_help(name, info):
    assert info.callback.__doc__, f"{name} has no help text"
    result = run(*name.split(), "--help")
    assert result.exit_code == 0
