# guidang — two commands do all set-up on a fresh Debian machine (as root):
#   make run    install what is missing, create ./var, generate a sample batch, ingest it, keep watching
#   make test   install what is missing, run the whole test suite
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
GUIDANG_HOME ?= $(CURDIR)/var
export GUIDANG_HOME

APT_PACKAGES := tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-eng \
	tesseract-ocr-osd clamav clamav-daemon clamav-testfiles fonts-noto-cjk poppler-utils qpdf \
	libpdfbox2-java libactivation-java libjaxb-api-java default-jre-headless ghostscript \
	python3-venv
BENCH_APT_PACKAGES := ocrmypdf unpaper pngquant time

.PHONY: run test install system-deps venv lint bench stress clean

run: install
	$(VENV)/bin/guidang run

test: install
	$(PY) -m pytest -n 2 --timeout 900 $(PYTEST_ARGS)

install: system-deps $(VENV)/.installed

system-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "apt-get install: $$missing"; \
		if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

lint: install
	$(VENV)/bin/ruff check guidang tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: install
	@missing=$$(for p in $(BENCH_APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; fi
	$(PY) bench/run_all.py

stress: install
	GUIDANG_STRESS=full $(PY) -m pytest -m stress -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
