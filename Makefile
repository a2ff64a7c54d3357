# The two commands that matter: `make demo` (whole pipeline on the demo park) and
# `make test`. Everything else is a step of those.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo stop test explore install bootstrap run status lint clean deliverable bench

demo: install
	$(PY) -m loaders demo

# Stops the private PostgreSQL cluster `make demo` starts when no server answers
# (var/postgres, port 55432); the next `make demo` starts it again, data kept.
stop:
	@if [ -x $(PY) ]; then $(PY) -m loaders stop; fi

# One pytest worker per CPU (pytest-xdist), each test file whole on one worker: the
# module fixtures (a warehouse built once per file) are not built twice. TEST_WORKERS=0
# runs in one process.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(PY) -m pytest --numprocesses $(TEST_WORKERS) --dist loadfile

# The warehouse explorer on http://127.0.0.1:8501 (after make demo): PORT=... to change it.
explore: $(STAMP)
	$(PY) -m loaders explore $(if $(PORT),--port $(PORT))

# Elementary's dbt packages too, when the dbt hub answers (docs/quality.md)
install: $(STAMP)
	$(PY) -m loaders install-elementary

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation --editable .
	touch $(STAMP)

bootstrap: $(STAMP)
	$(PY) -m loaders bootstrap

# make run DATE=2025-10-05, or make run FROM=2025-10-01 TO=2025-10-31 [FORCE=1] (a backfill:
# days already loaded are skipped unless FORCE; docs/operations.md)
run: $(STAMP)
	$(PY) -m loaders run $(if $(DATE),--date $(DATE)) $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO)) $(if $(FORCE),--force)

status: $(STAMP)
	$(PY) -m loaders status

# Fleet-scale benchmark (not a test): COPY vs the loaders and dbt, writes docs/performance.md.
# make bench DAYS=30,365 adds the 1-year run; LOADER_ONLY=1 measures COPY and the loader only.
bench: $(STAMP)
	$(PY) -m scripts.bench --turbines $(or $(TURBINES),100) --days $(or $(DAYS),30) $(if $(LOADER_ONLY),--loader-only)

lint: $(STAMP)
	$(VENV)/bin/ruff check loaders tests scripts
	$(VENV)/bin/ruff format --check loaders tests scripts
	$(VENV)/bin/sqlfluff lint dbt_project/models dbt_project/macros dbt_project/tests
	$(PY) scripts/security/audit_dependencies.py

clean: stop
	rm -rf var reports dbt_project/target dbt_project/logs .pytest_cache

# The client's zip (dist/Projet_Collecte_Données_IA.zip) from the live warehouse, then its
# check; runs the demo month first when the warehouse has no finished run.
deliverable: $(STAMP)
	bash scripts/deliverable/install_tools.sh
	$(PY) -m scripts.deliverable build --run-demo-if-empty
	$(PY) -m scripts.deliverable check
