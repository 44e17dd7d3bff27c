import json
from loyaltyctl.storage.migrations import known_migrations

from loyaltyctl.samples import template_names
from tests.conftest import MINIMAL_PROGRAM, database_exists, run, snapshot, write


def test_init_creates_the_database_and_reports_its_schema_version(db_path):
    result = run("init")
    assert result.exit_code == 0
    assert result.stdout == f"{db_path}: loyaltyctl database, schema version {len(known_migrations())}\n"
    assert database_exists(db_path)


def test_init_on_a_foreign_file_exits_2_with_one_line(tmp_path):
    path = tmp_path / "photo.db"
    path.write_bytes(b"\x89PNG" + b"\x00" * 200)
    result = run("--db", path, "init")
    assert result.exit_code == 2
    assert result.stderr == f"error: {path}: not a loyaltyctl database (not an SQLite file)\n"
    assert path.read_bytes() == b"\x89PNG" + b"\x00" * 200


def test_apply_creates_then_is_a_no_op_then_versions_a_change(tmp_path):
    path = write(tmp_path / "shop.toml", MINIMAL_PROGRAM)
    first = run("program", "apply", path, "--format", "json")
    assert first.exit_code == 0
    assert json.loads(first.stdout) == [{"code": "shop", "version": 1, "status": "created", "effective_from": "2026-06-15"}]
    again = run("program", "apply", path, "--format", "json")
    assert json.loads(again.stdout) == [{"code": "shop", "version": 1, "status": "unchanged", "effective_from": "2026-06-15"}]
    write(path, MINIMAL_PROGRAM.replace('points_per_unit = "1"', 'points_per_unit = "2"'))
    changed = run("program", "apply", path, "--format", "json")
    assert json.loads(changed.stdout) == [{"code": "shop", "version": 2, "status": "updated", "effective_from": "2026-06-15"}]


def test_apply_export_apply_is_a_no_op(tmp_path):
    for name in template_names():
        source = tmp_path / f"{name}.toml"
        assert run("program", "init", "--template", name, "-o", source).exit_code == 0
        assert run("program", "apply", source).exit_code == 0
        exported = tmp_path / f"{name}.exported.toml"
        assert run("program", "export", name, "-o", exported).exit_code == 0
        result = run("program", "apply", exported, "--format", "json")
        assert json.loads(result.stdout)[0]["status"] == "unchanged", name


def test_a_changed_currency_is_refused(tmp_path, shop):
    write(shop, MINIMAL_PROGRAM.replace('"USD"', '"EUR"'))
    result = run("program", "apply", shop)
    assert result.exit_code == 2
    assert result.stderr == "error: program 'shop': program.currency cannot change from 'USD' to 'EUR'\n"


def test_invalid_files_exit_2_list_every_problem_and_write_nothing(tmp_path, db_path):
    good = write(tmp_path / "good.toml", MINIMAL_PROGRAM)
    bad = write(tmp_path / "bad.toml", MINIMAL_PROGRAM.replace('"1"', '"1,5"') + "colour = 'red'\n")
    run("init")
    before = snapshot(db_path)
    result = run("program", "apply", good, bad)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: {bad}:9: earn.points_per_unit: '1,5' is not a decimal number (write it like \"1.5\")",
        f"error: {bad}:10: earn.colour: unknown key",
    ]
    assert result.stdout == ""
    assert snapshot(db_path) == before


def test_validate_reports_without_writing(tmp_path, db_path):
    path = write(tmp_path / "shop.toml", MINIMAL_PROGRAM)
    result = run("program", "validate", path, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == [{"file": str(path), "code": "shop", "name": "Shop Points", "valid": True}]
    assert not database_exists(db_path)


def test_validate_of_a_missing_file_is_bad_input(tmp_path):
    result = run("program", "validate", tmp_path / "nope.toml")
    assert result.exit_code == 2
    assert result.stderr == f"error: {tmp_path / 'nope.toml'}: cannot read: No such file or directory\n"


def test_list_and_show(shop):
    listed = run("program", "list", "--format", "json")
    assert json.loads(listed.stdout) == [
        {"code": "shop", "name": "Shop Points", "currency": "USD", "timezone": "America/New_York", "versions": 1, "members": 0}
    ]
    assert run("program", "list", "--format", "csv").stdout == (
        "code,name,currency,timezone,versions,members\nshop,Shop Points,USD,America/New_York,1,0\n")
    shown = json.loads(run("program", "show", "shop", "--format", "json").stdout)
    assert [v["version"] for v in shown["versions"]] == [1]
    assert 'effective_from = 2026-06-15' in shown["definition"]
    table = run("program", "show", "shop").stdout
    assert "1 point per 1.00, rounding floor" in table


def test_unknown_program_is_refused_with_exit_1():
    run("init")
    result = run("program", "show", "nope")
    assert result.exit_code == 1
    assert result.stderr == "error: unknown program 'nope' (see `loyaltyctl program list`)\n"


def test_init_template_prints_a_valid_starter_and_unknown_names_are_listed(tmp_path):
    printed = run("program", "init", "--template", "corner-cafe")
    assert printed.exit_code == 0 and 'code = "corner-cafe"' in printed.stdout
    unknown = run("program", "init", "--template", "spaceship")
    assert unknown.exit_code == 2
    assert unknown.stderr == f"error: unknown template 'spaceship'; choose one of: {', '.join(template_names())}\n"


def test_an_unknown_format_is_a_usage_error(shop):
    result = run("program", "list", "--format", "yaml")
    assert result.exit_code == 2


def test_export_to_a_path_that_cannot_be_written_is_bad_usage(shop, tmp_path):
    target = tmp_path / "no-such-dir" / "shop.toml"
    result = run("program", "export", "shop", "-o", target)
    assert (result.exit_code, result.stderr) == (2, f"error: -o {target}: no folder {target.parent}\n")


def test_show_gives_the_version_in_force_not_the_last_applied(tmp_path):
    """v3 is applied last but dated before v2, so on 2026-06-15 (the test clock) v2's rules are in force."""
    for value, effective in (("0.10", "2026-01-01"), ("0.20", "2026-03-15"), ("0.30", "2026-02-01")):
        text = MINIMAL_PROGRAM.replace('point_value = "0.01"', f'point_value = "{value}"\neffective_from = {effective}')
        assert run("program", "apply", write(tmp_path / "shop.toml", text)).exit_code == 0
    shown = json.loads(run("program", "show", "shop", "--format", "json").stdout)
    assert shown["in_force"] == 2
    assert 'point_value = "0.20"' in shown["definition"]
    assert [(v["version"], v["effective_from"]) for v in shown["versions"]] == [
        (1, "2026-01-01"), (2, "2026-03-15"), (3, "2026-02-01")]
    assert "shop (version 2, in force since 2026-03-15)" in run("program", "show", "shop").stdout


def test_program_list_at_80_columns_wraps_names_between_words_or_gives_a_block(tmp_path, monkeypatch):
    long_name = MINIMAL_PROGRAM.replace('name = "Shop Points"', 'name = "The Very Long Named Neighbourhood Shop Points"')
    run("program", "apply", write(tmp_path / "p.toml", long_name))
    monkeypatch.setenv("COLUMNS", "80")
    table = run("program", "list").stdout
    lines = table.splitlines()
    assert all(len(line) <= 80 for line in lines) and "│ shop " in table  # fits with the name wrapped
    assert "America/New_York" in table and all(any(word in line for line in lines)
                                               for word in ("Neighbourhood", "Points"))
    # a 30-letter zone leaves no room for the columns' words: one block, nothing folded
    other = long_name.replace('code = "shop"', 'code = "far"').replace("America/New_York", "America/Argentina/Buenos_Aires")
    run("program", "apply", write(tmp_path / "far.toml", other))
    assert run("program", "list").stdout.startswith(
        "Programs\n\ncode     far\nname     The Very Long Named Neighbourhood Shop Points\ncurrency USD\n"
        "timezone America/Argentina/Buenos_Aires\nversions 1\nmembers  0\n\ncode     shop\n")
