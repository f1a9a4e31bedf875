# The two commands: `make run` (the demo, nothing to install) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench bench-ingest bench-dashboard bench-alerts bench-rul freeze clean-data

$(STAMP): requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found " + sys.version.split()[0] + ")")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

run: $(STAMP)
	DEMO_MODE=1 $(BIN)/python launcher.py

test: $(STAMP)
	@bash tests/browser_preflight.sh
	$(BIN)/python -m pytest --headless

bench: bench-ingest bench-dashboard bench-alerts bench-rul

bench-ingest: $(STAMP)
	$(BIN)/python -m bench.ingest

bench-dashboard: $(STAMP)
	$(BIN)/python -m bench.dashboard

bench-alerts: $(STAMP)
	$(BIN)/python -m bench.alerts

bench-rul: $(STAMP)
	$(BIN)/python -m bench.rul

freeze: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable

clean-data:
	rm -rf var
