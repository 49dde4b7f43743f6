/* xoshiro256** (Blackman & Vigna, public domain reference) with splitmix64 seeding, unbiased
 * bounded integers, floats, normals and a hex form of the state for storage. */
#include "rng.h"
#include <math.h>
#include <stdio.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void rng_seed(rng_t *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) r->s[0] = 1;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rng_next(rng_t *r) {
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t rng_below(rng_t *r, uint64_t n) {
    if (n == 0) return rng_next(r);
    unsigned __int128 m = (unsigned __int128)rng_next(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (unsigned __int128)rng_next(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

int64_t rng_range(rng_t *r, int64_t lo, int64_t hi) {
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1; /* 0 when the range is all of int64 */
    return (int64_t)((uint64_t)lo + rng_below(r, span));
}

double rng_float(rng_t *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

double rng_normal(rng_t *r) {
    double u1 = 1.0 - rng_float(r); /* (0, 1]: log stays finite */
    double u2 = rng_float(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void rng_state_hex(const rng_t *r, char out[65]) {
    for (int i = 0; i < 4; i++) snprintf(out + 16 * i, 17, "%016llx", (unsigned long long)r->s[i]);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int rng_from_hex(rng_t *r, const char *s, uint64_t len) {
    if (len != 64) return -1;
    uint64_t w[4] = {0, 0, 0, 0};
    for (int i = 0; i < 64; i++) {
        int v = hexval(s[i]);
        if (v < 0) return -1;
        w[i / 16] = (w[i / 16] << 4) | (uint64_t)v;
    }
    if ((w[0] | w[1] | w[2] | w[3]) == 0) return -1;
    for (int i = 0; i < 4; i++) r->s[i] = w[i];
    return 0;
}
