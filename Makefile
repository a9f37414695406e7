# The README's two commands: `make run` and `make test`. Both create .venv when it is missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
# The complete official MNIST for tests and benchmarks, when it sits beside the project.
MNIST_TEST_DATA ?= $(abspath ../shared/data/mnist)
export MNIST_TEST_DATA

.PHONY: run test check lint bench classroom clean-models teacher-password teacher-link

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# axe-core (npm, package-lock.json) for the accessibility tests; without npm they skip, except
# in CI, which requires them.
$(VENV)/.dev-installed: requirements-dev.txt package-lock.json $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm is missing: the accessibility tests will be skipped"; fi
	touch $@

run: $(VENV)/.installed
	$(PY) deploy/serve.py

# A class bigger than one server: REPLICAS Streamlit servers behind nginx on port 8501.
# CLASSROOM_ARGS: e.g. --listen 0.0.0.0 --host class.school.example --tls-cert c.pem --tls-key k.pem
REPLICAS ?= 2
CLASSROOM_ARGS ?=
classroom: $(VENV)/.installed
	$(PY) deploy/classroom.py --replicas $(REPLICAS) --port 8501 $(CLASSROOM_ARGS)

# The teacher password, in .streamlit/secrets.toml (mode 0600; asked without echo).
teacher-password: $(VENV)/.installed
	$(PY) deploy/teacher_password.py

teacher-link: $(VENV)/.installed
	$(PY) deploy/teacher_link.py $(TEACHER_LINK_ARGS)

test: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m pytest

# The quick loop while changing code: lint, and every test that needs no browser, no full
# training and no process of its own (servers, database clusters, training children), on both
# cores. `make test` (CI) runs everything.
check: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m pytest -q -n 2 --dist loadscope -m "not browser and not slow and not process"

lint: $(VENV)/.dev-installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

bench: $(VENV)/.installed
	MNIST_DATA=$(MNIST_TEST_DATA) $(PY) bench/train_speed.py
	MNIST_DATA=$(MNIST_TEST_DATA) $(PY) bench/inference.py
	MNIST_DATA=$(MNIST_TEST_DATA) $(PY) bench/page_speed.py
	MNIST_DATA=$(MNIST_TEST_DATA) $(PY) bench/lab_speed.py
	$(PY) bench/bad_inputs.py --mutations 1000
	MNIST_DATA=$(MNIST_TEST_DATA) $(PY) bench/drawn_digits.py
	MNIST_DATA=$(MNIST_TEST_DATA) $(PY) bench/classroom.py --students 1 --drawings 10
	MNIST_DATA=$(MNIST_TEST_DATA) $(PY) bench/classroom.py --students 30 --browsers 1 --drawings 15
	MNIST_DATA=$(MNIST_TEST_DATA) $(PY) bench/classroom.py --students 30 --browsers 1 --drawings 15 --replicas 2
	MNIST_DATA=$(MNIST_TEST_DATA) $(PY) bench/under_load.py --students 29

clean-models:
	rm -f models/*.keras models/*.json models/*.lock
