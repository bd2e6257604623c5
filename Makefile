# cairn developer and CI entry points. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV        := .venv
BENCH_VENV  := .venv-bench
PYTEST_ARGS ?= -q -n 2

.PHONY: help venv bench-venv demo test bench lint docs services-start services-stop clean

help:
	@echo "make venv      create .venv and install cairn[dev] (skipped while pyproject.toml is unchanged)"
	@echo "make demo      run 'cairn quickstart'"
	@echo "make test      start Redis, PostgreSQL and a Kafka-protocol broker (Tansu), install chromium if missing, run pytest (\$$PYTEST_ARGS: $(PYTEST_ARGS)), stop them"
	@echo "               (the 'spark' group runs the Spark offline engine on local[2]: Java 17+; PYTEST_ARGS='-m \"not spark\"' skips it)"
	@echo "make bench     create .venv-bench with cairn[bench] and run every benchmarks/*.py"
	@echo "make lint      ruff check, ruff format --check, mypy"
	@echo "make docs      build the reference documentation into site/ (offline, mkdocs --strict)"
	@echo "make clean     stop test servers, remove venvs and caches"

venv: $(VENV)/.stamp-dev

$(VENV)/.stamp-dev: pyproject.toml
	@scripts/venv.sh $(VENV) dev
	@touch $@

bench-venv: $(BENCH_VENV)/.stamp-bench

$(BENCH_VENV)/.stamp-bench: pyproject.toml
	@scripts/venv.sh $(BENCH_VENV) bench
	@touch $@

demo: venv
	$(VENV)/bin/cairn quickstart

test: venv
	@scripts/test.sh $(PYTEST_ARGS)

bench: bench-venv
	@failed=""; \
	for f in benchmarks/*.py; do \
	  [ -e "$$f" ] || continue; \
	  case "$${f##*/}" in _*) continue ;; esac; \
	  echo "==> $$f"; \
	  $(BENCH_VENV)/bin/python "$$f" || failed="$$failed $$f"; \
	done; \
	if [ -n "$$failed" ]; then echo "benchmarks failed:$$failed" >&2; exit 1; fi

lint: venv
	@rc=0; \
	$(VENV)/bin/ruff check src tests benchmarks || rc=1; \
	$(VENV)/bin/ruff format --check src tests || rc=1; \
	$(VENV)/bin/mypy src || rc=1; \
	exit $$rc

docs: venv
	$(VENV)/bin/mkdocs build --strict --site-dir site

services-start:
	@scripts/services.sh start
	@scripts/services.sh env

services-stop:
	@scripts/services.sh stop

clean:
	-@scripts/services.sh stop
	rm -rf $(VENV) $(BENCH_VENV) .services .pytest_cache .mypy_cache .ruff_cache .hypothesis \
	  build dist site src/*.egg-info .coverage htmlcov
	find . -path ./.git -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
