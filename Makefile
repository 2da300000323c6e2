# The front door: `make run` starts everything locally, `make test` proves it works.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# checkov in a venv of its own: its pins contradict the project's.
CHECKOV_VENV ?= .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: setup run test check lint stack-check format bench register synth screenshots clean

setup: $(STAMP)

# Re-run whenever the dependencies or their pins change; otherwise a no-op.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,infra]'
	touch $(STAMP)

run: setup
	$(PY) -m devtools.local

test: setup
	$(PY) -m pytest

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# cfn-lint and checkov on the synthesized templates (dev and prod) and the Dockerfile.
stack-check: setup $(CHECKOV_STAMP)
	$(PY) -m devtools.stack_checks --checkov $(CHECKOV_VENV)/bin/checkov

$(CHECKOV_STAMP): devtools/checkov-constraints.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -c devtools/checkov-constraints.txt checkov
	touch $(CHECKOV_STAMP)

check: lint stack-check test

bench: setup
	$(PY) -m bench
	$(PY) -m bench.footprint
	$(PY) -m bench.worker_cpu
	$(PY) -m bench.answers
	$(PY) -m bench.soak

# CloudFormation templates into cdk.out/, offline (no AWS credentials needed); context as
# the cdk CLI takes it: make synth CONTEXT="-c llm_provider=bedrock -c llm_model=..."
synth: setup
	$(PY) -m infra.app $(CONTEXT)

# The README's pictures of the sandbox page, taken by its browser tests (needs chromium).
screenshots: setup
	SANDBOX_SCREENSHOTS=docs/images $(PY) -m pytest -q tests/browser

register: setup
	$(PY) -m devtools.register

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .mypy_cache .ruff_cache
