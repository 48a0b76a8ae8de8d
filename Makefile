# `make run` and `make test` work from a fresh clone: both first build .venv when setup.py changes,
# and the web app's Autobahn|JS (from npm, never committed) when package-lock.json changes: the
# install runs `npm ci` and copies the bundle (setup.py, the one place that does it).
VENV := .venv
INSTALLED := $(VENV)/.installed
# The served web root's copy of the browser bundle (git-ignored).
AUTOBAHN_JS := crossbar_config/web/vendor/autobahn.min.js
# trial, unlike pytest, never puts the project on sys.path, and the editable install maps only
# taxi's own packages: this .pth puts the checkout there, so that `trial tests` imports tests/.
TESTS_ON_PATH := $(VENV)/.tests-on-path

.PHONY: run test setup

run: setup
	$(VENV)/bin/taxi run

# The same suite twice: pytest runs everything, trial the tests written as trial TestCases
# (tests/support/trial.py), on a reactor of its own.
test: setup
	$(VENV)/bin/python -m pytest
	$(VENV)/bin/trial tests

setup: $(INSTALLED) $(TESTS_ON_PATH)

$(INSTALLED): setup.py package.json package-lock.json
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test,bench]'
	$(VENV)/bin/pip check
	@# pip goes on without npm (taxi run then says the page cannot connect); a clone's make does not.
	@test -f $(AUTOBAHN_JS) || { echo "make: $(AUTOBAHN_JS) is missing: install npm, then run make again" >&2; exit 1; }
	touch $@

$(TESTS_ON_PATH): $(INSTALLED)
	echo "$(CURDIR)" > "$$($(VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/taxi-tests.pth"
	touch $@
