# The two commands of the README: `make demo` and `make test`.
GO      ?= go
BIN     := bin/sentinel
FUZZTIME ?= 10s

.PHONY: all build demo test fuzz bench deps clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/sentinel

deps:
	scripts/deps.sh

# A local master, two replicas and three sentinels, then a kill-the-master drill.
demo: deps build
	$(BIN) drill --local --down-after 1000

test: 
	scripts/deps.sh test
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 25m ./...
	$(MAKE) fuzz

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzParse -fuzztime=$(FUZZTIME) ./sentinel/config
	$(GO) test -run='^$$' -fuzz=FuzzSetRules -fuzztime=$(FUZZTIME) ./sentinel/acl
	$(GO) test -run='^$$' -fuzz=FuzzServerInput -fuzztime=$(FUZZTIME) ./sentinel/server
	$(GO) test -run='^$$' -fuzz=FuzzDecode -fuzztime=$(FUZZTIME) ./sentinel/peer
	$(GO) test -run='^$$' -fuzz=FuzzEnvelope -fuzztime=$(FUZZTIME) ./sentinel/gossip
	$(GO) test -run='^$$' -fuzz=FuzzHello -fuzztime=$(FUZZTIME) ./sentinel/core
	$(GO) test -run='^$$' -fuzz=FuzzLinkReply -fuzztime=$(FUZZTIME) ./monitor/link
	$(GO) test -run='^$$' -fuzz=FuzzParseInfo -fuzztime=$(FUZZTIME) ./monitor
	$(GO) test -run='^$$' -fuzz=FuzzElection -fuzztime=$(FUZZTIME) ./election

bench: build
	scripts/deps.sh bench
	$(GO) run ./bench -sentinel $(BIN)

clean:
	rm -rf bin
