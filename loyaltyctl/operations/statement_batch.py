"""Monthly statements for every member: one file each plus an index, each written atomically."""

import hashlib
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

from msgspec import Struct

from loyaltyctl.storage.db import Store

from loyaltyctl.core.members import is_email
from loyaltyctl.errors import BadInput
from loyaltyctl.formats.csv_output import csv_text
from loyaltyctl.operations.definitions import program_versions
from loyaltyctl.operations.statements import StatementBuilder
from loyaltyctl.private_files import make_folder, replace_file
from loyaltyctl.values import Statement
from loyaltyctl.storage import members as member_store

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def file_stem(member_id: str) -> str:
    """A file name for a member id: the id itself when safe, else a cleaned id and a short hash of it."""
    cleaned = _UNSAFE.sub("_", member_id)
    if cleaned == member_id:
        return member_id
    return f"{cleaned[:40]}-{hashlib.sha256(member_id.encode()).hexdigest()[:8]}"


def email_sender(db: Store, program: str, given: str | None, on: date) -> str:
    """The From address of emailed statements: `--sender`, else the program's `[program] email`; a batch
    with neither is refused before anything is written (a made-up address would be marked as spam)."""
    sender = given or program_versions(db, program).on(on).email
    if not sender:
        raise BadInput(f"--format eml needs a From address: --sender ADDRESS, or email = \"...\" in the [program] "
                       f"table of {program}")
    if not is_email(sender):
        raise BadInput(f"--sender {sender!r} is not an email address")
    return sender


class BatchResult(Struct, frozen=True):
    written: int
    skipped_inactive: int
    skipped_no_email: int
    index: Path


def write_statements(db: Store, program: str, start: date, end: date, out_dir: Path, extension: str,
                     render: Callable[[Statement], str | bytes | None], include_inactive: bool = False,
                     on_member: Callable[[], None] | None = None) -> BatchResult:
    """One file per member with activity in the period or points (all members with `include_inactive`).

    `render` returns None for a member it cannot write for (an email without an address).
    """
    try:
        make_folder(out_dir)
    except OSError as error:
        raise BadInput(f"{out_dir}: cannot create the output directory: {error.strerror}") from None
    builder = StatementBuilder(db, program)
    members = member_store.fetch_member_rows(db, builder.ref.id, program)
    written = inactive = no_email = 0
    index_rows = []
    for row, member in members:
        statement = builder.build(row, member, start, end)
        if on_member:
            on_member()
        if not include_inactive and not statement.lines and statement.closing == 0:
            inactive += 1
            continue
        content = render(statement)
        if content is None:
            no_email += 1
            continue
        name = f"{file_stem(member.member_id)}.{extension}"
        replace_file(out_dir / name, content)
        written += 1
        index_rows.append((member.member_id, member.name, member.email, name, statement.opening, statement.closing))
    index = out_dir / "index.csv"
    replace_file(index, csv_text(["member_id", "name", "email", "file", "opening_points", "closing_points"],
                                 index_rows))
    return BatchResult(written, inactive, no_email, index)
