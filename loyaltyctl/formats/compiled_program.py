"""A stored program version as commands read it: the parsed definition, kept beside its TOML as msgspec JSON.

The TOML text stays the record (what was applied, what `program export` and `db verify` read); the
compiled form saves each command the TOML parser and the checks behind it, a fifth of a counter
command's start-up. It is tagged with the format of `Program` that wrote it: a form of another format
is not decoded (the TOML is parsed instead), and a migration compiles every version again whenever
`COMPILED_FORMAT` moves on (tests/formats/test_compiled_program.py pins `Program`'s shape to it).
"""

import msgspec

from loyaltyctl.model import Program

COMPILED_FORMAT = "program/2"


def compile_program(program: Program) -> str:
    return msgspec.json.encode(program).decode()


def compile_definition(definition: str) -> str:
    """A stored TOML definition, compiled."""
    from loyaltyctl.formats.program_toml import parse_program  # writers only: readers decode the compiled form

    return compile_program(parse_program(definition, "<stored program>"))


def read_compiled(compiled: str | None, compiled_by: str | None) -> Program | None:
    """The program a compiled form holds; None where there is none, it is of another format or it does not
    decode (the TOML is the record; `db verify` reports a form that differs from it)."""
    if compiled is None or compiled_by != COMPILED_FORMAT:
        return None
    try:
        return msgspec.json.decode(compiled, type=Program)
    except msgspec.DecodeError:
        return None
