"""One exception hierarchy; the only place exit codes are chosen (SPEC.md).

0 done, 1 refused by a rule, 2 bad usage or bad input file, 3 import finished
with rejected rows (chosen by the import commands, not raised), 130 stopped by
Ctrl-C (128 + SIGINT, as shells report it).
"""

from typing import ClassVar

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_BAD_INPUT = 2
EXIT_REJECTED_ROWS = 3
EXIT_INTERRUPTED = 130


class LoyaltyError(Exception):
    """Stops a command with a one-line message and an exit code."""

    exit_code: ClassVar[int] = EXIT_REFUSED


class Refused(LoyaltyError):
    """A rule refused the request: short balance, unknown member, closed period."""

    exit_code = EXIT_REFUSED


class Contended(Refused):
    """Two writers crossed (a deadlock, a serialization failure, two first uses of one key): nothing was
    written, and the same call can run again (the library does, a few times, before it says so)."""


class Interrupted(LoyaltyError):
    """Ctrl-C stopped a command; the message says what was written and what was not."""

    exit_code = EXIT_INTERRUPTED


NOTHING_WRITTEN = "nothing was written"  # what Ctrl-C left, said after "interrupted: " where it is so


class BadInput(LoyaltyError):
    """Bad usage or a bad input file: invalid TOML, unreadable CSV, wrong database."""

    exit_code = EXIT_BAD_INPUT


class InvalidProgram(BadInput):
    """A program file with one or more problems, all reported at once."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))
