"""Members of a program."""

import time
from collections.abc import Mapping
from datetime import date

from loyaltyctl.storage.db import Store

from loyaltyctl.core.members import LOOKUP_ORDER, MemberIndex, email_key, lookup_keys
from loyaltyctl.errors import Refused
from loyaltyctl.model import Member



def member_columns(program: str = "m.program_id") -> str:
    """A member's columns (of `members m`); `program` is its program in the statement: a parameter where it
    has one, as Citus sends a statement to one shard only if its correlated subqueries name the program."""
    return f"""m.member_id, m.name, m.email, m.birthday, m.card, m.joined,
              (SELECT r.member_id FROM members r WHERE r.program_id = {program} AND r.id = m.referred_by),
              m.referral_code, m.accepts_marketing"""


MEMBER_COLUMNS = member_columns()
MEMBER_FIELDS = 9  # columns in MEMBER_COLUMNS


def member_from_row(program: str, row: tuple) -> Member:
    member_id, name, email, birthday, card, joined, referred_by, code, consent = row
    return Member(
        program=program,
        member_id=member_id,
        name=name,
        email=email,
        birthday=date.fromisoformat(birthday) if birthday else None,
        card=card,
        joined=date.fromisoformat(joined),
        referred_by=referred_by,
        referral_code=code,
        accepts_marketing=None if consent is None else bool(consent),
    )


def fetch_members(db: Store, program_id: int, program: str) -> dict[str, Member]:
    """Every member of a program, by member id."""
    rows = db.execute(f"SELECT {MEMBER_COLUMNS} FROM members m WHERE m.program_id = ? ORDER BY m.member_id", [program_id])
    return {row[0]: member_from_row(program, row) for row in rows}


def fetch_member_rows(db: Store, program_id: int, program: str) -> list[tuple[int, Member]]:
    """Every member of a program with its row id, by member id."""
    rows = db.execute(f"SELECT m.id, {MEMBER_COLUMNS} FROM members m WHERE m.program_id = ? ORDER BY m.member_id", [program_id])
    return [(row[0], member_from_row(program, row[1:])) for row in rows]


# The column each step of LOOKUP_ORDER reads: a folded email is the email_key column.
_LOOKUP_COLUMNS = {("member_id", False): "member_id", ("card", False): "card", ("email", True): "email_key",
                   ("member_id", True): "member_id"}


def member_lookup(name: str) -> str:
    """SQL for the row id of the member the parameters `lookup_params(name, ident)` name, in the program
    `:p` (None if none): LOOKUP_ORDER's steps, each one probe of an index, taken until one matches.

    One probe per step (after ANALYZE, SQLite answered one `member_id = ? OR card = ?` query by scanning
    every member); both backends stop at the first step that finds one. Ids and cards are unique; of two
    members with one email, the first added."""
    steps = []
    for n, step in enumerate(LOOKUP_ORDER):
        column = _LOOKUP_COLUMNS[step]
        first = " ORDER BY id LIMIT 1" if column == "email_key" else ""
        steps.append(f"(SELECT id FROM members WHERE program_id = :p AND {column} = :{name}_{n}{first})")
    return f"coalesce({', '.join(steps)})"


def lookup_params(name: str, ident: str) -> dict[str, str]:
    return {f"{name}_{n}": value for n, (_, value) in enumerate(lookup_keys(ident))}


def find_member(db: Store, program_id: int, program: str, ident: str) -> tuple[int, Member]:
    """A member by member id, card number (so a counter can scan a card) or email, in any case."""
    row = db.execute(f"SELECT m.id, {MEMBER_COLUMNS} FROM members m WHERE m.id = {member_lookup('i')}",
                     {"p": program_id, **lookup_params("i", ident)}).fetchone()
    if row is None:
        raise Refused(f"unknown member {ident!r} in program {program!r}")
    return row[0], member_from_row(program, row[1:])


class MemberIds:
    """A program's member ids as a container asked about one id at a time, each an index probe (no need to
    read every member to find one id free)."""

    def __init__(self, db: Store, program_id: int):
        self.db, self.program_id = db, program_id

    def __contains__(self, member_id: object) -> bool:
        return self.db.execute("SELECT 1 FROM members WHERE program_id = ? AND member_id = ?",
                               [self.program_id, member_id]).fetchone() is not None


def fetch_member_by_row(db: Store, row_id: int, program: str) -> Member:
    return member_from_row(program, db.execute(f"SELECT {MEMBER_COLUMNS} FROM members m WHERE m.id = ?", [row_id]).fetchone())


def _values(program_id: int, member: Member) -> dict:
    return {
        "program_id": program_id,
        "member_id": member.member_id,
        "name": member.name,
        "email": member.email,
        "email_key": email_key(member.email) if member.email else None,
        "birthday": member.birthday.isoformat() if member.birthday else None,
        "card": member.card,
        "joined": member.joined.isoformat(),
        "referred_by": member.referred_by,
        "referral_code": member.referral_code,
        "accepts_marketing": None if member.accepts_marketing is None else int(member.accepts_marketing),
    }


def rewrite_member(db: Store, row_id: int, member: Member) -> None:
    """Store the member's id and personal fields as given (empty ones cleared), on its row."""
    values = _values(0, member)
    db.execute("UPDATE members SET member_id = ?, name = ?, email = ?, email_key = ?, birthday = ?, card = ?,"
               " accepts_marketing = ? WHERE id = ?", [values[c] for c in ("member_id", "name", "email", "email_key",
                                                                         "birthday", "card", "accepts_marketing")]
               + [row_id])


def save_members(db: Store, program_id: int, added: tuple[Member, ...], updated: tuple[Member, ...]) -> None:
    """Insert new members and update changed ones. Call inside a write transaction.

    Updated members' cards are cleared first, so that a card an updated member gives up can go to another
    member, new or not, in the same import without tripping the unique index.
    """
    now = int(time.time())
    db.executemany(
        "UPDATE members SET card = NULL WHERE program_id = ? AND member_id = ?",
        [(program_id, m.member_id) for m in updated],
    )
    db.executemany(
        """INSERT INTO members (program_id, member_id, name, email, email_key, birthday, card, joined, referral_code,
                                accepts_marketing, created_at)
           VALUES (:program_id, :member_id, :name, :email, :email_key, :birthday, :card, :joined, :referral_code,
                   :accepts_marketing, :now)""",
        [_values(program_id, m) | {"now": now} for m in added],
    )
    db.executemany(
        """UPDATE members SET name = :name, email = :email, email_key = :email_key, birthday = :birthday, card = :card,
                              joined = :joined, accepts_marketing = :accepts_marketing
           WHERE program_id = :program_id AND member_id = :member_id""",
        [_values(program_id, m) for m in updated],
    )
    db.executemany(
        """UPDATE members SET referred_by = (SELECT id FROM members r WHERE r.program_id = :program_id
                                              AND r.member_id = :referred_by)
           WHERE program_id = :program_id AND member_id = :member_id""",
        [_values(program_id, m) for m in added + updated if m.referred_by],
    )


def fetch_member_index(db: Store, program_id: int) -> MemberIndex:
    """The program's members by id, card and email, for fast lookups during an import."""
    return MemberIndex(db.execute("SELECT id, member_id, card, email FROM members WHERE program_id = ? ORDER BY id",
                                  [program_id]))


def set_joined(db: Store, joined: Mapping[int, date]) -> None:
    """Members' join dates (members an import added, dated by their earliest purchase in the file)."""
    db.executemany("UPDATE members SET joined = ? WHERE id = ?", [(day.isoformat(), row) for row, day in joined.items()])


def fetch_referral_codes(db: Store, program_id: int) -> set[str]:
    return {row[0] for row in db.execute("SELECT referral_code FROM members WHERE program_id = ?", [program_id])}


DAY_COLUMNS = ("birthday", "joined")


def fetch_members_by_day(db: Store, program_id: int, column: str, month_days: tuple[str, ...],
                         joined_by: date) -> list[tuple[int, str]]:
    """(row id, member id) of members who had joined by `joined_by` whose `column` (birthday or joined)
    falls on one of these MM-DD."""
    assert column in DAY_COLUMNS
    return db.execute(
        f"""SELECT id, member_id FROM members
            WHERE program_id = ? AND substr({column}, 6) IN ({','.join('?' * len(month_days))}) AND joined <= ?
            ORDER BY member_id""",
        [program_id, *month_days, joined_by.isoformat()],
    ).fetchall()


def fetch_referred_members(db: Store, program_id: int) -> list[tuple[int, int, str, str]]:
    """(row id, referrer's row id, member id, referrer's member id) of every referred member."""
    return db.execute(
        """SELECT m.id, m.referred_by, m.member_id, r.member_id FROM members m JOIN members r ON r.program_id = m.program_id AND r.id = m.referred_by
           WHERE m.program_id = ?""",
        [program_id],
    ).fetchall()
