"""A statement written out: JSON (SPEC.md shape), CSV lines, plain text for a counter printer, HTML to email.

Pure functions of a `Statement`; the HTML is one self-contained file (inline
CSS, no external assets) that is also well-formed XML.
"""

import hashlib
import html
import textwrap
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from zoneinfo import ZoneInfo

from loyaltyctl.core.dates import cutoff, format_instant, local_date
from loyaltyctl.formats.csv_output import csv_text
from loyaltyctl.formats.shapes import tier_json
from loyaltyctl.money import display_money, format_money
from loyaltyctl.values import Statement

WIDTH = 80


def _tier_line(s: Statement) -> str | None:
    """The member's tier and what the next one takes, as the member reads it."""
    if s.tier is None:
        return None
    level, following = s.tier.level, s.tier.next_level
    line = f"{level.name or level.code}"
    if following is None:
        return line + " (top tier)"
    amount = (f"{display_money(s.tier.remaining, s.ref.currency)} more spend" if s.version.tiers.basis == "spend"
              else f"{s.tier.remaining} more {s.version.unit}")
    line += f"; {amount} to {following.name or following.code}"
    if following.perks:
        line += f" ({', '.join(following.perks)})"
    return line


def _day(s: Statement, at: int) -> str:
    return local_date(at, s.ref.timezone).isoformat()


def statement_json(s: Statement) -> dict:
    tier, next_tier = tier_json(s.tier, s.version.tiers, s.ref)

    def money(minor: int) -> str:
        return format_money(minor, s.ref.currency)

    return {
        "program": s.ref.code,
        "program_name": s.version.name,
        "member": s.member.member_id,
        "name": s.member.name,
        "card": s.member.card,
        "unit": s.version.unit,
        "from": s.start.isoformat(),
        "to": s.end.isoformat(),
        "opening_points": s.opening,
        "closing_points": s.closing,
        "available_points": s.available,
        "pending_points": s.pending,
        "entries": [{"at": format_instant(line.at, s.ref.timezone), "kind": line.kind, "points": line.points,
                     "balance": line.balance, "description": line.description} for line in s.lines],
        "tier": tier,
        "next_tier": next_tier,
        "expiring": [{"on": on.isoformat(), "points": points} for on, points in s.expiring],
        "rewards_available": [{"code": r.code, "name": r.name, "points": r.points, "value": money(r.value)}
                              for r in s.rewards_available],
        "saved": money(s.saved),
    }


def statement_csv(s: Statement) -> str:
    rows = [[_day(s, line.at), line.kind, line.description, line.points, line.balance] for line in s.lines]
    return csv_text(["date", "kind", "description", "points", "balance"], rows)


def summary_lines(s: Statement) -> list[tuple[str, str]]:
    """The figures under the entry lines, as (label, text), shared by text and HTML."""
    unit, currency = s.version.unit, s.ref.currency
    tier_line = _tier_line(s)
    pairs = [(f"Available on {s.end}", f"{s.available} {unit}" + (f" ({s.pending} pending)" if s.pending else ""))]
    if tier_line:
        pairs.append(("Tier", tier_line))
    for on, points in s.expiring:
        pairs.append(("Expiring", f"{points} {unit} on {on}"))
    rewards = ", ".join(f"{r.name} ({r.points} {unit})" for r in s.rewards_available)
    pairs.append((f"Rewards within reach on {s.end}", rewards or "none yet"))
    pairs.append((f"Saved up to {s.end}", display_money(s.saved, currency)))
    return pairs


def statement_text(s: Statement) -> str:
    """Plain text that fits 80 columns, for a counter printer."""
    unit = s.version.unit
    out = [s.version.name, f"Statement {s.start} to {s.end}", ""]
    who = f"{s.member.name} ({s.member.member_id})" if s.member.name else s.member.member_id
    out.append(f"Member: {who}" + (f"   Card: {s.member.card}" if s.member.card else ""))
    out.append("-" * WIDTH)
    out.append(f"{'Date':<11}{'Description':<45}{unit.capitalize():>12}{'Balance':>12}")
    out.append(f"{s.start.isoformat():<11}{'Opening balance':<45}{'':>12}{s.opening:>12}")
    for line in s.lines:
        description = textwrap.shorten(line.description, 44, placeholder="...")
        out.append(f"{_day(s, line.at):<11}{description:<45}{line.points:>+12}{line.balance:>12}")
    out.append(f"{s.end.isoformat():<11}{'Closing balance':<45}{'':>12}{s.closing:>12}")
    out.append("-" * WIDTH)
    for label, text in summary_lines(s):
        out.extend(textwrap.wrap(f"{label}: {text}", WIDTH, subsequent_indent="  "))
    return "\n".join(out) + "\n"


_CSS = """
body { font-family: Helvetica, Arial, sans-serif; color: #222; max-width: 44em; margin: 2em auto; }
h1 { font-size: 1.4em; margin-bottom: 0; } .period { color: #555; margin-top: 0.2em; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.5em; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; border-bottom: 2px solid #222; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.3em 1em; }
dt { font-weight: bold; } dd { margin: 0; }
@media print { body { margin: 0; max-width: none; } @page { size: auto; margin: 15mm; } }
"""


def statement_html(s: Statement) -> str:
    """One self-contained HTML page (inline CSS), readable printed on A4 or Letter."""
    e = html.escape
    unit = e(s.version.unit)
    rows = [f'<tr class="total"><td>{s.start}</td><td>Opening balance</td><td class="num"></td>'
            f'<td class="num">{s.opening}</td></tr>']
    for line in s.lines:
        rows.append(f'<tr><td>{_day(s, line.at)}</td><td>{e(line.description)}</td>'
                    f'<td class="num">{line.points:+d}</td><td class="num">{line.balance}</td></tr>')
    rows.append(f'<tr class="total"><td>{s.end}</td><td>Closing balance</td><td class="num"></td>'
                f'<td class="num">{s.closing}</td></tr>')
    who = e(f"{s.member.name} ({s.member.member_id})" if s.member.name else s.member.member_id)
    card = f" &#183; card {e(s.member.card)}" if s.member.card else ""
    facts = "\n".join(f"<dt>{e(label)}</dt><dd>{e(text)}</dd>" for label, text in summary_lines(s))
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
<title>{e(s.version.name)}: statement {s.start} to {s.end}</title>
<style>{_CSS}</style>
</head>
<body>
<h1>{e(s.version.name)}</h1>
<p class="period">Statement for {who}{card}, {s.start} to {s.end}</p>
<table>
<thead><tr><th>Date</th><th>Description</th><th class="num">{unit}</th><th class="num">Balance</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody>
</table>
<dl>
{facts}
</dl>
</body>
</html>
"""


def period_label(s: Statement) -> str:
    """`October 2025` for a whole month, `2025-10-01 to 2025-10-15` otherwise."""
    if s.start.day == 1 and (s.end + timedelta(days=1)).day == 1 and (s.start.year, s.start.month) == (
            s.end.year, s.end.month):
        return s.start.strftime("%B %Y")
    return f"{s.start} to {s.end}"


def statement_email(s: Statement, sender: str) -> bytes | None:
    """An RFC 5322 message with text and HTML alternatives; None for a member without an email address.

    The same statement gives the same bytes, whenever it is written: the Date is the end of the period
    (midnight after its last day, in the program's time zone), and the Message-ID and the MIME boundary
    derive from the program, member, period and what the statement says. So a mailer sending the files
    that are new or changed sends none twice, one message sent twice is one message to the member's mail
    client, and a statement a correction changed is a new message, not one a client drops as seen."""
    if not s.member.email:
        return None
    text = statement_text(s)
    identity = hashlib.sha256(f"{s.ref.code}\x00{s.member.member_id}\x00{s.start}\x00{s.end}\x00{text}".encode()
                              ).hexdigest()
    message = EmailMessage()
    message["Subject"] = f"{s.version.name}: your statement for {period_label(s)}"
    message["From"] = sender
    message["To"] = formataddr((s.member.name, s.member.email))
    message["Date"] = format_datetime(datetime.fromtimestamp(cutoff(s.end, s.ref.timezone), ZoneInfo(s.ref.timezone)))
    message["Message-ID"] = f"<stmt-{identity[:24]}@{sender.rpartition('@')[2]}>"  # short: one line, unfolded
    message.set_content(text)
    message.add_alternative(statement_html(s), subtype="html")
    message.set_boundary(f"=_statement_{identity[:32]}")
    return bytes(message)
