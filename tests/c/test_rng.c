/* Tests of src/rng.c: xoshiro256** against an independent reference, bounded draws, floats,
 * normals and the hex state round trip. */
#include "rng.h"
#include "test.h"
#include <math.h>

/* Expected values computed by a separate Python implementation of splitmix64 + xoshiro256**. */
static void test_reference_stream(void) {
    rng_t r;
    rng_seed(&r, 0);
    CHECK(r.s[0] == 0xe220a8397b1dcdafULL); /* the published first splitmix64(0) output */
    CHECK(rng_next(&r) == 0x99ec5f36cb75f2b4ULL);
    CHECK(rng_next(&r) == 0xbf6e1f784956452aULL);
    CHECK(rng_next(&r) == 0x1a5f849d4933e6e0ULL);
    rng_seed(&r, 42);
    CHECK(rng_next(&r) == 0x15780b2e0c2ec716ULL);
    CHECK(rng_next(&r) == 0x6104d9866d113a7eULL);
}

static void test_below_and_range(void) {
    rng_t r;
    rng_seed(&r, 7);
    int hist[6] = {0};
    for (int i = 0; i < 60000; i++) {
        uint64_t v = rng_below(&r, 6);
        CHECK(v < 6);
        if (v < 6) hist[v]++;
    }
    for (int i = 0; i < 6; i++) CHECK(hist[i] > 9500 && hist[i] < 10500);
    CHECK(rng_range(&r, 5, 5) == 5);
    for (int i = 0; i < 1000; i++) {
        int64_t v = rng_range(&r, -3, 3);
        CHECK(v >= -3 && v <= 3);
    }
    (void)rng_range(&r, INT64_MIN, INT64_MAX); /* full range: no overflow trap under UBSan */
    CHECK(rng_below(&r, 1) == 0);
}

static void test_float_and_normal(void) {
    rng_t r;
    rng_seed(&r, 99);
    double sum = 0, sum2 = 0, lo = 1, hi = 0;
    const int n = 100000;
    for (int i = 0; i < n; i++) {
        double f = rng_float(&r);
        CHECK(f >= 0.0 && f < 1.0);
        lo = f < lo ? f : lo;
        hi = f > hi ? f : hi;
        sum += f;
    }
    CHECK(fabs(sum / n - 0.5) < 0.01);
    CHECK(lo < 0.001 && hi > 0.999);
    sum = 0;
    for (int i = 0; i < n; i++) {
        double z = rng_normal(&r);
        CHECK(isfinite(z));
        sum += z;
        sum2 += z * z;
    }
    CHECK(fabs(sum / n) < 0.02);
    CHECK(fabs(sum2 / n - 1.0) < 0.03);
}

static void test_state_hex(void) {
    rng_t a, b;
    char hex[65];
    rng_seed(&a, 123);
    rng_next(&a);
    rng_state_hex(&a, hex);
    CHECK_EQ_INT(strlen(hex), 64);
    CHECK_EQ_INT(rng_from_hex(&b, hex, 64), 0);
    CHECK(rng_next(&a) == rng_next(&b));
    CHECK_EQ_INT(rng_from_hex(&b, hex, 63), -1);
    hex[5] = 'z';
    CHECK_EQ_INT(rng_from_hex(&b, hex, 64), -1);
    char zeros[65];
    memset(zeros, '0', 64);
    zeros[64] = '\0';
    CHECK_EQ_INT(rng_from_hex(&b, zeros, 64), -1);
}

int main(void) {
    RUN(test_reference_stream);
    RUN(test_below_and_range);
    RUN(test_float_and_normal);
    RUN(test_state_hex);
    return test_report();
}
