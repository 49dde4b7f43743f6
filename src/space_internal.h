/* Private layout of struct space, shared by src/space.c (declarations, moves, indices) and
 * src/space_json.c (canonical JSON and its parser). Not for other files. */
#ifndef HTUNE_SPACE_INTERNAL_H
#define HTUNE_SPACE_INTERNAL_H
#include "space.h"

/* The values one slot can take; a list's slots share their param's domain. */
typedef struct domain {
    enum space_kind kind; /* pow2, int, choice, bool or perm */
    int32_t count;
    int64_t lo, hi, step;   /* pow2: lo and hi values; int: lo, hi, step */
    space_value *values;    /* choice: owned copies */
    int n;                  /* perm size */
    int ordered;            /* choice of numbers in increasing order: neighbours step like int */
} domain_t;

typedef struct param {
    char *name;
    enum space_kind kind; /* as declared (list keeps SPACE_LIST; dom.kind is its element) */
    domain_t dom;
    int n, slot, nslots;
} param_t;

typedef struct term {
    double coef;
    int nf;
    int slots[SPACE_TERM_MAX];
} term_t;

typedef struct bound {
    char *name;
    term_t *terms;
    int nterms;
    double min, max;
} bound_t;

struct space {
    char *name;
    param_t *params;
    int nparams, cap_params;
    int *slot_param;   /* slot -> param */
    int32_t *defaults; /* slot -> default index */
    int nslots, cap_slots;
    bound_t *bounds;
    int nbounds;
    int encode_len;
};

/* Appending writer that counts past its capacity (snprintf-style). */
typedef struct sbuf {
    char *buf;
    size_t cap, len;
} sbuf;
void sbuf_putc(sbuf *b, char c);
void sbuf_puts(sbuf *b, const char *s, size_t n);
void sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_json_string(sbuf *b, const char *s, size_t n);
void sbuf_number(sbuf *b, const space_value *v);

static inline const domain_t *slot_dom(const space *sp, int slot) {
    return &sp->params[sp->slot_param[slot]].dom;
}
#endif
