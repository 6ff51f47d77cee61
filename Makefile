# Two commands do all the set-up on a fresh machine (see README):
#   make compare   install into .venv and compare the 90-day rule with REPORT Act one-year retention
#   make test      install into .venv (with test tools, Debian's chromium and the dashboard's offline
#                  assets) and run the linter and the whole test suite
PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
CHROMIUM ?= /usr/bin/chromium

.PHONY: compare test install install-test install-browser system-packages dashboard lint clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else "Python >= 3.12 is needed (Mesa >= 3.4); found " + sys.version.split()[0] + ". Set PYTHON=python3.12")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

# The dashboard's browser assets (Solara's JS/CSS, pinned npm versions) into .venv/share/solara/cdn, once;
# afterwards the dashboard, its browser tests and the report need no network (see dashboards/assets.py).
$(VENV)/.installed-assets: dashboards/assets.py | $(VENV)/.installed
	@command -v npm >/dev/null || $(MAKE) system-packages
	$(BIN)/python -m dashboards.assets
	touch $@

# Debian's chromium (browser tests, static figures via kaleido) and npm (asset install, once): each is
# installed only when missing, so a machine whose Node.js/npm came from elsewhere is left alone (Debian's
# npm conflicts with such a nodejs). Without root, the exact command to run is printed.
system-packages:
	@missing=""; \
	test -x $(CHROMIUM) || missing="$$missing chromium"; \
	command -v npm >/dev/null || missing="$$missing npm"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	else echo "Debian packages needed:$$missing. Run: sudo apt-get install -y$$missing" >&2; exit 1; fi

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-browser: $(VENV)/.installed-assets
	@test -x $(CHROMIUM) || $(MAKE) system-packages

compare: install
	$(BIN)/tipline compare

dashboard: install $(VENV)/.installed-assets
	$(BIN)/tipline dashboard

lint: install-test
	$(BIN)/ruff check model tests benchmarks dashboards docs

test: lint install-browser
	$(BIN)/python -m pytest; status=$$?; if [ $$status -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
