# keyfob. `make help` lists the targets.

SHELL      := /bin/bash
GO         ?= go
PREFIX     ?= /usr/local
DESTDIR    ?=
UNITDIR    ?= $(PREFIX)/lib/systemd/user
DATADIR    ?= $(PREFIX)/share/keyfob
BIN        := bin
GOFLAGS    ?= -buildvcs=false
export GOFLAGS
# Tests must never reach a desktop session's bus or prompt on a display.
TESTENV    := env -u DISPLAY -u WAYLAND_DISPLAY DBUS_SESSION_BUS_ADDRESS=disabled:
FUZZTIME   ?= 10s
DEBS       := git gnome-keyring dbus dbus-x11 libsecret-tools keyutils pass gnupg systemd gh hyperfine libsecret-1-dev pkg-config bubblewrap podman runc
TESTUSER   := keyfobtest

STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: help deps build test test-go test-darwin lint fuzz fuzz-short bench soak demo install clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

deps: ## install the Debian packages and the second test uid (as root; a no-op otherwise)
	@missing=$$(for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing: $$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing Debian packages: $$missing (run make deps as root)"; exit 1; fi; \
	fi
	@if [ "$$(id -u)" = 0 ] && ! id -u $(TESTUSER) >/dev/null 2>&1; then \
	  useradd -M -s /usr/sbin/nologin $(TESTUSER); fi

# The macOS Keychain backend is cgo (keyring's keychain.go is darwin && cgo):
# keyfob is built with cgo for darwin, static without it elsewhere. The
# helper is always static: it never touches a keychain.
TARGETOS   := $(shell $(GO) env GOOS)
KEYFOB_CGO := $(if $(filter darwin,$(TARGETOS)),1,0)
# keyring's Keychain backend, as go list -deps names it.
KEYCHAIN_DEP := github.com/99designs/go-keychain
# VCS stamping is off (GOFLAGS above: a checkout without git, or a tree
# git does not own, would fail the build), so make build stamps the version
# and revision itself; keyfob version prints them.
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
STAMP      := -X main.version=$(VERSION) -X main.revision=$(REVISION)

build: ## build keyfob (cgo on darwin, for the Keychain) and the static git-credential-keyfob into bin/
	CGO_ENABLED=$(KEYFOB_CGO) $(GO) build -trimpath -ldflags='-s -w $(STAMP)' -o $(BIN)/ ./cmd/keyfob
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags='-s -w' -o $(BIN)/ ./cmd/git-credential-keyfob

test: deps build lint test-go test-darwin fuzz-short ## everything CI runs: lint, unit, real-parts and fuzz tests

lint: ## go vet and staticcheck (a pinned version, from the Go module proxy)
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

test-go:
	$(TESTENV) $(GO) test -race -count=1 ./...

test-darwin: ## check the macOS build: it compiles, and a cgo build (what make build does there) has the Keychain backend
	GOOS=darwin CGO_ENABLED=0 $(GO) build ./...
	@GOOS=darwin CGO_ENABLED=1 $(GO) list -deps ./cmd/keyfob | grep -qx '$(KEYCHAIN_DEP)' || \
	  { echo "test-darwin: a darwin cgo build of cmd/keyfob lacks $(KEYCHAIN_DEP): the Keychain backend is missing" >&2; exit 1; }
	@GOOS=darwin CGO_ENABLED=0 $(GO) list -deps ./cmd/git-credential-keyfob | grep -q 'keyring\|keychain' && \
	  { echo "test-darwin: the helper depends on a keychain" >&2; exit 1; } || true
	@GOOS=darwin $(MAKE) --no-print-directory -s -n build | grep -q "^CGO_ENABLED=1 .* ./cmd/keyfob$$" || \
	  { echo "test-darwin: make build does not enable cgo for keyfob on darwin" >&2; exit 1; }
	@echo "test-darwin: ok (the darwin cgo build of keyfob includes $(KEYCHAIN_DEP))"

fuzz-short:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=100000x

fuzz: ## run every fuzz target for FUZZTIME each (default 10s; make fuzz FUZZTIME=5m)
	@set -e; for pkg in $$($(GO) list ./...); do \
	  dir=$$($(GO) list -f '{{.Dir}}' $$pkg); \
	  for f in $$(grep -ho '^func Fuzz[A-Za-z0-9_]*' $$dir/*_test.go 2>/dev/null | sed 's/func //'); do \
	    echo "fuzz $$pkg $$f"; $(TESTENV) $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
	  done; done

BENCHFLAGS ?=
# A private D-Bus session with gnome-keyring unlocked, so git-credential-libsecret
# runs against a real keyring (RECIPES: gnome-keyring).
bench: build ## time the helper against credential-cache, libsecret, gh; load the agent; write docs/benchmarks.md
	@tmp=$$(mktemp -d); mkdir -m700 $$tmp/run; \
	GOMODCACHE=$$($(GO) env GOMODCACHE) GOCACHE=$$($(GO) env GOCACHE) \
	env -u DISPLAY -u WAYLAND_DISPLAY -u DBUS_SESSION_BUS_ADDRESS HOME=$$tmp XDG_RUNTIME_DIR=$$tmp/run \
	  dbus-run-session -- sh -c ' \
	    eval "$$(printf %s bench-pass | gnome-keyring-daemon --unlock --components=secrets)"; \
	    until dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
	      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q true; do sleep 0.05; done; \
	    $(GO) run ./bench -bin $(BIN) -out docs/benchmarks.md $(BENCHFLAGS)'; rc=$$?; rm -rf $$tmp; exit $$rc

soak: ## the long soak: 1,000 idle connections, 100,000 mixed requests, kill -9, full audit disk, keychain failure
	$(TESTENV) KEYFOB_SOAK=long $(GO) test -count=1 -timeout 30m -v -run Soak ./bench/soak/

demo: build ## the main job end to end: file backend, local git server, clone through the helper
	$(TESTENV) $(GO) run ./cmd/keyfob/internal/demo $(BIN)

install: build ## install binaries, units and autostart files under $(DESTDIR)$(PREFIX)
	install -Dm755 $(BIN)/keyfob $(DESTDIR)$(PREFIX)/bin/keyfob
	install -Dm755 $(BIN)/git-credential-keyfob $(DESTDIR)$(PREFIX)/bin/git-credential-keyfob
	@set -e; for f in systemd/keyfob.socket:$(UNITDIR)/keyfob.socket systemd/keyfob.service:$(UNITDIR)/keyfob.service \
	         xdg/keyfob.desktop:$(DATADIR)/autostart/keyfob.desktop \
	         launchd/io.github.keyfob.agent.plist:$(DATADIR)/launchd/io.github.keyfob.agent.plist; do \
	  src=contrib/$${f%%:*}; dst=$(DESTDIR)$${f#*:}; \
	  echo "install $$src $$dst"; install -d $$(dirname $$dst); \
	  sed -e 's#/usr/local/bin/keyfob#$(PREFIX)/bin/keyfob#' -e 's#^\(Try\)\{0,1\}Exec=keyfob#\1Exec=$(PREFIX)/bin/keyfob#' $$src > $$dst; \
	  chmod 644 $$dst; done

clean: ## remove build output
	rm -rf $(BIN)
