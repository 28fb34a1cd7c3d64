# Two commands for a new user: `make run` and `make test`.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
UV_VERSION := 0.13.9
# PostgreSQL tests run when this server answers; unreachable, they are skipped with one
# line saying so (and fail the run when CI=true, as .ci/run sets).
export POOLED_TEST_POSTGRES_URL ?= postgresql://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= 2

.PHONY: run test lint typecheck unit bench clean install install-dev otel lock pdf-libs

# The installer: `uv` from the PATH, else uv fetched from PyPI by the system's pip into
# .tools/ (no pip in the venv needed: the venv is made by uv in under a second), else
# plain venv + pip. `install_lock LOCK` installs a hashed lock file, then the project
# itself without deps. Bytecode is compiled at install (in parallel), as pip does: left to
# the first start, compiling it there took ~25 s of the first `make run`.
define install_lock
	@py=$$(command -v $(PY) || command -v python3); \
	uv=$$(command -v uv || true); \
	if [ -z "$$uv" ] && [ ! -x .tools/uv/bin/uv ]; then \
	  $$py -m pip install -q --disable-pip-version-check --target .tools/uv \
	    "uv==$(UV_VERSION)" >/dev/null 2>&1 || echo "uv unavailable: installing with pip"; fi; \
	if [ -z "$$uv" ] && [ -x .tools/uv/bin/uv ]; then uv=.tools/uv/bin/uv; fi; \
	if [ -n "$$uv" ]; then \
	  cert=$${SSL_CERT_FILE:-$${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}}; \
	  if [ -f "$$cert" ]; then export SSL_CERT_FILE=$$cert; fi; \
	  test -x $(BIN)/python || $$uv venv -q --python $$py $(VENV); \
	  $$uv pip install -q --python $(BIN)/python --require-hashes --compile-bytecode -r $(1) && \
	  $$uv pip install -q --python $(BIN)/python --no-deps -e .; \
	else \
	  test -x $(BIN)/python || $$py -m venv $(VENV); \
	  $(BIN)/python -m pip install -q --require-hashes -r $(1) && \
	  $(BIN)/python -m pip install -q --no-deps -e .; \
	fi
endef

$(STAMP): pyproject.toml requirements.lock
	$(call install_lock,requirements.lock)
	touch $(STAMP)

$(DEV_STAMP): pyproject.toml requirements-dev.lock
	$(call install_lock,requirements-dev.lock)
	touch $(DEV_STAMP) $(STAMP)

# Regenerate both locks from pyproject.toml (hashes for every platform's wheels).
UV_RUN = $$(command -v uv || echo .tools/uv/bin/uv)
lock:
	$(UV_RUN) pip compile pyproject.toml --python-version 3.11 --universal --generate-hashes \
	  -o requirements.lock
	$(UV_RUN) pip compile pyproject.toml --python-version 3.11 --universal --generate-hashes \
	  --extra dev -o requirements-dev.lock

# OpenTelemetry tracing (POOLED_OTEL=true) is an extra, not in the locks.
otel: $(STAMP)
	$(UV_RUN) pip install -q --python $(BIN)/python -e '.[otel]' \
	  || $(BIN)/python -m pip install -q -e '.[otel]'

install: $(STAMP)

install-dev: $(DEV_STAMP)

# The board pack's PDF (WeasyPrint) loads Pango, PangoFT2 and HarfBuzz's subset library
# from the system. On Debian, missing ones are installed when apt-get is there and we are
# root; otherwise one line says so. Never fails: all but the PDF (a 503) works without them.
PDF_DEBS := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-liberation
pdf-libs:
	@command -v dpkg-query >/dev/null 2>&1 || exit 0; \
	missing=""; for p in $(PDF_DEBS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	[ -n "$$missing" ] || exit 0; \
	if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "== installing Debian packages for the board pack's PDF:$$missing"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq --no-install-recommends $$missing >/dev/null 2>&1 \
	  || { apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } \
	  || echo "could not install$$missing: the board pack's PDF answers 503 until they are"; \
	else \
	  echo "the board pack's PDF needs:$$missing (apt-get install$$missing); until then it answers 503"; \
	fi

run: $(STAMP) pdf-libs
	POOLED_LOG_FORMAT=$${POOLED_LOG_FORMAT:-console} $(BIN)/pooled serve --demo

lint: $(DEV_STAMP)
	$(BIN)/ruff check ledger projections filing api scheduler tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports  # the declared layers: [tool.importlinter] in pyproject.toml

test: $(DEV_STAMP) lint pdf-libs
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --dist loadgroup -p no:cacheprovider

unit: $(DEV_STAMP)
	$(BIN)/python -m pytest -q tests/unit

bench: $(DEV_STAMP)
	$(BIN)/python bench/append.py

clean:
	rm -rf $(VENV) .tools var .mypy_cache .ruff_cache .pytest_cache .import_linter_cache
