"""Program definitions in TOML: parse, validate, and write back.

`parse_program` returns every problem it finds (file, line, key path), so an
owner fixes a file in one pass. `dump_program` writes the canonical TOML that
`program export` prints and that program versions are stored as; parsing it
gives back an equal `Program`.
"""

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from msgspec.structs import asdict, replace

from loyaltyctl.core.dates import supported_day
from loyaltyctl.core.members import is_email
from loyaltyctl.formats.toml_tables import (
    Section,
    as_boolean,
    as_choice,
    as_text,
    as_texts,
    as_timezone,
    parse_checked,
    type_name,
)
from loyaltyctl.errors import BadInput
from loyaltyctl.model import (
    PACKAGES,
    Accounting,
    Action,
    Bonuses,
    EarnRules,
    Expiry,
    Membership,
    Multiplier,
    Partner,
    Program,
    Promotion,
    Reward,
    TierLevel,
    Tiers,
)
from loyaltyctl.money import format_money, is_currency, parse_decimal, to_minor

CODE_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
ACCOUNT_PATTERN = re.compile(r"(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+")
# -- value converters: each takes a raw TOML value and returns it or raises ValueError


UNIT_PATTERN = re.compile(r'[^"\\;\x00-\x1f\x7f]{1,30}')


def _email(value: Any) -> str:
    text = as_text(value)
    if not is_email(text):
        raise ValueError(f"{text!r} is not an email address")
    return text


def _unit(value: Any) -> str:
    """What points are called. It goes into journal narrations (a quoted string in beancount, the rest of
    the line in hledger, where `;` starts a comment), so quotes, backslashes, `;` and line breaks are out."""
    text = as_text(value)
    if not UNIT_PATTERN.fullmatch(text):
        raise ValueError(f'{text!r} must be at most 30 characters, without quotes, backslashes, ";" or line breaks')
    return text


def _code(value: Any) -> str:
    text = as_text(value)
    if not CODE_PATTERN.fullmatch(text):
        raise ValueError(f"{text!r} must use only a-z, 0-9 and '-'")
    return text


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise ValueError(f"must be a decimal number written as a string, not {type_name(value)}")
    if isinstance(value, str):
        try:
            return parse_decimal(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a decimal number (write it like \"1.5\")") from None
    return Decimal(value)


def _non_negative(value: Any) -> Decimal:
    number = _decimal(value)
    if number < 0:
        raise ValueError(f"must not be negative, got {number}")
    return number


def _positive(value: Any) -> Decimal:
    number = _decimal(value)
    if number <= 0:
        raise ValueError(f"must be greater than 0, got {number}")
    return number


def _fraction(value: Any) -> Decimal:
    number = _decimal(value)
    if not 0 <= number <= 1:
        raise ValueError(f"must be between 0 and 1, got {number}")
    return number


def _percent(value: Any) -> Decimal:
    number = _decimal(value)
    if not 0 < number <= 100:
        raise ValueError(f"must be more than 0 and at most 100, got {number}")
    return number


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"must be a whole number, not {type_name(value)}")
    if value < 0:
        raise ValueError(f"must not be negative, got {value}")
    return value


def _positive_integer(value: Any) -> int:
    number = _integer(value)
    if number == 0:
        raise ValueError("must be greater than 0")
    return number


def _date(value: Any) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, date) and not hasattr(value, "hour"):
        return supported_day(value)
    raise ValueError(f"must be a date like 2026-01-31, not {value!r}")


def _currency(value: Any) -> str:
    text = as_text(value)
    if not is_currency(text):
        raise ValueError(f"{text!r} is not an ISO 4217 currency code")
    return text


def _account(value: Any) -> str:
    text = as_text(value)
    if not ACCOUNT_PATTERN.fullmatch(text):
        raise ValueError(
            f"{text!r} is not an account name like Liabilities:Loyalty:Points "
            "(Assets|Liabilities|Equity|Income|Expenses, then segments starting with a capital or digit)"
        )
    return text


def _money(currency: str | None) -> Callable[[Any], int]:
    """Money as minor units; a currency's precision is checked once the currency is known."""

    def convert(value: Any) -> int:
        return to_minor(_non_negative(value), currency or "USD")

    return convert


def _check_unique(sections: list[Section], values: list[Any], what: str) -> None:
    seen: set[Any] = set()
    for section, value in zip(sections, values):
        if value is None:
            continue
        if value in seen:
            section.problem("code", f"duplicate {what} {value!r}")
        seen.add(value)


# -- sections


def _read_earn(section: Section, money: Callable[[Any], int]) -> EarnRules:
    multipliers = []
    for item in section.tables("multipliers"):
        multipliers.append(Multiplier(item.get("category", as_text), item.get("factor", _positive)))
        item.finish()
    promotions = []
    for item in section.tables("promotions"):
        promotion = Promotion(
            name=item.get("name", as_text),
            starts=item.get("starts", _date),
            ends=item.get("ends", _date),
            factor=item.get("factor", _positive),
            categories=item.get("categories", as_texts, ()),
        )
        if promotion.starts and promotion.ends and promotion.ends < promotion.starts:
            item.problem("ends", f"{promotion.ends} is before starts {promotion.starts}")
        promotions.append(promotion)
        item.finish()
    categories = [m.category for m in multipliers]
    rules = EarnRules(
        points_per_unit=section.get("points_per_unit", _non_negative),
        rounding=section.get("rounding", as_choice("floor", "round", "ceil"), "floor"),
        min_spend=section.get("min_spend", money, 0),
        max_points_per_txn=section.get("max_points_per_txn", _integer, 0),
        max_points_per_day=section.get("max_points_per_day", _positive_integer, 0),
        max_points_per_month=section.get("max_points_per_month", _positive_integer, 0),
        exclude_categories=section.get("exclude_categories", as_texts, ()),
        points_per_visit=section.get("points_per_visit", _non_negative, Decimal(0)),
        pending_days=section.get("pending_days", _integer, 0),
        multipliers=tuple(multipliers),
        promotions=tuple(promotions),
    )
    duplicates = {c for c in categories if c and categories.count(c) > 1}
    for category in sorted(duplicates):
        section.problem("multipliers", f"category {category!r} has more than one multiplier")
    if rules.max_points_per_day and rules.max_points_per_month and rules.max_points_per_day > rules.max_points_per_month:
        section.problem("max_points_per_day", f"{rules.max_points_per_day} is above max_points_per_month "
                                              f"{rules.max_points_per_month}")
    section.finish()
    return rules


MAX_EXPIRY_MONTHS = 1200
MAX_EXPIRY_DAYS = 36500


def _days(value: Any) -> int:
    days = _positive_integer(value)
    if days > MAX_EXPIRY_DAYS:
        raise ValueError(f"must be at most {MAX_EXPIRY_DAYS} (100 years), got {days}")
    return days


def _read_expiry(section: Section) -> Expiry:
    """A points' life in `months` (calendar months, as SPEC.md counts) or in `days` (as Odoo, ERPNext and
    Open Loyalty do): one of the two, under lot and inactivity."""
    policy = section.get("policy", as_choice("none", "lot", "inactivity"))
    months = section.get("months", _positive_integer, 0)
    days = section.get("days", _days, 0)
    if "months" in section.raw and "days" in section.raw:
        section.problem("days", "give months or days, not both")
    elif policy in ("lot", "inactivity") and "months" not in section.raw and "days" not in section.raw:
        section.problem("months", f"(or days) is required when policy is {policy!r}")
    if months and months > MAX_EXPIRY_MONTHS:
        section.problem("months", f"must be at most {MAX_EXPIRY_MONTHS} (100 years), got {months}")
    section.finish()
    return Expiry(policy=policy or "none", months=months or 0, days=days or 0)


def _read_tiers(section: Section) -> Tiers:
    basis = section.get("basis", as_choice("spend", "points"), "spend")
    window = section.get("window", as_choice("calendar-year", "rolling-12-months"), "calendar-year")
    items = section.tables("levels")
    levels = []
    for item in items:
        code = item.get("code", _code)
        levels.append(
            TierLevel(
                code=code,
                name=item.get("name", as_text, code or ""),
                threshold=item.get("threshold", _non_negative),
                multiplier=item.get("multiplier", _positive, Decimal(1)),
                perks=item.get("perks", as_texts, ()),
            )
        )
        item.finish()
    if "levels" in section.raw and not items:
        section.problem("levels", "must list at least one level")
    if "levels" not in section.raw:
        section.problem("levels", "is required")
    _check_unique(items, [level.code for level in levels], "tier code")
    previous = None
    for item, level in zip(items, levels):
        if level.threshold is None:
            continue
        if previous is None and level.threshold != 0:
            item.problem("threshold", f"the first level's threshold must be 0, got {level.threshold}")
        if previous is not None and level.threshold <= previous:
            item.problem("threshold", f"{level.threshold} must be greater than the previous level's {previous}")
        if basis == "points" and level.threshold != level.threshold.to_integral_value():
            item.problem("threshold", f"{level.threshold} must be a whole number of points")
        previous = level.threshold
    section.finish()
    return Tiers(basis=basis, window=window, levels=tuple(levels))


def _read_rewards(items: list[Section], money: Callable[[Any], int]) -> tuple[Reward, ...]:
    rewards = []
    for item in items:
        kind = item.get("kind", as_choice("discount", "product", "cashback", "donation", "percent"), "discount")
        charity = item.get("charity", as_text, None)
        if kind == "donation" and charity is None and "charity" not in item.raw:
            item.problem("charity", "is required for a donation reward")
        if kind != "donation" and charity is not None:
            item.problem("charity", "is only for rewards of kind 'donation'")
        voucher = item.get("voucher", as_boolean, False)
        if voucher and kind == "donation":
            item.problem("voucher", "a donation goes to the charity, not to the till: it takes no voucher")
        for key in ("voucher_days", "return_points_on_expiry"):
            if key in item.raw and not voucher:
                item.problem(key, "is only for rewards with voucher = true")
        percent = max_value = None
        if kind == "percent":
            percent = item.get("percent", _percent)
            max_value = item.get("max_value", money, None)
            if "value" in item.raw:
                item.problem("value", "a percent reward is worth its percent of the order: cap it with max_value")
            if voucher and "max_value" not in item.raw:
                item.problem("max_value", "is required for a percent voucher: it is what the voucher counts for "
                                          "in the liability until it is used")
            value = max_value or 0
        else:
            value = item.get("value", money)
            for key in ("percent", "max_value"):
                if key in item.raw:
                    item.problem(key, "is only for rewards of kind 'percent'")
        rewards.append(
            Reward(
                code=item.get("code", _code),
                name=item.get("name", as_text),
                points=item.get("points", _positive_integer),
                value=value,
                kind=kind,
                charity=charity,
                percent=percent,
                max_value=max_value,
                voucher=voucher,
                voucher_days=item.get("voucher_days", _days, 0),
                return_points_on_expiry=item.get("return_points_on_expiry", as_boolean, False),
            )
        )
        item.finish()
    _check_unique(items, [reward.code for reward in rewards], "reward code")
    return tuple(rewards)


def _read_bonuses(section: Section, money: Callable[[Any], int]) -> Bonuses:
    bonuses = Bonuses(
        signup=section.get("signup", _integer, 0),
        birthday=section.get("birthday", _integer, 0),
        referral_referrer=section.get("referral_referrer", _integer, 0),
        referral_referee=section.get("referral_referee", _integer, 0),
        referral_min_spend=section.get("referral_min_spend", money, 0),
        first_purchase=section.get("first_purchase", _integer, 0),
        anniversary=section.get("anniversary", _integer, 0),
    )
    section.finish()
    return bonuses


def _read_membership(section: Section, money: Callable[[Any], int]) -> Membership:
    membership = Membership(
        fee=section.get("fee", money),
        term=section.get("term", as_choice("lifetime", "annual"), "lifetime"),
        required_to_earn=section.get("required_to_earn", as_boolean, False),
    )
    section.finish()
    return membership


def _read_partners(items: list[Section]) -> tuple[Partner, ...]:
    partners = []
    for item in items:
        partners.append(
            Partner(
                code=item.get("code", _code),
                name=item.get("name", as_text),
                points_per_unit=item.get("points_per_unit", _non_negative),
            )
        )
        item.finish()
    _check_unique(items, [partner.code for partner in partners], "partner code")
    return tuple(partners)


ACTION_LIMITS = ("none", "once", "per-day", "per-week", "per-month", "per-year")


def _read_actions(items: list[Section]) -> tuple[Action, ...]:
    actions = []
    for item in items:
        limit = item.get("limit", as_choice(*ACTION_LIMITS), "none")
        if "max" in item.raw and not limit.startswith("per-"):
            item.problem("max", f"is the most a member earns per period: only for limit per-day, per-week, "
                                f"per-month or per-year, not {limit!r}")
        actions.append(Action(
            code=item.get("code", _code),
            name=item.get("name", as_text),
            points=item.get("points", _positive_integer),
            limit=limit,
            max=item.get("max", _positive_integer, 1),
            needs_key=item.get("needs_key", as_boolean, False),
            kind=item.get("kind", as_choice("plain", "survey"), "plain"),
        ))
        item.finish()
    _check_unique(items, [action.code for action in actions], "action code")
    return tuple(actions)


ACCOUNT_KEYS = tuple(Accounting().accounts())
PACKAGE_SETTINGS = {"xero": {"tax_rate": as_text, "date_format": as_choice("DD/MM/YYYY", "MM/DD/YYYY")}}


def _read_accounting(section: Section) -> Accounting:
    defaults = Accounting()
    accounts = {name: section.get(name, _account, getattr(defaults, name)) for name in ACCOUNT_KEYS}
    packages = {}
    for package in PACKAGES:
        table = section.table(package)
        if table is None:
            continue
        settings = PACKAGE_SETTINGS.get(package, {})
        # names and codes in a package are free text (a Xero code is "2150")
        packages[package] = {key: table.get(key, settings.get(key, as_text)) for key in (*ACCOUNT_KEYS, *settings)
                             if key in table.raw}
        table.finish()
    section.finish()
    return Accounting(**accounts, packages=packages)


def _read_program(raw: dict[str, Any], problems: list[tuple[str, str]]) -> Program:
    root = Section(raw, "", problems)
    head = root.table("program")
    earn = root.table("earn")
    if head is None:
        root.problem("program", "the [program] table is required")
        head = Section({}, "program", [])
    if earn is None:
        root.problem("earn", "the [earn] table is required")
        earn = Section({"points_per_unit": "0"}, "earn", [])
    code, name = head.get("code", _code), head.get("name", as_text)
    currency = head.get("currency", _currency)
    money = _money(currency)
    expiry = root.table("expiry")
    tiers = root.table("tiers")
    bonuses = root.table("bonuses")
    membership = root.table("membership")
    accounting = root.table("accounting")
    program = Program(
        code=code,
        name=name,
        currency=currency,
        timezone=head.get("timezone", as_timezone),
        point_value=head.get("point_value", _non_negative),
        breakage_rate=head.get("breakage_rate", _fraction, None),
        effective_from=head.get("effective_from", _date, None),
        unit=head.get("unit", _unit, "points"),
        email=head.get("email", _email, ""),
        earn=_read_earn(earn, money),
        expiry=_read_expiry(expiry) if expiry else None,
        tiers=_read_tiers(tiers) if tiers else None,
        rewards=_read_rewards(root.tables("rewards"), money),
        bonuses=_read_bonuses(bonuses, money) if bonuses else None,
        membership=_read_membership(membership, money) if membership else None,
        partners=_read_partners(root.tables("partners")),
        accounting=_read_accounting(accounting) if accounting else None,
        actions=_read_actions(root.tables("actions")),
    )
    if program.tiers and program.tiers.basis == "spend" and currency:
        for i, level in enumerate(program.tiers.levels):
            if level.threshold is not None:
                try:
                    to_minor(level.threshold, currency)
                except ValueError as err:
                    problems.append((f"tiers.levels[{i}].threshold", str(err)))
    head.finish()
    root.finish()
    return program


def parse_program(text: str, source: str = "<program>") -> Program:
    """Parse and validate a program's TOML; InvalidProgram lists every problem found."""
    return parse_checked(text, source, _read_program)


def load_program(path: Path) -> Program:
    """Read and validate one program file."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise BadInput(f"{path}: cannot read: {err.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise BadInput(f"{path}: not UTF-8 text (byte {err.start})") from None
    return parse_program(text, str(path))


# -- writing back


def _number(value: Decimal) -> str:
    return format(value, "f")


def program_to_dict(program: Program) -> dict[str, Any]:
    """The program as a TOML-ready dict: decimals as strings, money in currency digits."""
    money = lambda minor: format_money(minor, program.currency)  # noqa: E731
    head: dict[str, Any] = {
        "code": program.code,
        "name": program.name,
        "currency": program.currency,
        "timezone": program.timezone,
        "point_value": _number(program.point_value),
    }
    if program.breakage_rate is not None:
        head["breakage_rate"] = _number(program.breakage_rate)
    if program.effective_from is not None:
        head["effective_from"] = program.effective_from
    head["unit"] = program.unit
    if program.email:  # added later: left out when not set, so the digest of a program stored before is unchanged
        head["email"] = program.email
    rules = program.earn
    earn: dict[str, Any] = {
        "points_per_unit": _number(rules.points_per_unit),
        "rounding": rules.rounding,
        "min_spend": money(rules.min_spend),
        "max_points_per_txn": rules.max_points_per_txn,
        "exclude_categories": list(rules.exclude_categories),
        "points_per_visit": _number(rules.points_per_visit),
        "pending_days": rules.pending_days,
    }
    for later in ("max_points_per_day", "max_points_per_month"):  # added later: left out when not set, so the
        if getattr(rules, later):                                  # digest of a program stored before is unchanged
            earn[later] = getattr(rules, later)
    if rules.multipliers:
        earn["multipliers"] = [{"category": m.category, "factor": _number(m.factor)} for m in rules.multipliers]
    if rules.promotions:
        earn["promotions"] = [
            {
                "name": p.name,
                "starts": p.starts,
                "ends": p.ends,
                "factor": _number(p.factor),
                "categories": list(p.categories),
            }
            for p in rules.promotions
        ]
    doc: dict[str, Any] = {"program": head, "earn": earn}
    if program.expiry is not None:
        doc["expiry"] = {"policy": program.expiry.policy}
        if program.expiry.months:
            doc["expiry"]["months"] = program.expiry.months
        if program.expiry.days:
            doc["expiry"]["days"] = program.expiry.days
    if program.tiers is not None:
        threshold = (lambda t: money(to_minor(t, program.currency))) if program.tiers.basis == "spend" else _number
        doc["tiers"] = {
            "basis": program.tiers.basis,
            "window": program.tiers.window,
            "levels": [
                {
                    "code": level.code,
                    "name": level.name,
                    "threshold": threshold(level.threshold),
                    "multiplier": _number(level.multiplier),
                    "perks": list(level.perks),
                }
                for level in program.tiers.levels
            ],
        }
    if program.rewards:
        doc["rewards"] = [
            {"code": r.code, "name": r.name, "points": r.points} | (
                {"kind": r.kind, "percent": _number(r.percent)} | (
                    {"max_value": money(r.max_value)} if r.max_value is not None else {})
                if r.kind == "percent" else {"value": money(r.value), "kind": r.kind})
            | ({"charity": r.charity} if r.charity else {})
            | ({"voucher": True} if r.voucher else {})  # added later, left out when unset: digests stay
            | ({"voucher_days": r.voucher_days} if r.voucher_days else {})
            | ({"return_points_on_expiry": True} if r.return_points_on_expiry else {})
            for r in program.rewards
        ]
    if program.bonuses is not None:
        b = program.bonuses
        doc["bonuses"] = {
            "signup": b.signup,
            "birthday": b.birthday,
            "referral_referrer": b.referral_referrer,
            "referral_referee": b.referral_referee,
            "referral_min_spend": money(b.referral_min_spend),
        }
        for later in ("first_purchase", "anniversary"):  # added later: left out when not used, so the
            if getattr(b, later):                        # digest of a program stored before them is unchanged
                doc["bonuses"][later] = getattr(b, later)
    if program.membership is not None:
        m = program.membership
        doc["membership"] = {"fee": money(m.fee), "term": m.term, "required_to_earn": m.required_to_earn}
    if program.partners:
        doc["partners"] = [
            {"code": p.code, "name": p.name, "points_per_unit": _number(p.points_per_unit)} for p in program.partners
        ]
    if program.actions:  # left out when there are none, so the digest of a program stored before them is unchanged
        defaults = Action("", "", 0)
        doc["actions"] = [{"code": a.code, "name": a.name, "points": a.points,
                           **{key: getattr(a, key) for key in ("limit", "max", "needs_key", "kind")
                              if getattr(a, key) != getattr(defaults, key)}} for a in program.actions]
    if program.accounting is not None:
        accounts = asdict(program.accounting)
        packages = accounts.pop("packages")
        for later in ("opening", "vouchers"):  # added later: left out at their defaults, so the digest of
            if accounts[later] == getattr(Accounting(), later):  # a program stored before them is unchanged
                del accounts[later]
        doc["accounting"] = accounts | {package: dict(names) for package, names in packages.items()}
    return doc


def dump_program(program: Program) -> str:
    """Canonical TOML for a program (what `program export` writes)."""
    import tomli_w  # writers only: a counter command reads programs, never writes one

    return tomli_w.dumps(program_to_dict(program))


def definition_digest(program: Program) -> str:
    """A digest of what the program does, leaving out when it takes effect.

    Two applies of the same rules compare equal even when the file leaves
    `effective_from` to default to the (different) apply dates.
    """
    import hashlib  # appliers only: OpenSSL's start-up is a tenth of a `balance`

    return hashlib.sha256(dump_program(replace(program, effective_from=None)).encode()).hexdigest()
