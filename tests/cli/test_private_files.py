"""Files holding members' names, emails and birthdays are created readable by their owner only (0600, folders
made for them 0700), whatever the umask: on a shop's shared machine other users cannot read them."""

import os
import stat
from pathlib import Path

import pytest

import loyaltyctl
from tests.conftest import run, write


@pytest.fixture(autouse=True)
def usual_umask():
    """The umask most systems give users (022: new files 0644, readable by everyone), as before this rule."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def with_a_member(tmp_path: Path) -> None:
    assert run("member", "import", "-p", "shop", write(tmp_path / "m.csv", "member_id,name,email,birthday\n"
                                                         "M1,Ann Lee,ann@example.com,1990-02-28\n")).exit_code == 0
    assert run("earn", "-p", "shop", "M1", "120", "--reason", "welcome", "--at", "2026-06-01").exit_code == 0


@pytest.mark.sqlite_only
def test_init_makes_the_database_and_its_wal_and_shm_private(tmp_path):
    db = tmp_path / "shop.db"
    assert run("--db", db, "init").exit_code == 0
    assert mode(db) == 0o600
    assert run("--db", db, "program", "apply", write(tmp_path / "p.toml", "[program]\ncode = \"p\"\nname = \"P\"\n"
                                                       "currency = \"USD\"\ntimezone = \"UTC\"\npoint_value = \"0.01\"\n"
                                                       "[earn]\npoints_per_unit = \"1\"\n")).exit_code == 0
    with loyaltyctl.connect(db) as ledger:  # while a connection is open, its WAL and shared memory are there
        ledger.add_member("p", {"member_id": "M1", "name": "Ann Lee", "email": "ann@example.com"})
        companions = [Path(f"{db}-wal"), Path(f"{db}-shm")]
        assert {path.name: mode(path) for path in companions} == {"shop.db-wal": 0o600, "shop.db-shm": 0o600}


def test_a_backup_is_private_from_either_backend(shop, tmp_path):
    with_a_member(tmp_path)
    assert run("db", "backup", tmp_path / "nightly.db").exit_code == 0
    assert mode(tmp_path / "nightly.db") == 0o600
    assert run("--db", tmp_path / "nightly.db", "db", "verify").exit_code == 0


@pytest.mark.sqlite_only
def test_statements_and_the_folders_made_for_them_are_private(shop, tmp_path):
    with_a_member(tmp_path)
    (tmp_path / "shared").mkdir(mode=0o755)  # a folder that exists keeps its mode
    out = tmp_path / "shared" / "statements" / "2026-06"
    assert run("statement", "-p", "shop", "--all", "--period", "2026-06", "--out-dir", out).exit_code == 0
    assert {path.name: mode(path) for path in out.iterdir()} == {"M1.html": 0o600, "index.csv": 0o600}
    assert [mode(folder) for folder in (out, out.parent, out.parent.parent)] == [0o700, 0o700, 0o755]


@pytest.mark.sqlite_only
def test_exports_and_reject_files_are_private_and_a_file_that_exists_keeps_its_mode(shop, tmp_path):
    with_a_member(tmp_path)
    assert run("member", "list", "-p", "shop", "--format", "csv", "-o", tmp_path / "members.csv").exit_code == 0
    assert run("report", "expiring", "-p", "shop", "--within", "30", "--format", "csv",
               "-o", tmp_path / "mail-merge.csv").exit_code == 0
    sales = write(tmp_path / "sales.csv", "txn_id,member_id,occurred_at,amount\nT1,M1,2026-06-02T10:00,12,50\n")
    assert run("txn", "import", "-p", "shop", sales).exit_code == 3  # "12,50": a bad amount, rejected
    assert [mode(tmp_path / name) for name in ("members.csv", "mail-merge.csv", "sales.rejects.csv")] == [0o600] * 3
    shared = tmp_path / "for-the-printer.csv"
    shared.write_text("")
    shared.chmod(0o644)  # its owner chose to share it
    assert run("member", "list", "-p", "shop", "--format", "csv", "-o", shared).exit_code == 0
    assert mode(shared) == 0o644 and "Ann Lee" in shared.read_text()
