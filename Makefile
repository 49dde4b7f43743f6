# htune: C runtime embedding Lua 5.4. Objects go to $(BUILD); `make help` lists targets.
CUDA_HOME ?= /usr/local/cuda
PREFIX    ?= /usr/local
BUILD     ?= build
CC        ?= cc
VERSION   := 0.1.0
LIBDIR    := /usr/lib/x86_64-linux-gnu

# One line per concern; each line lists that concern's core and binding files.
SRC_CORE  = src/runtime.c src/lsys.c src/util.c
SRC_SPACE = src/space.c src/space_json.c src/lspace.c src/lspace_new.c src/rng.c src/lrng.c
SRC_NVRTC = src/nvrtc.c src/hugetext.c src/nvsvc.c src/pool.c src/cache.c src/lnvrtc.c
SRC_CUDA  = src/cudaapi.c src/cudafake.c src/cuda.c src/lcuda.c src/nvml.c
SRC_BENCH = src/stats.c src/criterion.c src/bench.c src/worker.c src/wproto.c src/wserve.c src/lbench.c
SRC_LLM   = src/llm.c src/lllm.c
all: $(BUILD)/mock_llm
$(BUILD)/mock_llm: tests/mock_llm/mock_llm.c | $(BUILD)
	$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $<
SRC_STORE = src/store.c src/lstore.c
SRC_KERNELS = src/baseline.c
SRC = $(SRC_CORE) $(SRC_SPACE) $(SRC_NVRTC) $(SRC_CUDA) $(SRC_BENCH) $(SRC_LLM) $(SRC_STORE) $(SRC_KERNELS)

WARN     = -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS = -D_GNU_SOURCE -DHTUNE_VERSION='"$(VERSION)"' -DHTUNE_CUDA_HOME='"$(CUDA_HOME)"' \
           -Isrc -I/usr/include/lua5.4 -I$(CUDA_HOME)/include
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 $(WARN) -pthread
# Lua, lua-cjson and SQLite static (whole Lua archive, exported, so Lua C modules such as
# busted's can be loaded by `htune run`); libcurl dynamic; libcuda/libnvrtc by dlopen.
LIBS = -Wl,-E -Wl,--whole-archive $(LIBDIR)/liblua5.4.a -Wl,--no-whole-archive \
       $(LIBDIR)/liblua5.4-cjson.a $(LIBDIR)/libsqlite3.a -lcurl -ldl -lpthread -lm

OBJ  = $(SRC:src/%.c=$(BUILD)/%.o)
ASAN = $(BUILD)/asan
ASAN_FLAGS = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
TESTS_C = $(patsubst tests/c/%.c,$(ASAN)/%,$(wildcard tests/c/test_*.c))

.PHONY: all test test-gpu asan run install clean help
all: $(BUILD)/htune

$(BUILD)/htune: $(OBJ) $(BUILD)/main.o
	$(CC) $(CFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/%.o: src/%.c $(wildcard src/*.h) | $(BUILD)
	@echo CC $<
	@$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD) $(ASAN):
	mkdir -p $@

# Sanitizer build: the same objects with ASan+UBSan, a static library of them, and the C tests.
asan: $(ASAN)/htune $(TESTS_C)
$(ASAN)/%.o: src/%.c $(wildcard src/*.h) | $(ASAN)
	@echo CC-ASAN $<
	@$(CC) $(CPPFLAGS) $(CFLAGS) $(ASAN_FLAGS) -c -o $@ $<
$(ASAN)/libhtune.a: $(SRC:src/%.c=$(ASAN)/%.o)
	rm -f $@ && ar rcs $@ $^
$(ASAN)/htune: $(ASAN)/main.o $(ASAN)/libhtune.a
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -o $@ $^ $(LIBS)
$(ASAN)/test_%: tests/c/test_%.c tests/c/test.h $(ASAN)/libhtune.a
	@echo TEST $@
	@$(CC) $(CPPFLAGS) -Itests/c $(CFLAGS) $(ASAN_FLAGS) -o $@ $< $(ASAN)/libhtune.a $(LIBS)

test: all asan
	tests/run

test-gpu: all
	tests/run --gpu-only

run: all
	$(BUILD)/htune run examples/quickstart.lua

install: all
	install -d $(PREFIX)/bin $(PREFIX)/share/htune
	install -m 755 $(BUILD)/htune $(PREFIX)/bin/htune
	install -m 755 $(BUILD)/mock_llm $(PREFIX)/bin/mock_llm
	for d in lua examples kernels data; do [ ! -d $$d ] || cp -r $$d $(PREFIX)/share/htune/; done
	install -d $(PREFIX)/share/htune/tests/mock_llm
	install -m 644 tests/mock_llm/mock.lua $(PREFIX)/share/htune/tests/mock_llm/   # examples/llm.lua's mock

clean:
	rm -rf $(BUILD)

# The seed's study: live on a GPU, else on replay data (ARGS="--quick" etc., see scripts/compare --help).
.PHONY: compare
compare: all
	HTUNE=$(BUILD)/htune scripts/compare $(ARGS)

help:
	@echo "targets: all test test-gpu asan run install clean  (CUDA_HOME=$(CUDA_HOME) PREFIX=$(PREFIX) BUILD=$(BUILD))"
	@echo "         compare  the seed's study into results/<date>-<device>/ (ARGS=\"--quick ...\")"
