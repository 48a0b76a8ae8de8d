# `make run` and `make test` work from a fresh clone: both first build .venv when setup.py changes.
VENV := .venv
INSTALLED := $(VENV)/.installed

.PHONY: run test

run: $(INSTALLED)
	$(VENV)/bin/taxi run

test: $(INSTALLED)
	$(VENV)/bin/python -m pytest

$(INSTALLED): setup.py
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test,bench]'
	$(VENV)/bin/pip check
	touch $@
