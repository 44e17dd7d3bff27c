import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loyaltyctl.cli import app

MINIMAL_PROGRAM = """\
[program]
code = "shop"
name = "Shop Points"
currency = "USD"
timezone = "America/New_York"
point_value = "0.01"

[earn]
points_per_unit = "1"
"""


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Every test gets its own database file and a fixed clock."""
    monkeypatch.setenv("LOYALTYCTL_DB", str(tmp_path / "test.db"))
    monkeypatch.setenv("LOYALTYCTL_NOW", "2026-06-15T16:00:00+00:00")
    monkeypatch.delenv("LOYALTYCTL_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "test.db"


def run(*args: str):
    """Invoke the CLI as a user would; stdout and stderr are kept apart."""
    return CliRunner().invoke(app, [str(a) for a in args])


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def shop(tmp_path) -> Path:
    """A minimal program, applied."""
    path = write(tmp_path / "shop.toml", MINIMAL_PROGRAM)
    result = run("program", "apply", path)
    assert result.exit_code == 0, result.stderr
    return path


def snapshot(path: Path) -> str:
    """Every row of the database, to show that a refused command changed nothing."""
    import sqlite3

    if not path.exists():
        return ""
    conn = sqlite3.connect(path)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()
