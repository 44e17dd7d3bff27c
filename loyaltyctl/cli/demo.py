"""`loyaltyctl demo`: the sample programs end to end on a fresh database."""

from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.operations import ledger as ops
from loyaltyctl.operations import setup
from loyaltyctl.operations.imports import import_transactions
from loyaltyctl.cli.common import settings
from loyaltyctl.formats.program_toml import load_program
from loyaltyctl.samples import samples_dir
from loyaltyctl.storage.db import open_db
from loyaltyctl.storage.integrity import first_broken_link, reconciliation_problems


def demo(
    ctx: typer.Context,
    db: Annotated[Path | None, typer.Option("--db", help="Database file (default ./demo.db).", show_default=False)] = None,
) -> None:
    """The sample programs end to end: apply them, import members and transactions, post, show balances."""
    path = db or settings(ctx).db or Path("demo.db")
    database = open_db(path)
    rejects_dir = path.with_name(f"{path.stem}.rejects")
    console = render.out()
    console.rule(f"loyaltyctl demo on {path}")
    samples = samples_dir()
    files = sorted(samples.glob("*.toml"))
    rejects_dir.mkdir(exist_ok=True)
    for result in setup.apply_programs(database, [load_program(f) for f in files]):
        console.print(f"program [bold]{result.code}[/]: version {result.version}, {result.status}")
        members_csv = samples / f"{result.code}.members.csv"
        imported = setup.import_members(
            database, result.code, members_csv, reject_file=rejects_dir / members_csv.name
        ).summary()
        line = f"  members: {imported['added']} added, {imported['updated']} updated, {imported['unchanged']} unchanged"
        if imported["rejected"]:
            line += f", {imported['rejected']} rejected (see {imported['reject_file']})"
        console.print(line)
    _import_transactions(database, console, samples, rejects_dir)
    _ledger_tour(database, console)
    problems = reconciliation_problems(database)
    intact = first_broken_link(database) is None and not problems
    console.print(f"db verify: {'hash chain intact, balances reconcile' if intact else 'PROBLEMS: ' + '; '.join(problems)}")


def _import_transactions(database, console, samples: Path, rejects_dir: Path) -> None:
    """Each sample's transactions CSV, with its deliberately bad rows going to a reject file."""
    rows = []
    for csv_path in sorted(samples.glob("*.transactions.csv")):
        program = csv_path.name.removesuffix(".transactions.csv")
        summary = import_transactions(database, program, csv_path, reject_file=rejects_dir / csv_path.name)
        rows.append((program, summary.rows, summary.imported, summary.duplicates, summary.rejected,
                     summary.points_earned, summary.points_clawed_back))
    console.print(render.table(f"Transactions imported (bad rows: {rejects_dir}/)",
                               ["program", "rows", "new", "dupes", "bad", "earned", "clawed"], rows))


def _ledger_tour(database, console) -> None:
    """A few postings at the beauty club (with keys, so a re-run posts nothing) and the balances they leave."""
    program = "beauty-club"
    ops.post_earn(database, program, "M001", 180, "welcome back visit", key="demo-1", at="2026-09-14T11:00")
    ops.post_earn(database, program, "M002", 130, "spring order", key="demo-2", at="2026-04-02T16:20")
    ops.post_redeem(database, program, "M001", reward_code="ten-off", key="demo-3", at="2026-10-01T12:00")
    ops.post_redeem(database, program, "M002", reward_code="donate-ten", key="demo-4", at="2026-10-03T09:00")
    ops.post_transfer(database, program, "M001", "M003", 30, key="demo-5", at="2026-10-05T10:00")
    ops.post_adjust(database, program, "M003", -5, "duplicate scan", key="demo-6", at="2026-10-06T10:00")
    ops.run_expire(database, program)
    balances = [ops.member_balance(database, program, member) for member in ("M001", "M002", "M003")]
    console.print(
        render.table(
            f"Balances in {program} after a few postings",
            ["member", "name", "points", "available", "pending", "next expiry"],
            [
                (b.member.member_id, b.member.name, b.points, b.available, b.pending,
                 f"{b.expiring[0][1]} on {b.expiring[0][0]}" if b.expiring else "")
                for b in balances
            ],
        )
    )
