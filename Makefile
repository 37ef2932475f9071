# GradeDesk: `make run` and `make test` install whatever is missing on a fresh Debian 12
# machine (as root), then do their job. See README.md.
SHELL := /bin/bash
.DEFAULT_GOAL := help

APT_PACKAGES := build-essential pkg-config curl file libssl-dev libwebkit2gtk-4.1-dev \
  libxdo-dev libayatana-appindicator3-dev librsvg2-dev xvfb xauth webkit2gtk-driver \
  chromium python3 python3-pil fonts-humor-sans fonts-breip fonts-dejavu-core \
  poppler-utils libheif-examples dbus-daemon x11-utils
CARGO_BIN := $(HOME)/.cargo/bin
export PATH := $(CARGO_BIN):$(PATH)
DEMO_DIR := .demo
# `make run` is the app a teacher gets: the release build in production mode.
CLI := target/release/gradedesk
WINDOW := target/release/gradedesk-desktop
# The Tauri CLI (npm, a prebuilt binary): builds the release app and the .deb.
TAURI := ui/node_modules/.bin/tauri

.PHONY: help deps apt-deps rust-deps ui-deps ui build release package package-test run demo test lint rust-test ui-test e2e bench types

help:
	@echo "make run    install what is missing, build, and open GradeDesk on the demo exam"
	@echo "make test   install what is missing and run every test (Rust, UI, end-to-end, the .deb)"
	@echo "make package  build the .deb a teacher installs (target/release/bundle/deb/)"
	@echo "make bench  benchmarks (print figures; never fail on time)"

deps: apt-deps rust-deps ui-deps

apt-deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing; \
	fi

rust-deps:
	@command -v cargo >/dev/null || { echo "Rust is missing: install it with rustup (https://rustup.rs)"; exit 1; }
	@command -v tauri-driver >/dev/null || cargo install tauri-driver --locked

# npm ci when node_modules was not installed from this very package-lock.json: the hash of
# the lock file is kept in node_modules after a successful install (file times say nothing
# after a clone or a checkout).
ui-deps:
	@for dir in ui tests/e2e; do \
	  want=$$(sha256sum < $$dir/package-lock.json | cut -d" " -f1); \
	  if [ "$$(cat $$dir/node_modules/.package-lock.sha256 2>/dev/null)" != "$$want" ]; then \
	    (cd $$dir && npm ci --no-audit --no-fund) || exit 1; \
	    echo "$$want" > $$dir/node_modules/.package-lock.sha256; \
	  fi; \
	done

ui: ui-deps
	cd ui && npm run build

# --workspace: also target/debug/fake-gemini, the Gemini stand-in of `make e2e` and `make run FAKE=1`.
build: deps ui
	cargo build --workspace --bins

# The release app (production mode: assets served from the binary, no web inspector), built
# by the Tauri CLI exactly as `make package` builds it, so either reuses the other's build.
release: deps ui
	$(TAURI) build --no-bundle --ci

# The .deb: icon, desktop entry, version and runtime dependencies (tauri.conf.json > bundle).
package: deps ui
	$(TAURI) build --bundles deb --ci
	@ls target/release/bundle/deb/*.deb

# The demo: generated scans (nothing binary is committed), an exam, imported submissions,
# and the answers of the first student already boxed so grading is visible at once.
demo: release
	@if [ ! -f $(DEMO_DIR)/data/gradedesk.sqlite3 ]; then \
	  set -e; rm -rf $(DEMO_DIR); mkdir -p $(DEMO_DIR); \
	  /usr/bin/python3 assets/demo/make_demo.py --out $(DEMO_DIR)/scans --students 6 --quiet; \
	  exam=$$($(CLI) --data-dir $(DEMO_DIR)/data exam create --name "Demo: Maths & Science Quiz" --questions assets/demo/questions.json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["exam_id"])'); \
	  $(CLI) --data-dir $(DEMO_DIR)/data import --exam $$exam $(DEMO_DIR)/scans/*.jpg > $(DEMO_DIR)/imported.json; \
	  /usr/bin/python3 assets/demo/crop_demo.py $(CLI) $(DEMO_DIR); \
	fi

run: demo
	@if [ -z "$$GEMINI_API_KEY" ]; then echo "note: GEMINI_API_KEY is not set: answers wait for a key. 'make run FAKE=1' grades with the local Gemini stand-in."; fi
	@if [ -n "$(FAKE)" ]; then cargo build --release -p fake-gemini; fi
	@if [ -n "$(FAKE)" ]; then \
	  target/release/fake-gemini --port 8765 --latency-ms 1500 & fake=$$!; trap 'kill $$fake' EXIT; \
	  export GEMINI_BASE_URL=http://127.0.0.1:8765 GEMINI_API_KEY=test-key; \
	fi; \
	if [ -z "$$DISPLAY" ]; then \
	  echo "no display: starting GradeDesk under Xvfb"; \
	  xvfb-run -a -s "-screen 0 1280x800x24" $(WINDOW) --data-dir $(DEMO_DIR)/data; \
	else $(WINDOW) --data-dir $(DEMO_DIR)/data; fi

lint: deps ui
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy --all-targets --features e2e -- -D warnings
	cd ui && npm run typecheck && npm run lint

# check-one-build: `cargo test` must reuse every dependency `cargo build` compiled (see the script).
rust-test: build
	python3 scripts/check-one-build.py
	cargo test --workspace

ui-test: ui-deps
	cd ui && npm test && npm run test:ui

# The window with the end-to-end hooks (the `e2e` feature): a debug build of its own.
e2e: deps ui
	cargo build --workspace --bins --features gradedesk/e2e
	xvfb-run -a -s "-screen 0 1280x800x24" node tests/e2e/run.mjs

# The release binary and the .deb built from it: one release build serves both checks.
package-test: package
	tests/package/release_test.sh
	tests/package/deb_test.sh

test: deps ui lint rust-test ui-test e2e package-test
	@echo "all tests passed"

# The IPC types, generated from the Rust structs into ui/src/api/generated.ts (a test in
# `cargo test` fails when that file is stale).
types:
	GRADEDESK_WRITE_TYPES=1 cargo test --lib wire::

# Benchmarks print their figures and never fail on time (release build: a few minutes cold).
bench: deps ui
	cargo bench --bench queue
	cargo bench --bench imaging
	cargo bench --bench vision
	cargo bench --bench handback
	cargo bench --bench class_import
