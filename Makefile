# Clinic Portal: two commands for a fresh machine.
#   make run   set up, migrate, load demo data once, serve on http://127.0.0.1:5000
#   make test  set up and run the whole suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := PORTAL_ENV=development $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install translations messages lint format clean lock audit

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

# The lock files pin every package, dependencies included, with their hashes; pip
# refuses anything else. `make lock` writes them again after requirements*.txt change.
$(VENV)/.installed: $(BIN)/activate requirements.lock requirements-dev.lock
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	touch $@

install: $(VENV)/.installed

translations: install
	$(BIN)/pybabel compile -d translations

run: translations
	$(FLASK) db upgrade
	$(FLASK) seed
	@echo ""
	@echo "Clinic Portal is at http://$(HOST):$(PORT)  (Ctrl+C stops it)"
	$(FLASK) run --host $(HOST) --port $(PORT)

test: translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Extract every translatable string and merge it into the catalogs.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
		--project "Clinic Portal" -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

PIP_COMPILE := $(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

lock: $(BIN)/activate
	$(BIN)/pip install --quiet "$$(grep '^pip-tools==' requirements-dev.txt)"
	$(PIP_COMPILE) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) --constraint requirements.lock --output-file requirements-dev.lock requirements-dev.txt

# Known vulnerabilities in the locked packages (skipped, saying why, when the advisory
# service cannot be reached).
audit: install
	$(BIN)/python .ci/audit requirements-dev.lock

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis

# Load benchmark on a private PostgreSQL server it starts and removes (bench/README.md).
.PHONY: bench bench-quick
bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-quick: install
	$(BIN)/python bench/run.py --quick $(BENCH_ARGS)
