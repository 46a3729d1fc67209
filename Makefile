# Two commands do all the set-up: `make quickstart` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
OUT    ?= runs/quickstart
PYTEST_ARGS ?= -n 2

.PHONY: install quickstart test test-slow bench bench-deps lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: an unpinned resolve would pull several GB of CUDA packages
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,ray]'
	touch $(STAMP)

install: $(STAMP)

quickstart: $(STAMP)
	$(BIN)/orrery quickstart --out $(OUT)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

bench: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/simulate.py
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/scenarios.py
	OMP_NUM_THREADS=1 $(BIN)/python benchmarks/eval.py

# The curate benchmark compares with PySceneDetect, which depends on the non-headless OpenCV;
# installing both breaks cv2, so it goes in without its dependencies.
bench-deps: $(STAMP)
	$(BIN)/pip install -q --no-deps scenedetect==0.7.2
	$(BIN)/pip install -q tqdm click platformdirs

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) runs
