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
        bad = {name for name in imports(path) if name.split(".")[0] in ("sqlite3", "sqlite_utils", "psycopg")}
        assert not bad, f"{path} imports {sorted(bad)}"
        assert "db.execute(" not in path.read_text(), f"{path} runs SQL outside storage"


TYPER_INTERNALS = ("typer.core", "typer.main", "typer.models", "typer._")


def test_the_cli_uses_only_typers_public_api():
    """No click, and from Typer only what it documents (`typer.Typer`, `typer.Option`, ...): not its
    modules typer.core, typer.main, typer.models or typer._*, which change from release to release."""
    for path in PACKAGE.rglob("*.py"):
        names = imports(path)
        tree = ast.parse(path.read_text())
        names |= {f"{node.module}.{alias.name}" for node in ast.walk(tree)  # from typer import main
                  if isinstance(node, ast.ImportFrom) and node.module == "typer" for alias in node.names}
        names |= {f"typer.{node.attr}" for node in ast.walk(tree)  # typer.main.get_command(...)
                  if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "typer"}
        bad = {name for name in names if name == "click" or name.startswith(("click.", *TYPER_INTERNALS))}
        assert not bad, f"{path.relative_to(PACKAGE)} uses {sorted(bad)}"


RULE_METHODS = {"credit", "debit", "extend_expiry", "carry", "give_back", "expire"}  # Book methods that apply a rule
POSTING_DATA = {"Book", "Lot", "Debt", "Take", "Posting", "PostedExpiry", "Refund"}
LEDGER_WRITES = ("ChainWriter", "write_book", "replace_books", "fetch_book")


def test_storage_applies_no_posting_rule():
    """Storage reads what the posting rules need and writes what they decided: it calls no rule,
    imports only the rules' data types, and refuses nothing itself."""
    for path in (PACKAGE / "storage").glob("*.py"):
        tree = ast.parse(path.read_text())
        from_posting = {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                        and node.module == "loyaltyctl.core.posting" for alias in node.names}
        assert from_posting <= POSTING_DATA, f"{path.name} imports {sorted(from_posting - POSTING_DATA)}"
        calls = {node.func.attr for node in ast.walk(tree)
                 if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
        assert not calls & RULE_METHODS, f"{path.name} calls {sorted(calls & RULE_METHODS)}"
    for name in ("ledger.py", "transactions.py", "periods.py"):
        raises = [node for node in ast.walk(ast.parse((PACKAGE / "storage" / name).read_text()))
                  if isinstance(node, ast.Raise)]
        assert not raises, f"storage/{name} refuses something itself"


def test_only_the_poster_writes_the_ledger_and_the_cli_decides_no_posting():
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative not in ("storage/ledger.py", "operations/posting.py"):
            text = path.read_text()
            assert not [w for w in LEDGER_WRITES if w in text], f"{relative} writes the ledger around the Poster"
        if relative.startswith("cli/"):
            bad = {n for n in imports(path) if n in ("loyaltyctl.core.posting", "loyaltyctl.operations.posting",
                                                     "loyaltyctl.storage.transactions")}
            assert not bad, f"{relative} imports {sorted(bad)}"


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).glob("*.py")) if folder else []


def layer_imports(path: Path) -> set[str]:
    """The loyaltyctl layers a module imports (`loyaltyctl.storage.ledger` -> `storage`), lazily or not."""
    return {name.split(".")[1] for name in imports(path) if name.startswith("loyaltyctl.")}


def test_layers_import_one_way():
    """cli -> api -> operations -> {formats, storage} -> {results, values, core, model, money, errors}: each
    layer imports only what lies below it."""
    rules = {
        "cli": {"operations", "storage"},  # the CLI calls the library (api) and renders, nothing else
        "formats": {"operations", "storage", "api", "cli"},
        "storage": {"formats", "operations", "api", "cli", "render"},
        "core": {"formats", "operations", "storage", "api", "cli", "render", "results", "values"},
    }
    for layer, forbidden in rules.items():
        for path in modules(layer):
            bad = layer_imports(path) & forbidden
            assert not bad, f"{layer}/{path.name} imports {sorted(bad)}"
    assert not layer_imports(PACKAGE / "render.py") & {"operations", "storage", "api", "cli"}
    for name in ("results.py", "values.py", "model.py", "money.py", "errors.py"):  # plain values, below everything
        bad = layer_imports(PACKAGE / name) & {"formats", "storage", "render", "operations", "api", "cli"}
        assert not bad, f"{name} imports {sorted(bad)}"


def test_storage_modules_import_without_a_cycle():
    """The storage modules' imports form no cycle (db, migrations, sqlite and postgres once did)."""
    graph = {path.stem: {name.rsplit(".", 1)[1] for name in imports(path) if name.startswith("loyaltyctl.storage.")}
             for path in modules("storage") if path.stem != "__init__"}
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"storage import cycle: {' -> '.join(path + (module,))}"
        if module not in done:
            for imported in graph.get(module, ()):
                visit(imported, path + (module,))
            done.add(module)

    for module in graph:
        visit(module, ())


def test_the_cli_calls_the_library_only():
    """Every command reaches the database through `loyaltyctl.api` (the thin layer over it is the CLI)."""
    for path in modules("cli"):
        text = path.read_text()
        assert "open_db" not in text and ".store" not in text, f"cli/{path.name} opens the database itself"
