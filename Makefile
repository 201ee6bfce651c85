# Two commands for a newcomer: `make run` (server on embedded defaults, with demo data)
# and `make test` (the test suite; the service tier runs when its servers are configured).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: install install-dev run migrate demo test test-unit test-services lint bench clean

$(VENV)/.installed: requirements.txt
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(VENV)/bin/pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

migrate: install
	PYTHON=$(PY) scripts/migrate.sh

demo: migrate
	$(PY) manage.py ensure_admin
	@if $(PY) manage.py help seed_demo >/dev/null 2>&1; then $(PY) manage.py seed_demo; fi

run: demo
	$(PY) manage.py collectstatic --noinput -v 0
	DEBUG=$${DEBUG:-1} $(PY) manage.py runserver 0.0.0.0:$(PORT)

test: install-dev
	PYTHON=$(PY) scripts/test.sh

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

bench: install-dev
	PYTHON=$(PY) bench/run.sh

clean:
	rm -rf var/db.sqlite3* var/cache var/media
