# NightOwl developer entry points. The README's two commands are `make run` and `make test`
# (or the scripts they call, on a machine without make).

CARGO_TARGET_DIR ?= target
export CARGO_TARGET_DIR

.PHONY: run test build plugins lint fmt migrate ui

## Start PostgreSQL/Redis, build, load demo data and serve on http://127.0.0.1:8080
run:
	bash scripts/demo.sh

## Lints and the whole test suite against real PostgreSQL and Redis (what CI runs)
test:
	bash scripts/test.sh

## Build the host binary
build:
	cargo build --locked --bin nightowl

## Build every plugin for wasm32-wasip2 into plugins/dist (loaded by `serve`) and plugins/dist-test
plugins:
	bash scripts/build-plugins.sh

## rustfmt check and clippy with warnings as errors
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	cd plugins && cargo fmt --all -- --check && cargo clippy --locked -- -D warnings

fmt:
	cargo fmt --all

## Apply migrations to the global schema and every tenant schema
migrate: build
	$(CARGO_TARGET_DIR)/debug/nightowl migrate

## Build the web UI crate for the browser
ui:
	bash scripts/build-ui.sh
