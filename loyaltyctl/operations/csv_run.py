"""One CSV pipeline for every importer (transactions, members, grants).

`run_csv` runs an importer's work inside one write transaction with a reject
file: bad rows stream to a temporary file that is moved into place only if
the run is kept; a dry run, or a `--strict` run with bad rows, rolls
everything back; an error or Ctrl-C leaves neither rows nor reject file.
"""

from collections.abc import Callable, Sequence
from pathlib import Path

from msgspec import Struct, field
from msgspec.structs import asdict

from loyaltyctl.storage.db import Store

from loyaltyctl.errors import BadInput
from loyaltyctl.formats.csv_input import CsvRow, RejectWriter, default_reject_path
from loyaltyctl.storage import transactions as txn_store
from loyaltyctl.storage.db import Discard, write


class CsvSummary(Struct):
    """What every CSV run reports; importers add their own counts."""

    rows: int = 0
    rejected: int = 0
    reject_file: Path | None = None
    dry_run: bool = False
    first_rejects: list[tuple[int, str]] = field(default_factory=list)

    def as_json(self) -> dict:
        """Counts in field order (rows first, the run's own figures, then the reject file)."""
        data = {name: value for name, value in asdict(self).items()
                if name not in ("first_rejects", "reject_file", "dry_run")}
        data["reject_file"] = str(self.reject_file) if self.reject_file else None
        data["dry_run"] = self.dry_run
        return data


def run_csv(db: Store, program: str, path: Path, header: tuple[str, ...], summary: CsvSummary,
            work: Callable[[RejectWriter], None], *, reject_file: Path | None = None, strict: bool = False) -> None:
    """Run `work` (which reads the rows and adds bad ones to the reject writer) in one transaction."""
    rejects = RejectWriter(reject_file or default_reject_path(path), header)
    try:
        with write(db, program):
            work(rejects)
            if summary.dry_run or (strict and rejects.count):
                raise Discard
    except BaseException:
        rejects.discard()
        raise
    summary.rejected, summary.first_rejects = rejects.count, rejects.first
    summary.reject_file = rejects.finish(keep=not summary.dry_run and not strict)
    if strict and summary.rejected:
        line, reason = summary.first_rejects[0]
        raise BadInput(f"{path}:{line}: {reason} ({summary.rejected} bad rows; --strict imported nothing)")


def sort_rejects(db: Store, program_id: int, bad: Sequence[tuple[Sequence[CsvRow], str]],
                 digest: Callable[[CsvRow], str] | None, rejects: RejectWriter, rejected_now: set[str]) -> int:
    """A chunk's bad rows, each group (a basket's rows) with its reason: a group whose every row an earlier
    import into the program rejected (by `digest`, a fingerprint of the row's cells and how they are read)
    is counted, not reported again; the others go to the reject file and their rows are remembered. Without
    a digest (--strict) every one is reported. Returns the rows counted as rejected before; `rejected_now`
    keeps the digests this run remembered (they are in the table too)."""
    if digest is None:
        for rows, reason in bad:
            for row in rows:
                rejects.add(row.line, reason, row.raw)
        return 0
    digests = [[digest(row) for row in rows] for rows, _ in bad]
    earlier = txn_store.fetch_rejected_rows(db, program_id, [d for found in digests for d in found]) - rejected_now
    before, new = 0, set()
    for (rows, reason), found in zip(bad, digests):
        if earlier.issuperset(found):
            before += len(rows)
            continue
        for row in rows:
            rejects.add(row.line, reason, row.raw)
        new.update(found)
    new -= rejected_now | earlier
    if new:
        txn_store.insert_rejected_rows(db, program_id, sorted(new))
        rejected_now |= new
    return before
