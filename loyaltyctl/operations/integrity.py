"""The database as a whole: verify it, seal its programs, back it up, copy it to the other backend."""

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from loyaltyctl.operations.definitions import compile_stale_versions, compiled_problems
from loyaltyctl.operations.seals import seal
from loyaltyctl.results import Copied, Verification
from loyaltyctl.storage import copy as copying
from loyaltyctl.storage import integrity
from loyaltyctl.storage.connect import new_sqlite_file, open_db
from loyaltyctl.storage.db import Store, is_postgres, write
from loyaltyctl.storage.programs import fetch_program_ref, fetch_program_summaries
from loyaltyctl.storage.sqlite import SqliteStore, backup_file, companions

Progress = Callable[[int, str], AbstractContextManager[Callable[[int], object] | None]]


def verify(db: Store) -> Verification:
    """Inside a snapshot: the chains, seals and figures; writes nothing."""
    broken = integrity.first_broken_link(db)
    problems = integrity.reconciliation_problems(db) + compiled_problems(db)
    return Verification(broken is None and not problems, integrity.count_entries(db), broken[0] if broken else None,
                        tuple(([f"{'entry ' + str(broken[0]) + ': ' if broken[0] else ''}{broken[1]}"] if broken
                               else []) + problems), integrity.last_seals(db))


def seal_programs(db: Store, program: str | None = None) -> dict[str, str]:
    """Seal each program (or the one named), each in a write that holds it: their last seal digests."""
    codes = [program] if program else [row[0] for row in fetch_program_summaries(db)]
    for code in codes:
        with write(db, code):
            seal(db, fetch_program_ref(db, code))
    return {code: digest for code, digest in integrity.last_seals(db).items() if code in codes}


def backup(db: Store, target: Path, progress: Progress | None = None) -> None:
    """A consistent SQLite file from either backend (SQLite's online backup, or a copy)."""
    if isinstance(db, SqliteStore):
        backup_file(db, target)
    else:
        _copy_into_new(db, new_sqlite_file(target), target, progress)


def copy_database(source: str, target: str, progress: Progress | None = None) -> Copied:
    """A whole database into a new file or an empty PostgreSQL database, verified before it is kept."""
    from_db = open_db(source, after_migrating=compile_stale_versions)
    if is_postgres(target):
        to_db, created = open_db(target, create=True), None
    else:
        to_db, created = new_sqlite_file(Path(target)), Path(target)
    counts = _copy_into_new(from_db, to_db, created, progress)
    return Copied(from_db.location, to_db.location, counts)


def _copy_into_new(source: Store, target: Store, created: Path | None, progress: Progress | None) -> dict[str, int]:
    """Copy (verified inside the copy's transaction); a new file a failed copy leaves is removed."""
    try:
        shown = progress or (lambda total, label: nullcontext(None))
        with shown(copying.count_rows(source), f"copying to {target.location}") as advance:
            return copying.copy_database(source, target, lambda rows: advance and advance(rows))
    except BaseException:
        if created is not None:
            target.close()
            for leftover in (created, *companions(created)):
                leftover.unlink(missing_ok=True)
        raise
