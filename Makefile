# Every target that needs Python creates .venv and installs bcdr into it first,
# so `make demo` and `make test` are the only commands a new user needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BCDR   := $(VENV)/bin/bcdr

.PHONY: demo test bench faults lint fmt docs clean

# Azurite (the Azure Blob emulator the tests run against), from npm into .azurite/
AZURITE_VERSION := 3.35.0
AZURITE := .azurite/node_modules/.bin/azurite-blob

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# compat: the checkout on sys.path through one .pth line; the default editable mode's
	# import hook costs every Python start (each bcdr command) about 30 ms
	$(PY) -m pip install --quiet -e '.[test]' --config-settings editable_mode=compat
	touch $@

$(AZURITE):
	npm install --prefix .azurite --no-audit --no-fund --loglevel=error azurite@$(AZURITE_VERSION)

# the tests start Azurite on 127.0.0.1 themselves (tests/azurite.py) and stop it after
test: $(VENV)/.installed $(AZURITE)
	$(PY) -m pytest -q

demo: $(VENV)/.installed
	$(PY) examples/run_demo.py

bench: $(VENV)/.installed $(AZURITE)
	$(PY) bench/snapshot.py
	$(PY) bench/engine_scale.py
	$(PY) bench/blob_store.py
	$(PY) bench/remote_state.py

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
	rm -rf $(VENV) .azurite .pytest_cache .ruff_cache
