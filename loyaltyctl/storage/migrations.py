"""Schema migrations, applied in order, each atomic. Never rename or edit one that has landed."""

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATION_SET = "loyaltyctl"
migrations = Migrations(MIGRATION_SET)


@migrations()
def m001_programs_and_members(db: Database) -> None:
    db.executescript(
        """
        CREATE TABLE programs (
            id INTEGER PRIMARY KEY,
            code TEXT NOT NULL UNIQUE,
            currency TEXT NOT NULL,
            timezone TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE program_versions (
            id INTEGER PRIMARY KEY,
            program_id INTEGER NOT NULL REFERENCES programs(id),
            version INTEGER NOT NULL,
            effective_from TEXT NOT NULL,
            applied_at INTEGER NOT NULL,
            digest TEXT NOT NULL,
            definition TEXT NOT NULL,
            UNIQUE (program_id, version)
        );
        CREATE TABLE members (
            id INTEGER PRIMARY KEY,
            program_id INTEGER NOT NULL REFERENCES programs(id),
            member_id TEXT NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            email TEXT NOT NULL DEFAULT '',
            birthday TEXT,
            card TEXT,
            joined TEXT NOT NULL,
            referred_by INTEGER REFERENCES members(id),
            referral_code TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            UNIQUE (program_id, member_id),
            UNIQUE (program_id, card),
            UNIQUE (program_id, referral_code)
        );
        """
    )


def known_migrations() -> list[str]:
    return [migration.name for migration in migrations._migrations]
