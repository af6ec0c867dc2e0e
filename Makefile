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
	postgresql python3-venv \
	redis-server libgl1 libglib2.0-0 tesseract-ocr-chi-tra-vert tesseract-ocr-chi-sim-vert
# issue 17: WeasyPrint's Pango (registration forms as PDF)
APT_PACKAGES += libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0
# issue #15: the review desk's browser tests drive Debian's Chromium with Playwright (no browser download)
APT_PACKAGES += chromium
# issue #16: born-digital cases (office documents to PDF/A through LibreOffice; Liberation for Arial/Times/Courier)
APT_PACKAGES += libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui fonts-liberation2
BENCH_APT_PACKAGES := ocrmypdf unpaper pngquant time

.PHONY: run test install system-deps venv lint bench stress fuzz clean

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
	@# one cv2 (issue #14): a venv made before the switch still has opencv-python-headless, whose cv2 shares files
	@# with opencv-python's; remove it and lay opencv-python's files again
	if $(PY) -m pip show -q opencv-python-headless >/dev/null 2>&1; then \
		$(PY) -m pip uninstall -q -y opencv-python-headless && \
		$(PY) -m pip install -q --force-reinstall --no-deps 'opencv-python>=4.9,<5'; fi
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

# fuzz each target for FUZZ_SECONDS (atheris, dev extra); what is new and interesting is merged into
# tests/data/fuzz/<target>/, which `make test` replays; a crash stops the run (tests/fuzz/run.py)
FUZZ_TARGETS ?= catalogue_csv catalogue_xlsx zip_batch image_header manifest_intake manifest_package eep
FUZZ_SECONDS ?= 300
FUZZ_MAX_LEN ?= 16384
fuzz: install
	@for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t ($(FUZZ_SECONDS) s)"; \
		$(PY) tests/fuzz/run.py $$t -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) -rss_limit_mb=3072 || exit 1; \
		$(PY) tests/fuzz/run.py $$t -merge=1 -max_len=$(FUZZ_MAX_LEN) tests/data/fuzz/$$t .fuzz/$$t || exit 1; \
		rm -rf .fuzz/$$t; \
	done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .fuzz
