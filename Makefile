# Set-up and everyday commands. Every target creates .venv on first use.
VENV   ?= .venv
PY     := $(VENV)/bin/python
FLASK  := $(VENV)/bin/flask --app wsgi
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTHON ?= python3

.PHONY: run test lint bench venv db index wheel-check smoke

$(STAMP): pyproject.toml setup.py
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

# The built wheel installed in a fresh virtualenv outside the checkout: migrate, index, crawl.
wheel-check: venv
	$(PY) .ci/wheel-check.py

# gunicorn on PostgreSQL with Redis rate limits, driven like a browser (see .ci/).
smoke: venv
	$(PY) .ci/production-smoke.py

lint: venv
	$(VENV)/bin/ruff check .

bench: venv
	$(PY) bench/pages.py
	$(PY) bench/content_reload.py
	$(PY) bench/relevance.py
	$(PY) bench/search_speed.py
	$(PY) bench/account_enumeration.py
	$(PY) bench/widget.py
