"""`loyaltyctl action …`: points for a review, a share, a survey answer; `action import` for a platform's export.

`action --program P MEMBER CODE` posts one: the root app builds `action` as
that command (`posting_app`) unless the word after it is `import` or `--help`
or there is none, when it builds the group (`action_app`, `cli.make_app`).
"""

from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.cli.common import (DryRunOption, FormatOption, MapOption, ProgramOption, RejectFileOption, command,
                                   integer, ledger, report_rejects)
from loyaltyctl.cli.ledger import AtOption, MemberArgument, emit_posted
from loyaltyctl.formats.csv_input import parse_mapping

action_app = typer.Typer(
    no_args_is_help=True,
    help="Points for ways to earn beyond purchases: a review, a share, a survey answer.\n\n"
         "loyaltyctl action --program P MEMBER CODE [--key K] [--score 0-10] [--at WHEN] posts one (exit 1 past "
         "the action's limit; `action --program P --help` lists its options); `action import` reads a review "
         "platform's or survey tool's export.")
posting_app = typer.Typer()


@command(posting_app, "action")
def post(ctx: typer.Context, program: ProgramOption, member: MemberArgument,
         code: Annotated[str, typer.Argument(metavar="CODE", help="Action code from the program.", show_default=False)],
         key: Annotated[str | None, typer.Option("--key", metavar="TEXT", help="The review id, post address or response "
                                                 "id: paid once.")] = None,
         score: Annotated[int | None, typer.Option("--score", metavar="0-10", parser=integer,
                                                   help="A survey action's score.")] = None,
         at: AtOption = None, fmt: FormatOption = render.Format.table) -> None:
    """Post one action's points.

    Refused (exit 1) past the action's limit, or for a key another member was paid for."""
    emit_posted(ledger(ctx).action(program, member, code, key=key, score=score, at=at), fmt)


@command(action_app, "import")
def import_actions(
    ctx: typer.Context,
    program: ProgramOption,
    file: Annotated[Path, typer.Argument(metavar="FILE", help="CSV: member_id, action, occurred_at [, key, score].")],
    reject_file: RejectFileOption = None,
    column_map: MapOption = None,
    dry_run: DryRunOption = False,
    strict: Annotated[bool, typer.Option("--strict", help="Any bad row refuses the whole file (exit 2).")] = False,
    fmt: FormatOption = render.Format.table,
) -> None:
    """Import actions from a CSV, idempotently.

    A row without a key is identified by member, action and time; a row seen before posts nothing. Exit 3
    on bad rows (in the reject file)."""
    summary = ledger(ctx).import_actions(program, file, reject_file=reject_file,
                                         mapping=parse_mapping(column_map or []), dry_run=dry_run, strict=strict)
    title = f"Actions into {program}" + (" (dry run: nothing written)" if dry_run else "")
    data = summary.as_json()
    render.emit(render.Report(data, [render.fields_grid(title, [(k, v) for k, v in data.items() if k != "dry_run"])]),
                fmt)
    report_rejects(file, summary.first_rejects, summary.rejected, summary.reject_file)
