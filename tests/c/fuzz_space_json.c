/* libFuzzer harness for space_from_json on the seed's 12-parameter space (not run by CI; the
 * bounded fuzz loop in test_space.c is). Build and run, for example:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/c/fuzz_space_json.c src/space.c src/space_json.c src/rng.c src/util.c -lm -o /tmp/fuzz_space
 *   /tmp/fuzz_space -max_total_time=60
 * Invariants: no crash; a rejection always has a reason; an accepted config passes
 * space_check and re-serializes to JSON that parses to the same indices. */
#include "space.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static space *build(void) {
    static const space_value pid[] = {{.type = SPACE_VSTR, .s = "flat", .len = 4}, {.type = SPACE_VSTR, .s = "xyz", .len = 3}};
    static const space_value ev[] = {{.type = SPACE_VSTR, .s = "", .len = 0}, {.type = SPACE_VSTR, .s = "last", .len = 4}};
    static const space_value un[] = {{.type = SPACE_VINT, .i = 0}, {.type = SPACE_VFLOAT, .f = 0.5}};
    static const space_spec ev_c = {.kind = SPACE_CHOICE, .values = ev, .nvalues = 2};
    static const space_spec un_c = {.kind = SPACE_CHOICE, .values = un, .nvalues = 2};
    static const space_spec b = {.kind = SPACE_BOOL};
    char err[256];
    space *sp = space_new("fuzz");
    space_spec specs[] = {
        {.kind = SPACE_POW2, .lo = 16, .hi = 256}, {.kind = SPACE_INT, .lo = -3, .hi = 9, .step = 3},
        {.kind = SPACE_CHOICE, .values = pid, .nvalues = 2}, {.kind = SPACE_LIST, .n = 2, .elem = &ev_c},
        {.kind = SPACE_PERM, .n = 3}, {.kind = SPACE_LIST, .n = 2, .elem = &un_c}, b,
    };
    const char *names[] = {"block_m", "stages", "pid_type", "evict", "order", "unroll", "swizzle"};
    for (int i = 0; i < 7; i++) space_add_param(sp, names[i], &specs[i], err, sizeof err);
    return sp;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static space *sp;
    if (!sp) sp = build();
    int32_t cfg[16], again[16];
    char err[512] = "", json[1024];
    if (space_from_json(sp, (const char *)data, size, cfg, err, sizeof err) != 0) {
        if (err[0] == '\0') abort();
        return 0;
    }
    if (space_check(sp, cfg, err, sizeof err) != 0) abort();
    size_t n = space_to_json(sp, cfg, json, sizeof json);
    if (n >= sizeof json || space_from_json(sp, json, n, again, err, sizeof err) != 0) abort();
    if (memcmp(cfg, again, (size_t)space_nslots(sp) * sizeof *cfg) != 0) abort();
    return 0;
}
