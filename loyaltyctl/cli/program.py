"""`loyaltyctl program …`: define programs in TOML and store their versions."""

from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import clock, render
from loyaltyctl.cli.common import FormatOption, OutputOption, ReportFormatOption, command, ledger
from loyaltyctl.core.versions import VersionTable
from loyaltyctl.errors import BadInput, InvalidProgram
from loyaltyctl.formats.program_toml import dump_program, load_program
from loyaltyctl.model import Program
from loyaltyctl.money import format_money
from loyaltyctl.samples import template_names, template_path

program_app = typer.Typer(no_args_is_help=True, help="Define loyalty programs in TOML and store their versions.")

CodeArgument = Annotated[str, typer.Argument(metavar="CODE", show_default=False)]
FilesArgument = Annotated[list[Path], typer.Argument(metavar="FILES", help="Program TOML files.", show_default=False)]


def _load_all(files: list[Path]) -> list[Program]:
    """Every file parsed, or InvalidProgram with the problems of all of them."""
    loaded, problems = [], []
    for path in files:
        try:
            loaded.append(load_program(path))
        except InvalidProgram as error:
            problems.extend(error.problems)
        except BadInput as error:
            problems.append(str(error))
    codes = [program.code for program in loaded]
    problems += [f"program {code!r} is defined in more than one file" for code in sorted(set(codes)) if codes.count(code) > 1]
    if problems:
        raise InvalidProgram(problems)
    return loaded


@command(program_app, "init")
def init_template(
    template: Annotated[str, typer.Option("--template", "-t", metavar="NAME",
                                          help=f"Starter to print: {', '.join(template_names())}.")] = "beauty-club",
    output: OutputOption = None,
) -> None:
    """Print a starter program TOML to edit and apply.

    Each starter is one of the sample programs."""
    path = template_path(template)
    if path is None:
        raise BadInput(f"unknown template {template!r}; choose one of: {', '.join(template_names())}")
    text = path.read_text(encoding="utf-8")
    render.emit_text(text, output)


@command(program_app, "validate")
def validate(files: FilesArgument, fmt: FormatOption = render.Format.table) -> None:
    """Check program files without applying them.

    Exit 2, naming file, line and key, on any problem."""
    loaded = _load_all(files)
    data = [{"file": str(path), "code": p.code, "name": p.name, "valid": True} for path, p in zip(files, loaded)]
    render.emit(render.Report(data, [render.Grid(None, ["file", "program", "status"],
                                                 [(r["file"], r["code"], "valid") for r in data])]), fmt)


@command(program_app, "apply")
def apply(ctx: typer.Context, files: FilesArgument, fmt: FormatOption = render.Format.table) -> None:
    """Store a new version of each program whose rules changed.

    Unchanged files are a no-op."""
    loaded = _load_all(files)
    results = ledger(ctx, create=True).apply_programs(loaded)
    data = [
        {"code": r.code, "version": r.version, "status": r.status, "effective_from": r.effective_from.isoformat()}
        for r in results
    ]
    render.emit(render.Report(data, [render.Grid(None, ["program", "version", "status", "effective from"],
                                                 [(r["code"], r["version"], r["status"], r["effective_from"])
                                                  for r in data])]), fmt)


@command(program_app, "list")
def list_programs(ctx: typer.Context, fmt: ReportFormatOption = render.ReportFormat.table,
                  output: OutputOption = None) -> None:
    """Programs in the database, with their versions.

    Each with its latest name, version count and members."""
    data = ledger(ctx).programs()
    render.emit(render.listing(data, data, ["code", "name", "currency", "timezone", "versions", "members"], "Programs"),
                fmt, output)


def _program_summary(program: Program) -> list[tuple[str, object]]:
    money = lambda minor: format_money(minor, program.currency)  # noqa: E731
    per = lambda count: f"{count} {render.unit_for(count, program.unit)}"  # noqa: E731
    earn = program.earn
    pairs: list[tuple[str, object]] = [
        ("name", program.name),
        ("currency", program.currency),
        ("timezone", program.timezone),
        ("point value", f"{program.point_value} {program.currency} per {render.unit_for(1, program.unit)}"),
        ("earning", f"{per(earn.points_per_unit)} per 1.00, rounding {earn.rounding}"),
    ]
    if earn.points_per_visit:
        pairs.append(("per visit", per(earn.points_per_visit)))
    if earn.min_spend:
        pairs.append(("min spend", money(earn.min_spend)))
    if earn.max_points_per_txn:
        pairs.append(("cap per purchase", earn.max_points_per_txn))
    if earn.max_points_per_day:
        pairs.append(("limit per member per day", earn.max_points_per_day))
    if earn.max_points_per_month:
        pairs.append(("limit per member per month", earn.max_points_per_month))
    if earn.pending_days:
        pairs.append(("pending", f"{earn.pending_days} days"))
    for m in earn.multipliers:
        pairs.append(("multiplier", f"{m.category} x{m.factor}"))
    for p in earn.promotions:
        pairs.append(("promotion", f"{p.name}: x{p.factor} {p.starts} to {p.ends}"))
    if program.expiry and program.expiry.policy != "none":
        pairs.append(("expiry", f"{program.expiry.policy}, {program.expiry.describe()}"))
    if program.tiers:
        for level in program.tiers.levels:
            pairs.append(("tier", f"{level.name}: from {level.threshold} {program.tiers.basis}, x{level.multiplier}"))
    for r in program.rewards:
        pairs.append(("reward", f"{r.code}: {r.name} for {per(r.points)} ({money(r.value)}, {r.kind})"))
    if program.bonuses:
        amounts = [(name, getattr(program.bonuses, name)) for name in
                   ("signup", "birthday", "anniversary", "first_purchase", "referral_referee", "referral_referrer")]
        pairs += [(f"{name} bonus", per(points)) for name, points in amounts if points]
    if program.membership:
        pairs.append(("membership", f"{money(program.membership.fee)} {program.membership.term}"))
    for partner in program.partners:
        pairs.append(("partner", f"{partner.code}: {partner.name}, {per(partner.points_per_unit)} per 1.00"))
    return pairs


@command(program_app, "show")
def show(ctx: typer.Context, code: CodeArgument, fmt: FormatOption = render.Format.table) -> None:
    """The rules in force today and the program's version history.

    In force is the version with the latest effective date on or before today,
    which is not always the last one applied (a version can be dated earlier).
    """
    versions = ledger(ctx).program_versions(code)
    current = VersionTable([(v.effective_from, v.version, v) for v in versions]).on(
        clock.today_in(versions[-1].program.timezone))
    program = current.program
    data = {
        "code": code,
        "name": program.name,
        "currency": program.currency,
        "timezone": program.timezone,
        "in_force": current.version,
        "versions": [
            {"version": v.version, "effective_from": v.effective_from.isoformat(), "applied_at": v.applied_at}
            for v in versions
        ],
        "definition": dump_program(program),
    }
    render.emit(render.Report(data, [
        render.fields_grid(f"{code} (version {current.version}, in force since {current.effective_from})",
                           _program_summary(program)),
        render.Grid("Versions", ["version", "effective from"], [(v.version, v.effective_from) for v in versions]),
    ]), fmt)


@command(program_app, "export")
def export(ctx: typer.Context, code: CodeArgument, output: OutputOption = None) -> None:
    """Write a program's latest version back as TOML.

    Applying what it writes changes nothing: apply, export, apply is a no-op."""
    render.emit_text(dump_program(ledger(ctx).program_versions(code)[-1].program), output)
