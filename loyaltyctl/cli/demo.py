"""`loyaltyctl demo`: the sample programs end to end on a fresh database."""

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from loyaltyctl import render
from loyaltyctl.api import Ledger, connect
from loyaltyctl.cli.common import command, settings
from loyaltyctl.formats.accounting import liability_view, rollforward_view
from loyaltyctl.formats.program_toml import load_program
from loyaltyctl.formats.statements import statement_html, statement_text
from loyaltyctl.money import Money, plain_decimal
from loyaltyctl.private_files import make_folder
from loyaltyctl.samples import samples_dir


demo_app = typer.Typer()


@command(demo_app, "demo")
def demo(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", metavar="PATH", show_default=False,
                                           help="Database: a file (default ./demo.db) or a postgresql:// URL.")] = None,
) -> None:
    """The sample programs end to end, on a database of their own.

    Applies them, imports members and transactions, posts, and shows balances and reports."""
    location = db or settings(ctx).db or "demo.db"
    database = settings(ctx).opened = connect(location, create=True)  # the command's connection (Ctrl-C asks it)
    path = Path("demo.db") if "://" in location else Path(location)  # names the rejects and statements folders
    rejects_dir = path.with_name(f"{path.stem}.rejects")
    console = render.out()
    console.rule(f"loyaltyctl demo on {database.location}")
    samples = samples_dir()
    files = sorted(samples.glob("*.toml"))
    make_folder(rejects_dir)
    for result in database.apply_programs([load_program(f) for f in files]):
        console.print(f"program [bold]{result.code}[/]: version {result.version}, {result.status}")
        members_csv = samples / f"{result.code}.members.csv"
        imported = database.import_members(result.code, members_csv, reject_file=rejects_dir / members_csv.name).as_json()
        line = f"  members: {imported['added']} added, {imported['updated']} updated, {imported['unchanged']} unchanged"
        if imported["rejected"]:
            line += f", {imported['rejected']} rejected (see {imported['reject_file']})"
        if imported["signup_bonus_points"]:
            line += f"; signup bonuses {imported['signup_bonus_points']} points"
        console.print(line)
    _pay_memberships(database, console)
    _import_transactions(database, console, samples, rejects_dir)
    _import_exports(database, console, samples, rejects_dir)
    _ledger_tour(database, console)
    _bonuses(database, console, samples, rejects_dir)
    _tiers_and_quote(database, console)
    _partners_and_donations(database, console)
    _statements(database, console, path.with_name(f"{path.stem}.statements"))
    _accounting(database)
    verified = database.verify()
    console.print(f"db verify: {'hash chain intact, balances reconcile' if verified.ok else 'PROBLEMS: ' + '; '.join(verified.problems)}")


def _import_transactions(database: Ledger, console, samples: Path, rejects_dir: Path) -> None:
    """Each sample's transactions CSV, with its deliberately bad rows going to a reject file."""
    rows = []
    for csv_path in sorted(samples.glob("*.transactions.csv")):
        program = csv_path.name.removesuffix(".transactions.csv")
        summary = database.import_transactions(program, csv_path, reject_file=rejects_dir / csv_path.name)
        rows.append((program, summary.rows, summary.imported, summary.duplicates, summary.rejected,
                     summary.points_earned, summary.points_clawed_back, summary.without_membership,
                     summary.bonus_points))
    render.show(render.Grid(f"Transactions imported (bad rows: {rejects_dir}/)",
                               ["program", "rows", "new", "dupes", "bad", "earned", "clawed", "unpaid",
                                "referral"], rows))


# One sample export per built-in source. Square's item and transactions exports list the same payments, so
# a shop loads one of them for a period: the transactions sample is October's, the items sample November's.
SAMPLE_EXPORTS = (("shopify", "shopify_orders.csv"), ("square-items", "square_item_sales.csv"),
                  ("square", "square_transactions.csv"), ("stripe", "stripe_payments.csv"))


def _import_exports(database: Ledger, console, samples: Path, rejects_dir: Path) -> None:
    """The roastery's sales as Shopify, Square and Stripe export them, loaded without an edit; its
    customers are found by email in one system and by Square customer id (their card) in another."""
    rows = []
    for source, name in SAMPLE_EXPORTS:
        summary = database.import_transactions("roastery", samples / "exports" / name, source=source,
                                               reject_file=rejects_dir / name, create_members=True)
        rows.append((source, summary.rows, summary.transactions, summary.duplicates, summary.skipped,
                     summary.rejected, summary.points_earned, summary.points_clawed_back))
    render.show(render.Grid("roastery: sales exports as each system writes them (txn import --source)",
                               ["source", "rows", "new", "dupes", "skipped", "bad", "earned", "clawed"], rows))


def _ledger_tour(database: Ledger, console) -> None:
    """A few postings at the beauty club (with keys, so a re-run posts nothing) and the balances they leave."""
    program = "beauty-club"
    database.earn(program, "M001", 180, reason="welcome back visit", key="demo-1", at="2026-09-14T11:00")
    database.earn(program, "M002", 130, reason="spring order", key="demo-2", at="2026-04-02T16:20")
    database.redeem(program, "M001", reward="ten-off", key="demo-3", at="2026-10-01T12:00")
    database.redeem(program, "M002", reward="donate-ten", key="demo-4", at="2026-10-03T09:00")
    database.transfer(program, "M001", "M003", 30, key="demo-5", at="2026-10-05T10:00")
    database.adjust(program, "M003", -5, reason="duplicate scan", key="demo-6", at="2026-10-06T10:00")
    gift = database.redeem(program, "M004", reward="gift-15", key="demo-7", at="2026-10-10T15:00")
    database.use_voucher(program, gift.voucher.code, order="POS-1042", at="2026-10-12T11:30")
    database.expire(program)
    balances = [database.balance(program, member) for member in ("M001", "M002", "M003")]
    names = {standing.member.member_id: standing.member for standing in database.members(program)}
    render.show(
        render.Grid(
            f"Balances in {program} after a few postings",
            ["member", "name", "points", "available", "pending", "next expiry"],
            [
                (b.member, names[b.member].name, b.points, b.available, b.pending,
                 f"{b.expiring[0].points} on {b.expiring[0].on}" if b.expiring else "")
                for b in balances
            ],
        )
    )
    render.show(f"voucher {gift.voucher.code}: M004's $15 gift voucher (150 points on 2026-10-10), used at the till "
                "on 2026-10-12 for order POS-1042")


def _pay_memberships(database: Ledger, console) -> None:
    """The co-op sells a $20 lifetime membership; most members paid it the day they joined, every 8th did not."""
    program = "outdoor-coop"
    members = [standing.member for standing in database.members(program)]
    paid = [m for m in members if int(m.member_id[1:]) % 8]
    for member in paid:
        database.pay_membership(program, member.member_id, at=member.joined.isoformat(),
                                key=f"demo-membership-{member.member_id}")
    console.print(f"{program}: {len(paid)} members paid the membership fee when they joined, "
                  f"{len(members) - len(paid)} did not (their purchases earn nothing)")


def _bonuses(database: Ledger, console, samples: Path, rejects_dir: Path) -> None:
    """A birthday run (the cafe's 29 February member is paid on 28 February 2026) and a campaign grant."""
    run = database.birthdays("corner-cafe", date(2026, 2, 28))
    console.print(f"corner-cafe birthday bonuses for {run.day}: {run.points} stamps to {run.members} member(s)"
                  + (f" ({run.already_paid} already paid)" if run.already_paid else ""))
    grants = samples / "beauty-club.grants.csv"
    grant = database.grant_bonuses("beauty-club", grants, reject_file=rejects_dir / grants.name,
                                   at="2026-10-20T12:00")
    console.print(f"beauty-club campaign grant: {grant.granted} granted ({grant.points_granted} points), "
                  f"{grant.duplicates} duplicates, {grant.rejected} rejected")


def _tiers_and_quote(database: Ledger, console) -> None:
    """Fashion-house members by tier today, and what the top member would earn on a new-season purchase."""
    program = "fashion-house"
    details = [database.member(program, standing.member.member_id)[0] for standing in database.members(program)]
    by_tier = Counter(d.tier.level.code for d in details)
    levels = details[0].version.tiers.levels
    render.show(render.Grid(f"{program} members by tier today", ["tier", "multiplier", "members"],
                               [(level.name, str(level.multiplier), by_tier[level.code]) for level in levels]))
    top = max(details, key=lambda d: (d.tier.level.threshold, d.member.member_id))
    result = database.quote(program, top.member.member_id, "120.00", category="new-season")
    earning = result.earning
    console.print(f"quote at the counter: {top.member.name} ({top.tier.level.name}) buying £120.00 of new-season: "
                  f"120.00 x {earning.category_factor} (new-season) x {earning.tier_factor} (tier) "
                  f"= {plain_decimal(earning.unrounded)} -> {earning.points} points")


def _partners_and_donations(database: Ledger, console) -> None:
    ref, period, lines = database.partners("outdoor-coop", date(2025, 6, 1), date(2026, 10, 31))
    render.show(render.Grid(
        f"What partners owe outdoor-coop, {period.start} to {period.end}",
        ["partner", "purchases", "net points", "value"],
        [(p.name, p.purchases, p.net_points, Money(p.value, ref.currency)) for p in lines]))
    ref, period, gifts = database.donations("beauty-club", period.start, period.end)
    render.show(render.Grid(
        f"Donations at beauty-club, {period.start} to {period.end}", ["charity", "donations", "points", "value"],
        [(d.charity, d.donations, d.points, Money(d.value, ref.currency)) for d in gifts]))


def _accounting(database: Ledger) -> None:
    """What the accountant sees: the beauty club's points liability at the end of October, and the year's roll-forward."""
    liability = database.liability("beauty-club", date(2026, 10, 31))
    render.show(*liability_view(liability).blocks[:4])  # the title and the figures, not the parameters
    ref, rolled = database.rollforward("beauty-club", date(2026, 1, 1), date(2026, 10, 31))
    render.show(*rollforward_view(ref.code, rolled).blocks[:2])


def _statements(database: Ledger, console, out_dir: Path) -> None:
    """M001's October statement at the beauty club as a counter would print it, and October's batch as HTML."""
    statement = database.statement("beauty-club", "M001", date(2026, 10, 1), date(2026, 10, 31))
    console.print(statement_text(statement), end="", markup=False, highlight=False)
    batch = database.write_statements("beauty-club", date(2026, 10, 1), date(2026, 10, 31), out_dir, "html",
                                      statement_html)
    console.print(f"October statements: {batch.written} HTML files and {batch.index.name} in {out_dir}/ "
                  f"({batch.skipped_inactive} members without activity or points skipped)")
