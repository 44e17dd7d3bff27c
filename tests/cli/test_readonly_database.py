"""A database loyaltyctl cannot write (read-only, or on a full disk): one line, and nothing changes.

On a read-only database reading still works. Root writes through permission
bits, and so does loyaltyctl run as root, so the permission tests run the CLI
as root without its capabilities (setpriv, in a fresh process) when the tests
run as root (as in CI) and as the tester otherwise: either way the kernel,
not a stub, says the file or folder is not writable. What root itself cannot
write is shown as root with a read-only bind mount and with `chattr +i`, and
a really full disk with a small tmpfs, each mount in a namespace of its own;
these skip where the system does not allow them, and so do the permission
tests where root cannot drop its capabilities. tests/storage/test_db.py has
the full disk without root (max_page_count).
"""

import gc
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
import typer

from loyaltyctl.cli.common import stop_on_errors
from tests.conftest import MINIMAL_PROGRAM, run, write

pytestmark = pytest.mark.sqlite_only  # file permissions, mounts and a full disk are the SQLite file's

AS_ROOT = os.geteuid() == 0
READ_COMMANDS = {
    "balance": ["balance", "-p", "shop", "M1"],
    "report liability": ["report", "liability", "-p", "shop"],
    "statement": ["statement", "-p", "shop", "M1"],
    "member list": ["member", "list", "-p", "shop"],
    "db verify": ["db", "verify"],
    "program list": ["program", "list"],
}
WRITE_COMMANDS = {
    "earn": ["earn", "-p", "shop", "M1", "10", "--reason", "welcome"],
    "member add": ["member", "add", "-p", "shop", "M2"],
    "txn import": ["txn", "import", "-p", "shop", "{inbox}/sales.csv"],
    "period close": ["period", "close", "-p", "shop", "--through", "2026-05-31"],
    "program apply": ["program", "apply", "{inbox}/shop.toml"],
}
# (file mode, folder mode, the reason given)
SETUPS = {
    "file and folder read-only": (0o444, 0o555, "the file is not writable"),
    "file read-only": (0o444, 0o777, "the file is not writable"),
    "folder read-only": (0o666, 0o555, "its folder {folder} is not writable"),
}


def refused(db: Path, reason: str) -> str:
    """The one line a write command prints on a read-only database."""
    return (f"error: {db}: the database is read-only ({reason}); "
            "nothing was written (commands that only read it still work)\n")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Root's capabilities dropped for good: none inherited and none in the bounding set, so the exec
# that follows grants none back (util-linux setpriv; emptying the bounding set needs CAP_SETPCAP).
WITHOUT_CAPABILITIES = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"]
CAN_IT_WRITE = "import os, sys, loyaltyctl.cli; print(os.access(sys.argv[1], os.W_OK))"


def why_root_cannot_drop_its_capabilities() -> str | None:
    """None when the CLI, started as root without capabilities, is held to a read-only file's bits."""
    with tempfile.TemporaryDirectory() as folder:
        locked = Path(folder) / "read-only"
        locked.touch()
        locked.chmod(0o444)
        try:
            probe = subprocess.run([*WITHOUT_CAPABILITIES, sys.executable, "-c", CAN_IT_WRITE, str(locked)],
                                   capture_output=True, text=True, timeout=60, check=False)
        except FileNotFoundError:
            return "no setpriv (util-linux) to run the CLI as root without its capabilities"
    if probe.returncode:
        said = probe.stderr.strip().splitlines()
        return f"cannot run the CLI as root without its capabilities: {said[-1] if said else probe.returncode}"
    if probe.stdout.strip() != "False":
        return "setpriv could not take root's capabilities away here: it still may write a read-only file"
    return None


@pytest.fixture(scope="module")
def as_reader():
    """The CLI run by someone the permission bits bind: root without its capabilities, when we are root.

    Root keeps its uid, so it still reads the interpreter, the package and
    the inputs wherever the checkout lives (root's home, a mktemp -d folder:
    places `nobody` cannot reach), but without CAP_DAC_OVERRIDE the kernel
    holds it to the bits: os.access and SQLite's own open are refused what
    the mode refuses. A forked child would keep the parent's capabilities, so
    the CLI starts afresh under setpriv. Without setpriv, or where
    capabilities cannot be dropped, these tests skip and say why.
    """
    if not AS_ROOT:
        def in_process(db: Path, *args: str) -> SimpleNamespace:
            result = run("--db", db, *args)
            return SimpleNamespace(exit_code=result.exit_code, stdout=result.stdout, stderr=result.stderr)

        return in_process
    reason = why_root_cannot_drop_its_capabilities()
    if reason:
        pytest.skip(reason)

    def without_capabilities(db: Path, *args: str) -> SimpleNamespace:
        done = subprocess.run([*WITHOUT_CAPABILITIES, sys.executable, "-m", "loyaltyctl", "--db", str(db), *args],
                              capture_output=True, text=True, timeout=120, check=False)
        return SimpleNamespace(exit_code=done.returncode, stdout=done.stdout, stderr=done.stderr)

    return without_capabilities


@pytest.fixture
def ledger(tmp_path):
    """A folder with a ledger (program shop, member M1 with 100 points) and an inbox beside it.

    The inbox is writable by all, so a reject file or a program file is never
    what stops a command.
    """
    folder, inbox = tmp_path / "data", tmp_path / "inbox"
    folder.mkdir()
    inbox.mkdir()
    os.chmod(inbox, 0o777)
    db = folder / "loyalty.db"
    write(inbox / "shop.toml", MINIMAL_PROGRAM.replace("Shop Points", "Shop Points Plus"))
    write(inbox / "sales.csv", "txn_id,member_id,occurred_at,amount\nT1,M1,2026-06-01T10:00,12.00\n")
    assert run("--db", db, "program", "apply", write(tmp_path / "shop.toml", MINIMAL_PROGRAM)).exit_code == 0
    assert run("--db", db, "member", "add", "-p", "shop", "M1").exit_code == 0
    assert run("--db", db, "earn", "-p", "shop", "M1", "100", "--reason", "welcome").exit_code == 0
    gc.collect()  # closes the commands' connections, and the last one removes the -wal and -shm
    assert sorted(os.listdir(folder)) == ["loyalty.db"]
    yield db
    os.chmod(folder, 0o755)  # so that pytest can remove it


def make_read_only(db: Path, setup: str) -> str:
    """Apply the setup's modes; the reason the refusal should give."""
    file_mode, folder_mode, reason = SETUPS[setup]
    os.chmod(db, file_mode)
    os.chmod(db.parent, folder_mode)
    return reason.format(folder=db.parent)


@pytest.mark.parametrize("setup", SETUPS)
def test_read_commands_work_and_change_nothing(ledger, setup, as_reader):
    make_read_only(ledger, setup)
    before = digest(ledger)
    for name, args in READ_COMMANDS.items():
        result = as_reader(ledger, *args)
        assert result.exit_code == 0, (name, result.stderr)
    balance = json.loads(as_reader(ledger, "balance", "-p", "shop", "M1", "--format", "json").stdout)
    assert (balance["points"], balance["available"]) == (100, 100)
    assert digest(ledger) == before


@pytest.mark.parametrize("setup", SETUPS)
@pytest.mark.parametrize("name", WRITE_COMMANDS)
def test_a_write_is_refused_with_exit_2_and_writes_nothing(ledger, setup, name, as_reader):
    reason = make_read_only(ledger, setup)
    before = digest(ledger)
    inbox = ledger.parent.parent / "inbox"
    result = as_reader(ledger, *(arg.format(inbox=inbox) for arg in WRITE_COMMANDS[name]))
    assert (result.exit_code, result.stderr) == (2, refused(ledger, reason))
    assert digest(ledger) == before
    assert sorted(os.listdir(inbox)) == ["sales.csv", "shop.toml"]  # no reject file either


def test_a_read_only_database_that_needs_migrating_is_refused(ledger, as_reader):
    with sqlite3.connect(ledger) as conn:  # as if written by an older loyaltyctl
        conn.execute("DELETE FROM _sqlite_migrations WHERE rowid = (SELECT max(rowid) FROM _sqlite_migrations)")
    conn.close()
    make_read_only(ledger, "file and folder read-only")
    result = as_reader(ledger, "balance", "-p", "shop", "M1")
    assert (result.exit_code, result.stderr) == (
        2, (f"error: {ledger}: the database is read-only (the file is not writable) and needs this "
            "loyaltyctl's schema; make it writable and run `loyaltyctl init`\n"))


def chattr(flag: str, *paths: Path) -> bool:
    try:
        return subprocess.run(["chattr", flag, *map(str, paths)], capture_output=True, check=False).returncode == 0
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not AS_ROOT, reason="only root can set the immutable attribute")
def test_root_cannot_write_an_immutable_database_either(ledger):
    """Like a read-only mount: the kernel refuses root too, and loyaltyctl (as root) says so."""
    folder = ledger.parent
    for leftover in folder.glob("loyalty.db-*"):
        leftover.unlink()
    if not chattr("+i", ledger, folder):
        pytest.skip("this file system does not support chattr +i")
    try:
        before = digest(ledger)
        assert run("--db", ledger, "balance", "-p", "shop", "M1").exit_code == 0
        result = run("--db", ledger, "earn", "-p", "shop", "M1", "10", "--reason", "welcome")
        assert (result.exit_code, result.stderr) == (2, refused(ledger, "the file is not writable"))
        assert digest(ledger) == before
        assert sorted(os.listdir(folder)) == ["loyalty.db"]
    finally:
        chattr("-i", ledger, folder)


def on_read_only_mount(folder: Path, *command: str) -> subprocess.CompletedProcess:
    """A command run where `folder` is bind-mounted read-only, in a mount namespace of its own."""
    remount = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
    return subprocess.run(["unshare", "--mount", "sh", "-c", remount, "sh", str(folder), *command],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.skipif(not AS_ROOT, reason="a mount namespace needs root")
def test_a_read_only_mount_reads_and_refuses_writes_for_root_too(ledger):
    """The real thing, by SQLite in a fresh process: the kernel says EROFS, whoever asks."""
    loyaltyctl = [sys.executable, "-m", "loyaltyctl", "--db", str(ledger)]
    try:
        probe = on_read_only_mount(ledger.parent, "true")
    except FileNotFoundError:
        pytest.skip("no unshare here")
    if probe.returncode:
        pytest.skip(f"cannot make a read-only mount here: {probe.stderr.strip()}")
    before = digest(ledger)
    balance = on_read_only_mount(ledger.parent, *loyaltyctl, "balance", "-p", "shop", "M1", "--format", "json")
    assert balance.returncode == 0, balance.stderr
    assert json.loads(balance.stdout)["points"] == 100
    earn = on_read_only_mount(ledger.parent, *loyaltyctl, "earn", "-p", "shop", "M1", "10", "--reason", "welcome")
    assert (earn.returncode, earn.stderr) == (2, refused(ledger, "it is on a read-only file system"))
    assert digest(ledger) == before
    assert sorted(os.listdir(ledger.parent)) == ["loyalty.db"]


ON_A_SMALL_DISK = """
import json, os, subprocess, sys
disk, sales = sys.argv[1:]
db, copy = os.path.join(disk, "loyalty.db"), os.path.join(disk, "copy.db")


def loyaltyctl(*args):
    done = subprocess.run([sys.executable, "-m", "loyaltyctl", "--db", db, *args], capture_output=True, text=True)
    return [done.returncode, done.stderr]


def fill(leave):
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(os.path.join(disk, "filler"), "ab", buffering=0) as filler:
        try:
            filler.write(bytes(max(free - leave, 0)))
            while not leave:
                filler.write(bytes(4096))
        except OSError:
            pass


fill(leave=150_000)
result = {"import": loyaltyctl("txn", "import", "-p", "shop", sales)}
verify = subprocess.run([sys.executable, "-m", "loyaltyctl", "--db", db, "db", "verify", "--format", "json"],
                        capture_output=True, text=True)
result["entries after"] = json.loads(verify.stdout)["entries"]
result["backup"] = loyaltyctl("db", "backup", copy)
result["copy left"] = os.path.exists(copy)
fill(leave=0)
result["balance on a full disk"] = loyaltyctl("balance", "-p", "shop", "M1")
print(json.dumps(result))
"""


@pytest.mark.skipif(not AS_ROOT, reason="a mount namespace needs root")
def test_a_really_full_disk_refuses_in_one_line_and_keeps_nothing(ledger, tmp_path):
    """A 1 MiB tmpfs, in a mount namespace of its own, filled up: what max_page_count only imitates."""
    sales = write(tmp_path / "sales.csv", "txn_id,member_id,occurred_at,amount\n"
                  + "".join(f"T{n},M1,2026-06-15T10:00,12.00\n" for n in range(3000)))
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = 'mount -t tmpfs -o size=1m tmpfs "$1" && cp "$2" "$1/loyalty.db" && shift 2 && exec "$@"'

    def on_small_disk(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(["unshare", "--mount", "sh", "-c", mount, "sh", str(disk), str(ledger), *command],
                              capture_output=True, text=True, timeout=300, check=False)

    try:
        probe = on_small_disk("true")
    except FileNotFoundError:
        pytest.skip("no unshare here")
    if probe.returncode:
        pytest.skip(f"cannot mount a small disk here: {probe.stderr.strip()}")
    done = on_small_disk(sys.executable, "-c", ON_A_SMALL_DISK, str(disk), str(sales))
    assert done.returncode == 0, done.stderr
    full = "nothing was written, free some space and run it again\n"
    assert json.loads(done.stdout) == {
        "import": [1, f"error: {disk}/loyalty.db: the disk is full (database or disk is full); {full}"],
        "entries after": 1,
        "backup": [1, f"error: {disk}/copy.db: the disk is full (database or disk is full); {full}"],
        "copy left": False,
        "balance on a full disk": [1, f"error: {disk}/loyalty.db: the disk is full (disk I/O error); {full}"],
    }


def full_connection() -> sqlite3.Connection:
    """An in-memory database that cannot grow: the next page it needs is SQLITE_FULL."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute("CREATE TABLE t (x)")
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
    return conn


def read_only_connection(tmp_path: Path) -> sqlite3.Connection:
    path = tmp_path / "plain.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    return sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, isolation_level=None)


@pytest.mark.parametrize("connect, exit_code, message", [
    (lambda _: full_connection(), 1,
     "error: the disk is full (database or disk is full); nothing was written, free some space and run it again\n"),
    (read_only_connection, 2,
     ("error: the database is read-only (attempt to write a readonly database); nothing was written "
      "(commands that only read it still work)\n")),
], ids=["disk full", "read-only"])
def test_the_error_boundary_reports_sqlite_refusals_in_one_line(tmp_path, capsys, connect, exit_code, message):
    """SQLite's own refusal raised outside a write transaction still reaches the user as one line, not exit 70."""
    conn = connect(tmp_path)

    @stop_on_errors
    def command() -> None:
        conn.execute("INSERT INTO t VALUES (randomblob(100000))")

    with pytest.raises(typer.Exit) as stopped:
        command()
    assert (stopped.value.exit_code, capsys.readouterr().err) == (exit_code, message)
