"""`loyaltyctl member …`: add, import, list and show members."""

from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.formats.members import member_change_view, member_view, standings_view
from loyaltyctl.formats.shapes import member_json, term_json
from loyaltyctl.cli.common import (
    AsOfOption,
    DryRunOption,
    FormatOption,
    MapOption,
    OutputOption,
    ProgramOption,
    RejectFileOption,
    ReportFormatOption,
    command,
    day_option,
    integer,
    ledger,
    report_rejects,
)
from loyaltyctl.errors import BadInput
from loyaltyctl.core.members import MemberFilter
from loyaltyctl.formats.csv_input import parse_mapping

ConsentOption = Annotated[str, typer.Option("--accepts-marketing", metavar="yes|no",
                                            help="Whether the member said yes to marketing mail.")]

member_app = typer.Typer(no_args_is_help=True, help="Add, update, import, list and show members.")


@command(member_app, "add")
def add(
    ctx: typer.Context,
    program: ProgramOption,
    member_id: Annotated[str, typer.Argument(metavar="MEMBER_ID", help="The member's id (as your till or shop knows them).")],
    name: Annotated[str, typer.Option(metavar="TEXT", help="Full name.")] = "",
    email: Annotated[str, typer.Option(metavar="TEXT", help="Email address.")] = "",
    birthday: Annotated[str, typer.Option(metavar="DATE", help="YYYY-MM-DD.")] = "",
    card: Annotated[str, typer.Option(metavar="TEXT", help="Loyalty card number (unique in the program).")] = "",
    referred_by: Annotated[str, typer.Option(metavar="TEXT", help="Referrer's member id or referral code.")] = "",
    joined: Annotated[str, typer.Option(metavar="DATE", help="YYYY-MM-DD; default today.")] = "",
    accepts_marketing: ConsentOption = "",
    fmt: FormatOption = render.Format.table,
) -> None:
    """Add one member.

    Posts the program's signup bonus, if it has one."""
    fields = dict(member_id=member_id, name=name, email=email, birthday=birthday, card=card, referred_by=referred_by,
                  joined=joined, accepts_marketing=accepts_marketing)
    added, signup_points = ledger(ctx).add_member(program, fields)
    data = member_json(added) | {"signup_bonus_points": signup_points}
    render.emit(render.record(f"Added member {added.member_id}", data), fmt)


@command(member_app, "update")
def update(
    ctx: typer.Context,
    program: ProgramOption,
    member: Annotated[str, typer.Argument(metavar="MEMBER", help="Member id, card number or email.", show_default=False)],
    name: Annotated[str, typer.Option(metavar="TEXT", help="Full name.")] = "",
    email: Annotated[str, typer.Option(metavar="TEXT", help="Email address.")] = "",
    birthday: Annotated[str, typer.Option(metavar="DATE", help="YYYY-MM-DD.")] = "",
    card: Annotated[str, typer.Option(metavar="TEXT", help="Loyalty card number (unique in the program).")] = "",
    accepts_marketing: ConsentOption = "",
    fmt: FormatOption = render.Format.table,
) -> None:
    """Change a member's name, email, birthday, card or consent.

    Only the options given change; the same update twice changes nothing. To erase a member's personal
    fields, `member anonymise`."""
    fields = dict(name=name, email=email, birthday=birthday, card=card, accepts_marketing=accepts_marketing)
    if not any(fields.values()):
        raise BadInput("name what to change: --name, --email, --birthday, --card or --accepts-marketing")
    updated, changed = ledger(ctx).update_member(program, member, fields)
    render.emit(member_change_view(updated, changed, f"Member {updated.member_id}", " (unchanged)"), fmt)


@command(member_app, "anonymise")
def anonymise(
    ctx: typer.Context,
    program: ProgramOption,
    member: Annotated[str, typer.Argument(metavar="MEMBER", help="Member id, card number or email.", show_default=False)],
    fmt: FormatOption = render.Format.table,
) -> None:
    """Erase a member's personal fields and keep their ledger.

    Name, email, birthday, card and marketing consent are erased; an id that is an email address becomes
    anon-CODE (the member's referral code; ids and cards starting with anon- are reserved for these).
    Balances, statements and reports stay as they were; running it again changes nothing."""
    erased, changed = ledger(ctx).anonymise_member(program, member)
    render.emit(member_change_view(erased, changed, f"Member {erased.member_id} anonymised", " (already)"), fmt)


@command(member_app, "import")
def import_members(
    ctx: typer.Context,
    program: ProgramOption,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="Members CSV: member_id, name, email, birthday, card, joined, referred_by, accepts_marketing.")],
    reject_file: RejectFileOption = None,
    column_map: MapOption = None,
    dry_run: DryRunOption = False,
    fmt: FormatOption = render.Format.table,
) -> None:
    """Add or update members from a CSV.

    The same file twice changes nothing; exit 3 if rows were rejected."""
    summary = ledger(ctx).import_members(program, file, reject_file=reject_file,
                                         mapping=parse_mapping(column_map or []), dry_run=dry_run)
    render.emit(render.record(f"Member import into {program}", summary.as_json()), fmt)
    report_rejects(file, summary.first_rejects, summary.rejected, summary.reject_file)


@command(member_app, "list")
def list_members(
    ctx: typer.Context,
    program: ProgramOption,
    tier: Annotated[str | None, typer.Option("--tier", metavar="CODE", help="Members at this tier.")] = None,
    min_points: Annotated[int | None, typer.Option("--min-points", metavar="N", help="At least N points.",
                                                                   parser=integer)] = None,
    max_points: Annotated[int | None, typer.Option("--max-points", metavar="N", help="At most N points.",
                                                                   parser=integer)] = None,
    active_since: Annotated[str | None, typer.Option("--active-since", metavar="DATE",
                                                     help="Earned or redeemed on or after DATE.")] = None,
    inactive_since: Annotated[str | None, typer.Option("--inactive-since", metavar="DATE",
                                                       help="Neither earned nor redeemed on or after DATE.")] = None,
    expiring_within: Annotated[int | None, typer.Option("--expiring-within", metavar="DAYS", parser=integer,
                                                        help="With points expiring in the DAYS after --as-of.")] = None,
    accepts_marketing: Annotated[bool, typer.Option("--accepts-marketing",
                                                    help="Only members who said yes to marketing.")] = False,
    detractors: Annotated[bool, typer.Option("--detractors",
                                             help="Only members whose latest survey score is 0-6 (to follow up).")
                          ] = False,
    as_of: AsOfOption = None,
    fmt: ReportFormatOption = render.ReportFormat.table,
    output: OutputOption = None,
) -> None:
    """Members with their points, activity and tier, filtered.

    Every member of the program, or those the filters pick, with their points, the day of their latest
    earn or redemption and their tier at the end of --as-of; --format csv for a mail merge."""
    criteria = MemberFilter(tier, min_points, max_points, day_option("--active-since", active_since),
                            day_option("--inactive-since", inactive_since), accepts_marketing or None, expiring_within,
                            detractors or None)
    standings = ledger(ctx).members(program, criteria, day_option("--as-of", as_of))
    render.emit(standings_view(program, standings, expiring_within is not None, detractors), fmt, output)


@command(member_app, "show")
def show(
    ctx: typer.Context,
    program: ProgramOption,
    member_id: Annotated[str, typer.Argument(metavar="MEMBER_ID", help="Member id, card number or email.")],
    fmt: FormatOption = render.Format.table,
) -> None:
    """One member's details, balance, tier and paid membership.

    The profile; points, available and pending points and what expires in the next 90 days (as `balance`
    shows them); the tier with its history; paid membership. By member id, card number or email."""
    render.emit(member_view(*ledger(ctx).member(program, member_id)), fmt)


@command(member_app, "pay")
def pay(
    ctx: typer.Context,
    program: ProgramOption,
    member_id: Annotated[str, typer.Argument(metavar="MEMBER_ID", help="Member id, card number or email.")],
    at: Annotated[str | None, typer.Option("--at", metavar="WHEN", help="When it was paid (ISO date or time; default now).")] = None,
    key: Annotated[str | None, typer.Option("--key", metavar="TEXT", help="Idempotency key: recording it again changes nothing.")] = None,
    fmt: FormatOption = render.Format.table,
) -> None:
    """Record a paid membership fee.

    The program's fee and term: lifetime, or a year from the day paid."""
    paid = ledger(ctx).pay_membership(program, member_id, at=at, key=key)
    data = {"program": paid.ref.code, "member": paid.member.member_id, "duplicate": paid.duplicate,
            **term_json(paid.term, paid.ref)}
    if paid.duplicate:
        render.note(f"key {key!r} was already used; nothing recorded")
    render.emit(render.record(f"Membership of {paid.member.member_id}", data), fmt)
