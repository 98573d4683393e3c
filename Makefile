# The two commands: `make run` serves the API locally, `make test` runs every test.
# Both install what is missing first (see scripts/lib.sh).

.PHONY: run test stop lint sam-build sam-local soak fuzz bench fmt seed-events seed

run:
	@bash scripts/run.sh

# Lint, every test, the Postman collection, and `sam build` of every function.
test:
	@bash scripts/test.sh

# Stops whatever `make run` or `make test` left running.
stop:
	@bash -c 'source scripts/lib.sh && stop_sam_containers && stop_all'

lint:
	@bash scripts/lint.sh

sam-build:
	@bash scripts/sam-build.sh

# Every route through `sam local start-api` (Docker, x86_64) on 127.0.0.1:3000 (PORT=...).
sam-local:
	@bash scripts/sam-local.sh

# 10,000 randomized operations against the local API, then reconciliation (OPERATIONS=...).
soak:
	@bash scripts/soak.sh

# cargo fuzz over each service's request parsing, FUZZ_SECONDS (default 120) per target; needs nightly.
fuzz:
	@bash scripts/fuzz.sh

# Throughput, latency, API/raw ratio, calls per order, cold start, RSS, zip sizes (BENCHMARKS.md).
bench:
	@bash scripts/bench.sh

fmt:
	cargo fmt --all

# A realistic sample of events for the API `make run` serves (URL=..., EVENTS=...).
seed-events:
	@python3 scripts/seed-events.py --url "$${URL:-http://127.0.0.1:$${PORT:-9000}}" --events "$${EVENTS:-2000}"

# The factories fixtures (the original's seed files) through POST /imports (URL=..., API_KEY=...).
seed:
	@python3 scripts/seed-factories.py --url "$${URL:-http://127.0.0.1:$${PORT:-9000}}" --api-key "$${API_KEY:-local-dev-key}"

# `sam build` runs this once per function (template.yaml: BuildMethod makefile, in source).
# The first builds every function of every service in one `cargo lambda build` (one
# compile of the dependencies, the links in parallel); for the others cargo has nothing
# left to do. PlaceOrderFunction's bootstrap is target/lambda/place-order/bootstrap.
# With LAMBDA_BIN_DIR (`make sam-local`), the bootstraps are that directory's binaries.
LAMBDA_FUNCTIONS := $(notdir $(wildcard crates/*/functions/*))
function = $(shell echo '$*' | sed -E 's/([a-z0-9])([A-Z])/\1-\2/g' | tr A-Z a-z)
build-%Function:
ifdef LAMBDA_BIN_DIR
	cp "$(LAMBDA_BIN_DIR)/$(function)" "$(ARTIFACTS_DIR)/bootstrap"
else
	cargo lambda build --release --arm64 $(addprefix --bin ,$(LAMBDA_FUNCTIONS))
	cp target/lambda/$(function)/bootstrap "$(ARTIFACTS_DIR)/"
endif
