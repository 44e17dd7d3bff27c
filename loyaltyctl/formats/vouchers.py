"""Vouchers as report values: one voucher, a list, an export for a shop's discount codes, and what is outstanding."""

from decimal import Decimal

from loyaltyctl import results
from loyaltyctl.core.vouchers import Voucher
from loyaltyctl.formats.shapes import instant, money, plain
from loyaltyctl.money import Money, format_money, plain_decimal
from loyaltyctl.core.vouchers import valid_through
from loyaltyctl.values import VoucherList
from loyaltyctl.render import Grid, Report, fields_grid
from loyaltyctl.model import ProgramRef

LIST_COLUMNS = ["code", "member", "reward", "points", "value", "issued", "valid_through", "status", "used_at",
                "order", "value_used", "points_returned"]


def voucher_result(v: Voucher, ref: ProgramRef, at: int) -> results.Voucher:
    """A voucher and where it stands at `at`."""
    used = v.used_by(at)
    return results.Voucher(
        v.code, ref.code, v.member_id, v.reward, v.points, money(v.value, ref), ref.currency,
        Decimal(plain_decimal(v.percent)) if v.percent is not None else None, instant(v.issued_at, ref),
        valid_through(v, ref.timezone), v.status(at), instant(v.used_at, ref) if used else None,
        v.order if used else None, money(v.value_used, ref) if used and v.value_used is not None else None,
        v.points_returned_by(at))


def voucher_json(v: Voucher, ref: ProgramRef, at: int) -> dict:
    return plain(voucher_result(v, ref, at))


def voucher_view(v: Voucher, ref: ProgramRef, at: int, title: str) -> Report:
    data = voucher_json(v, ref, at)
    pairs = [(k, v_) for k, v_ in data.items() if v_ not in (None, False) and k not in ("program", "currency")]
    return Report(data, [fields_grid(title, pairs)])


def vouchers_view(found: VoucherList, outstanding: bool = False) -> Report:
    """A list for the till or a spreadsheet: every field in JSON and CSV, the ones a person reads in the
    table; titled as `report vouchers` titles what is outstanding, or as `voucher list` does."""
    ref, as_of, at, vouchers = found.ref, found.as_of, found.at, found.vouchers
    value = format_money(sum(v.value for v in vouchers if v.outstanding(at)), ref.currency)
    title = (f"Vouchers outstanding in {ref.code} at the end of {as_of}: {len(vouchers)}, {value} {ref.currency}"
             if outstanding else f"Vouchers of {ref.code} at the end of {as_of}")
    rows = []
    for v in vouchers:
        j = voucher_json(v, ref, at)
        rows.append(j | {"value": Money(v.value, ref.currency), "issued": j["issued_at"][:10],
                         "used_at": j["used_at"][:10] if j["used_at"] else None})
    document = {"program": ref.code, "as_of": as_of.isoformat(), "currency": ref.currency,
                "vouchers": [voucher_json(v, ref, at) for v in vouchers],
                "outstanding": sum(v.outstanding(at) for v in vouchers), "outstanding_value": value}
    shown = ["code", "member", "reward", "value", "valid_through", "status"]
    grid = Grid(title, shown, [[row[c] for c in shown] for row in rows],
                empty="no vouchers")
    return Report(document, [grid], csv=Grid(None, LIST_COLUMNS, [[row[c] for c in LIST_COLUMNS] for row in rows]))


def export_csv(vouchers: list[Voucher], ref: ProgramRef, shop: str) -> str:
    """Codes for a shop's discount: `shopify` is the one `Code` column the Shopify apps that load codes
    into a discount read (Shopify's admin generates its own and has no import); `csv` adds what the
    till needs to honour them by hand."""
    from loyaltyctl.formats.csv_output import csv_text

    if shop == "shopify":
        return csv_text(["Code"], [[v.code] for v in vouchers])
    return csv_text(["code", "value", "currency", "valid_through", "member", "reward"],
                    [[v.code, Money(v.value, ref.currency), ref.currency, valid_through(v, ref.timezone), v.member_id,
                      v.reward] for v in vouchers])
