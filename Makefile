# Two commands do all the set-up: `make quickstart` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# OpenCV 5 ships no Haar cascades; the curate privacy guard (face blur, on by default) takes the
# frontal-face cascade from OpenCV 4.14's wheel, fetched once at install into the venv.
CASCADE := $(VENV)/share/orrery/haarcascade_frontalface_default.xml
OUT    ?= runs/quickstart
PYTEST_ARGS ?= -n 2

.PHONY: install quickstart test test-slow bench bench-deps lint clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: an unpinned resolve would pull several GB of CUDA packages
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,ray]'
	$(MAKE) --no-print-directory $(CASCADE)
	touch $(STAMP)

$(CASCADE):
	mkdir -p $(VENV)/share/orrery/wheel
	$(BIN)/pip download -q --no-deps --only-binary=:all: opencv-python-headless==4.14.0.94 -d $(VENV)/share/orrery/wheel
	$(BIN)/python -c "import glob, sys, zipfile; w = glob.glob('$(VENV)/share/orrery/wheel/*.whl')[0]; \
	  open(sys.argv[1], 'wb').write(zipfile.ZipFile(w).read('cv2/data/haarcascade_frontalface_default.xml'))" $@.tmp
	mv $@.tmp $@
	rm -rf $(VENV)/share/orrery/wheel

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
