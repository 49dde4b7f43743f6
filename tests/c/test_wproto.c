/* The worker protocol's codec: trial and setup frames with tensor-map (TMAP) args round-trip,
 * every bad TMAP field is refused naming the field and its value (in a trial and in the
 * setup's reference), and truncated or bit-flipped frames decode to an error, never a crash
 * (this runs under ASan/UBSan). */
#include "wproto.h"
#include "test.h"
#include <stdint.h>

static struct wp_buffer bufs[2] = {
    { WP_F16, WP_INIT_RANDOM, 2048, 1, 0 },
    { WP_F32, WP_INIT_ZERO, 2048, 0, 0 },
};

static struct wp_arg tmap(int buf, uint64_t rows, uint64_t cols, uint32_t box_rows, uint32_t box_cols, uint32_t swizzle) {
    struct wp_arg a = { .kind = WP_ARG_TMAP, .i = buf };
    a.tm = (struct wp_tmap){ rows, cols, box_rows, box_cols, swizzle };
    return a;
}

/* src, dst, n, then a map over each buffer (fp16 32 x 64 box 16 x 64 swizzled; fp32 unswizzled). */
static void kernel(struct wp_kernel *k) {
    memset(k, 0, sizeof *k);
    k->image = (const uint8_t *)"fake module";
    k->image_len = 11;
    k->name = "fake_tmap";
    k->grid[0] = k->grid[1] = k->grid[2] = 1;
    k->block[0] = 128; k->block[1] = k->block[2] = 1;
    k->nargs = 5;
    k->args[0] = (struct wp_arg){ .kind = WP_ARG_BUF, .i = 0 };
    k->args[1] = (struct wp_arg){ .kind = WP_ARG_BUF, .i = 1 };
    k->args[2] = (struct wp_arg){ .kind = WP_ARG_I32, .i = 2048 };
    k->args[3] = tmap(0, 32, 64, 16, 64, 128);
    k->args[4] = tmap(1, 16, 128, 256, 8, 0);
}

/* The last encoded frame: decoded structs point into it (names, images). */
static struct wbuf frame;

static int decode_trial(const struct wp_trial *t, struct wp_trial *back, char *err, size_t errlen) {
    wp_put_trial(&frame, t);
    struct rbuf r = { frame.p + 5, frame.n - 5, 0, 0 };
    return wp_get_trial(&r, back, bufs, 2, err, errlen);
}

static int decode_setup(const struct wp_setup *s, struct wp_setup *back, char *err, size_t errlen) {
    wp_put_setup(&frame, s);
    struct rbuf r = { frame.p + 5, frame.n - 5, 0, 0 };
    return wp_get_setup(&r, back, err, errlen);
}

static void check_same_args(const struct wp_kernel *a, const struct wp_kernel *b) {
    CHECK_EQ_INT(a->nargs, b->nargs);
    for (int i = 0; i < a->nargs && i < b->nargs; i++) {
        CHECK_EQ_INT(a->args[i].kind, b->args[i].kind);
        CHECK_EQ_INT(a->args[i].i, b->args[i].i);
        if (a->args[i].kind != WP_ARG_TMAP) continue;
        CHECK(a->args[i].tm.rows == b->args[i].tm.rows && a->args[i].tm.cols == b->args[i].tm.cols);
        CHECK_EQ_INT(a->args[i].tm.box_rows, b->args[i].tm.box_rows);
        CHECK_EQ_INT(a->args[i].tm.box_cols, b->args[i].tm.box_cols);
        CHECK_EQ_INT(a->args[i].tm.swizzle, b->args[i].tm.swizzle);
    }
}

static void setup_of(struct wp_setup *s) {
    memset(s, 0, sizeof *s);
    s->nbufs = 2;
    s->bufs[0] = bufs[0];
    s->bufs[1] = bufs[1];
    s->output = 1;
    s->has_ref = 1;
    s->atol = s->rtol = -1;
    kernel(&s->ref);
}

static void test_tmap_args_round_trip(void) {
    static struct wp_trial t, back;
    static struct wp_setup s, sback;
    char err[300] = "";
    kernel(&t.k);
    t.check = 1;
    t.raw_n = 3;
    CHECK_EQ_INT(decode_trial(&t, &back, err, sizeof err), 0);
    CHECK_STR(err, "");
    check_same_args(&t.k, &back.k);
    CHECK_STR(back.k.name, "fake_tmap");
    CHECK_EQ_INT(back.raw_n, 3);   /* the fields after the args still line up */
    setup_of(&s);
    CHECK_EQ_INT(decode_setup(&s, &sback, err, sizeof err), 0);
    check_same_args(&s.ref, &sback.ref);
    CHECK(sback.atol == -1 && sback.rtol == -1);
}

struct bad { struct wp_arg arg; const char *message; };

static void test_bad_tmap_fields_name_the_field(void) {
    const struct bad cases[] = {
        { tmap(2, 32, 64, 16, 64, 128), "args[4].tmap must be a buffer 1..2, got 3" },
        { tmap(-1, 32, 64, 16, 64, 128), "args[4].tmap must be a buffer 1..2, got 0" },
        { tmap(0, 0, 64, 16, 64, 128), "args[4].rows must be 1..4294967296, got 0" },
        { tmap(0, 1, (uint64_t)1 << 33, 16, 64, 128), "args[4].cols must be 1..4294967296, got 8589934592" },
        { tmap(0, 64, 64, 16, 64, 128), "args[4].rows x cols must fit buffer 1 (2048 elements), got 64 x 64" },
        { tmap(0, 4, 36, 4, 8, 0), "args[4].cols x 2 bytes (the row pitch) must be a multiple of 16, got 36" },
        { tmap(1, 2, 2, 2, 4, 0), "args[4].cols x 4 bytes (the row pitch) must be a multiple of 16, got 2" },
        { tmap(0, 32, 64, 0, 64, 128), "args[4].box_rows must be 1..256, got 0" },
        { tmap(0, 32, 64, 512, 64, 128), "args[4].box_rows must be 1..256, got 512" },
        { tmap(0, 1, 2048, 16, 257, 0), "args[4].box_cols must be 1..256, got 257" },
        { tmap(0, 32, 64, 16, 4, 0), "args[4].box_cols x 2 bytes must be a multiple of 16, got 4" },
        { tmap(0, 32, 64, 16, 64, 100), "args[4].swizzle must be 0, 32, 64 or 128 (bytes), got 100" },
        { tmap(0, 32, 64, 16, 64, 64), "args[4].box_cols x 2 bytes must be within the 64-byte swizzle span, got 64" },
        { tmap(1, 16, 128, 8, 16, 32), "args[4].box_cols x 4 bytes must be within the 32-byte swizzle span, got 16" },
    };
    static struct wp_trial t, back;
    static struct wp_setup s, sback;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char err[300] = "", want[300];
        kernel(&t.k);
        t.k.args[3] = cases[c].arg;
        CHECK_EQ_INT(decode_trial(&t, &back, err, sizeof err), -1);
        CHECK_STR(err, cases[c].message);
        setup_of(&s);
        s.ref.args[3] = cases[c].arg;
        CHECK_EQ_INT(decode_setup(&s, &sback, err, sizeof err), -1);
        snprintf(want, sizeof want, "reference %s", cases[c].message);
        CHECK_STR(err, want);
    }
    /* the same maps are fine at the edges: a full buffer, 256-row boxes, no swizzle */
    kernel(&t.k);
    t.k.args[3] = tmap(0, 1, 2048, 256, 256, 0);
    char err[300] = "";
    CHECK_EQ_INT(decode_trial(&t, &back, err, sizeof err), 0);
    t.k.args[3] = tmap(0, 256, 8, 256, 8, 32);
    CHECK_EQ_INT(decode_trial(&t, &back, err, sizeof err), 0);
}

static void test_trial_without_setup_refuses_tmap(void) {
    static struct wp_trial t, back;
    char err[300];
    kernel(&t.k);
    struct wbuf b = { 0 };
    wp_put_trial(&b, &t);
    struct rbuf r = { b.p + 5, b.n - 5, 0, 0 };
    CHECK_EQ_INT(wp_get_trial(&r, &back, NULL, 0, err, sizeof err), -1);
    CHECK_STR(err, "args[4].tmap must be a buffer 1..0, got 1");
    wbuf_free(&b);
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

/* Every cut of a frame and 2,000 random corruptions: decoded or refused, within bounds. */
static void test_truncated_and_corrupt_frames(void) {
    static struct wp_trial t, back;
    static struct wp_setup s, sback;
    char err[300];
    kernel(&t.k);
    setup_of(&s);
    struct wbuf bt = { 0 }, bs = { 0 };
    wp_put_trial(&bt, &t);
    wp_put_setup(&bs, &s);
    for (size_t cut = 0; cut < bt.n - 5; cut++) {
        struct rbuf r = { bt.p + 5, cut, 0, 0 };
        CHECK_EQ_INT(wp_get_trial(&r, &back, bufs, 2, err, sizeof err), -1);
    }
    for (size_t cut = 0; cut < bs.n - 5; cut++) {
        struct rbuf r = { bs.p + 5, cut, 0, 0 };
        CHECK_EQ_INT(wp_get_setup(&r, &sback, err, sizeof err), -1);
    }
    uint8_t *copy = malloc(bt.n > bs.n ? bt.n : bs.n);
    for (int iter = 0; iter < 2000; iter++) {
        const struct wbuf *src = iter % 2 ? &bt : &bs;
        size_t n = src->n - 5;
        memcpy(copy, src->p + 5, n);
        for (int f = 0; f < 1 + (int)(next() % 4); f++) copy[next() % n] ^= (uint8_t)(1u << (next() % 8));
        struct rbuf r = { copy, n - next() % 8, 0, 0 };
        int rc = iter % 2 ? wp_get_trial(&r, &back, bufs, 2, err, sizeof err) : wp_get_setup(&r, &sback, err, sizeof err);
        CHECK(rc == 0 || rc == -1);
        if (rc == 0) CHECK(iter % 2 ? back.k.nargs <= WP_MAX_ARGS : sback.nbufs <= WP_MAX_BUFS);
        CHECK(r.off <= r.n);
    }
    free(copy);
    wbuf_free(&bt);
    wbuf_free(&bs);
}

int main(void) {
    RUN(test_tmap_args_round_trip);
    RUN(test_bad_tmap_fields_name_the_field);
    RUN(test_trial_without_setup_refuses_tmap);
    RUN(test_truncated_and_corrupt_frames);
    wbuf_free(&frame);
    return test_report();
}
