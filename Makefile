# Vigil — make help lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
LAMBDAS   := $(notdir $(wildcard functions/*))
SUDO      := $(if $(filter 0,$(shell id -u)),,sudo)
TOOLS     := tools/node_modules/.stamp
CDK       := tools/node_modules/.bin/cdk
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_VERSION_CHECK := 1
export GOFLAGS ?= -mod=readonly
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X github.com/vigil-sec/vigil/internal/version.Version=$(VERSION)

.PHONY: help run test build lambdas synth deploy generate bench fuzz corpus lint tools tracefs browser \
	localstack-up localstack-deploy localstack-test localstack-down

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: build ## run the whole pipeline on this machine, no cloud (vigil local; through sudo when not root)
	$(SUDO) bin/vigil local

test: tools tracefs browser ## install what the tests need, then vet, run every test (the sensor's also with -race; as root in a network namespace with only loopback) and every rule fixture
	$(GO) mod download
	$(GO) vet ./...
	scripts/isolated-net.sh $(GO) test -count=1 -timeout 20m ./...
	scripts/isolated-net.sh $(GO) test -race -count=1 -timeout 20m ./sensor/... # the sensor's concurrency (reader, shipper, spool) under the race detector
	scripts/isolated-net.sh $(GO) run ./cmd/vigil rules test >/dev/null
	scripts/isolated-net.sh $(GO) run ./cmd/vigil rules test --no-builtin internal/importer/falco/testdata/families internal/importer/sigma/testdata >/dev/null # Falco and Sigma rules written here, converted, against their fixtures
	scripts/isolated-net.sh $(MAKE) --no-print-directory synth

build: ## build bin/vigil and bin/vigil-sensor, stamped with VERSION (git describe)
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/vigil ./cmd/vigil
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/vigil-sensor ./cmd/vigil-sensor

lambdas: ## build each functions/<fn> as bin/<fn>/bootstrap (provided.al2023, arm64)
	@for fn in $(LAMBDAS); do \
		GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags='-s -w $(LDFLAGS)' \
			-o bin/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done

synth: tools lambdas ## synthesize the CDK stack into cdk.out
	$(CDK) synth --app "$(GO) run ./infra" -o cdk.out -c lambdaDir=bin --no-notices --quiet >/dev/null
	@echo "cdk.out/Vigil.template.json"

deploy: tools lambdas ## deploy the stack to the AWS account of the current credentials
	$(CDK) deploy --app "$(GO) run ./infra" -c lambdaDir=bin --no-notices

generate: ## regenerate the eBPF objects with bpf2go (installs clang-14, libbpf-dev, bpftool from apt) and the Kubernetes manifests
	@command -v clang-14 >/dev/null && test -f /usr/include/bpf/bpf_helpers.h || \
		{ $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq clang-14 llvm-14 libbpf-dev bpftool linux-libc-dev >/dev/null; }
	$(GO) generate ./sensor/bpf/... ./sensor/agent/... ./sensor/isolate/... ./rules/...
	$(GO) run ./scripts/k8smanifest -o deploy/kubernetes/vigil-sensor.yaml # the plain manifests: the Helm chart rendered with its defaults

bench: ## run the benchmarks and write docs/BENCHMARKS.md (medians of BENCH_COUNT runs)
	bash scripts/bench.sh

fuzz: ## run the fuzz targets of the front door (FUZZ_PKGS), each for FUZZTIME (default 30s)
	bash scripts/fuzz.sh

corpus: ## measure the Falco and Sigma importers on real rule files: make corpus CORPUS=DIR (DIR/falco, DIR/sigma; not part of test)
	@test -n "$(CORPUS)" || { echo "usage: make corpus CORPUS=DIR"; exit 2; }
	$(GO) run ./scripts/corpus -dir "$(CORPUS)"

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

tools: $(TOOLS) ## install the pinned npm emulators and CDK CLI into tools/node_modules

$(TOOLS): tools/package.json tools/package-lock.json
	@command -v npm >/dev/null || { echo "npm is required (node 20+): apt-get install nodejs npm"; exit 2; }
	cd tools && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

tracefs: # mount tracefs when root and it is absent (eBPF tests)
	@if [ "$$(id -u)" = 0 ] && [ -d /sys/kernel/tracing ] && ! [ -e /sys/kernel/tracing/trace ]; then \
		mount -t tracefs tracefs /sys/kernel/tracing || true; fi

browser: # install Debian's chromium (dashboard browser test) and iproute2 (network namespace tests) when absent
	@pkgs=""; test -x /usr/bin/chromium || pkgs="chromium"; command -v ip >/dev/null || pkgs="$$pkgs iproute2"; \
	if [ -n "$$pkgs" ]; then $(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkgs >/dev/null; fi

localstack-up: ## start LocalStack (needs Docker and LOCALSTACK_AUTH_TOKEN)
	docker compose -f localstack/docker-compose.yml up -d --wait

localstack-deploy: tools lambdas ## deploy the real stack into LocalStack (cdklocal)
	AWS_ENDPOINT_URL=http://localhost:4566 tools/node_modules/.bin/cdklocal bootstrap --app "$(GO) run ./infra" -c lambdaDir=bin
	AWS_ENDPOINT_URL=http://localhost:4566 tools/node_modules/.bin/cdklocal deploy --app "$(GO) run ./infra" -c lambdaDir=bin --require-approval never

localstack-test: ## run the integration tests against LocalStack
	AWS_ENDPOINT_URL=http://localhost:4566 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 \
		$(GO) test -count=1 ./internal/aws/... ./functions/...

localstack-down: ## stop LocalStack
	docker compose -f localstack/docker-compose.yml down
