# Two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv when missing and installs the package with what it needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-slow clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,postgres]'
	touch $(STAMP)

demo: $(STAMP)
	rm -rf demo.db demo.db-wal demo.db-shm demo.statements
	$(BIN)/loyaltyctl demo --db demo.db

test: $(STAMP)
	$(BIN)/python -m pytest -q

# The reference model's 2,000 random sequences (make test runs 25): before a release, not in CI.
test-slow: $(STAMP)
	REFERENCE_EXAMPLES=2000 $(BIN)/python -m pytest -q -p no:randomly tests/property/test_reference_model.py

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm demo.rejects demo.statements .pytest_cache
