"""Closing a period: post the expiries due in it, record what it closed at, and refuse postings into it after."""

import time
from datetime import date

from msgspec import Struct

from loyaltyctl.storage.db import Store

from loyaltyctl import clock
from loyaltyctl.core.dates import cutoff
from loyaltyctl.errors import Refused
from loyaltyctl.money import points_value
from loyaltyctl.operations.posting import posting
from loyaltyctl.operations.seals import seal
from loyaltyctl.operations.vouchers import post_returns
from loyaltyctl.operations.definitions import program_versions
from loyaltyctl.storage import periods as store
from loyaltyctl.storage import programs
from loyaltyctl.storage.db import write
from loyaltyctl.storage.reports import points_before


class Closed(Struct, frozen=True):
    ref: programs.ProgramRef
    close: store.Close
    already: bool = False  # the period was closed before (through this day or later): nothing done


def close_period(db: Store, program: str, through: date) -> Closed:
    """Close a program's books through the end of a day that is over.

    Posts the expiries due by then first, so the closed period's figures are
    all in the ledger, then records the closing points and liability. Closing
    a day already closed (or covered by a later close) does nothing.
    """
    ref = programs.fetch_program_ref(db, program)
    today = clock.today_in(ref.timezone)
    if through >= today:
        raise Refused(f"--through {through} has not ended yet ({ref.timezone} date is {today}); "
                      "only days that are over can be closed")
    with write(db, program):
        latest = store.fetch_closes(db, ref.id)
        if latest and latest[-1].through >= through:
            return Closed(ref, latest[-1], already=True)
        before = cutoff(through, ref.timezone)
        with posting(db, ref) as poster:
            posted = poster.expire_due(before)
            post_returns(db, ref, poster, before)  # an expired voucher's points come back before the books close
        seal(db, ref)
        points = points_before(db, ref.id, before)
        value = points_value(points, program_versions(db, program).on(through).point_value, ref.currency)
        close = store.Close(through, before, len(posted), points, value, int(time.time()))
        store.insert_close(db, ref.id, close)
    return Closed(ref, close)


def list_periods(db: Store, program: str) -> tuple[programs.ProgramRef, list[store.Close]]:
    ref = programs.fetch_program_ref(db, program)
    return ref, store.fetch_closes(db, ref.id)
