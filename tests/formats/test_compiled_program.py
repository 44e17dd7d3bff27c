import hashlib
import json

import msgspec
import pytest

from loyaltyctl.formats.compiled_program import COMPILED_FORMAT, compile_program, read_compiled
from loyaltyctl.formats.program_toml import load_program
from loyaltyctl.model import Program
from loyaltyctl.samples import samples_dir

# Program's shape (fields, types, defaults) when COMPILED_FORMAT was last set. A compiled form keeps the
# shape that wrote it: when this changes, move COMPILED_FORMAT on and add a migration (any step will do:
# the versions are compiled again after migrating), then record the new shape here.
SHAPE_OF_PROGRAM = "fd48901eb5d279ad"


def test_programs_shape_is_the_one_its_compiled_format_was_set_for():
    schema = json.dumps(msgspec.json.schema(Program), sort_keys=True)
    assert hashlib.sha256(schema.encode()).hexdigest()[:16] == SHAPE_OF_PROGRAM, (
        f"Program changed shape: move COMPILED_FORMAT ({COMPILED_FORMAT}) on, see the comment above")


@pytest.mark.parametrize("path", sorted(samples_dir().glob("*.toml")), ids=lambda path: path.stem)
def test_every_sample_program_reads_back_from_its_compiled_form_as_parsed(path):
    program = load_program(path)
    assert read_compiled(compile_program(program), COMPILED_FORMAT) == program


def test_a_form_of_another_format_or_one_that_does_not_decode_is_not_read():
    program = load_program(samples_dir() / "corner-cafe.toml")
    assert read_compiled(compile_program(program), "program/0") is None
    assert read_compiled(None, None) is None
    assert read_compiled('{"code": "corner-cafe"}', COMPILED_FORMAT) is None  # required fields missing
