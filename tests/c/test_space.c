/* Tests of src/space.c and src/space_json.c: declaration errors, the seed's space size,
 * permutation ranks, sampling/neighbours/mutate/crossover invariants, bounds, dense index,
 * encoding, canonical JSON with a pinned hash, parser errors, and a bounded fuzz of
 * space_from_json (random and mutated inputs: no crash, a reason on every rejection). */
#include "space.h"
#include "test.h"
#include "util.h"
#include <stdlib.h>

static char err[512];

#define STR(x) {.type = SPACE_VSTR, .s = (x), .len = sizeof(x) - 1}
#define INT(x) {.type = SPACE_VINT, .i = (x)}

static space *helion(void) {
    static const space_value pid[] = {STR("flat"), STR("xyz"), STR("persistent_blocked"), STR("persistent_interleaved")};
    static const space_value idx[] = {STR("pointer"), STR("tensor_descriptor")};
    static const space_value ev[] = {STR(""), STR("first"), STR("last")};
    static const space_value unroll[] = {INT(0), INT(1), INT(2), INT(4)};
    static const space_value stages[] = {INT(0), INT(1), INT(2), INT(3)};
    static const space_spec idx_c = {.kind = SPACE_CHOICE, .values = idx, .nvalues = 2};
    static const space_spec ev_c = {.kind = SPACE_CHOICE, .values = ev, .nvalues = 3};
    static const space_spec un_c = {.kind = SPACE_CHOICE, .values = unroll, .nvalues = 4};
    static const space_spec st_c = {.kind = SPACE_CHOICE, .values = stages, .nvalues = 4};
    struct { const char *name; space_spec s; } ps[] = {
        {"block_m", {.kind = SPACE_POW2, .lo = 16, .hi = 256}},
        {"block_n", {.kind = SPACE_POW2, .lo = 16, .hi = 256}},
        {"block_k", {.kind = SPACE_POW2, .lo = 16, .hi = 128}},
        {"num_warps", {.kind = SPACE_POW2, .lo = 1, .hi = 16}},
        {"num_stages", {.kind = SPACE_INT, .lo = 1, .hi = 8, .step = 1}},
        {"pid_type", {.kind = SPACE_CHOICE, .values = pid, .nvalues = 4}},
        {"indexing", {.kind = SPACE_LIST, .n = 3, .elem = &idx_c}},
        {"loop_orders", {.kind = SPACE_PERM, .n = 2}},
        {"l2_groupings", {.kind = SPACE_POW2, .lo = 1, .hi = 64}},
        {"load_eviction_policies", {.kind = SPACE_LIST, .n = 2, .elem = &ev_c}},
        {"range_unroll_factors", {.kind = SPACE_LIST, .n = 2, .elem = &un_c}},
        {"range_num_stages", {.kind = SPACE_LIST, .n = 2, .elem = &st_c}},
    };
    space *sp = space_new("helion_matmul");
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
        if (space_add_param(sp, ps[i].name, &ps[i].s, err, sizeof err) < 0) fprintf(stderr, "%s\n", err);
    return sp;
}

static void test_helion_size(void) {
    space *sp = helion();
    int overflow;
    CHECK_EQ_INT(space_nparams(sp), 12);
    CHECK_EQ_INT(space_nslots(sp), 17);
    CHECK(space_product(sp, &overflow) == 4128768000ULL);
    CHECK_EQ_INT(overflow, 0);
    CHECK(space_param_count(sp, 6) == 8);
    CHECK(space_param_count(sp, 9) == 9);
    space_free(sp);
}

/* Declares one bad param and checks the error names it and the value. */
static void bad(space_spec s, const char *name, const char *want) {
    space *sp = space_new("bad");
    err[0] = '\0';
    CHECK_EQ_INT(space_add_param(sp, name, &s, err, sizeof err), -1);
    if (!strstr(err, want) || !strstr(err, name)) fprintf(stderr, "got error: %s (want %s)\n", err, want);
    CHECK(strstr(err, want) != NULL);
    space_free(sp);
}

static void test_declaration_errors(void) {
    static const space_value dup[] = {STR("a"), STR("a")};
    static const space_value num_dup[] = {INT(2), {.type = SPACE_VFLOAT, .f = 2.0}};
    static const space_spec list_in = {.kind = SPACE_LIST, .n = 2, .elem = NULL};
    bad((space_spec){.kind = SPACE_POW2, .lo = 16, .hi = 8}, "bm", "lo=16 > hi=8");
    bad((space_spec){.kind = SPACE_POW2, .lo = 20, .hi = 64}, "bm", "lo=20 is not a power of two");
    bad((space_spec){.kind = SPACE_POW2, .lo = 16, .hi = 100}, "bm", "hi=100 is not a power of two");
    bad((space_spec){.kind = SPACE_POW2, .lo = 0, .hi = 8}, "bm", "lo=0");
    bad((space_spec){.kind = SPACE_INT, .lo = 5, .hi = 1, .step = 1}, "st", "empty range");
    bad((space_spec){.kind = SPACE_INT, .lo = 1, .hi = 5, .step = 0}, "st", "step=0");
    bad((space_spec){.kind = SPACE_INT, .lo = 0, .hi = INT64_MAX, .step = 1}, "st", "more than 2^31-1");
    bad((space_spec){.kind = SPACE_CHOICE, .values = NULL, .nvalues = 0}, "c", "empty choice");
    bad((space_spec){.kind = SPACE_CHOICE, .values = dup, .nvalues = 2}, "c", "duplicate choice value \"a\"");
    bad((space_spec){.kind = SPACE_CHOICE, .values = num_dup, .nvalues = 2}, "c", "duplicate choice value 2.0");
    bad((space_spec){.kind = SPACE_LIST, .n = 0, .elem = NULL}, "l", "list n=0");
    bad((space_spec){.kind = SPACE_LIST, .n = 2, .elem = &list_in}, "l", "got list");
    bad((space_spec){.kind = SPACE_PERM, .n = 9}, "p", "perm n=9");
    bad((space_spec){.kind = (enum space_kind)42}, "k", "unknown kind 42");
    space *sp = space_new("dup");
    space_spec b = {.kind = SPACE_BOOL};
    CHECK_EQ_INT(space_add_param(sp, "x", &b, err, sizeof err), 0);
    CHECK_EQ_INT(space_add_param(sp, "x", &b, err, sizeof err), -1);
    CHECK(strstr(err, "duplicate param name 'x'") != NULL);
    space_free(sp);
}

static void test_perm_rank(void) {
    for (int n = 1; n <= 5; n++) {
        int32_t total = 1;
        for (int i = 2; i <= n; i++) total *= i;
        for (int32_t r = 0; r < total; r++) {
            int p[SPACE_PERM_MAX];
            space_perm_unrank(n, r, p);
            CHECK_EQ_INT(space_perm_rank(n, p), r);
        }
    }
    int id[] = {0, 1, 2}, rev[] = {2, 1, 0}, rep[] = {0, 0, 1}, out[] = {0, 3, 1};
    CHECK_EQ_INT(space_perm_rank(3, id), 0);
    CHECK_EQ_INT(space_perm_rank(3, rev), 5);
    CHECK_EQ_INT(space_perm_rank(3, rep), -1);
    CHECK_EQ_INT(space_perm_rank(3, out), -1);
}

/* Number of params in which a and b differ. */
static int params_differing(const space *sp, const int32_t *a, const int32_t *b) {
    int d = 0;
    for (int p = 0; p < space_nparams(sp); p++) {
        int s = space_param_slot(sp, p);
        d += memcmp(a + s, b + s, (size_t)space_param_slots(sp, p) * sizeof *a) != 0;
    }
    return d;
}

static int slots_differing(const space *sp, const int32_t *a, const int32_t *b) {
    int d = 0;
    for (int s = 0; s < space_nslots(sp); s++) d += a[s] != b[s];
    return d;
}

static void test_sample_neighbors_moves(void) {
    space *sp = helion();
    rng_t r;
    rng_seed(&r, 5);
    int32_t a[17], b[17], out[17];
    int cap = space_max_neighbors(sp);
    int32_t *nb = malloc((size_t)cap * 17 * sizeof *nb);
    for (int i = 0; i < 300; i++) {
        CHECK_EQ_INT(space_sample(sp, &r, a, 100, err, sizeof err), 0);
        CHECK_EQ_INT(space_check(sp, a, err, sizeof err), 0);
        int n = space_neighbors(sp, a, nb, cap);
        CHECK(n >= 20 && n <= cap);
        for (int k = 0; k < n; k++) CHECK_EQ_INT(slots_differing(sp, a, nb + k * 17), 1);
        space_sample_raw(sp, &r, b);
        space_mutate_raw(sp, a, &r, 3, out);
        CHECK_EQ_INT(params_differing(sp, a, out), 3);
        CHECK_EQ_INT(space_check(sp, out, err, sizeof err), 0);
        space_crossover_raw(sp, a, b, &r, out);
        for (int p = 0; p < space_nparams(sp); p++) {
            int s = space_param_slot(sp, p), w = space_param_slots(sp, p);
            CHECK(memcmp(out + s, a + s, (size_t)w * 4) == 0 || memcmp(out + s, b + s, (size_t)w * 4) == 0);
        }
    }
    space_default(sp, a); /* all first values: only "up" moves for ordinals */
    /* 5 ordinals, pid_type's 3 others, indexing 3 x 1, loop_orders 1, l2_groupings 1,
     * eviction 2 x 2; the unroll factors and range stages are increasing numbers: one "up"
     * move per element */
    CHECK_EQ_INT(space_neighbors(sp, a, nb, cap), 5 + 3 + 3 + 1 + 1 + 2 * 2 + 2 * 1 + 2 * 1);
    free(nb);
    space_free(sp);
}

/* A choice of increasing numbers steps like an int; strings, or numbers out of order, give
 * every alternative. */
static void test_ordered_choice_neighbors(void) {
    static const space_value warps[] = {INT(1), INT(2), INT(4), INT(8), INT(16)};
    static const space_value mixed[] = {INT(4), INT(1), INT(2)};
    static const space_value names[] = {STR("a"), STR("b"), STR("c")};
    space *sp = space_new("ord");
    space_spec w = {.kind = SPACE_CHOICE, .values = warps, .nvalues = 5};
    space_spec m = {.kind = SPACE_CHOICE, .values = mixed, .nvalues = 3};
    space_spec n = {.kind = SPACE_CHOICE, .values = names, .nvalues = 3};
    CHECK(space_add_param(sp, "w", &w, err, sizeof err) >= 0);
    CHECK(space_add_param(sp, "m", &m, err, sizeof err) >= 0);
    CHECK(space_add_param(sp, "n", &n, err, sizeof err) >= 0);
    int32_t cfg[3] = {2, 0, 0}, nb[3 * 16];
    CHECK_EQ_INT(space_max_neighbors(sp), 2 + 2 + 2);
    int k = space_neighbors(sp, cfg, nb, 16);
    CHECK_EQ_INT(k, 2 + 2 + 2);
    int w_moves[2] = {-1, -1}, nw = 0;
    for (int i = 0; i < k; i++)
        if (nb[3 * i] != 2) w_moves[nw++] = nb[3 * i];
    CHECK_EQ_INT(nw, 2);
    CHECK((w_moves[0] == 1 && w_moves[1] == 3) || (w_moves[0] == 3 && w_moves[1] == 1)); /* 4 -> 2 and 8 */
    cfg[0] = 4;
    CHECK_EQ_INT(space_neighbors(sp, cfg, nb, 16), 1 + 2 + 2); /* 16: only down */
    space_free(sp);
}

static space *bounded(void) {
    space *sp = space_new("bounded");
    space_spec bm = {.kind = SPACE_POW2, .lo = 16, .hi = 256}, st = {.kind = SPACE_INT, .lo = 1, .hi = 8, .step = 1};
    space_add_param(sp, "block_m", &bm, err, sizeof err);
    space_add_param(sp, "stages", &st, err, sizeof err);
    space_term t = {.coef = 2, .nfactors = 2, .factors = {"block_m", "stages"}};
    CHECK_EQ_INT(space_add_bound(sp, "smem", &t, 1, 0, 512, err, sizeof err), 0);
    return sp;
}

static void test_bounds(void) {
    space *sp = bounded();
    rng_t r;
    rng_seed(&r, 9);
    int32_t c[5]; /* 2 slots, 5 once word and pair are added */
    for (int i = 0; i < 500; i++) {
        CHECK_EQ_INT(space_sample(sp, &r, c, 1000, err, sizeof err), 0);
        CHECK(2 * (16 << c[0]) * (c[1] + 1) <= 512);
    }
    c[0] = 4, c[1] = 7; /* 2*256*8 */
    CHECK_EQ_INT(space_check(sp, c, err, sizeof err), -1);
    CHECK(strstr(err, "bound 'smem': 4096 is above its max 512") != NULL);
    int valid = 0;
    memset(c, 0, sizeof c);
    do valid += space_bounds_ok(sp, c, NULL);
    while (space_next(sp, c));
    CHECK_EQ_INT(valid, 8 + 8 + 4 + 2 + 1); /* 16:8 stages, 32:8, 64:4, 128:2, 256:1 */
    space_term bad = {.coef = 1, .nfactors = 1, .factors = {"nope"}};
    CHECK_EQ_INT(space_add_bound(sp, "b2", &bad, 1, 0, 1, err, sizeof err), -1);
    CHECK(strstr(err, "unknown parameter 'nope'") != NULL);
    static const space_value names[] = {STR("a"), STR("b")};
    space_spec words = {.kind = SPACE_CHOICE, .values = names, .nvalues = 2}, u8 = {.kind = SPACE_INT, .lo = 0, .hi = 3, .step = 1};
    space_spec lst = {.kind = SPACE_LIST, .n = 2, .elem = &u8};
    space_add_param(sp, "word", &words, err, sizeof err);
    space_add_param(sp, "pair", &lst, err, sizeof err);
    space_term word = {.coef = 1, .nfactors = 1, .factors = {"word"}};
    CHECK_EQ_INT(space_add_bound(sp, "w", &word, 1, 0, 1, err, sizeof err), -1);
    CHECK(strstr(err, "parameter 'word' is not numeric") != NULL);
    space_term whole = {.coef = 1, .nfactors = 1, .factors = {"pair"}};
    CHECK_EQ_INT(space_add_bound(sp, "p", &whole, 1, 0, 1, err, sizeof err), -1);
    CHECK(strstr(err, "needs an element, such as 'pair[1]'") != NULL);
    space_term past = {.coef = 1, .nfactors = 1, .factors = {"pair[3]"}};
    CHECK_EQ_INT(space_add_bound(sp, "p", &past, 1, 0, 1, err, sizeof err), -1);
    space_term elems = {.coef = 1, .nfactors = 2, .factors = {"pair[1]", "pair[2]"}};
    CHECK_EQ_INT(space_add_bound(sp, "prod", &elems, 1, 0, 2, err, sizeof err), 1);
    for (int i = 0; i < 200; i++) {
        int32_t c4[5];
        CHECK_EQ_INT(space_sample(sp, &r, c4, 1000, err, sizeof err), 0);
        CHECK(c4[3] * c4[4] <= 2);
    }
    space_term empty_c = {.coef = 1, .nfactors = 1, .factors = {"block_m"}};
    CHECK_EQ_INT(space_add_bound(sp, "b3", &empty_c, 1, 0, 8, err, sizeof err), 2);
    CHECK_EQ_INT(space_sample(sp, &r, c, 50, err, sizeof err), -1);
    CHECK(strstr(err, "seems empty") != NULL && strstr(err, "bound '") != NULL);
    space_free(sp);
}

static void test_dense_index(void) {
    space *sp = helion();
    rng_t r;
    rng_seed(&r, 11);
    int32_t a[17], b[17];
    uint64_t ix;
    for (int i = 0; i < 1000; i++) {
        space_sample_raw(sp, &r, a);
        CHECK_EQ_INT(space_index_of(sp, a, &ix), 0);
        CHECK(ix < 4128768000ULL);
        CHECK_EQ_INT(space_at(sp, ix, b), 0);
        CHECK(memcmp(a, b, sizeof a) == 0);
    }
    CHECK_EQ_INT(space_at(sp, 4128768000ULL, b), -1);
    CHECK_EQ_INT(space_at(sp, 4128767999ULL, b), 0);
    CHECK_EQ_INT(b[0], 4);
    space_free(sp);
}

static void test_encode(void) {
    space *sp = helion();
    int n = space_encode_len(sp);
    /* 5 ordinals, pid_type one-hot 4, indexing 3 x 2, loop_orders 2, l2 1, eviction 2 x 3; the
     * unroll factors and range stages (increasing numbers) one column per element */
    CHECK_EQ_INT(n, 5 + 4 + 6 + 2 + 1 + 6 + 2 + 2);
    double x[64];
    char name[128];
    rng_t r;
    rng_seed(&r, 3);
    int32_t a[17];
    for (int i = 0; i < 200; i++) {
        space_sample_raw(sp, &r, a);
        space_encode(sp, a, x);
        for (int k = 0; k < n; k++) CHECK(x[k] >= 0.0 && x[k] <= 1.0);
    }
    space_encode_name(sp, 5, name, sizeof name);
    CHECK_STR(name, "pid_type=flat");
    space_encode_name(sp, 10, name, sizeof name);
    CHECK_STR(name, "indexing[1]=tensor_descriptor");
    space_encode_name(sp, 15, name, sizeof name);
    CHECK_STR(name, "loop_orders[1]");
    space_encode_name(sp, 24, name, sizeof name);
    CHECK_STR(name, "range_unroll_factors[1]");
    space_default(sp, a);
    a[13] = 3; /* range_unroll_factors[1] = 4, the last of 0,1,2,4 */
    space_encode(sp, a, x);
    CHECK(x[24] == 1.0 && x[25] == 0.0);
    space_free(sp);
}

static const char *DEFAULT_JSON =
    "{\"block_m\":16,\"block_n\":16,\"block_k\":16,\"num_warps\":1,\"num_stages\":1,\"pid_type\":\"flat\","
    "\"indexing\":[\"pointer\",\"pointer\",\"pointer\"],\"loop_orders\":[0,1],\"l2_groupings\":1,"
    "\"load_eviction_policies\":[\"\",\"\"],\"range_unroll_factors\":[0,0],\"range_num_stages\":[0,0]}";

static void test_json_and_hash(void) {
    space *sp = helion();
    int32_t a[17], b[17];
    char buf[1024], hex[17];
    space_default(sp, a);
    size_t n = space_to_json(sp, a, buf, sizeof buf);
    CHECK_EQ_INT(n, strlen(DEFAULT_JSON));
    CHECK_STR(buf, DEFAULT_JSON);
    util_hex64(space_hash(sp, a), hex);
    CHECK_STR(hex, "d32f1c7ae11d1441"); /* pinned (computed independently in Python): moves only if the canonical form or FNV changes */
    CHECK(space_hash(sp, a) == util_fnv1a(UTIL_FNV_INIT, DEFAULT_JSON, strlen(DEFAULT_JSON)));
    char small[8];
    CHECK_EQ_INT(space_to_json(sp, a, small, sizeof small), n);
    CHECK_EQ_INT(strlen(small), 7);
    rng_t r;
    rng_seed(&r, 17);
    for (int i = 0; i < 500; i++) {
        space_sample_raw(sp, &r, a);
        n = space_to_json(sp, a, buf, sizeof buf);
        CHECK_EQ_INT(space_from_json(sp, buf, n, b, err, sizeof err), 0);
        CHECK(memcmp(a, b, sizeof a) == 0);
    }
    space_free(sp);
}

/* Parses s and checks the rejection reason contains want. */
static void rejects(space *sp, const char *s, const char *want) {
    int32_t c[17];
    err[0] = '\0';
    int rc = space_from_json(sp, s, strlen(s), c, err, sizeof err);
    CHECK_EQ_INT(rc, -1);
    if (!strstr(err, want)) fprintf(stderr, "input %s\n  got: %s\n  want: %s\n", s, err, want);
    CHECK(strstr(err, want) != NULL);
}

static void with_field(char *out, size_t cap, const char *field, const char *value) {
    const char *at = strstr(DEFAULT_JSON, field);
    const char *colon = strchr(at, ':') + 1;
    const char *end = colon;
    int depth = 0;
    while (*end && !(depth == 0 && (*end == ',' || *end == '}'))) depth += (*end == '[') - (*end == ']'), end++;
    snprintf(out, cap, "%.*s%s%s", (int)(colon - DEFAULT_JSON), DEFAULT_JSON, value, end);
}

static void test_json_errors(void) {
    space *sp = helion();
    char s[1024];
    rejects(sp, "", "expected a JSON object");
    rejects(sp, "[1]", "expected a JSON object");
    rejects(sp, "{\"block_m\":16}", "missing field 'block_n'");
    rejects(sp, "{\"bogus\":1}", "unknown field \"bogus\"");
    rejects(sp, "{\"block_m\":16,\"block_m\":32}", "duplicate field \"block_m\"");
    rejects(sp, "{\"block_m\":16", "invalid JSON");
    rejects(sp, "{\"block_m\":01}", "bad number");
    with_field(s, sizeof s, "\"block_m\"", "48");
    rejects(sp, s, "field 'block_m': 48 is not a power of two in 16..256");
    with_field(s, sizeof s, "\"block_m\"", "\"64\"");
    rejects(sp, s, "field 'block_m': \"64\" is not a power of two");
    with_field(s, sizeof s, "\"block_m\"", "64.5");
    rejects(sp, s, "64.5 is not a power of two");
    with_field(s, sizeof s, "\"block_m\"", "[64]");
    rejects(sp, s, "field 'block_m': expected a power of two in 16..256, got an array");
    with_field(s, sizeof s, "\"num_stages\"", "null");
    rejects(sp, s, "field 'num_stages': expected an integer in 1..8, got null");
    with_field(s, sizeof s, "\"pid_type\"", "\"diagonal\"");
    rejects(sp, s, "field 'pid_type': \"diagonal\" is not one of {\"flat\"");
    with_field(s, sizeof s, "\"indexing\"", "[\"pointer\"]");
    rejects(sp, s, "field 'indexing': expected 3 elements, got 1");
    with_field(s, sizeof s, "\"indexing\"", "\"pointer\"");
    rejects(sp, s, "field 'indexing': expected an array of 3 elements, got \"pointer\"");
    with_field(s, sizeof s, "\"indexing\"", "[\"pointer\",\"pointer\",\"block\"]");
    rejects(sp, s, "field 'indexing' element 3: \"block\" is not one of");
    with_field(s, sizeof s, "\"loop_orders\"", "[1,1]");
    rejects(sp, s, "field 'loop_orders': not a permutation of 0..1");
    with_field(s, sizeof s, "\"loop_orders\"", "[0,2]");
    rejects(sp, s, "field 'loop_orders' element 2: expected an integer in 0..1, got 2");
    with_field(s, sizeof s, "\"range_unroll_factors\"", "[0,3]");
    rejects(sp, s, "field 'range_unroll_factors' element 2: 3 is not one of {0, 1, 2, 4}");
    snprintf(s, sizeof s, "%s x", DEFAULT_JSON);
    rejects(sp, s, "trailing characters");
    /* accepted variations: whitespace, escapes, integral floats */
    int32_t c[17];
    with_field(s, sizeof s, "\"block_m\"", " 64.0 ");
    CHECK_EQ_INT(space_from_json(sp, s, strlen(s), c, err, sizeof err), 0);
    with_field(s, sizeof s, "\"pid_type\"", "\"\\u0066lat\"");
    CHECK_EQ_INT(space_from_json(sp, s, strlen(s), c, err, sizeof err), 0);
    space_free(sp);
}

/* Bounded fuzz: random bytes, and valid configs with bytes flipped, inserted or cut. */
static void test_fuzz_from_json(void) {
    space *sp = helion();
    rng_t r;
    rng_seed(&r, 2024);
    char buf[1024], in[1100];
    int32_t a[17], c[17];
    const char alphabet[] = "{}[]\":,0123456789-+.eE tfnrul\\abx";
    int accepted = 0;
    for (int it = 0; it < 30000; it++) {
        size_t n;
        if (it % 3 == 0) {
            n = (size_t)rng_below(&r, 64);
            for (size_t i = 0; i < n; i++)
                in[i] = it % 2 ? (char)rng_below(&r, 256) : alphabet[rng_below(&r, sizeof alphabet - 1)];
        } else {
            space_sample_raw(sp, &r, a);
            n = space_to_json(sp, a, buf, sizeof buf);
            memcpy(in, buf, n);
            int edits = 1 + (int)rng_below(&r, 3);
            for (int e = 0; e < edits && n > 1; e++) {
                size_t at = (size_t)rng_below(&r, n);
                switch (rng_below(&r, 3)) {
                case 0: in[at] = alphabet[rng_below(&r, sizeof alphabet - 1)]; break;
                case 1: memmove(in + at, in + at + 1, n - at - 1), n--; break;
                default:
                    if (n < sizeof in - 1) memmove(in + at + 1, in + at, n - at), in[at] = (char)rng_below(&r, 256), n++;
                }
            }
        }
        err[0] = '\0';
        int rc = space_from_json(sp, in, n, c, err, sizeof err);
        CHECK(rc == 0 || rc == -1);
        if (rc == 0) {
            accepted++;
            CHECK_EQ_INT(space_check(sp, c, err, sizeof err), 0);
        } else {
            CHECK(err[0] != '\0');
        }
    }
    CHECK(accepted > 0);
    space_free(sp);
}

int main(void) {
    RUN(test_helion_size);
    RUN(test_declaration_errors);
    RUN(test_perm_rank);
    RUN(test_sample_neighbors_moves);
    RUN(test_ordered_choice_neighbors);
    RUN(test_bounds);
    RUN(test_dense_index);
    RUN(test_encode);
    RUN(test_json_and_hash);
    RUN(test_json_errors);
    RUN(test_fuzz_from_json);
    return test_report();
}
