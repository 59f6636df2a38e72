# Two commands do all set-up on a fresh Debian machine:
#   make run   — install what is missing, migrate, then serve: gunicorn + the two workers,
#                supervised (demo data with a random password on a first run only)
#   make demo  — load the demo team now (prints its random password)
#   make test  — the same set-up, then ruff, the import contracts and the whole test suite
SHELL := /bin/bash
PY := .venv/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the app and its tests need: CJK fonts and harfbuzz subsetting for
# WeasyPrint, poppler for PDF checks, Chromium for browser tests, PostgreSQL for the
# concurrency tests, gettext for translations, pandoc for real third-party .docx files,
# OpenLDAP headers + gcc to build python-ldap, slapd for the directory-login tests.
APT_PACKAGES := fonts-noto-cjk libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 \
	poppler-utils chromium postgresql gettext pandoc \
	gcc libldap-dev libsasl2-dev slapd
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run demo test setup system-packages venv migrate lint format messages
run: setup
	@exec $(PY) manage.py serve --bind $(HOST):$(PORT)

demo: setup
	@$(PY) manage.py seed_demo --if-empty

test: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	.venv/bin/lint-imports --no-cache
	$(PY) -m pytest

setup: system-packages venv migrate

system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

venv: .venv/.deps-stamp
.venv/.deps-stamp: pyproject.toml
	@test -x $(PY) || python3.11 -m venv .venv || python3 -m venv .venv
	@$(PY) -m pip install -q --upgrade pip >/dev/null
	@$(PY) -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
		print('\n'.join(p['dependencies'] + p['optional-dependencies']['dev']))" > .venv/requirements.txt
	@$(PY) -m pip install -q -r .venv/requirements.txt
	@touch $@

migrate: venv
	@mkdir -p locale  # compilemessages refuses to run when no locale directory exists yet
	@$(PY) manage.py compilemessages --ignore '.venv/*' -v 0
	@$(PY) manage.py migrate -v 0

format: venv
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# Extract every string marked for translation into the English catalogs (manuals/locale/
# for the manuals app, locale/ for the rest); translate what comes back empty or fuzzy.
# tests/test_translations.py fails until that is done.
messages: venv
	$(PY) manage.py makemessages -l en --ignore '.venv/*' --ignore 'tests/*' --ignore 'bench/*'
