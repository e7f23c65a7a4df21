# Vigil: the two commands are `make demo` and `make test` (README.md).
SHELL := /bin/bash
JOBS ?= $(shell nproc)
SHARED ?= ../shared
FUZZ_SECONDS ?= 5

.PHONY: all build test demo deps dev-test fuzz-build fuzz-smoke bench eval clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# Everything CI runs: the release build's tests, then a short run of every fuzz target.
test: build
	@cd build && ctest --output-on-failure -j $(JOBS) --timeout 600
	@if command -v clang++ >/dev/null; then $(MAKE) --no-print-directory fuzz-smoke; \
	 else echo "clang not found: fuzz smoke skipped"; fi

# The suite under AddressSanitizer and UndefinedBehaviorSanitizer.
dev-test: deps
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)
	@cd build-dev && ctest --output-on-failure -j $(JOBS) --timeout 900

fuzz-build: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS)

fuzz-smoke: fuzz-build
	@scripts/fuzz-smoke $(FUZZ_SECONDS)

bench: deps
	@cmake --preset bench >/dev/null
	@cmake --build --preset bench -j $(JOBS)
	@build-bench/bin/vigil_micro_bench --benchmark_min_time=0.5

# Accuracy on the development split (needs ../shared).
eval: build
	@build/bin/vigil eval < $(SHARED)/eval/dev/sink-cases.jsonl > build/sink-verdicts.jsonl
	@python3 $(SHARED)/eval/score.py $(SHARED)/eval/dev/sink-labels.jsonl build/sink-verdicts.jsonl --by sink --show-misses 0

demo: build
	@scripts/demo

clean:
	rm -rf build build-dev build-fuzz build-bench build-pgo

# The agent to deploy: the release build of it, laid out by a profile of real programs
# (scripts/build-pgo; build-pgo/bin/vigil, build-pgo/lib/libvigil_preload.so).
.PHONY: build-pgo
build-pgo: deps
	@scripts/build-pgo

# Agent overhead: wrk against the demo shop without and with the agent (the one to deploy, from
# build-pgo), side by side: its search, then the demo's benign requests in turn (--mix).
# BENCH_BUILD=build measures the plain release build's agent instead.
BENCH_BUILD ?= build-pgo
.PHONY: bench-agent
bench-agent: $(BENCH_BUILD)
	@python3 bench/agent/run.py --build $(BENCH_BUILD) --together --rounds 12 --seconds 3 --paired-latency 12
	@echo
	@python3 bench/agent/run.py --build $(BENCH_BUILD) --together --rounds 12 --seconds 3 --mix --paired-latency 12

# The dashboard's first-render times on a large database (docs/dashboard.md); fill one first with
# build-bench/bin/vigil_server_bench query --events 5000000 --data /tmp/vigil-5m.
VIGIL_BENCH_DATA ?= /tmp/vigil-5m
.PHONY: bench-dashboard
bench-dashboard: build
	@node tests/dashboard/speed.mjs --build build --data $(VIGIL_BENCH_DATA)
