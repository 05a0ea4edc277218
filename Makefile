# make setup | run | test | eval | train | bench | lint — each target sets itself up first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEV_DATA ?= ../shared/data/dev

.PHONY: setup run test eval train bench lint system-deps deepseek-v1-env

setup: $(STAMP)

system-deps:
	./scripts/install-system-deps.sh

$(STAMP): pyproject.toml
	./scripts/install-system-deps.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# The CPU build of torch first, so nothing below pulls a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

run: setup
	$(VENV)/bin/invoice-ocr serve

test: setup
	$(PY) -m pytest -q

eval: setup
	$(PY) -m bench.eval --data $(DEV_DATA)

# Rebuild the field scorers (extraction/parser/models) from the training set plus synthetic documents.
TRAIN_DATA ?= ../shared/data/train
SYNTH ?= 450
train: setup
	$(PY) -m training --data $(TRAIN_DATA) --synth $(SYNTH)

bench: setup
	$(PY) -m bench.run

lint: setup
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# DeepSeek-OCR v1 needs transformers <= 4.47: its own venv under deploy/deepseek_v1/ (see deploy/README.md).
deepseek-v1-env:
	./deploy/deepseek_v1/setup.sh
