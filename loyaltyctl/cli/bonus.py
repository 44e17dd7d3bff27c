"""`loyaltyctl bonus …`: birthday and anniversary runs for cron, and campaign grants from a CSV."""

from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.cli.common import (
    DryRunOption,
    FormatOption,
    MapOption,
    ProgramOption,
    RejectFileOption,
    command,
    ledger,
    day_option,
    report_rejects,
)
from loyaltyctl.formats.csv_input import parse_mapping
from loyaltyctl.values import DayBonusRun

bonus_app = typer.Typer(no_args_is_help=True, help="Birthday, anniversary and campaign bonuses.")


@command(bonus_app, "birthday")
def birthday(
    ctx: typer.Context,
    program: ProgramOption,
    day: Annotated[str | None, typer.Option("--date", metavar="DATE", help="The day to celebrate, YYYY-MM-DD (default today).")] = None,
    fmt: FormatOption = render.Format.table,
) -> None:
    """Post the birthday bonus to members born on a day.

    Once per member per year; safe to re-run."""
    _emit_day_run(ledger(ctx).birthdays(program, day_option("--date", day)), "birthday", fmt)


@command(bonus_app, "anniversary")
def anniversary(
    ctx: typer.Context,
    program: ProgramOption,
    day: Annotated[str | None, typer.Option("--date", metavar="DATE", help="The day to celebrate, YYYY-MM-DD (default today).")] = None,
    fmt: FormatOption = render.Format.table,
) -> None:
    """Post the anniversary bonus to members who joined on a day.

    To members who joined on this month and day in an earlier year; once per member per year (29 February
    joiners on 28 February in other years); safe to re-run."""
    _emit_day_run(ledger(ctx).anniversaries(program, day_option("--date", day)), "anniversary", fmt)


def _emit_day_run(run: DayBonusRun, bonus: str, fmt: render.Format) -> None:
    if not run.bonus:
        render.note(f"{run.program} has no {bonus} bonus on {run.day} ([bonuses] {bonus}); nothing posted")
    data = {"program": run.program, "date": run.day.isoformat(), "members": run.members, "points": run.points,
            "already_paid": run.already_paid}
    render.emit(render.record(f"{bonus.capitalize()} bonuses for {run.day}", data), fmt)


@command(bonus_app, "grant")
def grant(
    ctx: typer.Context,
    program: ProgramOption,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV: member_id, points, key [, reason].")],
    at: Annotated[str | None, typer.Option("--at", metavar="WHEN", help="When the bonus is effective (default now).")] = None,
    reject_file: RejectFileOption = None,
    column_map: MapOption = None,
    dry_run: DryRunOption = False,
    fmt: FormatOption = render.Format.table,
) -> None:
    """Grant campaign bonuses from a CSV.

    Campaign bonuses (a social-media post, a survey); a key already granted is skipped. Exit 3 on bad rows."""
    summary = ledger(ctx).grant_bonuses(program, file, reject_file=reject_file,
                                        mapping=parse_mapping(column_map or []), dry_run=dry_run, at=at)
    title = f"Bonus grant in {program}" + (" (dry run: nothing written)" if dry_run else "")
    data = summary.as_json()
    render.emit(render.Report(data, [render.fields_grid(title, [(k, v) for k, v in data.items() if k != "dry_run"])]), fmt)
    report_rejects(file, summary.first_rejects, summary.rejected, summary.reject_file)
