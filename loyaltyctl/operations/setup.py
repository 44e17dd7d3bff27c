"""Programs and members: applying program files, importing member CSVs."""

from collections.abc import Iterator, Mapping
from pathlib import Path

from loyaltyctl.operations.definitions import ApplyResult, apply_program
from loyaltyctl.storage.db import Store

from loyaltyctl import clock
from loyaltyctl.core.members import MEMBER_FIELDS, anonymised, parse_member, plan_members, reserved_refusal
from loyaltyctl.formats.csv_input import CsvRow, RejectWriter, read_csv
from loyaltyctl.operations.csv_run import CsvSummary, run_csv
from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.model import Member, Program
from loyaltyctl.operations.bonuses import welcome_members
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs
from loyaltyctl.storage.db import write


def apply_programs(db: Store, loaded: list[Program]) -> list[ApplyResult]:
    """Store each program's new version in one transaction."""
    with write(db, *(program.code for program in loaded)):
        return [apply_program(db, program, clock.today_in(program.timezone)) for program in loaded]


class MemberImport(CsvSummary):
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    signup_bonus_points: int = 0


def _parsed_members(rows: Iterator[CsvRow], program: str, today) -> Iterator[tuple[int, tuple[str, ...], Member | str]]:
    for row in rows:
        if row.problem:
            yield row.line, row.raw, row.problem
            continue
        try:
            yield row.line, row.raw, parse_member(row.fields, program, today)
        except ValueError as error:
            yield row.line, row.raw, str(error)


def import_members(
    db: Store,
    program: str,
    file: Path,
    reject_file: Path | None = None,
    mapping: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> MemberImport:
    """Add or update members from a CSV file in one transaction; bad rows go to the reject file."""
    ref = programs.fetch_program_ref(db, program)
    today = clock.today_in(ref.timezone)
    header, rows = read_csv(file, MEMBER_FIELDS, ("member_id",), mapping)
    summary = MemberImport(dry_run=dry_run)

    def work(rejects: RejectWriter) -> None:
        plan = plan_members(_parsed_members(rows, program, today), member_store.fetch_members(db, ref.id, program), today)
        member_store.save_members(db, ref.id, plan.added, plan.updated)
        summary.signup_bonus_points = welcome_members(db, ref, plan.added)
        for rejected in plan.rejected:
            rejects.add(rejected.line, rejected.reason, rejected.row)
        summary.added, summary.updated, summary.unchanged = len(plan.added), len(plan.updated), plan.unchanged
        summary.rows = summary.added + summary.updated + summary.unchanged + len(plan.rejected)

    run_csv(db, program, file, header, summary, work, reject_file=reject_file)
    return summary


def update_member(db: Store, program: str, ident: str, fields: Mapping[str, str]) -> tuple[Member, bool]:
    """Change the fields given (by member id, card or email) with `member add`'s checks: (the member, whether
    anything changed). The same update twice changes nothing the second time."""
    ref = programs.fetch_program_ref(db, program)
    today = clock.today_in(ref.timezone)
    with write(db, program):
        _, current = member_store.find_member(db, ref.id, program, ident)
        try:
            incoming = parse_member({**fields, "member_id": current.member_id}, program, today)
        except ValueError as error:
            raise BadInput(str(error)) from None
        if reason := reserved_refusal(incoming, current):
            raise BadInput(reason)
        plan = plan_members([(0, (), incoming)], member_store.fetch_members(db, ref.id, program), today)
        if plan.rejected:
            raise Refused(plan.rejected[0].reason)
        member_store.save_members(db, ref.id, (), plan.updated)
        return (plan.updated[0], True) if plan.updated else (current, False)


def anonymise_member(db: Store, program: str, ident: str) -> tuple[Member, bool]:
    """Erase the member's personal fields and keep their ledger (a customer's right to be forgotten):
    (the member as stored now, whether anything changed)."""
    with write(db, program):
        program_id = programs.fetch_program_ref(db, program).id
        row, current = member_store.find_member(db, program_id, program, ident)
        erased = anonymised(current, member_store.MemberIds(db, program_id))
        if erased != current:
            member_store.rewrite_member(db, row, erased)
        return erased, erased != current


def add_member(db: Store, program: str, fields: Mapping[str, str]) -> tuple[Member, int]:
    """One new member from command options, and the signup bonus they were given."""
    ref = programs.fetch_program_ref(db, program)
    today = clock.today_in(ref.timezone)
    try:
        member = parse_member(fields, program, today)
    except ValueError as error:
        raise BadInput(str(error)) from None
    if reason := reserved_refusal(member):
        raise BadInput(reason)
    with write(db, program):
        existing = member_store.fetch_members(db, ref.id, program)
        if member.member_id in existing:
            raise Refused(f"member {member.member_id!r} already exists in {program!r} (member import updates members)")
        plan = plan_members([(0, (), member)], existing, today)
        if plan.rejected:
            raise Refused(plan.rejected[0].reason)
        member_store.save_members(db, ref.id, plan.added, ())
        return plan.added[0], welcome_members(db, ref, plan.added)
