"""Regenerate the sample members and transactions CSVs (deterministic).

    python sample_programs/generate.py

Each program gets PROGRAM.members.csv and PROGRAM.transactions.csv: realistic
rows from June 2025 to October 2026, refunds of earlier purchases, and the
deliberately bad rows listed in README.md beside this file.
"""

import csv
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
START = datetime(2025, 6, 1, 8, 0)
DAYS = 517  # to 2026-10-31

FIRST = "Ava Ben Chloe Dev Elena Farid Grace Hiro Ines Jonah Kai Lena Mateo Nia Omar Priya Quinn Rosa Sam Tara Uma Victor Wen Xavi Yara Zoe".split()
LAST = "Adams Brooks Chen Diaz Evans Fischer Garcia Haddad Ito Jensen Khan Lopez Moreau Nakamura Okafor Patel Rossi Silva Tanaka Weber".split()
MEMBER_COLUMNS = ["member_id", "name", "email", "birthday", "card", "joined", "referred_by"]
TXN_COLUMNS = ["txn_id", "member_id", "occurred_at", "amount", "category", "currency", "store", "partner", "refund_of", "description"]


@dataclass(frozen=True)
class Shape:
    code: str
    currency: str
    members: int
    purchases: int
    categories: dict[str, tuple[float, float]]  # category -> amount range
    stores: tuple[str, ...]
    partners: tuple[str, ...] = ()
    referrals: bool = False


SHAPES = (
    Shape(
        "beauty-club", "USD", 48, 330,
        {"skincare": (12, 95), "makeup": (8, 60), "haircare": (6, 45), "fragrance": (35, 150), "gift-cards": (25, 100)},
        ("Fifth Avenue", "Brooklyn Heights", "online"),
    ),
    Shape(
        "outdoor-coop", "USD", 40, 300,
        {"camping": (25, 400), "climbing": (15, 220), "clothing": (20, 180), "footwear": (60, 240), "rentals": (15, 90), "gift-cards": (25, 100)},
        ("Boulder", "Denver Union Station", "online"),
        partners=("fleet-rides", "basecamp-hostels"),
        referrals=True,
    ),
    Shape(
        "fashion-house", "GBP", 42, 320,
        {"new-season": (45, 600), "sale": (20, 220), "accessories": (15, 140), "alterations": (8, 40), "gift-cards": (25, 150)},
        ("Regent Street", "Manchester", "online"),
    ),
    Shape(
        "corner-cafe", "USD", 60, 420,
        {"coffee": (2.5, 7.5), "tea": (2.5, 6), "pastry": (2.75, 9), "beans": (14, 22)},
        ("Main St",),
        referrals=True,
    ),
)


def _members(shape: Shape, rng: random.Random) -> list[dict]:
    rows = []
    for number in range(1, shape.members + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        joined = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 540))
        birthday = date(rng.randrange(1960, 2005), rng.randrange(1, 13), rng.randrange(1, 29))
        referred_by = ""
        if shape.referrals and number > 5 and rng.random() < 0.25:
            referred_by = f"M{rng.randrange(1, number):03d}"
        rows.append(
            {
                "member_id": f"M{number:03d}",
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}{number}@example.com" if rng.random() < 0.9 else "",
                "birthday": birthday.isoformat() if rng.random() < 0.8 else "",
                "card": f"{4000_0000_0000 + number * 7919 + len(shape.code):012d}",
                "joined": joined.isoformat(),
                "referred_by": referred_by,
            }
        )
    if shape.code == "corner-cafe":
        rows[6]["birthday"] = "2000-02-29"  # paid on 28 February in other years
        rows.append({**rows[3], "member_id": "M901", "name": "Bad Birthday", "birthday": "1990-13-01", "card": "", "referred_by": ""})
        rows.append({**rows[4], "member_id": "M902", "name": "Card Twin", "birthday": "", "referred_by": ""})
    return rows


def _amount(rng: random.Random, low: float, high: float) -> str:
    return f"{rng.uniform(low, high):.2f}"


def _transactions(shape: Shape, members: list[dict], rng: random.Random) -> list[dict]:
    ids = [m["member_id"] for m in members[: shape.members]]
    purchases = []
    for _ in range(shape.purchases):
        moment = START + timedelta(days=rng.randrange(DAYS), minutes=rng.randrange(0, 12 * 60))
        category = rng.choice(list(shape.categories))
        row = {
            "member_id": rng.choice(ids),
            "occurred_at": moment.isoformat(timespec="seconds"),
            "amount": _amount(rng, *shape.categories[category]),
            "category": category,
            "currency": shape.currency,
            "store": rng.choice(shape.stores),
            "partner": "",
            "refund_of": "",
            "description": f"{category} purchase",
        }
        if shape.partners and rng.random() < 0.08:
            partner = rng.choice(shape.partners)
            row.update(partner=partner, category="partner", store=partner, description=f"{partner} booking")
        purchases.append(row)
    purchases.sort(key=lambda r: r["occurred_at"])
    prefix = shape.code.split("-")[0][:3].upper()
    for number, row in enumerate(purchases, start=1):
        row["txn_id"] = f"{prefix}-{number:05d}"
    refunds = []
    for original in rng.sample(purchases, k=max(3, len(purchases) * 3 // 100)):
        when = datetime.fromisoformat(original["occurred_at"]) + timedelta(days=rng.randrange(1, 20), hours=1)
        full = rng.random() < 0.6
        amount = original["amount"] if full else f"{float(original['amount']) / 2:.2f}"
        refunds.append(
            original
            | {
                "txn_id": f"{original['txn_id']}-R",
                "occurred_at": when.isoformat(timespec="seconds"),
                "amount": f"-{amount}",
                "refund_of": original["txn_id"],
                "description": "refund" if full else "partial refund",
            }
        )
    rows = sorted(purchases + refunds, key=lambda r: r["occurred_at"])
    # Some tills send an explicit UTC offset.
    for row in rows[::17]:
        row["occurred_at"] += "+00:00"
    return rows + _bad_rows(shape, rows, prefix)


def _bad_rows(shape: Shape, rows: list[dict], prefix: str) -> list[dict]:
    """The deliberately bad rows documented in README.md, plus one duplicate."""
    template = dict(rows[10])
    wrong_currency = "EUR" if shape.currency != "EUR" else "USD"
    bad = [
        template | {"txn_id": f"{prefix}-BAD1", "amount": "12,50", "description": "comma decimal"},
        template | {"txn_id": f"{prefix}-BAD2", "amount": "18.00.00", "description": "two decimal points"},
        template | {"txn_id": f"{prefix}-BAD3", "member_id": "M999", "description": "unknown member"},
        template | {"txn_id": f"{prefix}-BAD4", "amount": "-5.00", "refund_of": f"{prefix}-99999", "description": "refund of unknown txn"},
        template | {"txn_id": f"{prefix}-BAD5", "currency": wrong_currency, "description": "wrong currency"},
        template | {"txn_id": f"{prefix}-BAD6", "occurred_at": "31/12/2025 10:00", "description": "bad date"},
        template | {"txn_id": f"{prefix}-BAD7", "amount": "1e3", "description": "exponent amount"},
        dict(rows[20]),  # an exact repeat of an earlier row: a duplicate, not a reject
    ]
    if shape.partners:
        bad.append(template | {"txn_id": f"{prefix}-BAD8", "partner": "moon-taxis", "description": "unknown partner"})
    return bad


def _write(path: Path, columns: list[str], rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, columns)
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    for shape in SHAPES:
        rng = random.Random(shape.code)
        members = _members(shape, rng)
        _write(HERE / f"{shape.code}.members.csv", MEMBER_COLUMNS, members)
        _write(HERE / f"{shape.code}.transactions.csv", TXN_COLUMNS, _transactions(shape, members, rng))


if __name__ == "__main__":
    main()
