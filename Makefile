# `make run` and `make test` work from a fresh clone: both first build .venv when setup.py changes,
# and the web app's Autobahn|JS (from npm, never committed) when package-lock.json changes.
VENV := .venv
INSTALLED := $(VENV)/.installed
# The served web root's copy of the browser bundle (git-ignored).
AUTOBAHN_JS := crossbar_config/web/vendor/autobahn.min.js

.PHONY: run test setup

run: setup
	$(VENV)/bin/taxi run

test: setup
	$(VENV)/bin/python -m pytest

setup: $(INSTALLED) $(AUTOBAHN_JS)

$(INSTALLED): setup.py
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test,bench]'
	$(VENV)/bin/pip check
	touch $@

$(AUTOBAHN_JS): package.json package-lock.json
	npm ci --no-audit --no-fund
	mkdir -p $(@D)
	cp node_modules/autobahn-browser/autobahn.min.js node_modules/autobahn-browser/LICENSE $(@D)/
	touch $@
