"""`loyaltyctl member …`: add, import, list and show members."""

from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import clock, render
from loyaltyctl.operations import setup
from loyaltyctl.cli.common import (
    DryRunOption,
    FormatOption,
    MapOption,
    ProgramOption,
    RejectFileOption,
    command,
    database,
    report_rejects,
)
from loyaltyctl.core.members import parse_member, plan_members
from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.formats.csv_input import parse_mapping
from loyaltyctl.model import Member
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs
from loyaltyctl.storage.db import write

member_app = typer.Typer(no_args_is_help=True, help="Add, import, list and show members.")


def member_json(member: Member) -> dict:
    return {
        "member_id": member.member_id,
        "name": member.name,
        "email": member.email,
        "birthday": member.birthday.isoformat() if member.birthday else None,
        "card": member.card,
        "joined": member.joined.isoformat() if member.joined else None,
        "referred_by": member.referred_by,
        "referral_code": member.referral_code,
    }


@command(member_app, "add")
def add(
    ctx: typer.Context,
    program: ProgramOption,
    member_id: Annotated[str, typer.Argument(help="The member's id (as your till or shop knows them).")],
    name: Annotated[str, typer.Option(help="Full name.")] = "",
    email: Annotated[str, typer.Option(help="Email address.")] = "",
    birthday: Annotated[str, typer.Option(help="YYYY-MM-DD.")] = "",
    card: Annotated[str, typer.Option(help="Loyalty card number (unique in the program).")] = "",
    referred_by: Annotated[str, typer.Option(help="Referrer's member id or referral code.")] = "",
    joined: Annotated[str, typer.Option(help="YYYY-MM-DD; default today.")] = "",
    fmt: FormatOption = render.Format.table,
) -> None:
    """Add one member."""
    db = database(ctx)
    ref = programs.fetch_program_ref(db, program)
    today = clock.today_in(ref.timezone)
    fields = dict(member_id=member_id, name=name, email=email, birthday=birthday, card=card, referred_by=referred_by, joined=joined)
    try:
        member = parse_member(fields, program, today)
    except ValueError as error:
        raise BadInput(str(error)) from None
    with write(db):
        existing = member_store.fetch_members(db, ref.id, program)
        if member.member_id in existing:
            raise Refused(f"member {member.member_id!r} already exists in {program!r} (member import updates members)")
        plan = plan_members([(0, (), member)], existing, today)
        if plan.rejected:
            raise Refused(plan.rejected[0].reason)
        member_store.save_members(db, ref.id, plan.added, ())
    added = plan.added[0]
    render.emit(member_json(added), fmt, lambda data: render.fields(f"Added member {added.member_id}", list(data.items())))


@command(member_app, "import")
def import_members(
    ctx: typer.Context,
    program: ProgramOption,
    file: Annotated[Path, typer.Argument(help="Members CSV: member_id, name, email, birthday, card, joined, referred_by.")],
    reject_file: RejectFileOption = None,
    column_map: MapOption = None,
    dry_run: DryRunOption = False,
    fmt: FormatOption = render.Format.table,
) -> None:
    """Add or update members from a CSV; the same file twice changes nothing. Exit 3 if rows were rejected."""
    result = setup.import_members(database(ctx), program, file, reject_file, parse_mapping(column_map or []), dry_run)
    plan = result.plan
    data = result.summary() | {"dry_run": dry_run}
    render.emit(data, fmt, lambda d: render.fields(f"Member import into {program}", list(d.items())))
    first = [(r.line, r.reason) for r in plan.rejected[:5]]
    report_rejects(file, first, len(plan.rejected), result.reject_file)


@command(member_app, "list")
def list_members(ctx: typer.Context, program: ProgramOption, fmt: FormatOption = render.Format.table) -> None:
    """Every member of a program."""
    db = database(ctx)
    ref = programs.fetch_program_ref(db, program)
    data = [member_json(m) for m in member_store.fetch_members(db, ref.id, program).values()]
    render.emit(
        data,
        fmt,
        lambda rows: render.table(
            f"Members of {program} ({len(rows)})",
            ["member", "name", "email", "card", "joined", "referral code"],
            [(r["member_id"], r["name"], r["email"], r["card"], r["joined"], r["referral_code"]) for r in rows],
        ),
    )


@command(member_app, "show")
def show(
    ctx: typer.Context,
    program: ProgramOption,
    member_id: Annotated[str, typer.Argument(help="Member id or card number.")],
    fmt: FormatOption = render.Format.table,
) -> None:
    """One member's details (by member id or card number)."""
    db = database(ctx)
    ref = programs.fetch_program_ref(db, program)
    _, member = member_store.find_member(db, ref.id, program, member_id)
    data = member_json(member)
    render.emit(data, fmt, lambda d: render.fields(f"Member {member.member_id}", list(d.items())))
