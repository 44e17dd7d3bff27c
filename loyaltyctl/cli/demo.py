"""`loyaltyctl demo`: the sample programs end to end on a fresh database."""

from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.operations import setup
from loyaltyctl.cli.common import settings
from loyaltyctl.formats.program_toml import load_program
from loyaltyctl.samples import samples_dir
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs
from loyaltyctl.storage.db import open_db


def demo(
    ctx: typer.Context,
    db: Annotated[Path | None, typer.Option("--db", help="Database file (default ./demo.db).", show_default=False)] = None,
) -> None:
    """The sample programs end to end: apply them, import their members, show them."""
    path = db or settings(ctx).db or Path("demo.db")
    database = open_db(path)
    rejects_dir = path.with_name(f"{path.stem}.rejects")
    console = render.out()
    console.rule(f"loyaltyctl demo on {path}")
    samples = samples_dir()
    files = sorted(samples.glob("*.toml"))
    for toml_path, result in zip(files, setup.apply_programs(database, [load_program(f) for f in files])):
        console.print(f"program [bold]{result.code}[/]: version {result.version}, {result.status}")
        members_csv = samples / f"{result.code}.members.csv"
        rejects_dir.mkdir(exist_ok=True)
        imported = setup.import_members(
            database, result.code, members_csv, reject_file=rejects_dir / members_csv.name
        ).summary()
        line = f"  members: {imported['added']} added, {imported['updated']} updated, {imported['unchanged']} unchanged"
        if imported["rejected"]:
            line += f", {imported['rejected']} rejected (see {imported['reject_file']})"
        console.print(line)
    first = files[0].stem
    ref = programs.fetch_program_ref(database, first)
    members = list(member_store.fetch_members(database, ref.id, first).values())[:8]
    console.print(
        render.table(
            f"First members of {first}",
            ["member", "name", "card", "joined", "referral code"],
            [(m.member_id, m.name, m.card, m.joined, m.referral_code) for m in members],
        )
    )
