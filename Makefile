# Builds and installs warden: the binary, shell completions and (after `make man`) manual pages.
#
#   make                          release build (swift build -c release --static-swift-stdlib --product warden) and man pages
#   sudo make install             into /usr/local
#   make install PREFIX=~/.local  into your home (no sudo)
#   make install DESTDIR=/path/to/stage BIN=path/to/warden   stage a binary built elsewhere, no build
#   make uninstall                removes what install put there (same PREFIX and DESTDIR)
#
# Completions are written by the installed binary itself (swift-argument-parser's
# --generate-completion-script), so they always match its commands and options.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
SWIFT ?= swift
# A self-contained binary: the Swift runtime linked in, so it runs without the toolchain.
SWIFT_BUILD_FLAGS ?= --static-swift-stdlib

BASH_COMPLETIONS := $(DATADIR)/bash-completion/completions
ZSH_COMPLETIONS := $(DATADIR)/zsh/site-functions
FISH_COMPLETIONS := $(DATADIR)/fish/vendor_completions.d

# Manual pages (warden.1, warden.grant.1, ...): swift-argument-parser's generate-manual plugin, which
# builds the package in MAN_CONFIGURATION and runs it offline. install copies those in MAN_SOURCE.
MAN_SOURCE ?= .build/man
MAN_CONFIGURATION ?= release
MAN_OUTPUT := .build/plugins/GenerateManual/outputs/warden

# BIN names a prebuilt binary to install; without it, install builds the release binary and the
# man pages when they are missing (files, not phony targets: `make && sudo make install` must not
# build again as root).
# The built binary is copied out of swift build's folder: the man-page plugin builds warden there
# again, without the Swift runtime linked in, and would otherwise leave that binary to be installed.
BUILT := .build/warden-release
ifeq ($(origin BIN),undefined)
BIN := $(BUILT)
INSTALL_NEEDS := $(BIN) $(MAN_SOURCE)/warden.1
endif

.PHONY: all build man install uninstall

all: build man

build:
	$(SWIFT) build -c release --product warden $(SWIFT_BUILD_FLAGS)
	cp "$$($(SWIFT) build -c release --product warden $(SWIFT_BUILD_FLAGS) --show-bin-path)/warden" $(BUILT)

$(BUILT):
	$(MAKE) build

$(MAN_SOURCE)/warden.1:
	$(MAKE) man

man:
	$(SWIFT) package plugin generate-manual --multi-page --configuration $(MAN_CONFIGURATION)
	mkdir -p $(MAN_SOURCE)
	cp $(MAN_OUTPUT)/*.1 $(MAN_SOURCE)/

install: $(INSTALL_NEEDS)
	test -x "$(BIN)"
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(BASH_COMPLETIONS)" "$(DESTDIR)$(ZSH_COMPLETIONS)" \
	  "$(DESTDIR)$(FISH_COMPLETIONS)"
	install -m 0755 "$(BIN)" "$(DESTDIR)$(BINDIR)/warden"
	"$(BIN)" --generate-completion-script bash > "$(DESTDIR)$(BASH_COMPLETIONS)/warden.tmp"
	mv "$(DESTDIR)$(BASH_COMPLETIONS)/warden.tmp" "$(DESTDIR)$(BASH_COMPLETIONS)/warden"
	"$(BIN)" --generate-completion-script zsh > "$(DESTDIR)$(ZSH_COMPLETIONS)/_warden.tmp"
	mv "$(DESTDIR)$(ZSH_COMPLETIONS)/_warden.tmp" "$(DESTDIR)$(ZSH_COMPLETIONS)/_warden"
	"$(BIN)" --generate-completion-script fish > "$(DESTDIR)$(FISH_COMPLETIONS)/warden.fish.tmp"
	mv "$(DESTDIR)$(FISH_COMPLETIONS)/warden.fish.tmp" "$(DESTDIR)$(FISH_COMPLETIONS)/warden.fish"
	if ls $(MAN_SOURCE)/*.1 >/dev/null 2>&1; then \
	  install -d "$(DESTDIR)$(MANDIR)/man1" && install -m 0644 $(MAN_SOURCE)/*.1 "$(DESTDIR)$(MANDIR)/man1/"; \
	fi

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/warden" "$(DESTDIR)$(BASH_COMPLETIONS)/warden" \
	  "$(DESTDIR)$(ZSH_COMPLETIONS)/_warden" "$(DESTDIR)$(FISH_COMPLETIONS)/warden.fish"
	rm -f "$(DESTDIR)$(MANDIR)"/man1/warden.1 "$(DESTDIR)$(MANDIR)"/man1/warden.*.1
