# tandem — the two commands of the README:
#   make run    install what is missing, build, start the embedded default cluster
#   make test   install what is missing, build (plain, sanitizers, fuzzers), run every test
# `make` alone builds build/tandem and build/tandemctl.

MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all build run test deps asan fuzz clean format format-check

all: build

build:
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS)

deps:
	@scripts/deps.sh

run: deps build
	./build/tandem dev

asan:
	@CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTANDEM_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)

fuzz:
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DTANDEM_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS)

test: deps build asan fuzz
	@scripts/test.sh

format:
	@clang-format -i $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

format-check:
	@clang-format --dry-run -Werror $$(git ls-files --cached --others --exclude-standard '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz
