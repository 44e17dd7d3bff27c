"""loyaltyctl: run a customer loyalty program from a terminal, or from Python.

    import loyaltyctl
    with loyaltyctl.connect("loyalty.db") as ledger:
        ledger.earn("cafe", "M001", 120, reason="sale", key="till3-0042")

See `loyaltyctl.api` for the Ledger's methods and `loyaltyctl.results` for what they return.
"""

import importlib

from loyaltyctl.errors import BadInput, Contended, InvalidProgram, Refused
from loyaltyctl.errors import LoyaltyError as Error

__version__ = "0.1.0"
__all__ = ["BadInput", "Contended", "Error", "InvalidProgram", "Ledger", "Refused", "connect", "copy"]


def __getattr__(name: str):
    """`connect`, `copy`, `Ledger` and the modules of what they return (`results`, `values`), imported when
    first asked for (the command line pays only for what its command uses)."""
    if name in ("connect", "copy", "Ledger"):
        from loyaltyctl import api

        return getattr(api, name)
    if name in ("results", "values"):
        return importlib.import_module(f"loyaltyctl.{name}")
    raise AttributeError(f"module 'loyaltyctl' has no attribute {name!r}")
