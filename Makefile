PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# `make run` installs what running needs (`pip install -e .`); `make test` adds the `dev` extra
# (pytest, ruff, mypy, the S3 emulator, charts, ...) to the same venv.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed

# Four pytest workers: most e2e tests wait on paced fake platforms, not on a core.
TEST_WORKERS ?= 4

.PHONY: run test lint typecheck bench clean i18n

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP) $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/interviewbot run

lint: $(STAMP)
	$(BIN)/ruff check core bots storage fakes tests bench
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS)

# The bot's catalogs: extract the messages of core/ and bots/ into the template, merge it into
# every language's .po file, and compile the .mo files shipped in the package (commit all three).
LOCALES := core/locale
I18N_KEYWORDS := -k N_ -k t:2 -k tn:2,3 -k tr:2
i18n: $(RUN_STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(I18N_KEYWORDS) --no-location --sort-output \
		--project=interviewbot --omit-header -o $(LOCALES)/interviewbot.pot .
	$(BIN)/pybabel update -i $(LOCALES)/interviewbot.pot -d $(LOCALES) -D interviewbot \
		--no-fuzzy-matching
	$(BIN)/pybabel compile -d $(LOCALES) -D interviewbot --statistics

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV)
