/* Config spaces: declaring parameters and bounds, value <-> index conversion, checks,
 * sampling, neighbourhoods, mutation, crossover, dense indices and encodings, all on int32
 * index vectors. JSON lives in src/space_json.c; Lua predicates in src/lspace.c. */
#include "space_internal.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

space *space_new(const char *name) {
    space *sp = calloc(1, sizeof *sp);
    if (!sp) return NULL;
    sp->name = dup_str(name ? name : "space", strlen(name ? name : "space"));
    if (!sp->name) {
        free(sp);
        return NULL;
    }
    return sp;
}

static void free_domain(domain_t *d) {
    if (d->kind == SPACE_CHOICE && d->values) {
        for (int i = 0; i < d->count; i++)
            if (d->values[i].type == SPACE_VSTR) free((char *)d->values[i].s);
    }
    free(d->values);
}

void space_free(space *sp) {
    if (!sp) return;
    for (int i = 0; i < sp->nparams; i++) {
        free(sp->params[i].name);
        free_domain(&sp->params[i].dom);
    }
    for (int i = 0; i < sp->nbounds; i++) {
        free(sp->bounds[i].name);
        free(sp->bounds[i].terms);
    }
    free(sp->params);
    free(sp->slot_param);
    free(sp->defaults);
    free(sp->bounds);
    free(sp->name);
    free(sp);
}

/* ---- values ---- */

/* v as an exact int64 (integers, and floats with an integral value in range). */
static int value_as_int(const space_value *v, int64_t *out) {
    if (v->type == SPACE_VINT) {
        *out = v->i;
        return 1;
    }
    if (v->type != SPACE_VFLOAT || !(v->f == floor(v->f)) || v->f < -0x1p63 || v->f >= 0x1p63)
        return 0;
    *out = (int64_t)v->f;
    return 1;
}

static int values_equal(const space_value *a, const space_value *b) {
    if (a->type == SPACE_VSTR || b->type == SPACE_VSTR)
        return a->type == b->type && a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    if (a->type == SPACE_VBOOL || b->type == SPACE_VBOOL) return a->type == b->type && a->i == b->i;
    int64_t ia, ib;
    int ha = value_as_int(a, &ia), hb = value_as_int(b, &ib);
    if (ha && hb) return ia == ib;
    if (ha || hb) return 0; /* one integral, the other not */
    return a->f == b->f;
}

/* A numeric value as a double (ints, floats, bools' 0/1). */
static double value_number(const space_value *v) { return v->type == SPACE_VFLOAT ? v->f : (double)v->i; }

static int is_pow2(int64_t x) { return x > 0 && (x & (x - 1)) == 0; }
static int log2_i64(int64_t x) {
    int k = 0;
    while (x > 1) {
        x >>= 1;
        k++;
    }
    return k;
}

void space_format_value(const space_value *v, char *buf, size_t len) {
    sbuf b = {buf, len, 0};
    if (v->type == SPACE_VSTR) {
        size_t n = v->len > 40 ? 40 : v->len;
        sbuf_json_string(&b, v->s, n);
        if (n < v->len) sbuf_puts(&b, "...", 3);
    } else if (v->type == SPACE_VBOOL) {
        sbuf_puts(&b, v->i ? "true" : "false", v->i ? 4 : 5);
    } else {
        sbuf_number(&b, v);
    }
    if (len && b.len >= len) buf[len - 1] = '\0';
}

void space_slot_value(const space *sp, int slot, int32_t idx, space_value *out) {
    const domain_t *d = slot_dom(sp, slot);
    memset(out, 0, sizeof *out);
    switch (d->kind) {
    case SPACE_POW2: out->type = SPACE_VINT; out->i = d->lo << idx; break;
    case SPACE_INT: out->type = SPACE_VINT; out->i = d->lo + (int64_t)idx * d->step; break;
    case SPACE_CHOICE: *out = d->values[idx]; break;
    case SPACE_BOOL: out->type = SPACE_VBOOL; out->i = idx; break;
    default: out->type = SPACE_VINT; out->i = idx; break; /* perm: its rank */
    }
}

int32_t space_value_index(const space *sp, int slot, const space_value *v) {
    const domain_t *d = slot_dom(sp, slot);
    int64_t x;
    switch (d->kind) {
    case SPACE_POW2:
        if (!value_as_int(v, &x) || !is_pow2(x) || x < d->lo || x > d->hi) return -1;
        return log2_i64(x) - log2_i64(d->lo);
    case SPACE_INT:
        if (!value_as_int(v, &x) || x < d->lo || x > d->hi) return -1;
        if (((uint64_t)x - (uint64_t)d->lo) % (uint64_t)d->step != 0) return -1;
        return (int32_t)(((uint64_t)x - (uint64_t)d->lo) / (uint64_t)d->step);
    case SPACE_CHOICE:
        for (int32_t i = 0; i < d->count; i++)
            if (values_equal(&d->values[i], v)) return i;
        return -1;
    case SPACE_BOOL:
        return v->type == SPACE_VBOOL ? (int32_t)(v->i != 0) : -1;
    default:
        return -1;
    }
}

void space_describe_slot(const space *sp, int slot, char *buf, size_t len) {
    const domain_t *d = slot_dom(sp, slot);
    sbuf b = {buf, len, 0};
    switch (d->kind) {
    case SPACE_POW2: sbuf_printf(&b, "a power of two in %lld..%lld", (long long)d->lo, (long long)d->hi); break;
    case SPACE_INT:
        sbuf_printf(&b, "an integer in %lld..%lld", (long long)d->lo,
                    (long long)(d->lo + (int64_t)(d->count - 1) * d->step));
        if (d->step != 1) sbuf_printf(&b, " step %lld", (long long)d->step);
        break;
    case SPACE_CHOICE:
        sbuf_puts(&b, "one of {", 8);
        for (int i = 0; i < d->count && b.len < 200; i++) {
            char v[64];
            space_format_value(&d->values[i], v, sizeof v);
            sbuf_printf(&b, "%s%s", i ? ", " : "", v);
        }
        sbuf_puts(&b, "}", 1);
        break;
    case SPACE_BOOL: sbuf_puts(&b, "a boolean", 9); break;
    default: sbuf_printf(&b, "a permutation of 0..%d", d->n - 1); break;
    }
    if (len && b.len >= len) buf[len - 1] = '\0';
}

/* ---- permutations ---- */

static int32_t factorial(int n) {
    int32_t f = 1;
    for (int i = 2; i <= n; i++) f *= i;
    return f;
}

int32_t space_perm_rank(int n, const int *perm) {
    if (n < 1 || n > SPACE_PERM_MAX) return -1;
    int seen[SPACE_PERM_MAX] = {0};
    int32_t rank = 0;
    for (int i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n || seen[perm[i]]) return -1;
        int smaller = 0;
        for (int j = 0; j < perm[i]; j++) smaller += !seen[j];
        seen[perm[i]] = 1;
        rank += smaller * factorial(n - 1 - i);
    }
    return rank;
}

void space_perm_unrank(int n, int32_t rank, int *perm) {
    int used[SPACE_PERM_MAX] = {0};
    for (int i = 0; i < n; i++) {
        int32_t f = factorial(n - 1 - i);
        int k = (int)(rank / f);
        rank %= f;
        for (int j = 0; j < n; j++) {
            if (used[j]) continue;
            if (k-- == 0) {
                perm[i] = j;
                used[j] = 1;
                break;
            }
        }
    }
}

/* ---- declaring ---- */

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (err && errlen) vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int domain_pow2(const char *pn, const space_spec *s, domain_t *d, char *err, size_t el) {
    if (s->lo > s->hi)
        return fail(err, el, "param '%s': empty range: pow2 lo=%lld > hi=%lld", pn, (long long)s->lo, (long long)s->hi);
    if (!is_pow2(s->lo) || s->lo > ((int64_t)1 << 62))
        return fail(err, el, "param '%s': pow2 lo=%lld is not a power of two", pn, (long long)s->lo);
    if (!is_pow2(s->hi) || s->hi > ((int64_t)1 << 62))
        return fail(err, el, "param '%s': pow2 hi=%lld is not a power of two", pn, (long long)s->hi);
    d->lo = s->lo;
    d->hi = s->hi;
    d->count = log2_i64(s->hi) - log2_i64(s->lo) + 1;
    return 0;
}

static int domain_int(const char *pn, const space_spec *s, domain_t *d, char *err, size_t el) {
    if (s->step <= 0) return fail(err, el, "param '%s': int step=%lld must be > 0", pn, (long long)s->step);
    if (s->lo > s->hi)
        return fail(err, el, "param '%s': empty range: int lo=%lld > hi=%lld", pn, (long long)s->lo, (long long)s->hi);
    uint64_t count = ((uint64_t)s->hi - (uint64_t)s->lo) / (uint64_t)s->step + 1;
    if (count > 0x7fffffff)
        return fail(err, el, "param '%s': int %lld..%lld step %lld has more than 2^31-1 values", pn,
                    (long long)s->lo, (long long)s->hi, (long long)s->step);
    d->lo = s->lo;
    d->hi = s->hi;
    d->step = s->step;
    d->count = (int32_t)count;
    return 0;
}

static int domain_choice(const char *pn, const space_spec *s, domain_t *d, char *err, size_t el) {
    char v[64];
    if (s->nvalues < 1) return fail(err, el, "param '%s': empty choice (give at least one value)", pn);
    d->values = calloc((size_t)s->nvalues, sizeof *d->values);
    if (!d->values) return fail(err, el, "param '%s': out of memory", pn);
    for (int i = 0; i < s->nvalues; i++) {
        space_value x = s->values[i];
        space_format_value(&x, v, sizeof v);
        if (x.type == SPACE_VBOOL) return fail(err, el, "param '%s': choice value %s must be a string or number", pn, v);
        if (x.type == SPACE_VFLOAT && !isfinite(x.f))
            return fail(err, el, "param '%s': choice value %s is not a finite number", pn, v);
        for (int j = 0; j < i; j++)
            if (values_equal(&d->values[j], &x)) return fail(err, el, "param '%s': duplicate choice value %s", pn, v);
        if (x.type == SPACE_VSTR && !(x.s = dup_str(x.s, x.len))) return fail(err, el, "param '%s': out of memory", pn);
        d->values[i] = x;
        d->count = i + 1; /* so free_domain frees what was copied so far */
    }
    /* Numbers in increasing order (num_warps 1,2,4,8,16; l2_grouping 1..64) are an ordered
     * quantity, as Helion's power-of-two fragments are: one step up or down is a neighbour. */
    d->ordered = d->count > 1;
    for (int i = 0; i < d->count && d->ordered; i++) {
        if (d->values[i].type == SPACE_VSTR) d->ordered = 0;
        else if (i > 0 && !(value_number(&d->values[i]) > value_number(&d->values[i - 1]))) d->ordered = 0;
    }
    return 0;
}

/* Fills d from a scalar (or perm) spec; on failure d owns nothing. */
static int make_domain(const char *pn, const space_spec *s, domain_t *d, char *err, size_t el) {
    memset(d, 0, sizeof *d);
    d->kind = s->kind;
    int rc;
    switch (s->kind) {
    case SPACE_POW2: return domain_pow2(pn, s, d, err, el);
    case SPACE_INT: return domain_int(pn, s, d, err, el);
    case SPACE_CHOICE:
        if ((rc = domain_choice(pn, s, d, err, el)) != 0) free_domain(d);
        return rc;
    case SPACE_BOOL: d->count = 2; return 0;
    case SPACE_PERM:
        if (s->n < 1 || s->n > SPACE_PERM_MAX)
            return fail(err, el, "param '%s': perm n=%d must be in 1..%d", pn, s->n, SPACE_PERM_MAX);
        d->n = s->n;
        d->count = factorial(s->n);
        return 0;
    default: return fail(err, el, "param '%s': unknown kind %d", pn, (int)s->kind);
    }
}

static int grow(space *sp, int nslots) {
    if (sp->nparams == sp->cap_params) {
        int cap = sp->cap_params ? 2 * sp->cap_params : 16;
        param_t *p = realloc(sp->params, (size_t)cap * sizeof *p);
        if (!p) return -1;
        sp->params = p;
        sp->cap_params = cap;
    }
    if (sp->nslots + nslots > sp->cap_slots) {
        int cap = sp->cap_slots ? 2 * sp->cap_slots : 32;
        while (cap < sp->nslots + nslots) cap *= 2;
        int *sl = realloc(sp->slot_param, (size_t)cap * sizeof *sl);
        if (!sl) return -1;
        sp->slot_param = sl;
        int32_t *df = realloc(sp->defaults, (size_t)cap * sizeof *df);
        if (!df) return -1;
        sp->defaults = df;
        sp->cap_slots = cap;
    }
    return 0;
}

/* A choice that is not ordered is an enum: one-hot columns, every alternative a neighbour. */
static int one_hot(const domain_t *d) { return d->kind == SPACE_CHOICE && !d->ordered; }

static int slot_columns(const domain_t *d) {
    if (one_hot(d)) return d->count;
    if (d->kind == SPACE_PERM) return d->n;
    return 1;
}

static int check_param_spec(const space *sp, const char *name, const space_spec *s, char *err, size_t el) {
    if (!name || !*name) return fail(err, el, "param #%d: missing name", sp->nparams + 1);
    if (space_find_param(sp, name, strlen(name)) >= 0) return fail(err, el, "duplicate param name '%s'", name);
    if (s->kind == SPACE_LIST) {
        if (s->n < 1) return fail(err, el, "param '%s': list n=%d must be >= 1", name, s->n);
        if (s->n > 4096) return fail(err, el, "param '%s': list n=%d is too long (max 4096)", name, s->n);
        if (!s->elem) return fail(err, el, "param '%s': list has no element kind", name);
        if (s->elem->kind == SPACE_LIST || s->elem->kind == SPACE_PERM)
            return fail(err, el, "param '%s': list elements must be pow2, int, choice or bool, got %s", name,
                        space_kind_name(s->elem->kind));
    }
    return 0;
}

int space_add_param(space *sp, const char *name, const space_spec *s, char *err, size_t el) {
    if (check_param_spec(sp, name, s, err, el) != 0) return -1;
    const space_spec *ds = s->kind == SPACE_LIST ? s->elem : s;
    int nslots = s->kind == SPACE_LIST ? s->n : 1;
    param_t p = {0};
    if (make_domain(name, ds, &p.dom, err, el) != 0) return -1;
    if (grow(sp, nslots) != 0 || !(p.name = dup_str(name, strlen(name)))) {
        free_domain(&p.dom);
        return fail(err, el, "param '%s': out of memory", name);
    }
    p.kind = s->kind;
    p.n = s->kind == SPACE_LIST || s->kind == SPACE_PERM ? s->n : 1;
    p.slot = sp->nslots;
    p.nslots = nslots;
    for (int i = 0; i < nslots; i++) {
        sp->slot_param[sp->nslots + i] = sp->nparams;
        sp->defaults[sp->nslots + i] = 0;
    }
    sp->nslots += nslots;
    sp->encode_len += nslots * slot_columns(&p.dom);
    sp->params[sp->nparams] = p;
    return sp->nparams++;
}

int space_set_default(space *sp, int param, const int32_t *idx, char *err, size_t el) {
    const param_t *p = &sp->params[param];
    for (int i = 0; i < p->nslots; i++)
        if (idx[i] < 0 || idx[i] >= p->dom.count)
            return fail(err, el, "param '%s': default index %d out of range", p->name, (int)idx[i]);
    memcpy(sp->defaults + p->slot, idx, (size_t)p->nslots * sizeof *idx);
    return 0;
}

/* Resolves "name" or "name[i]" (1-based list element) to a numeric slot, or -1 with err. */
static int numeric_slot(const space *sp, const char *bn, const char *f, char *err, size_t el) {
    const char *br = strchr(f, '[');
    size_t len = br ? (size_t)(br - f) : strlen(f);
    int p = space_find_param(sp, f, len);
    if (p < 0) return fail(err, el, "bound '%s': unknown parameter '%s'", bn, f);
    const param_t *pp = &sp->params[p];
    int elem = 0;
    if (br) {
        char *end;
        long k = strtol(br + 1, &end, 10);
        if (pp->kind != SPACE_LIST || *end != ']' || end[1] || k < 1 || k > pp->n)
            return fail(err, el, "bound '%s': '%s' is not an element of a list parameter", bn, f);
        elem = (int)k - 1;
    } else if (pp->kind == SPACE_LIST) {
        return fail(err, el, "bound '%s': list parameter '%s' needs an element, such as '%s[1]'", bn, f, f);
    }
    const domain_t *d = &pp->dom;
    int numeric = d->kind == SPACE_POW2 || d->kind == SPACE_INT || d->kind == SPACE_BOOL;
    if (d->kind == SPACE_CHOICE) {
        numeric = 1;
        for (int i = 0; i < d->count; i++) numeric &= d->values[i].type != SPACE_VSTR;
    }
    if (!numeric) return fail(err, el, "bound '%s': parameter '%s' is not numeric", bn, f);
    return pp->slot + elem;
}

int space_add_bound(space *sp, const char *name, const space_term *terms, int nterms, double min,
                    double max, char *err, size_t el) {
    const char *bn = name && *name ? name : "?";
    if (nterms < 1) return fail(err, el, "bound '%s': no terms", bn);
    if (min > max) return fail(err, el, "bound '%s': min=%g > max=%g", bn, min, max);
    term_t *t = calloc((size_t)nterms, sizeof *t);
    bound_t *nb = t ? realloc(sp->bounds, (size_t)(sp->nbounds + 1) * sizeof *nb) : NULL;
    if (!nb) {
        free(t);
        return fail(err, el, "bound '%s': out of memory", bn);
    }
    sp->bounds = nb;
    for (int i = 0; i < nterms; i++) {
        if (terms[i].nfactors < 1 || terms[i].nfactors > SPACE_TERM_MAX) {
            free(t);
            return fail(err, el, "bound '%s': term %d needs 1..%d parameter names", bn, i + 1, SPACE_TERM_MAX);
        }
        t[i].coef = terms[i].coef;
        t[i].nf = terms[i].nfactors;
        for (int j = 0; j < t[i].nf; j++) {
            if ((t[i].slots[j] = numeric_slot(sp, bn, terms[i].factors[j], err, el)) < 0) {
                free(t);
                return -1;
            }
        }
    }
    bound_t b = {dup_str(bn, strlen(bn)), t, nterms, min, max};
    if (!b.name) {
        free(t);
        return fail(err, el, "bound '%s': out of memory", bn);
    }
    sp->bounds[sp->nbounds] = b;
    return sp->nbounds++;
}

/* ---- facts ---- */

const char *space_name(const space *sp) { return sp->name; }
int space_nparams(const space *sp) { return sp->nparams; }
int space_nslots(const space *sp) { return sp->nslots; }
int space_nbounds(const space *sp) { return sp->nbounds; }
const char *space_bound_name(const space *sp, int b) { return sp->bounds[b].name; }
const char *space_param_name(const space *sp, int p) { return sp->params[p].name; }
enum space_kind space_param_kind(const space *sp, int p) { return sp->params[p].kind; }
enum space_kind space_param_elem_kind(const space *sp, int p) { return sp->params[p].dom.kind; }
int space_param_n(const space *sp, int p) { return sp->params[p].n; }
int space_param_slot(const space *sp, int p) { return sp->params[p].slot; }
int space_param_slots(const space *sp, int p) { return sp->params[p].nslots; }
int space_slot_param(const space *sp, int slot) { return sp->slot_param[slot]; }
int32_t space_slot_count(const space *sp, int slot) { return slot_dom(sp, slot)->count; }

int space_find_param(const space *sp, const char *name, size_t len) {
    for (int i = 0; i < sp->nparams; i++)
        if (strlen(sp->params[i].name) == len && memcmp(sp->params[i].name, name, len) == 0) return i;
    return -1;
}

const char *space_kind_name(enum space_kind k) {
    static const char *names[] = {"pow2", "int", "choice", "bool", "list", "perm"};
    return (unsigned)k < 6 ? names[k] : "?";
}

uint64_t space_param_count(const space *sp, int p) {
    const param_t *pp = &sp->params[p];
    uint64_t c = 1;
    for (int i = 0; i < pp->nslots; i++) {
        if (c > UINT64_MAX / (uint64_t)pp->dom.count) return UINT64_MAX;
        c *= (uint64_t)pp->dom.count;
    }
    return c;
}

uint64_t space_product(const space *sp, int *overflow) {
    uint64_t c = 1;
    *overflow = 0;
    for (int s = 0; s < sp->nslots; s++) {
        uint64_t k = (uint64_t)slot_dom(sp, s)->count;
        if (c > UINT64_MAX / k) {
            *overflow = 1;
            return 0;
        }
        c *= k;
    }
    return c;
}

/* ---- checks ---- */

static double slot_number(const space *sp, int slot, int32_t idx) {
    space_value v;
    space_slot_value(sp, slot, idx, &v);
    return value_number(&v);
}

static double bound_value(const space *sp, const bound_t *b, const int32_t *cfg) {
    double sum = 0;
    for (int i = 0; i < b->nterms; i++) {
        double prod = b->terms[i].coef;
        for (int j = 0; j < b->terms[i].nf; j++) prod *= slot_number(sp, b->terms[i].slots[j], cfg[b->terms[i].slots[j]]);
        sum += prod;
    }
    return sum;
}

int space_bounds_ok(const space *sp, const int32_t *cfg, int *which) {
    for (int i = 0; i < sp->nbounds; i++) {
        double v = bound_value(sp, &sp->bounds[i], cfg);
        if (!(v >= sp->bounds[i].min && v <= sp->bounds[i].max)) {
            if (which) *which = i;
            return 0;
        }
    }
    return 1;
}

int space_check(const space *sp, const int32_t *cfg, char *err, size_t el) {
    for (int s = 0; s < sp->nslots; s++) {
        const param_t *p = &sp->params[sp->slot_param[s]];
        if (cfg[s] < 0 || cfg[s] >= p->dom.count)
            return fail(err, el, "field '%s': index %d is out of range 0..%d", p->name, (int)cfg[s], (int)p->dom.count - 1);
    }
    int b;
    if (space_bounds_ok(sp, cfg, &b)) return 0;
    const bound_t *bd = &sp->bounds[b];
    double v = bound_value(sp, bd, cfg);
    if (v < bd->min) return fail(err, el, "bound '%s': %.17g is below its min %.17g", bd->name, v, bd->min);
    return fail(err, el, "bound '%s': %.17g is above its max %.17g", bd->name, v, bd->max);
}

/* ---- sampling and moves ---- */

void space_default(const space *sp, int32_t *cfg) { memcpy(cfg, sp->defaults, (size_t)sp->nslots * sizeof *cfg); }

void space_sample_raw(const space *sp, rng_t *r, int32_t *cfg) {
    for (int s = 0; s < sp->nslots; s++) cfg[s] = (int32_t)rng_below(r, (uint64_t)slot_dom(sp, s)->count);
}

int space_sample(const space *sp, rng_t *r, int32_t *cfg, int max_tries, char *err, size_t el) {
    int which = -1;
    for (int t = 0; t < max_tries; t++) {
        space_sample_raw(sp, r, cfg);
        if (space_bounds_ok(sp, cfg, &which)) return 0;
    }
    return fail(err, el, "space '%s' seems empty: no sample satisfied bound '%s' in %d tries", sp->name,
                which >= 0 ? sp->bounds[which].name : "?", max_tries);
}

/* Re-draws param p of out so that it differs from its current value (when it can). */
static void redraw_param(const space *sp, int p, rng_t *r, int32_t *out) {
    const param_t *pp = &sp->params[p];
    uint64_t c = (uint64_t)pp->dom.count;
    if (c < 2) return;
    if (pp->nslots == 1) {
        int32_t v = (int32_t)rng_below(r, c - 1);
        out[pp->slot] = v >= out[pp->slot] ? v + 1 : v;
        return;
    }
    for (;;) { /* a list: redraw every element until the list differs */
        int same = 1;
        for (int i = 0; i < pp->nslots; i++) {
            int32_t v = (int32_t)rng_below(r, c);
            same &= v == out[pp->slot + i];
            out[pp->slot + i] = v;
        }
        if (!same) return;
    }
}

void space_mutate_raw(const space *sp, const int32_t *cfg, rng_t *r, int nfields, int32_t *out) {
    memcpy(out, cfg, (size_t)sp->nslots * sizeof *out);
    int eligible = 0;
    for (int p = 0; p < sp->nparams; p++) eligible += sp->params[p].dom.count > 1;
    int need = nfields < eligible ? nfields : eligible;
    for (int p = 0; p < sp->nparams && need > 0; p++) { /* selection sampling (Knuth S) */
        if (sp->params[p].dom.count < 2) continue;
        if (rng_below(r, (uint64_t)eligible) < (uint64_t)need) {
            redraw_param(sp, p, r, out);
            need--;
        }
        eligible--;
    }
}

void space_crossover_raw(const space *sp, const int32_t *a, const int32_t *b, rng_t *r, int32_t *out) {
    uint64_t bits = 0;
    for (int p = 0; p < sp->nparams; p++) {
        if (p % 64 == 0) bits = rng_next(r);
        const param_t *pp = &sp->params[p];
        const int32_t *src = (bits >> (p % 64)) & 1 ? b : a;
        memcpy(out + pp->slot, src + pp->slot, (size_t)pp->nslots * sizeof *out);
    }
}

/* ---- neighbours ---- */

static int ordinal(const domain_t *d) { return d->kind == SPACE_POW2 || d->kind == SPACE_INT || d->ordered; }

int space_max_neighbors(const space *sp) {
    int n = 0;
    for (int s = 0; s < sp->nslots; s++) {
        const domain_t *d = slot_dom(sp, s);
        n += ordinal(d) ? (d->count > 1 ? 2 : 0) : d->count - 1;
    }
    return n;
}

/* Appends cfg with slot set to v when the bounds hold. */
static int push_neighbor(const space *sp, const int32_t *cfg, int slot, int32_t v, int32_t *out, int n, int cap) {
    if (n >= cap) return n;
    int32_t *row = out + (size_t)n * (size_t)sp->nslots;
    memcpy(row, cfg, (size_t)sp->nslots * sizeof *row);
    row[slot] = v;
    return space_bounds_ok(sp, row, NULL) ? n + 1 : n;
}

int space_neighbors(const space *sp, const int32_t *cfg, int32_t *out, int cap) {
    int n = 0;
    for (int s = 0; s < sp->nslots; s++) {
        const domain_t *d = slot_dom(sp, s);
        if (ordinal(d)) {
            if (cfg[s] > 0) n = push_neighbor(sp, cfg, s, cfg[s] - 1, out, n, cap);
            if (cfg[s] + 1 < d->count) n = push_neighbor(sp, cfg, s, cfg[s] + 1, out, n, cap);
            continue;
        }
        for (int32_t v = 0; v < d->count; v++)
            if (v != cfg[s]) n = push_neighbor(sp, cfg, s, v, out, n, cap);
    }
    return n;
}

/* ---- dense index ---- */

int space_next(const space *sp, int32_t *cfg) {
    for (int s = sp->nslots - 1; s >= 0; s--) {
        if (++cfg[s] < slot_dom(sp, s)->count) return 1;
        cfg[s] = 0;
    }
    return 0;
}

int space_index_of(const space *sp, const int32_t *cfg, uint64_t *index) {
    int overflow;
    space_product(sp, &overflow);
    if (overflow) return -1;
    uint64_t ix = 0;
    for (int s = 0; s < sp->nslots; s++) ix = ix * (uint64_t)slot_dom(sp, s)->count + (uint64_t)cfg[s];
    *index = ix;
    return 0;
}

int space_at(const space *sp, uint64_t index, int32_t *cfg) {
    int overflow;
    uint64_t prod = space_product(sp, &overflow);
    if (!overflow && index >= prod) return -1;
    for (int s = sp->nslots - 1; s >= 0; s--) {
        uint64_t c = (uint64_t)slot_dom(sp, s)->count;
        cfg[s] = (int32_t)(index % c);
        index /= c;
    }
    return index == 0 ? 0 : -1;
}

/* ---- encoding ---- */

int space_encode_len(const space *sp) { return sp->encode_len; }

void space_encode(const space *sp, const int32_t *cfg, double *out) {
    int col = 0;
    for (int s = 0; s < sp->nslots; s++) {
        const domain_t *d = slot_dom(sp, s);
        if (one_hot(d)) {
            for (int i = 0; i < d->count; i++) out[col++] = i == cfg[s] ? 1.0 : 0.0;
        } else if (d->kind == SPACE_PERM) {
            int perm[SPACE_PERM_MAX];
            space_perm_unrank(d->n, cfg[s], perm);
            for (int i = 0; i < d->n; i++) out[col++] = d->n > 1 ? (double)perm[i] / (d->n - 1) : 0.0;
        } else {
            out[col++] = d->count > 1 ? (double)cfg[s] / (d->count - 1) : 0.0;
        }
    }
}

void space_encode_name(const space *sp, int col, char *buf, size_t len) {
    for (int s = 0; s < sp->nslots; s++) {
        const param_t *p = &sp->params[sp->slot_param[s]];
        int w = slot_columns(&p->dom);
        if (col >= w) {
            col -= w;
            continue;
        }
        sbuf b = {buf, len, 0};
        sbuf_puts(&b, p->name, strlen(p->name));
        if (p->kind == SPACE_LIST) sbuf_printf(&b, "[%d]", s - p->slot + 1);
        if (p->dom.kind == SPACE_PERM) sbuf_printf(&b, "[%d]", col + 1);
        if (one_hot(&p->dom)) {
            space_value v = p->dom.values[col];
            if (v.type == SPACE_VSTR) sbuf_printf(&b, "=%.*s", (int)v.len, v.s);
            else sbuf_putc(&b, '='), sbuf_number(&b, &v);
        }
        if (len && b.len >= len) buf[len - 1] = '\0';
        return;
    }
    if (len) buf[0] = '\0';
}
