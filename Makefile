# The two commands a newcomer needs: `make demo` and `make test`. Each creates .venv when it is missing.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# torch/torchvision are pinned (the CUDA build of 2.14.1 installs from local disk on these machines); nbdev 2 pins keep settings.ini working.
TORCH  := torch==2.14.1 torchvision==0.29.1
SRC_HASH = find nbs stfpm_nb -type f \( -name '*.ipynb' -o -name '*.py' \) -not -path '*/.ipynb_checkpoints/*' -print0 | sort -z | xargs -0 md5sum | md5sum

.PHONY: install demo test test-fast check-sync bench docs clean lab

install: $(STAMP)

$(STAMP): settings.ini setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

demo: install
	$(BIN)/stfpm-nb demo --out reports/scratch/demo

# nbdev_export and nbdev_clean must leave the sources unchanged: notebooks are the source of truth.
check-sync: install
	@before=$$($(SRC_HASH)); \
	$(BIN)/nbdev_export && $(BIN)/nbdev_clean; \
	after=$$($(SRC_HASH)); \
	if [ "$$before" != "$$after" ]; then \
	  echo "nbdev_export/nbdev_clean changed files under nbs/ or stfpm_nb/: run them, review and commit."; \
	  git status --short nbs stfpm_nb; exit 1; fi

test: install check-sync
	$(BIN)/nbdev_test --n_workers 2 --timing
	$(BIN)/python -m pytest -q tests

# Speed and memory; with the real data beside the repository, also each recipe's time to the paper's plateau.
bench: install
	$(BIN)/stfpm-nb bench --out reports/bench $(if $(wildcard ../shared/data/mvtec_ad),--data-root ../shared/data/mvtec_ad)

# The documentation site in _docs/ (nbdev + Quarto where Quarto is installed, else static HTML pages); fails on a broken page.
docs: install
	$(BIN)/python tools/build_docs.py

lab: install
	$(BIN)/jupyter lab nbs

clean:
	rm -rf _docs _proc build dist *.egg-info .pytest_cache reports/scratch
	find . -name __pycache__ -prune -exec rm -rf {} +
