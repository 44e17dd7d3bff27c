import os
import textwrap
import traceback
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyaltyctl.cli import make_app

# A PostgreSQL server tests may create databases on (`.ci/run` starts one and sets it): the URL of a
# database to connect to for CREATE DATABASE, e.g. postgresql://postgres@127.0.0.1:5433/postgres.
POSTGRES_SERVER = os.environ.get("LOYALTYCTL_TEST_POSTGRES")
# The coordinator of a Citus cluster (`../shared/citus/with-citus` starts one): each test gets a schema of
# its own in its database, the way a provider would give each shop one.
CITUS_COORDINATOR = os.environ.get("LOYALTYCTL_TEST_CITUS")
# The tests that also run on Citus: every kind of command, a few tests of each (the whole suite on a third
# backend takes CI past its time: 200 tests at about 2.5 s, a schema and its shards each). The accounting
# reports' tests clone a built database per test, which a schema on Citus cannot be;
# tests/storage/test_citus.py compares those reports on Citus with SQLite's instead.
ON_CITUS = ("tests/cli/test_ledger_cli.py", "tests/cli/test_period_close.py", "tests/cli/test_concurrency.py",
            "tests/test_concurrent_tills.py")  # and each test marked `citus`
CITUS_EVERYWHERE = bool(os.environ.get("LOYALTYCTL_TEST_CITUS_ALL"))  # every PostgreSQL test on Citus too
SERVERS = ("postgresql", "citus")  # the backends on a server, whose database is a postgresql:// URL
# Tests that work on a database run on both backends; these folders' tests work on plain data.
DATA_ONLY = ("tests/core/", "tests/formats/", "tests/test_architecture.py", "tests/test_render.py",
             "tests/test_readme_tours.py")

MINIMAL_PROGRAM = """\
[program]
code = "shop"
name = "Shop Points"
currency = "USD"
timezone = "America/New_York"
point_value = "0.01"

[earn]
points_per_unit = "1"
"""


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: a test of the SQLite file itself (paths, pragmas, "
                                       "file permissions); PostgreSQL has its own in tests/storage/test_postgres.py")
    config.addinivalue_line("markers", "postgres_only: a test of what only the PostgreSQL backend has")
    config.addinivalue_line("markers", "citus: a test that also runs on Citus (see ON_CITUS)")
    config.addinivalue_line("markers", "citus_only: a test of what only the Citus backend has")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        path = Path(metafunc.definition.fspath).as_posix()
        data_only = any(part in path for part in DATA_ONLY)
        if metafunc.definition.get_closest_marker("citus_only"):
            backends = ["citus"]
        elif metafunc.definition.get_closest_marker("postgres_only"):
            backends = ["postgresql"]
        elif data_only or metafunc.definition.get_closest_marker("sqlite_only"):
            backends = ["sqlite"]
        else:
            backends = ["sqlite", "postgresql"]
        if "postgresql" in backends and (CITUS_EVERYWHERE or any(part in path for part in ON_CITUS)
                                         or metafunc.definition.get_closest_marker("citus")):
            backends.append("citus")
        metafunc.parametrize("backend", backends, indirect=True)


@pytest.fixture
def backend(request) -> str:
    return request.param


NO_POSTGRES = ("no PostgreSQL server for tests (set LOYALTYCTL_TEST_POSTGRES; "
               "`.ci/with-postgres make test` starts one and runs the whole suite)")


def postgres_server_url() -> str:
    """The test server's URL; without one, PostgreSQL's half is skipped, except in CI, where it fails."""
    if not POSTGRES_SERVER:
        if os.environ.get("CI"):
            pytest.fail(NO_POSTGRES)
        pytest.skip(NO_POSTGRES)
    return POSTGRES_SERVER


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """PostgreSQL's half skipped for want of a server is one line in the summary, not one per test.

    pytest reports a skip at the test that asked for it, and `-ra` folds only
    skips that share a place, so these all get the place that decides them.
    """
    report = yield
    skipped = call.excinfo is not None and call.excinfo.errisinstance(pytest.skip.Exception)
    if report.skipped and skipped and call.excinfo.value.msg == NO_POSTGRES:
        report.longrepr = (__file__, postgres_server_url.__code__.co_firstlineno, NO_POSTGRES)
    elif report.skipped and skipped and call.excinfo.value.msg == NO_CITUS:
        report.longrepr = (__file__, new_citus_database.__code__.co_firstlineno, NO_CITUS)
    return report


def new_postgres_database() -> tuple[str, Callable[[], None]]:
    """An empty database on the test server: its URL, and a function that drops it."""
    import psycopg

    server = postgres_server_url()
    name = f"loyaltyctl_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    url = server.rsplit("/", 1)[0] + f"/{name}"

    def drop() -> None:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    return url, drop


NO_CITUS = ("no Citus cluster for tests (set LOYALTYCTL_TEST_CITUS; "
            "`../shared/citus/with-citus make test` starts one)")


def new_citus_database() -> tuple[str, Callable[[], None]]:
    """An empty schema on the Citus coordinator: a URL that works in it, and a function that drops it."""
    import psycopg

    if not CITUS_COORDINATOR:
        if os.environ.get("CI"):
            pytest.fail(NO_CITUS)
        pytest.skip(NO_CITUS)
    name = f"loyaltyctl_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(CITUS_COORDINATOR, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {name}")
    separator = "&" if "?" in CITUS_COORDINATOR else "?"

    def drop() -> None:
        with psycopg.connect(CITUS_COORDINATOR, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")

    # Four shards a table, two on each worker, rather than Citus's 32: a test's schema is made in a
    # second, and its rows still spread over both workers.
    return f"{CITUS_COORDINATOR}{separator}options=-csearch_path%3D{name}%20-ccitus.shard_count%3D4", drop


def new_database(backend: str, folder: Path) -> tuple[Path | str, Callable[[], None] | None]:
    """An empty database of the backend (a file in `folder` for SQLite) and what drops it."""
    if backend == "postgresql":
        return new_postgres_database()
    if backend == "citus":
        return new_citus_database()
    return folder / "test.db", None


def clone_database(source: Path | str, target: Path | str) -> None:
    """Make `target` (the test's database) a copy of `source`, on the same backend."""
    if str(source).startswith("postgresql://"):
        import psycopg

        source_name, target_name = str(source).rsplit("/", 1)[1], str(target).rsplit("/", 1)[1]
        with psycopg.connect(postgres_server_url(), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [source_name])
            admin.execute(f"DROP DATABASE {target_name} WITH (FORCE)")
            admin.execute(f"CREATE DATABASE {target_name} TEMPLATE {source_name}")
        return
    import sqlite3

    from_db, to_db = sqlite3.connect(source), sqlite3.connect(target)
    try:
        from_db.backup(to_db)
    finally:
        from_db.close()
        to_db.close()


@pytest.fixture(autouse=True)
def isolated(backend, tmp_path, monkeypatch):
    """Every test gets its own database (a file, or a new PostgreSQL database) and a fixed clock."""
    location, drop = new_database(backend, tmp_path)
    monkeypatch.setenv("LOYALTYCTL_DB", str(location))
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-06-15T16:00:00+00:00")
    monkeypatch.delenv("LOYALTYCTL_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    if drop:
        drop()


@pytest.fixture
def db_path(backend, tmp_path) -> Path | str:
    """The test's database: a file path, or a postgresql:// URL."""
    return os.environ["LOYALTYCTL_DB"] if backend in SERVERS else tmp_path / "test.db"


def run(*args: str):
    """Invoke the CLI as a user would, with the app `loyaltyctl` builds for these arguments (only the
    command they name); stdout and stderr are kept apart."""
    argv = [str(a) for a in args]
    result = CliRunner().invoke(make_app(argv), argv, prog_name="loyaltyctl")
    if result.exc_info and not isinstance(result.exception, SystemExit):  # escaped the command: shown on failure
        traceback.print_exception(*result.exc_info)
    return result


def ok(*args: str):
    """`run`, which must succeed."""
    result = run(*args)
    assert result.exit_code == 0, result.stderr
    return result


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def shop(tmp_path) -> Path:
    """A minimal program, applied."""
    path = write(tmp_path / "shop.toml", MINIMAL_PROGRAM)
    result = run("program", "apply", path)
    assert result.exit_code == 0, result.stderr
    return path


def query(sql: str, params=()) -> list[tuple]:
    """Rows of one query on the test's database (whichever backend), read as loyaltyctl reads it."""
    from loyaltyctl.storage.connect import open_db

    db = open_db(os.environ["LOYALTYCTL_DB"])
    try:
        return [tuple(row) for row in db.execute(sql, params).fetchall()]
    finally:
        db.close()


def change(location: Path | str, statement: str) -> None:
    """Change the database behind loyaltyctl's back, as someone with a SQL shell could."""
    if str(location).startswith("postgresql://"):
        import psycopg

        with psycopg.connect(str(location), autocommit=True) as conn:
            conn.execute(statement)
        return
    import sqlite3

    conn = sqlite3.connect(location)
    try:
        conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def database_exists(location: Path | str) -> bool:
    """Whether a loyaltyctl database is there: a file, or loyaltyctl's tables in a PostgreSQL database."""
    if str(location).startswith("postgresql://"):
        import psycopg

        with psycopg.connect(str(location)) as conn:
            return conn.execute("SELECT count(*) FROM information_schema.tables"
                                " WHERE table_schema = current_schema()").fetchone()[0] > 0
    return Path(location).exists()


def snapshot(location: Path | str) -> str:
    """Every row of the database, to show that a refused command changed nothing."""
    if str(location).startswith("postgresql://"):
        return _postgres_snapshot(str(location))
    import sqlite3

    if not Path(location).exists():
        return ""
    conn = sqlite3.connect(location)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def _postgres_snapshot(url: str) -> str:
    """Every table's rows, sorted (sequences left out: PostgreSQL never gives an id back)."""
    import psycopg

    with psycopg.connect(url) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1")]
        return "\n".join(f"{table}: {sorted(map(repr, conn.execute(f'SELECT * FROM {table}')))}" for table in tables)
