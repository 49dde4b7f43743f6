/* Fast seedable random numbers: xoshiro256** seeded by splitmix64. No Lua here.
 * The state is a plain 32-byte value (copy it to clone a stream); every function is pure
 * apart from advancing the state it is given, so there is no global generator. */
#ifndef HTUNE_RNG_H
#define HTUNE_RNG_H
#include <stdint.h>

typedef struct rng {
    uint64_t s[4];
} rng_t;

/* Seeds r from a 64-bit seed through splitmix64 (never yields the all-zero state). */
void rng_seed(rng_t *r, uint64_t seed);

/* Next 64 random bits (xoshiro256**). */
uint64_t rng_next(rng_t *r);

/* Uniform integer in [0, n) without modulo bias (Lemire); n == 0 means the full 2^64 range. */
uint64_t rng_below(rng_t *r, uint64_t n);

/* Uniform integer in [lo, hi]; requires lo <= hi (the full int64 range is allowed). */
int64_t rng_range(rng_t *r, int64_t lo, int64_t hi);

/* Uniform double in [0, 1) with 53 random bits. */
double rng_float(rng_t *r);

/* Standard normal deviate (Box-Muller; two uniforms per call, nothing cached). */
double rng_normal(rng_t *r);

/* State as 64 lowercase hex digits + NUL into out[65], and back: 0, or -1 when s is not
 * 64 hex digits or encodes the all-zero state (which xoshiro can never leave). */
void rng_state_hex(const rng_t *r, char out[65]);
int rng_from_hex(rng_t *r, const char *s, uint64_t len);
#endif
