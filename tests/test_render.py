"""Output: one report value, rendered as a table that fits the terminal, JSON, CSV or XLSX."""

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from loyaltyctl import render
from loyaltyctl.errors import BadInput
from loyaltyctl.money import Money
from loyaltyctl.render import Grid, Report


def test_a_note_keeps_no_control_character_that_moves_the_cursor(capsys):
    # a CSV cell echoed in an error: a carriage return, a bell and a backspace must not redraw the line
    render.note("bad row: 'ab\rc\x07d\x08'\tend")
    assert capsys.readouterr().err == "bad row: 'abcd'\tend\n"


def printed(capsys, monkeypatch, report: Report, fmt: str = "table", width: int = 80) -> str:
    monkeypatch.setenv("COLUMNS", str(width))
    render.emit(report, fmt)
    return capsys.readouterr().out


PARTNERS = Grid("Partners", ["partner", "name", "spend", "points issued", "value"], [
    ["basecamp-hostels", "Basecamp Hostels and Lodges", Money(135419, "USD"), 3809, Money(3809, "USD")],
    ["fleet", "Fleet Rides", Money(-143388, "USD"), 1036, Money(1036, "USD")],
])


def test_a_table_that_fits_keeps_numbers_whole_and_breaks_text_between_words(capsys, monkeypatch):
    out = printed(capsys, monkeypatch, Report(None, [PARTNERS]), width=60)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 60
    for figure in ("1354.19", "-1433.88", "3809", "38.09", "basecamp-hostels"):
        assert figure in out
    # the name wraps at a space: its words each appear whole on a line
    assert all(any(word in line for line in lines) for word in ("Basecamp", "Hostels", "Lodges"))
    assert "│ basecamp-hostels │" in out  # a table, not records


def test_a_table_too_wide_for_the_terminal_becomes_a_block_per_row(capsys, monkeypatch):
    out = printed(capsys, monkeypatch, Report(None, [PARTNERS]), width=41)
    assert out == ("Partners\n"
                   "\n"
                   "partner       basecamp-hostels\n"
                   "name          Basecamp Hostels and Lodges\n"
                   "spend         1354.19\n"
                   "points issued 3809\n"
                   "value         38.09\n"
                   "\n"
                   "partner       fleet\n"
                   "name          Fleet Rides\n"
                   "spend         -1433.88\n"
                   "points issued 1036\n"
                   "value         10.36\n")


def test_csv_writes_money_and_rates_as_plain_numbers_and_dates_as_iso(capsys, monkeypatch):
    grid = Grid(None, ["line", "rate", "amount", "on", "note"],
                [["a", Decimal("0.2000"), Money(-550, "USD"), date(2026, 3, 1), "=SUM(A1)"],
                 ["b", None, Money(5, "JPY"), None, "plain"]])
    out = printed(capsys, monkeypatch, Report(None, [grid]), "csv")
    assert out == "line,rate,amount,on,note\na,0.2,-5.50,2026-03-01,'=SUM(A1)\nb,,5,,plain\n"


def test_csv_of_several_tables_of_one_shape_has_a_section_column(capsys, monkeypatch):
    first = Grid("Totals", ["line", "points"], [["issued", 10]])
    second = Grid("Parameters", ["line", "points"], [["as of", None]], record=True)
    out = printed(capsys, monkeypatch, Report(None, ["a heading", first, second]), "csv")
    assert list(csv.reader(io.StringIO(out))) == [["section", "line", "points"], ["Totals", "issued", "10"],
                                                  ["Parameters", "as of", ""]]


def test_json_prints_the_document_not_the_tables(capsys, monkeypatch):
    out = printed(capsys, monkeypatch, Report({"program": "shop", "points": 3}, [PARTNERS]), "json")
    assert out == '{\n  "program": "shop",\n  "points": 3\n}\n'


def test_xlsx_keeps_numbers_numbers_and_money_in_its_currency_format(tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "partners.xlsx"
    render.emit(Report(None, [PARTNERS]), "xlsx", path)
    sheet = load_workbook(path)["Partners"]
    assert [c.value for c in sheet[1]] == ["partner", "name", "spend", "points issued", "value"]
    spend, points = sheet["C2"], sheet["D3"]
    assert (spend.value, spend.number_format) == (pytest.approx(1354.19), '#,##0.00 "USD";-#,##0.00 "USD"')
    assert (points.value, points.number_format) == (1036, "#,##0")
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.bold




@pytest.mark.parametrize("fmt, output, message", [
    (render.ReportFormat.table, Path("p.txt"), "-o p.txt: a file takes --format json or csv"),
    (render.AccountingFormat.table, Path("p.txt"), "-o p.txt: a file takes --format json, csv or xlsx"),
    (render.AccountingFormat.xlsx, None, "--format xlsx writes a workbook: give -o FILE.xlsx"),
    (render.ReportFormat.csv, Path("no-such-folder/p.csv"), "-o no-such-folder/p.csv: no folder no-such-folder"),
])
def test_an_output_that_cannot_be_written_as_asked_is_refused(fmt, output, message):
    with pytest.raises(BadInput) as refused:
        render.check_destination(fmt, output)
    assert str(refused.value) == message


def test_outputs_that_go_together_pass(tmp_path):
    for fmt, output in ((render.ReportFormat.table, None), (render.ReportFormat.csv, tmp_path / "p.csv"),
                        (render.AccountingFormat.xlsx, tmp_path / "p.xlsx"), (None, None)):
        render.check_destination(fmt, output)


def test_a_table_two_columns_too_wide_for_its_box_drops_the_outer_edge_first(capsys, monkeypatch):
    # nine columns of six characters: 54 + 28 for a boxed table is 82; without the outer edge, 80
    grid = Grid(None, [f"col{i}ab" for i in range(9)], [[123456 + i for i in range(9)]])
    lines = printed(capsys, monkeypatch, Report(None, [grid]), width=80).splitlines()
    assert max(len(line) for line in lines) == 80
    assert lines[-1] == " " + " │ ".join(str(123456 + i) for i in range(9)) + " "


def test_text_in_a_cell_or_title_is_never_read_as_markup(capsys, monkeypatch):
    grid = Grid("[bold]not bold[/]", ["name", "points"], [["Ann [/x] Bee", 5], ["[vip] John", 7], ["[red]", 1]])
    out = printed(capsys, monkeypatch, Report(None, [grid, render.fields_grid("[x]", [("[k]", "[v]")])]))
    for text in ("[bold]not bold[/]", "Ann [/x] Bee", "[vip] John", "[red]", "[k]", "[v]"):
        assert text in out


def test_a_block_per_row_wraps_a_long_value_at_the_terminal_width(capsys, monkeypatch):
    words = " ".join(["word"] * 40)
    grid = Grid(None, ["a-rather-long-heading", "note"], [["x" * 30, words]])
    out = printed(capsys, monkeypatch, Report(None, [grid]), width=40)
    assert max(len(line) for line in out.splitlines()) <= 40 and out.count("word") == 40
