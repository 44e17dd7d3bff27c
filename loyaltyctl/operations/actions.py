"""`action`: points for a way to earn beyond purchases (a review, a share, a survey), within its limit.

An action is an `action` credit entry (a lot, like a bonus: no pending days,
no multiplier, no tier qualification) and a row of `actions` (its code and, for
a survey, the score). Its key is per action code: `action:CODE:KEY`; the same
member again is a duplicate, another member is refused. A limit counts the
member's standing actions of the code in the calendar period of the action's
effective date, whatever order they were posted in (first posted wins).
"""

from collections.abc import Mapping
from datetime import date
from itertools import islice
from pathlib import Path

import msgspec
from msgspec import Struct

from loyaltyctl.core.actions import action_problem, limit_period, limit_refusal
from loyaltyctl.core.dates import cutoff, local_date, parse_instant, start_of_day
from loyaltyctl.core.members import MemberIndex
from loyaltyctl.core.versions import VersionTable
from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.formats.csv_input import CsvRow, RejectWriter, read_csv
from loyaltyctl.model import Action, Program
from loyaltyctl.money import parse_whole
from loyaltyctl.operations.csv_run import CsvSummary, run_csv, sort_rejects
from loyaltyctl.operations.ledger import Counter, counter_posting
from loyaltyctl.operations.posting import posting
from loyaltyctl.results import Posted
from loyaltyctl.storage import actions as store
from loyaltyctl.storage import ledger as ledger_store
from loyaltyctl.storage import members as member_store
from loyaltyctl.storage import programs
from loyaltyctl.storage.db import Store
from loyaltyctl.storage.ledger import NewEntry


def action_key(code: str, key: str) -> str:
    """An action's idempotency key: keys are per action code."""
    return f"action:{code}:{key}"


def find_action(version: Program, code: str, program: str) -> Action:
    for action in version.actions:
        if action.code == code:
            return action
    known = ", ".join(a.code for a in version.actions) or "none"
    raise Refused(f"unknown action {code!r} in program {program!r} (its actions: {known})")


def post_action(db: Store, program: str, ident: str, code: str, key: str | None = None, score: int | None = None,
                at: str | None = None) -> Posted:
    """Credit a member the points of an action, or refuse (exit 1) naming the limit that stops it."""
    entry_key = action_key(code, key) if key else None

    def act(counter: Counter) -> Posted:
        member_row, member = counter.member(ident)
        action = find_action(counter.version, code, program)
        if problem := action_problem(action, key, score):
            raise BadInput(problem)
        if (original := counter.reads.key_entry) is not None:
            if original.member != member_row:
                raise Refused(f"key {key!r} already used for {code!r}")
            return counter.duplicate()
        refuse_over_limit(db, counter.ref.id, counter.ref.timezone, action, member_row, member.member_id, counter.at)
        with counter.posting() as poster:
            entry = poster.credit(NewEntry(member_row, "action", action.points, counter.at, key=entry_key,
                                           reason=action.name))
        store.insert_action(db, counter.ref.id, entry, member_row, code, counter.at, score)
        return counter.posted(member_row, member, [entry])

    return counter_posting(db, program, [ident], entry_key, at, act)


def refuse_over_limit(db: Store, program_id: int, tz: str, action: Action, member_row: int, member_id: str,
                      at: int) -> None:
    day = local_date(at, tz)
    period = limit_period(action, day)
    if period is None:
        return
    start = -(2**62) if period[0] == date.min else start_of_day(period[0], tz)  # `once`: all time
    end = 2**62 if period[1] == date.max else cutoff(period[1], tz)
    taken = store.count_actions(db, program_id, member_row, action.code, start, end)
    if reason := limit_refusal(action, member_id, taken, day):
        raise Refused(reason)


ACTION_FIELDS = ("member_id", "action", "occurred_at", "key", "score")
ACTION_REQUIRED = ("member_id", "action", "occurred_at")
ACTION_CHUNK_ROWS = 500


class ActionImportSummary(CsvSummary):
    posted: int = 0
    duplicates: int = 0
    rejected_before: int = 0  # rows an earlier action import into the program rejected, with the same cells
    points: int = 0


def import_actions(db: Store, program: str, path: Path, *, reject_file: Path | None = None,
                   mapping: Mapping[str, str] | None = None, dry_run: bool = False,
                   strict: bool = False) -> ActionImportSummary:
    """Actions from a CSV a review platform or survey tool exports (member_id, action, occurred_at, key,
    score), idempotent like `txn import`: a row without a key is identified by member, action and time.
    A bad row (an unknown member or action, a score or key the action does not take, a limit reached, a
    closed period) goes to the reject file once: one an earlier import rejected with the same cells is
    counted under `rejected_before`. `strict` refuses the file on any bad row instead."""
    ref = programs.fetch_program_ref(db, program)
    header, rows = read_csv(path, ACTION_FIELDS, ACTION_REQUIRED, mapping)
    summary = ActionImportSummary(dry_run=dry_run)

    def work(rejects: RejectWriter) -> None:
        with posting(db, ref) as poster:
            index = member_store.fetch_member_index(db, ref.id)
            seen: dict[str, int] = {}  # key -> member, for keys earlier in the file
            rejected_now: set[str] = set()  # digests of the rows this run rejected
            while chunk := list(islice(rows, ACTION_CHUNK_ROWS)):
                read = [_read_row(row, index, ref, poster.versions) for row in chunk]
                used = ledger_store.fetch_key_owners(db, ref.id, [r.key for r in read if r.key])
                bad: list[tuple[CsvRow, str]] = []
                for row, found in zip(chunk, read):
                    summary.rows += 1
                    try:
                        if found.problem:
                            raise ValueError(found.problem)
                        owner = used.get(found.key, seen.get(found.key))
                        if owner is not None and owner != found.member:
                            raise ValueError(f"key {row.fields['key']!r} already used for {found.action.code!r}")
                        if owner is not None:
                            summary.duplicates += 1
                            continue
                        if (closed := poster.closed) and closed.covers(found.at):
                            raise ValueError(closed.refusal(found.at, "an action"))
                        refuse_over_limit(db, ref.id, ref.timezone, found.action, found.member,
                                          row.fields["member_id"], found.at)
                    except (ValueError, Refused) as error:
                        bad.append((row, str(error)))
                        continue
                    seen[found.key] = found.member
                    entry = poster.credit(NewEntry(found.member, "action", found.action.points, found.at,
                                                   key=found.key, reason=found.action.name))
                    store.insert_action(db, ref.id, entry, found.member, found.action.code, found.at, found.score)
                    summary.posted += 1
                    summary.points += found.action.points
                summary.rejected_before += sort_rejects(db, ref.id, [((row,), reason) for row, reason in bad],
                                                        None if strict else _digest, rejects, rejected_now)

    run_csv(db, program, path, header, summary, work, reject_file=reject_file, strict=strict)
    return summary


def _digest(row: CsvRow) -> str:
    """A row's fingerprint among rejected rows (apart from sales rows, which `formats.sales` digests)."""
    import hashlib

    return hashlib.sha256(b"action import\0" + msgspec.json.encode(row.raw)).hexdigest()


class _ActionRow(Struct):
    problem: str | None = None
    member: int = 0
    action: Action | None = None
    at: int = 0
    key: str = ""
    score: int | None = None


def _read_row(row: CsvRow, index: MemberIndex, ref: programs.ProgramRef,
              versions: VersionTable) -> _ActionRow:
    """A row as an action to post, or what is wrong with it."""
    fields = row.fields
    if row.problem:
        return _ActionRow(row.problem)
    try:
        at = parse_instant(fields["occurred_at"], ref.timezone)
    except ValueError as error:
        return _ActionRow(f"occurred_at {error}")
    member = index.find(fields["member_id"])
    if member is None:
        return _ActionRow(f"unknown member {fields['member_id']!r}")
    try:
        action = find_action(versions.on(local_date(at, ref.timezone)), fields["action"], ref.code)
    except Refused as refused:
        return _ActionRow(str(refused))
    try:
        score = parse_whole(fields["score"], "score") if fields.get("score") else None
    except ValueError as error:
        return _ActionRow(str(error))
    key = fields.get("key") or None
    if problem := action_problem(action, key, score):
        return _ActionRow(problem)
    return _ActionRow(None, member, action, at, action_key(action.code, key or f"#{member}@{at}"), score)
