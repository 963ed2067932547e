# Set-up and everyday commands. Every target creates .venv on first use.
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTHON ?= python3

.PHONY: run test lint bench venv db index

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,postgres,redis]'
	touch $(STAMP)

venv: $(STAMP)

db: venv
	$(FLASK) db upgrade heads

index: venv
	$(FLASK) kb index

run: db index
	$(FLASK) run --host $(HOST) --port $(PORT)

test: venv
	@if [ -x /usr/bin/chromium ]; then \
		$(PY) -m pytest $(PYTEST_ARGS); \
	else \
		echo "*** SKIPPING browser tests (tests/browser): /usr/bin/chromium is not installed."; \
		echo "*** Install it with: apt-get update && apt-get install -y chromium"; \
		$(PY) -m pytest --ignore=tests/browser $(PYTEST_ARGS); \
	fi

lint: venv
	$(VENV)/bin/ruff check .

bench: venv
	$(PY) bench/pages.py
	$(PY) bench/relevance.py
	$(PY) bench/search_speed.py
	$(PY) bench/account_enumeration.py
