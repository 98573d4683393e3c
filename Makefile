# The two commands: `make run` serves the API locally, `make test` runs every test.
# Both install what is missing first (see scripts/lib.sh).

.PHONY: run test stop lint fmt

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

# Stops whatever `make run` or `make test` left running.
stop:
	@bash -c 'source scripts/lib.sh && stop_all'

lint:
	@bash scripts/lint.sh

fmt:
	cargo fmt --all
