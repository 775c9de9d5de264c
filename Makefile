# Every target that needs Python creates .venv and installs bcdr into it first,
# so `make demo` and `make test` are the only commands a new user needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BCDR   := $(VENV)/bin/bcdr

.PHONY: demo test bench faults lint fmt docs clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

test: $(VENV)/.installed
	$(PY) -m pytest -q

demo: $(VENV)/.installed
	$(PY) examples/run_demo.py

bench: $(VENV)/.installed
	$(PY) bench/snapshot.py
	$(PY) bench/engine_scale.py

faults: $(VENV)/.installed
	$(PY) bench/faults.py

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

fmt: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# docs/resources/: one reference page per resource type, from the schemas (a test fails
# while the checked-in pages are stale)
docs: $(VENV)/.installed
	$(BCDR) providers docs -out docs/resources

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
