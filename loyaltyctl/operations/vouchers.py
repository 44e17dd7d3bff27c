"""Vouchers: issued by redeeming a voucher reward, used once at the till, listed and exported; the points
of an unused voucher whose reward says so come back when it expires (posted by `expire`)."""

from datetime import date

from msgspec import Struct

from loyaltyctl.values import VoucherList
from loyaltyctl import clock
from loyaltyctl.core.dates import cutoff, local_date, utc_now_instant
from loyaltyctl.core.posting import Book, debit_reversal
from loyaltyctl.core.vouchers import RANDOM_SYMBOLS, STATUSES, Voucher, expiry, new_code, parse_code
from loyaltyctl.errors import BadInput, Refused
from loyaltyctl.model import Reward
from loyaltyctl.money import amount_option, order_share, plain_decimal
from loyaltyctl.operations.posting import Poster
from loyaltyctl.storage import periods, programs
from loyaltyctl.storage import vouchers as store
from loyaltyctl.storage.db import Store, write
from loyaltyctl.storage.ledger import NewEntry


def issue_voucher(db: Store, ref: programs.ProgramRef, reward: Reward, member: tuple[int, str], entry: int,
                  at: int) -> Voucher:
    """The voucher a redemption of `reward` issues (inside the redemption's write transaction)."""
    import secrets  # here: the counter's other commands never pay for it

    code = new_code(secrets.token_bytes(RANDOM_SYMBOLS))  # 55 random bits: codes are unique in the database,
    # and a clash (all but impossible) fails the posting as a race would: the same command can run again
    voucher = Voucher(code, member[0], member[1], reward.code, entry, reward.points, reward.value, at,
                      expiry(at, reward.voucher_days, ref.timezone),
                      reward.return_points_on_expiry, reward.percent)
    store.insert_voucher(db, ref.id, voucher)
    return voucher


def _lookup(db: Store, text: str) -> tuple[str, Voucher]:
    """(program code, voucher) of a code as typed, in whichever program holds it: codes are unique in the
    database."""
    try:
        code = parse_code(text)
    except ValueError as error:
        raise BadInput(str(error)) from None
    found = store.fetch_voucher(db, code)
    if found is None:
        raise Refused(f"no voucher {code}")
    return found


def _find(db: Store, ref: programs.ProgramRef, text: str) -> Voucher:
    program, voucher = _lookup(db, text)
    if program != ref.code:
        raise Refused(f"voucher {voucher.code} belongs to program {program!r}, not {ref.code!r}")
    return voucher


def find_voucher(db: Store, program: str | None, text: str) -> tuple[programs.ProgramRef, Voucher, int]:
    """The voucher of a code in the program (None: the program that holds it), and the instant it is
    looked at (now)."""
    if program is None:
        program, voucher = _lookup(db, text)
        ref = programs.fetch_program_ref(db, program)
    else:
        ref = programs.fetch_program_ref(db, program)
        voucher = _find(db, ref, text)
    return ref, voucher, utc_now_instant(clock.now())


class VoucherUse(Struct, frozen=True):
    ref: programs.ProgramRef
    voucher: Voucher
    duplicate: bool = False  # the same order used it before: nothing changed


def use_voucher(db: Store, program: str | None, text: str, order: str | None = None, at: str | None = None,
                order_amount: str | None = None) -> VoucherUse:
    """Mark a voucher used, once, on an order of `order_amount` if given: it takes off its value, or its
    percent of the order up to its value, never more than the order (the rest of its value is breakage).
    The same --order again changes nothing; any other second use is refused, as is a use before it was
    issued, after it expired or was cancelled, or in a closed period, and a percent of the order under
    the smallest coin. `program` None: the program the code's voucher belongs to."""
    program = program or _lookup(db, text)[0]  # a till that has only the code
    with write(db, program):
        ref = programs.fetch_program_ref(db, program)
        instant = clock.at_or_now(at, ref.timezone)
        voucher = _find(db, ref, text)
        amount = None if order_amount is None else amount_option("--order-amount", order_amount, ref.currency)
        if voucher.percent is not None and amount is None and voucher.used_at is None:
            raise BadInput(f"voucher {voucher.code} takes {plain_decimal(voucher.percent)}% off the order: "
                           "give --order-amount")
        day = lambda t: local_date(t, ref.timezone)  # noqa: E731
        if voucher.used_at is not None:
            if order is not None and voucher.order == order:
                return VoucherUse(ref, voucher, duplicate=True)
            where = f" for order {voucher.order}" if voucher.order else ""
            raise Refused(f"voucher {voucher.code} was already used on {day(voucher.used_at)}{where}")
        if instant < voucher.issued_at:
            raise Refused(f"voucher {voucher.code} was issued on {day(voucher.issued_at)}, after {day(instant)}")
        if voucher.points_returned:  # at any date: a use dated before the return would spend what came back
            raise Refused(f"voucher {voucher.code} expired on {day(voucher.expires_at)} and its points were "
                          "given back")
        if voucher.reversed_at is not None:
            raise Refused(f"voucher {voucher.code} was cancelled on {day(voucher.reversed_at)} "
                          "(its redemption was reversed)")
        if voucher.status(instant) == "expired":
            raise Refused(f"voucher {voucher.code} expired on {day(voucher.expires_at)}")
        if (closed := periods.fetch_closed_through(db, ref.id)) and closed.covers(instant):
            raise Refused(closed.refusal(instant, "a voucher use"))
        taken = voucher.worth(amount)
        if voucher.percent is not None:
            order_share("--order-amount", order_amount, taken, voucher.percent)
        store.insert_use(db, voucher.code, instant, order, taken)
        return VoucherUse(ref, _find(db, ref, voucher.code))


def list_vouchers(db: Store, program: str, status: str | None = None, as_of: date | None = None) -> VoucherList:
    """The program's vouchers issued by the end of a day (default today), as they stood then, of one
    status if given."""
    if status is not None and status not in STATUSES:
        raise BadInput(f"--status must be one of {', '.join(STATUSES)}, got {status!r}")
    ref = programs.fetch_program_ref(db, program)
    as_of = as_of or clock.today_in(ref.timezone)
    before = cutoff(as_of, ref.timezone)
    vouchers = store.fetch_vouchers(db, ref.id, issued_before=before)
    return VoucherList(ref, as_of, before - 1, [v for v in vouchers if status is None or v.status(before - 1) == status])


def refuse_reversal(voucher: Voucher, at: int, timezone: str) -> None:
    """A voucher's redemption is reversed only while the voucher is unused and, unless its points come
    back on expiry, not expired: reversing it cancels the voucher (or gives back an expired one's points)."""
    if voucher.used_at is not None:  # at any date: a reversal dated before the use would undo a spent voucher
        raise Refused(f"entry {voucher.entry} issued voucher {voucher.code}, used on "
                      f"{local_date(voucher.used_at, timezone)}: its points were spent")
    if voucher.status(at) == "expired" and not voucher.returns_points:
        raise Refused(f"entry {voucher.entry} issued voucher {voucher.code}, which expired unused on "
                      f"{local_date(voucher.expires_at, timezone)}: its value is breakage")


def post_returns(db: Store, ref: programs.ProgramRef, poster: Poster, before: int) -> list[Voucher]:
    """Give back the points of every voucher whose reward returns them, expired unused before an instant:
    the reversal of its redemption, dated its expiry (what of the points' lots has expired gives nothing)."""
    due = [v for v in store.fetch_vouchers(db, ref.id) if v.awaits_return(before - 1) and v.reversed_at is None]
    returned = []
    for voucher in due:
        def reversal(book: Book, voucher: Voucher = voucher) -> list[NewEntry]:
            points = debit_reversal(book, voucher.entry, voucher.expires_at)
            return [NewEntry(voucher.member, "reverse", points, voucher.expires_at, key=f"voucher-return:{voucher.code}",
                             reason=f"voucher {voucher.code} expired unused: points returned", reward=voucher.reward,
                             money=-voucher.value, ref=voucher.entry)] if points else []

        if poster.post([voucher.member], voucher.expires_at, reversal, about=[voucher.entry]):
            returned.append(voucher)
    return returned
