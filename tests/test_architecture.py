"""The dependency rule: the pure core never reaches for storage, the CLI or I/O libraries."""

import ast
from pathlib import Path

import loyaltyctl

PACKAGE = Path(loyaltyctl.__file__).parent
FORBIDDEN_IN_CORE = ("sqlite3", "sqlite_utils", "typer", "rich", "loyaltyctl.storage", "loyaltyctl.cli", "loyaltyctl.render")


def imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_is_pure():
    for path in (PACKAGE / "core").glob("*.py"):
        bad = {name for name in imports(path) if name.startswith(FORBIDDEN_IN_CORE)}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_only_storage_speaks_sql():
    for path in PACKAGE.rglob("*.py"):
        if path.parent.name == "storage":
            continue
        bad = {name for name in imports(path) if name.startswith(("sqlite_utils",))} - {"sqlite_utils"}
        assert not bad, f"{path} imports {sorted(bad)}"
        assert "db.execute(" not in path.read_text(), f"{path} runs SQL outside storage"


def test_nothing_imports_click():
    for path in PACKAGE.rglob("*.py"):
        assert not any(name == "click" or name.startswith("click.") for name in imports(path)), path
