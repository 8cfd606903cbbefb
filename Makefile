# Plugboard. `make` builds the binary and packs the example plugins;
# `make run` starts Plugboard; `make test` runs every test; `make bench` prints the numbers.
GO      ?= go
BIN     := bin/plugboard
LDFLAGS := -X main.sourceDir=$(CURDIR)
EXAMPLES := $(notdir $(wildcard examples/plugins/*))
PACKAGES := $(EXAMPLES:%=dist/%.difypkg)

.PHONY: all build examples generate run test bench fmt clean

all: build examples

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/plugboard

examples: build
	@mkdir -p dist
	@for p in $(EXAMPLES); do \
		./$(BIN) plugin pack examples/plugins/$$p -o dist/$$p.difypkg || exit 1; \
	done

generate:
	$(GO) tool templ generate -path views

run: all
	./$(BIN) serve

test: all
	$(GO) vet ./...
	PLUGBOARD_E2E_BIN=$(CURDIR)/$(BIN) $(GO) test -count=1 -timeout 20m ./...

bench: all
	$(GO) test -run '^$$' -bench . -benchtime 2s -timeout 20m ./daemon/api/
	$(GO) test -run '^$$' -bench AgentLoop -benchtime 30x -timeout 20m ./app/agent/
	$(GO) test -run '^$$' -bench 'GatewayEcho' -benchtime 8000x -timeout 20m ./web/
	$(GO) test -run '^$$' -bench 'SaveRunLater' -benchtime 20000x -timeout 20m ./store/
	PLUGBOARD_E2E_BIN=$(CURDIR)/$(BIN) $(GO) test -run '^$$' -bench 'Playground|ServeRSS|ModelChat' -benchtime 1x -timeout 20m ./web/e2e/

fmt:
	gofmt -w $$(git ls-files '*.go' | grep -v '_templ.go$$')

clean:
	rm -rf bin dist
