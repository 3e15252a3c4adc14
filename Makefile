# lb: build, test and install the toolkit.
#
#   make                 every program in bin/
#   make check           install what is missing, build, run every suite
#   make check SANITIZE=1  the same, built with ASan and UBSan into build/san/
#   make demo            install what is missing, build, run the main job
#   make demo-cluster    the same for lb on several hosts (root: namespaces)
#   make install         PREFIX=/usr/local DESTDIR=

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man

CC	?= cc
CFLAGS	?= -O2 -g
WARN	 = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wpointer-arith -Wcast-qual -Wsign-compare -Werror
VERSION	 = 0.2
CPPFLAGS += -D_GNU_SOURCE -DLIBBSD_OVERLAY -DLIBBSD_OPENBSD_VIS \
	    -DLB_VERSION='"$(VERSION)"' \
	    -isystem /usr/include/bsd -Icommon
LDLIBS	+= -lbsd -lssl -lcrypto -lpthread

ifeq ($(SANITIZE),1)
OUT	 = build/san
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS	+= -fsanitize=address,undefined
else
OUT	 = .
endif
OBJ	 = $(OUT)/obj
BIN	 = $(OUT)/bin

COMMON_SRC = $(wildcard common/*.c)
COMMON_OBJ = $(COMMON_SRC:%.c=$(OBJ)/%.o)
LIBCOMMON  = $(OBJ)/libcommon.a
PROGS	   = $(notdir $(wildcard cmd/*))
PROG_BINS  = $(PROGS:%=$(BIN)/%)
UNIT_SRC   = $(wildcard tests/unit/*.c)
UNIT_BINS  = $(UNIT_SRC:tests/unit/%.c=$(BIN)/tests/%)
HELP_SRC   = $(wildcard tests/helpers/*.c)
HELP_BINS  = $(HELP_SRC:tests/helpers/%.c=$(BIN)/tests/%)
MANPAGES   = $(wildcard man/*.[1-8])

all: $(PROG_BINS) $(UNIT_BINS) $(HELP_BINS)

$(OBJ)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(WARN) -MMD -MP -c -o $@ $<

$(LIBCOMMON): $(COMMON_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

# One rule per program: cmd/NAME/*.c and the library make bin/NAME.
define PROG_RULE
$(BIN)/$(1): $(patsubst %.c,$(OBJ)/%.o,$(wildcard cmd/$(1)/*.c)) $(LIBCOMMON)
	@mkdir -p $$(@D)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach p,$(PROGS),$(eval $(call PROG_RULE,$(p))))

$(BIN)/tests/%: $(OBJ)/tests/unit/%.o $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/tests/%: $(OBJ)/tests/helpers/%.o $(LIBCOMMON)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

deps:
	@sh tools/deps.sh

check: deps
	@$(MAKE) --no-print-directory all
	@LB_BIN=$(abspath $(BIN)) bash tests/run

lint-man:
	mandoc -Tlint -W warning $(MANPAGES)

demo: deps
	@$(MAKE) --no-print-directory all
	@LB_BIN=$(abspath $(BIN)) bash tools/demo.sh

demo-cluster: deps
	@$(MAKE) --no-print-directory all
	@LB_BIN=$(abspath $(BIN)) bash tools/cluster.sh

install: $(PROG_BINS)
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(PROG_BINS) $(DESTDIR)$(BINDIR)
	for m in $(MANPAGES); do \
		s=$${m##*.}; install -d $(DESTDIR)$(MANDIR)/man$$s && \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$$s || exit 1; \
	done

clean:
	rm -rf bin obj build

.PHONY: all deps check lint-man demo demo-cluster install clean

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
