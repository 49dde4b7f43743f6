/* Config spaces in C: parameters (pow2, int, choice, bool, list, perm), linear bounds, and the
 * operations on configs. A config is an int32_t vector of space_nslots() value indices (a list
 * of n takes n slots; a perm takes one slot holding its Lehmer rank). No Lua here: predicates
 * written in Lua are checked by the binding (src/lspace.c) after space_bounds_ok(). */
#ifndef HTUNE_SPACE_H
#define HTUNE_SPACE_H
#include "rng.h"
#include <stddef.h>
#include <stdint.h>

typedef struct space space;

enum space_kind { SPACE_POW2, SPACE_INT, SPACE_CHOICE, SPACE_BOOL, SPACE_LIST, SPACE_PERM };
#define SPACE_PERM_MAX 8    /* 8! = 40320 permutations */
#define SPACE_TERM_MAX 8    /* factors in one bound term */

/* A scalar value: from Lua, from JSON, or a choice's declared value. */
enum space_vtype { SPACE_VINT, SPACE_VFLOAT, SPACE_VSTR, SPACE_VBOOL };
typedef struct space_value {
    enum space_vtype type;
    int64_t i;       /* VINT, and VBOOL (0/1) */
    double f;        /* VFLOAT */
    const char *s;   /* VSTR: not NUL-terminated necessarily; borrowed */
    size_t len;
} space_value;

/* A parameter kind as declared. lo/hi/step: pow2 and int; values: choice (copied);
 * n: list length or perm size; elem: a list's scalar kind. */
typedef struct space_spec {
    enum space_kind kind;
    int64_t lo, hi, step;
    const space_value *values;
    int nvalues;
    int n;
    const struct space_spec *elem;
} space_spec;

/* One term of a bound: coef * product of the named numeric scalar parameters. */
typedef struct space_term {
    double coef;
    int nfactors;
    const char *factors[SPACE_TERM_MAX];
} space_term;

/* Lifetime. space_new copies name; space_free(NULL) is a no-op. */
space *space_new(const char *name);
void space_free(space *sp);

/* Declaring. Each returns the new param/bound index, or -1 with err naming field and value.
 * space_set_default takes the param's slot indices (space_param_slots of them). */
int space_add_param(space *sp, const char *name, const space_spec *spec, char *err, size_t errlen);
int space_set_default(space *sp, int param, const int32_t *idx, char *err, size_t errlen);
int space_add_bound(space *sp, const char *name, const space_term *terms, int nterms, double min,
                    double max, char *err, size_t errlen);

/* Facts. Kind names: "pow2", "int", "choice", "bool", "list", "perm". */
const char *space_name(const space *sp);
int space_nparams(const space *sp);
int space_nslots(const space *sp);
int space_nbounds(const space *sp);
const char *space_bound_name(const space *sp, int b);
int space_find_param(const space *sp, const char *name, size_t len); /* index or -1 */
const char *space_param_name(const space *sp, int p);
enum space_kind space_param_kind(const space *sp, int p);
enum space_kind space_param_elem_kind(const space *sp, int p); /* kind of each slot */
const char *space_kind_name(enum space_kind k);
int space_param_n(const space *sp, int p);        /* list length / perm size, else 1 */
int space_param_slot(const space *sp, int p);     /* first slot */
int space_param_slots(const space *sp, int p);    /* slots taken: list n, else 1 */
int space_slot_param(const space *sp, int slot);
int32_t space_slot_count(const space *sp, int slot); /* values of one slot (perm: n!) */
uint64_t space_param_count(const space *sp, int p);  /* values of the whole param */

/* Product of all slot counts; *overflow set when it exceeds 2^64-1 (result then 0). */
uint64_t space_product(const space *sp, int *overflow);

/* Values. space_slot_value: the scalar at index idx of a non-perm slot (strings borrowed
 * from the space). space_value_index: index of v in the slot's domain, or -1.
 * space_describe_slot: "a power of two in 16..256", "one of {a, b}", ... into buf. */
void space_slot_value(const space *sp, int slot, int32_t idx, space_value *out);
int32_t space_value_index(const space *sp, int slot, const space_value *v);
void space_describe_slot(const space *sp, int slot, char *buf, size_t len);
/* Writes a short printable rendering of v (strings quoted, truncated) into buf. */
void space_format_value(const space_value *v, char *buf, size_t len);

/* Permutations of 0..n-1 <-> Lehmer rank in [0, n!) (rank 0 = identity, lexicographic). */
int32_t space_perm_rank(int n, const int *perm); /* -1 when perm is not a permutation */
void space_perm_unrank(int n, int32_t rank, int *perm);

/* Checks. space_check: indices in range and bounds hold; 0, or -1 with err naming the field
 * and value (or the bound and its value). space_bounds_ok: 1 when every bound holds; else 0
 * and *which = the first failing bound (which may be NULL). */
int space_check(const space *sp, const int32_t *cfg, char *err, size_t errlen);
int space_bounds_ok(const space *sp, const int32_t *cfg, int *which);

/* Sampling and moves. Raw versions ignore bounds (the caller rejects); out may not alias.
 * space_sample: rejection on bounds, up to max_tries; 0, or -1 with err. */
void space_default(const space *sp, int32_t *cfg);
void space_sample_raw(const space *sp, rng_t *r, int32_t *cfg);
int space_sample(const space *sp, rng_t *r, int32_t *cfg, int max_tries, char *err, size_t errlen);
void space_mutate_raw(const space *sp, const int32_t *cfg, rng_t *r, int nfields, int32_t *out);
void space_crossover_raw(const space *sp, const int32_t *a, const int32_t *b, rng_t *r, int32_t *out);

/* Neighbours: configs differing in one field (ordinal slots +-1, enum slots every other value,
 * list elements one at a time, perm every other permutation) that satisfy the bounds.
 * out holds cap * nslots int32s; returns the number written (never more than
 * space_max_neighbors). */
int space_max_neighbors(const space *sp);
int space_neighbors(const space *sp, const int32_t *cfg, int32_t *out, int cap);

/* Steps cfg to the next config in dense-index order; 0 after the last (cfg wraps to all 0). */
int space_next(const space *sp, int32_t *cfg);
/* Dense index (first param most significant). space_index_of: 0, or -1 if the product
 * overflows 64 bits. space_at: 0, or -1 if index >= product. */
int space_index_of(const space *sp, const int32_t *cfg, uint64_t *index);
int space_at(const space *sp, uint64_t index, int32_t *cfg);

/* Encoding for surrogate models: ordinal slots idx/(count-1), bools 0/1, choices one-hot,
 * perms one column per position (value/(n-1)). Names: "p", "p[2]", "p=flat", "p[2]=flat". */
int space_encode_len(const space *sp);
void space_encode(const space *sp, const int32_t *cfg, double *out);
void space_encode_name(const space *sp, int col, char *buf, size_t len);

/* Canonical JSON: keys in declaration order, no spaces. Writes at most cap bytes including
 * the NUL and returns the full length (snprintf-style). space_hash: FNV-1a 64 of it. */
size_t space_to_json(const space *sp, const int32_t *cfg, char *buf, size_t cap);
uint64_t space_hash(const space *sp, const int32_t *cfg);

/* Non-raising JSON parser: s[0..n) must be an object with exactly the space's fields, each
 * in its domain, satisfying the bounds. 0, or -1 with err naming the field and value. */
int space_from_json(const space *sp, const char *s, size_t n, int32_t *cfg, char *err, size_t errlen);
#endif
