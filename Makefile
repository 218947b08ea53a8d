# Countersign: `make run` serves the demo, `make check` is the edit-test loop (lint and every
# test that needs neither Chromium nor a worker, in parallel), `make test` runs every check.
# See README.md.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cksum < pyproject.toml | cut -d' ' -f1)

# Dummy production values: `check --deploy` must pass on production settings as shipped.
DEPLOY_ENV := DJANGO_SECRET_KEY=check-deploy-dummy-0f9c1d7e5b3a2c4e6f8a0b1c3d5e7f9a1b3c5d7e9f \
	DJANGO_ALLOWED_HOSTS=petition.example.org \
	DATABASE_URL=postgres://countersign:dummy@db.invalid:5432/countersign \
	REDIS_URL=redis://cache.invalid:6379/0 \
	EMAIL_URL=smtp+tls://countersign:dummy@mail.invalid:587 \
	COUNTERSIGN_BASE_URL=https://petition.example.org \
	COUNTERSIGN_KEY_ENCRYPTION_KEY=Q2hlY2stZGVwbG95IGR1bW15OiBub3QgYSBzZWNyZXQhIQ

.PHONY: run run-phone reset-demo-accounts check test bench setup lint format services clean \
	messages compile-messages translations-check security bandit pip-audit prod-check

$(STAMP):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Countersign needs Python 3.11 or newer as $(PYTHON)."; exit 1; }
	rm -f $(VENV)/.installed-*
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	@# The openssl extra (M2Crypto, BlindSign through OpenSSL) compiles against OpenSSL's
	@# headers; scripts/build_deps.sh installs them as root, or says why the slower gmpy2
	@# path will sign instead.
	if scripts/build_deps.sh; then extras=dev,openssl; else extras=dev; fi; \
		$(PY) -m pip install --quiet --disable-pip-version-check -e ".[$$extras]"
	touch $@

setup: $(STAMP) compile-messages

# --- Translations (README, "Adding a language") --------------------------------------------
# The languages besides English; keep in step with LANGUAGES in config/settings/base.py.
LANGS := es ar
MSG_IGNORE := -i '.venv/*' -i 'node_modules/*' -i 'var/*' -i 'tests/*' -i 'benchmarks/*' -i 'tools/*'

# Extract every marked string into locale/<lang>/LC_MESSAGES/{django,djangojs}.po (the one
# way to do it, so that catalogues merge cleanly).
messages: $(STAMP)
	$(PY) manage.py makemessages $(foreach l,$(LANGS),-l $(l)) --no-location --no-obsolete \
		$(MSG_IGNORE)
	$(PY) manage.py makemessages -d djangojs $(foreach l,$(LANGS),-l $(l)) --no-location \
		--no-obsolete $(MSG_IGNORE) -i 'static/vendor/*'

# The .mo files are built, never committed. compilemessages walks the tree for locale/
# folders: the virtualenv's (Django's own, already compiled) are left alone.
compile-messages: $(STAMP)
	@if ls locale/*/LC_MESSAGES/*.po >/dev/null 2>&1; then \
		command -v msgfmt >/dev/null || { echo "msgfmt is missing: apt-get install gettext"; exit 1; }; \
		$(PY) manage.py compilemessages $(foreach l,$(LANGS),-l $(l)) \
			-i .venv -i node_modules -i var -i tests; \
	fi

# Every message translated in every shipped language, no fuzzy entry, placeholders and HTML
# as in the message, all plural forms, msgfmt --check-format clean.
translations-check: $(STAMP)
	$(PY) scripts/translations_check.py

# The demo's own DJANGO_SECRET_KEY and key-encryption key: random, made once in
# var/demo-secrets.env (mode 0600) and reused, never the public development key.
DEMO := DJANGO_DEBUG=1 $(PY) -m config.demo_secrets $(PY)

# The demo as production runs it: the web server, a Celery worker and beat, on a broker of
# message files in var/broker/ (no Redis needed). Migrates, seeds, prints the staff accounts'
# secrets once; one Ctrl-C stops all three. See scripts/run_demo.py.
run: $(STAMP) compile-messages
	$(PY) scripts/run_demo.py

# New passwords and TOTP secrets for the demo's staff accounts (the old ones are gone).
reset-demo-accounts: $(STAMP)
	$(DEMO) manage.py seed_demo --reset-accounts

# The demo over https on the LAN (self-signed certificate), to sign from a real phone; with
# the worker and beat of `make run`.
run-phone: $(STAMP) compile-messages
	$(PY) scripts/run_phone.py

services:
	scripts/services.sh

# The JavaScript tools pinned in package-lock.json (ESLint; axe-core for the Chromium tests).
NODE_STAMP := node_modules/.installed-$(shell cksum < package-lock.json | cut -d' ' -f1)

$(NODE_STAMP):
	npm ci --no-audit --no-fund --silent
	touch $@

lint: $(STAMP) $(NODE_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	node_modules/.bin/eslint static/js tests/js eslint.config.js

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The edit-test loop: lint, the Node tests and every pytest test that needs neither Chromium
# nor a Celery worker, one process per core (each with its own database and Redis key prefix).
check: $(STAMP) lint
	scripts/services.sh --no-browser
	$(MAKE) compile-messages
	$(MAKE) translations-check
	node --test tests/js/
	$(VENV)/bin/pytest -q -m "not browser and not worker and not release" -n auto

test: $(STAMP) services lint
	$(MAKE) compile-messages
	$(MAKE) translations-check
	@# pip-audit (make security) is not here: it needs PyPI's per-version JSON API and
	@# osv.dev, which this network does not answer (docs/operations.md, "Security checks").
	$(MAKE) bandit
	$(DEPLOY_ENV) $(PY) manage.py check --deploy --fail-level WARNING \
		--settings config.settings.production
	@# makemigrations only reads the migration history; the always-present database will do.
	COUNTERSIGN_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
		$(PY) manage.py makemigrations --check --dry-run --settings config.settings.test
	node --test tests/js/
	$(VENV)/bin/pytest

# The production stack started for real on loopback, used once and stopped (about 2-3 min):
# production settings, a scratch database on the local PostgreSQL, a private redis-server,
# gunicorn, a Celery worker and beat, Caddy with deploy/Caddyfile and its internal CA, an
# SMTP sink; five signers in Chromium through the proxy, beat's batch, the milestone mail,
# a print run, /healthz. `make test` runs it too (tests/deploy/test_prod_check.py).
prod-check: $(STAMP) services
	$(PY) scripts/prod_check.py
# The load benchmark (benchmarks/README.md): wrk against gunicorn + PostgreSQL + Redis on
# 127.0.0.1, about 5 minutes; not part of `make test`. BENCH_ARGS=--profile var/profile adds
# py-spy profiles of the workers during the batched redemptions.
bench: $(STAMP) services
	$(PY) benchmarks/load.py $(BENCH_ARGS)

# Static analysis (bandit, medium severity and up; every exception explained in
# pyproject.toml [tool.bandit]) and known vulnerabilities of every installed package
# (pip-audit against PyPI's advisory data). pip-audit's --strict makes a package it could
# not look up (no network, no answer from the index) a failure, never a silent skip.
# Each exception: an --ignore-vuln line below with the advisory id and why it does not
# apply (none today).
security: bandit pip-audit

bandit: $(STAMP)
	$(VENV)/bin/bandit -q -c pyproject.toml -r config petition organizing scripts tools \
		--severity-level medium --confidence-level low

pip-audit: $(STAMP)
	$(VENV)/bin/pip-audit --local --strict --progress-spinner off

clean:
	rm -rf $(VENV) var .pytest_cache node_modules
	find locale -name '*.mo' -delete 2>/dev/null || true
