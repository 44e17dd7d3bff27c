"""Citus (distributed PostgreSQL): what `init` makes there, where the rows go, and the clusters it refuses.

The commands' own behaviour on Citus is the rest of the suite's (conftest's ON_CITUS runs those tests on a
third backend); these check what only Citus has.
"""

import json
import os
import uuid

import pytest

from tests.cli.test_ledger_cli import CLUB
from tests.cli.test_vouchers import SHOP
from tests.conftest import CITUS_COORDINATOR, run, write

pytestmark = pytest.mark.citus_only
# Shared by every program: reference tables, a copy on every node.
SHARED = {"programs", "program_versions", "period_closes", "voucher_codes", "loyaltyctl_migrations"}


@pytest.fixture
def citus(db_path) -> str:
    """The test's database: a new schema on the coordinator."""
    return db_path


def ok(*args) -> str:
    result = run(*args)
    assert result.exit_code == 0, (args, result.stderr)
    return result.stdout


def coordinator_rows(location: str, sql: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(location, autocommit=True) as conn:
        return conn.execute(sql).fetchall()


def citus_tables(location: str) -> dict[str, str]:
    """Each Citus table of the test's schema: 'reference', or the column it is distributed by."""
    return dict(coordinator_rows(location, """
        SELECT c.relname, CASE t.citus_table_type WHEN 'reference' THEN 'reference' ELSE t.distribution_column END
        FROM public.citus_tables t JOIN pg_class c ON c.oid = t.table_name
        WHERE c.relnamespace = CAST(current_schema() AS regnamespace)"""))


def test_init_distributes_the_ledger_by_program_and_shares_the_small_tables(citus):
    ok("--db", citus, "init")
    tables = citus_tables(citus)
    assert {table for table, kind in tables.items() if kind == "reference"} == SHARED
    assert {table for table, kind in tables.items() if kind == "program_id"} == {
        "members", "entries", "lots", "consumptions", "debts", "transactions", "memberships", "vouchers",
        "voucher_uses", "seals", "seal_heads", "entry_totals", "rejected_rows", "walk_in_sales", "actions"}
    # co-located: one colocation group for every distributed table
    groups = coordinator_rows(citus, """
        SELECT DISTINCT t.colocation_id FROM public.citus_tables t JOIN pg_class c ON c.oid = t.table_name
        WHERE c.relnamespace = CAST(current_schema() AS regnamespace) AND t.distribution_column = 'program_id'""")
    assert len(groups) == 1
    # every key of a distributed table holds the program first (Citus enforces them one shard at a time)
    keys = coordinator_rows(citus, f"""
        SELECT c.relname, i.indexrelid::regclass::text, a.attname FROM pg_index i
        JOIN pg_class c ON c.oid = i.indrelid JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
        WHERE c.relnamespace = CAST(current_schema() AS regnamespace) AND i.indisunique
          AND c.relname NOT IN ({", ".join(f"'{table}'" for table in SHARED)})""")
    assert keys and all(first == "program_id" for _, _, first in keys), keys


def test_a_later_migration_runs_on_a_distributed_database(citus, tmp_path, monkeypatch):
    """A database distributed by an earlier release takes the next migration: its new table is placed too."""
    from loyaltyctl.storage import migrations

    latest = migrations._STEPS
    monkeypatch.setattr(migrations, "_STEPS", [step for step in latest if step[0] != "m020_voucher_codes"])
    ok("--db", citus, "program", "apply", write(tmp_path / "shop.toml", SHOP))
    ok("--db", citus, "member", "add", "-p", "shop", "M1")
    ok("--db", citus, "earn", "-p", "shop", "M1", "3000", "-r", "opening", "--at", "2026-05-01T10:00")
    assert "voucher_codes" not in citus_tables(citus)
    monkeypatch.setattr(migrations, "_STEPS", latest)
    posted = json.loads(ok("--db", citus, "redeem", "-p", "shop", "M1", "--reward", "five-off",
                           "--at", "2026-06-01T09:00", "--format", "json"))
    assert posted["balance"] == 2500 and posted["voucher"]["code"]
    assert citus_tables(citus)["voucher_codes"] == "reference"
    ok("--db", citus, "db", "verify")


def test_two_programs_postings_land_on_both_workers_and_each_program_on_one(citus, tmp_path):
    ok("--db", citus, "init")
    names = [f"club{n}" for n in range(8)]
    for name in names:
        ok("--db", citus, "program", "apply", write(tmp_path / f"{name}.toml", CLUB.replace('"club"', f'"{name}"')))
        ok("--db", citus, "member", "add", "-p", name, "M1")
        ok("--db", citus, "earn", "-p", name, "M1", "100", "-r", "sale")
    placements = coordinator_rows(citus, """
        SELECT s.table_name::text, s.shardid, s.nodeport FROM citus_shards s
        JOIN pg_class c ON c.oid = s.table_name
        WHERE c.relnamespace = CAST(current_schema() AS regnamespace) AND c.relname = 'entries'""")
    programs = coordinator_rows(citus, "SELECT id, get_shard_id_for_distribution_column('entries', id) FROM programs")
    on = {shard: port for _, shard, port in placements}
    ports = {on[shard] for _, shard in programs}
    assert len(ports) == 2  # eight programs hashed over four shards: both workers hold some
    for name in names:
        balance = json.loads(ok("--db", citus, "balance", "-p", name, "M1", "--format", "json"))
        assert balance["points"] == 100
    assert "hash chain intact" in ok("--db", citus, "db", "verify")


def _database_on_the_coordinator(with_citus: bool) -> str:
    import psycopg

    name = f"loyaltyctl_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(CITUS_COORDINATOR, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    location = CITUS_COORDINATOR.split("?")[0].rsplit("/", 1)[0] + f"/{name}"
    if with_citus:
        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION citus")
    return location


def _drop(location: str) -> None:
    import psycopg

    with psycopg.connect(CITUS_COORDINATOR, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {location.rsplit('/', 1)[1]} WITH (FORCE)")


@pytest.mark.parametrize("with_citus, refusal", [
    (True, "a Citus coordinator with no workers; add them first (SELECT citus_add_node('host', port) for each worker)"),
    (False, "the server runs Citus but this database has no citus extension; CREATE EXTENSION citus in it (and on "
            "every worker) first"),
], ids=["extension-without-workers", "no-extension"])
def test_a_database_on_the_coordinator_without_a_usable_cluster_is_refused_and_left_empty(citus, with_citus, refusal):
    location = _database_on_the_coordinator(with_citus)  # a new database there: no worker added to it
    try:
        result = run("--db", location, "init")
        assert (result.exit_code, result.stderr) == (2, f"error: {location}: {refusal}\n")
        assert coordinator_rows(location, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
    finally:
        _drop(location)


def test_the_demo_moves_to_citus_and_back_with_the_same_figures(citus, tmp_path):
    """`db copy` SQLite -> Citus -> SQLite: each copy verified as it is made, and every program's liability,
    roll-forward and a statement the same on all three."""
    demo, back = tmp_path / "demo.db", tmp_path / "back.db"
    ok("demo", "--db", demo)
    ok("db", "copy", demo, citus)
    ok("db", "copy", citus, back)

    def figures(db) -> list[str]:
        return [ok("--db", db, *report, "-p", program, *period, "-f", "json")
                for program in ("beauty-club", "corner-cafe", "fashion-house", "outdoor-coop", "roastery")
                for report, period in ((("report", "liability"), ("--as-of", "2026-10-31")),
                                       (("report", "rollforward"), ("--from", "2026-01-01", "--to", "2026-10-31")))]

    assert figures(citus) == figures(demo) == figures(back)
    statement = ("statement", "-p", "fashion-house", "M001", "--from", "2026-01-01", "--to", "2026-10-31", "-f", "json")
    assert ok("--db", citus, *statement) == ok("--db", demo, *statement)
    assert "hash chain intact" in ok("--db", back, "db", "verify")


def _worker_holding(citus: str, program: str) -> str:
    """The URL of the worker that holds a program's shard of the ledger."""
    [(port,)] = coordinator_rows(citus, f"""
        SELECT s.nodeport FROM citus_shards s JOIN programs p ON p.code = '{program}'
        WHERE s.shardid = get_shard_id_for_distribution_column('entries', p.id)""")
    [worker] = [url for url in os.environ["LOYALTYCTL_TEST_CITUS_WORKERS"].split() if f":{port}/" in url]
    return worker


def _admit(worker: str, admitted: bool) -> None:
    """Let connections into the worker's database again, or shut them out and end the ones it has."""
    import psycopg

    with psycopg.connect(worker.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE loyalty ALLOW_CONNECTIONS {str(admitted).lower()}")
        if not admitted:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'loyalty'")


def test_a_worker_down_mid_posting_writes_nothing_and_the_retry_posts_once(citus, tmp_path, monkeypatch):
    from loyaltyctl.storage import ledger

    ok("--db", citus, "program", "apply", write(tmp_path / "club.toml", CLUB))
    ok("--db", citus, "member", "add", "-p", "club", "M1")
    ok("--db", citus, "earn", "-p", "club", "M1", "100", "-r", "sale", "--key", "k0")
    worker = _worker_holding(citus, "club")
    read_counter = ledger.read_counter

    def read_then_lose_the_worker(*args, **kwargs):
        reads = read_counter(*args, **kwargs)
        _admit(worker, False)  # between the posting's read and its write
        return reads

    monkeypatch.setattr(ledger, "read_counter", read_then_lose_the_worker)
    try:
        down = run("--db", citus, "earn", "-p", "club", "M1", "50", "-r", "sale", "--key", "k1")
    finally:
        _admit(worker, True)
    monkeypatch.undo()
    port = worker.split(":")[2].split("/")[0]
    assert down.exit_code == 2 and down.stderr.count("\n") == 1, down.stderr
    assert f"Citus worker 127.0.0.1:{port}" in down.stderr and "nothing was written" in down.stderr, down.stderr
    assert json.loads(ok("--db", citus, "balance", "-p", "club", "M1", "--format", "json"))["points"] == 100
    ok("--db", citus, "earn", "-p", "club", "M1", "50", "-r", "sale", "--key", "k1")
    again = json.loads(ok("--db", citus, "earn", "-p", "club", "M1", "50", "-r", "sale", "--key", "k1",
                          "--format", "json"))
    assert again["duplicate"] and again["balance"] == 150
    ok("--db", citus, "db", "verify")
