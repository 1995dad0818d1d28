# Two commands: `make report` and `make test`. Both build .venv from requirements.lock when it is
# missing or older than the lock / pyproject.toml, register the `rnalib` Jupyter kernel inside it,
# then do their job. Data: set RNALIB_DATA_DIR to a folder holding the bundled datasets, or leave it
# unset to download them from their pinned upstream commits (sha256-checked).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.rnalib-installed
KERNEL := rnalib
export OMP_WAIT_POLICY ?= PASSIVE

SNAKEMAKE := $(VENV)/bin/snakemake -s workflow/Snakefile
CORES  ?= all

.PHONY: report rehearsal test check-site lock clean-venv

$(STAMP): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=24"
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name $(KERNEL) --display-name "Python (rnalib)" >/dev/null
	@touch $@

# The report workflow (reports/report/, all local cores; SNAKEMAKE_ARGS passes more, e.g. -n for a dry run).
report: $(STAMP)
	$(SNAKEMAKE) --configfile config/report.yaml --cores $(CORES) --rerun-incomplete $(SNAKEMAKE_ARGS)

# The full profile's rules and notebooks with tiny random-init weights on a slice of the data (reports/rehearsal/).
rehearsal: $(STAMP)
	$(SNAKEMAKE) --configfile config/full.yaml config/rehearsal.yaml --cores $(CORES) --rerun-incomplete $(SNAKEMAKE_ARGS)

# Notebooks under nbval write their (quick) results to a scratch folder, never into reports/.
test: $(STAMP)
	rm -rf .cache/nbval-results
	RNALIB_RESULTS_DIR=$(CURDIR)/.cache/nbval-results $(PY) -m pytest tests --nbval-lax notebooks \
		--nbval-kernel-name $(KERNEL) -p no:cacheprovider $(PYTEST_ARGS)

# A rendered report opened page by page in headless Chromium (apt-get install chromium): loads, links, images,
# no error output, no horizontal overflow at 1280 px; screenshots under $(SITE)/screenshots/.
SITE ?= reports/report
check-site: $(STAMP)
	$(PY) -m rnalib check-site $(SITE)

# Re-pin: freeze the current .venv into requirements.lock and rewrite environment.yml from it.
lock: $(STAMP)
	$(PY) -m rnalib.report.envfiles freeze requirements.lock environment.yml

clean-venv:
	rm -rf $(VENV)
