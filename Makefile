# The two commands of the README, and what they need. Each installs what it needs on first use.
#   make run    the main job on the embedded default (local PostgreSQL 18 in .local/postgres)
#   make test   every test: lint (ruff, mypy --strict), pytest on embedded PostgreSQL 18 (with the memory page in
#               Debian's headless Chromium), pytest + pgTAP on Debian's PostgreSQL 15
#   make types  regenerate the committed types (TypeScript, pydantic rows) from the migrations with Supabase's generator
#   make claim-model  render private.claim_model from its recorded fit (supabase/claim_model.json) into its schema
#               file and, when that changed, a new migration (VERSION=<timestamp>, default now)

VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
# The Node tools of package.json (the Supabase CLI, Supabase's type generator, TypeScript), exactly as
# package-lock.json pins them.
NODE_INSTALLED := node_modules/.installed
PG15_BIN := /usr/lib/postgresql/15/bin

.PHONY: run test lint test-embedded test-pg15 types claim-model clean

run: $(INSTALLED)
	$(BIN)/customer-memory demo

test: lint test-embedded test-pg15

lint: $(INSTALLED)
	$(BIN)/ruff check worker tests benchmarks
	$(BIN)/ruff format --check worker tests benchmarks
	$(BIN)/mypy

test-embedded: $(INSTALLED) $(NODE_INSTALLED)
	scripts/install-chromium
	CMS_REQUIRE_NODE=1 CMS_REQUIRE_BROWSER=1 $(BIN)/pytest

# Also Supabase's own tools: the CLI's db reset, advisors and lint, and the pgTAP suite on the seeded database.
test-pg15: $(INSTALLED) $(NODE_INSTALLED)
	scripts/install-postgres-15
	CMS_PG_BIN=$(PG15_BIN) CMS_REQUIRE_PGTAP=1 CMS_REQUIRE_NODE=1 $(BIN)/pytest

types: $(INSTALLED) $(NODE_INSTALLED)
	$(BIN)/python -m worker.db.typegen

claim-model: $(INSTALLED)
	$(BIN)/python -m worker.db.claim_model $(if $(VERSION),--version $(VERSION))

$(INSTALLED): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

$(NODE_INSTALLED): package.json package-lock.json
	scripts/install-node
	npm ci --no-audit --no-fund
	touch $@

clean:
	-$(BIN)/customer-memory db stop
	rm -rf $(VENV) .local node_modules
