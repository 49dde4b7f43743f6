/* Canonical JSON of configs (keys in declaration order, no spaces), its FNV-1a 64 hash, and a
 * non-raising parser back to index vectors that names the bad field and value. Flat on purpose:
 * a config is one object of scalars and arrays of scalars, so the parser never recurses. */
#include "space_internal.h"
#include "util.h"
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer ---- */

void sbuf_putc(sbuf *b, char c) {
    if (b->len + 1 < b->cap) b->buf[b->len] = c;
    b->len++;
    if (b->cap) b->buf[b->len < b->cap ? b->len : b->cap - 1] = '\0';
}

void sbuf_puts(sbuf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) sbuf_putc(b, s[i]);
}

void sbuf_printf(sbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) sbuf_puts(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void sbuf_json_string(sbuf *b, const char *s, size_t n) {
    sbuf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : c == '\n' ? "\\n" : c == '\t' ? "\\t"
                        : c == '\r' ? "\\r" : c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
        if (esc) sbuf_puts(b, esc, 2);
        else if (c < 0x20) sbuf_printf(b, "\\u%04x", c);
        else sbuf_putc(b, (char)c);
    }
    sbuf_putc(b, '"');
}

/* Integers exactly; floats in the shortest %g form that reads back equal, keeping a ".0". */
void sbuf_number(sbuf *b, const space_value *v) {
    if (v->type != SPACE_VFLOAT) {
        sbuf_printf(b, "%lld", (long long)v->i);
        return;
    }
    char tmp[40];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, v->f);
        if (strtod(tmp, NULL) == v->f) break;
    }
    if (!strpbrk(tmp, ".eEni")) strcat(tmp, ".0");
    sbuf_puts(b, tmp, strlen(tmp));
}

static void put_slot(const space *sp, sbuf *b, int slot, int32_t idx) {
    space_value v;
    space_slot_value(sp, slot, idx, &v);
    if (v.type == SPACE_VSTR) sbuf_json_string(b, v.s, v.len);
    else if (v.type == SPACE_VBOOL) sbuf_puts(b, v.i ? "true" : "false", v.i ? 4 : 5);
    else sbuf_number(b, &v);
}

static void put_param(const space *sp, sbuf *b, const param_t *p, const int32_t *cfg) {
    if (p->dom.kind == SPACE_PERM) {
        int perm[SPACE_PERM_MAX];
        space_perm_unrank(p->n, cfg[p->slot], perm);
        sbuf_putc(b, '[');
        for (int i = 0; i < p->n; i++) sbuf_printf(b, i ? ",%d" : "%d", perm[i]);
        sbuf_putc(b, ']');
    } else if (p->kind == SPACE_LIST) {
        sbuf_putc(b, '[');
        for (int i = 0; i < p->nslots; i++) {
            if (i) sbuf_putc(b, ',');
            put_slot(sp, b, p->slot + i, cfg[p->slot + i]);
        }
        sbuf_putc(b, ']');
    } else {
        put_slot(sp, b, p->slot, cfg[p->slot]);
    }
}

size_t space_to_json(const space *sp, const int32_t *cfg, char *buf, size_t cap) {
    sbuf b = {buf, cap, 0};
    if (cap) buf[0] = '\0';
    sbuf_putc(&b, '{');
    for (int i = 0; i < sp->nparams; i++) {
        if (i) sbuf_putc(&b, ',');
        sbuf_json_string(&b, sp->params[i].name, strlen(sp->params[i].name));
        sbuf_putc(&b, ':');
        put_param(sp, &b, &sp->params[i], cfg);
    }
    sbuf_putc(&b, '}');
    return b.len;
}

uint64_t space_hash(const space *sp, const int32_t *cfg) {
    char stack[2048];
    size_t n = space_to_json(sp, cfg, stack, sizeof stack);
    if (n < sizeof stack) return util_fnv1a(UTIL_FNV_INIT, stack, n);
    char *heap = malloc(n + 1);
    if (!heap) return 0;
    space_to_json(sp, cfg, heap, n + 1);
    uint64_t h = util_fnv1a(UTIL_FNV_INIT, heap, n);
    free(heap);
    return h;
}

/* ---- parser ---- */

typedef struct parser {
    const space *sp;
    const char *s;
    size_t n, pos;
    char *tmp; /* decoded strings; input length + 1 bytes is always enough */
    char *err;
    size_t errlen;
} parser;

static int perr(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(parser *ps, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (ps->err && ps->errlen) vsnprintf(ps->err, ps->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static int syntax(parser *ps, const char *what) {
    if (ps->pos >= ps->n) return perr(ps, "invalid JSON: %s at end of input", what);
    return perr(ps, "invalid JSON at offset %zu: %s", ps->pos, what);
}

static void skip_ws(parser *ps) {
    while (ps->pos < ps->n && strchr(" \t\r\n", ps->s[ps->pos]) && ps->s[ps->pos]) ps->pos++;
}

static int peek(parser *ps) {
    skip_ws(ps);
    return ps->pos < ps->n ? (unsigned char)ps->s[ps->pos] : -1;
}

static int hex4(parser *ps, unsigned *out) {
    if (ps->pos + 4 > ps->n) return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = ps->s[ps->pos++];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 63)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 63)); o[2] = (char)(0x80 | (cp & 63));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 63));
    o[2] = (char)(0x80 | ((cp >> 6) & 63)); o[3] = (char)(0x80 | (cp & 63));
    return 4;
}

/* \uXXXX (and a following low surrogate) after the backslash-u; appends UTF-8 at o. */
static int unicode_escape(parser *ps, char *o, size_t *w) {
    unsigned cp, lo;
    if (hex4(ps, &cp) != 0) return syntax(ps, "bad \\u escape");
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (ps->pos + 2 > ps->n || ps->s[ps->pos] != '\\' || ps->s[ps->pos + 1] != 'u') return syntax(ps, "lone surrogate");
        ps->pos += 2;
        if (hex4(ps, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff) return syntax(ps, "bad low surrogate");
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
        return syntax(ps, "lone surrogate");
    }
    *w += put_utf8(o + *w, cp);
    return 0;
}

/* A string at pos (the opening quote), decoded into ps->tmp. */
static int parse_string(parser *ps, space_value *v) {
    size_t w = 0;
    ps->pos++;
    while (ps->pos < ps->n) {
        unsigned char c = (unsigned char)ps->s[ps->pos++];
        if (c == '"') {
            *v = (space_value){.type = SPACE_VSTR, .s = ps->tmp, .len = w};
            return 0;
        }
        if (c < 0x20) return ps->pos--, syntax(ps, "control character in string");
        if (c != '\\') {
            ps->tmp[w++] = (char)c;
            continue;
        }
        if (ps->pos >= ps->n) break;
        c = (unsigned char)ps->s[ps->pos++];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *k = c ? strchr(from, c) : NULL;
        if (k) ps->tmp[w++] = to[k - from];
        else if (c != 'u') return ps->pos--, syntax(ps, "bad escape in string");
        else if (unicode_escape(ps, ps->tmp, &w) != 0) return -1;
    }
    return syntax(ps, "unterminated string");
}

static size_t scan_digits(parser *ps) {
    size_t k = 0;
    while (ps->pos < ps->n && ps->s[ps->pos] >= '0' && ps->s[ps->pos] <= '9') ps->pos++, k++;
    return k;
}

/* A number per the JSON grammar: integers that fit int64 stay integers, the rest are doubles. */
static int parse_number(parser *ps, space_value *v) {
    size_t start = ps->pos;
    int is_float = 0;
    if (ps->s[ps->pos] == '-') ps->pos++;
    size_t int_start = ps->pos, nd = scan_digits(ps);
    if (nd == 0 || (nd > 1 && ps->s[int_start] == '0')) return ps->pos = start, syntax(ps, "bad number");
    if (ps->pos < ps->n && ps->s[ps->pos] == '.') {
        ps->pos++, is_float = 1;
        if (scan_digits(ps) == 0) return syntax(ps, "bad number: digits expected after '.'");
    }
    if (ps->pos < ps->n && (ps->s[ps->pos] == 'e' || ps->s[ps->pos] == 'E')) {
        ps->pos++, is_float = 1;
        if (ps->pos < ps->n && (ps->s[ps->pos] == '+' || ps->s[ps->pos] == '-')) ps->pos++;
        if (scan_digits(ps) == 0) return syntax(ps, "bad number: digits expected in exponent");
    }
    char buf[400];
    size_t len = ps->pos - start;
    if (len >= sizeof buf) return ps->pos = start, syntax(ps, "number too long");
    memcpy(buf, ps->s + start, len);
    buf[len] = '\0';
    if (!is_float) {
        errno = 0;
        long long x = strtoll(buf, NULL, 10);
        if (errno != ERANGE) {
            *v = (space_value){.type = SPACE_VINT, .i = x};
            return 0;
        }
    }
    *v = (space_value){.type = SPACE_VFLOAT, .f = strtod(buf, NULL)};
    return 0;
}

static int parse_literal(parser *ps, const char *word, size_t len) {
    if (ps->n - ps->pos < len || memcmp(ps->s + ps->pos, word, len) != 0) return syntax(ps, "unexpected character");
    ps->pos += len;
    return 0;
}

/* A scalar at pos. 0 with *v; -1 on a syntax error; 1 when the value is an array, object or
 * null (*got names it; pos stays on it). */
static int parse_scalar(parser *ps, space_value *v, const char **got) {
    int c = peek(ps);
    if (c == '"') return parse_string(ps, v);
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(ps, v);
    if (c == 't') return parse_literal(ps, "true", 4) ? -1 : (*v = (space_value){.type = SPACE_VBOOL, .i = 1}, 0);
    if (c == 'f') return parse_literal(ps, "false", 5) ? -1 : (*v = (space_value){.type = SPACE_VBOOL, .i = 0}, 0);
    if (c == 'n') return parse_literal(ps, "null", 4) ? -1 : (*got = "null", 1);
    if (c == '[') return *got = "an array", 1;
    if (c == '{') return *got = "an object", 1;
    return syntax(ps, c < 0 ? "value expected" : "unexpected character");
}

/* One scalar of field p (element k >= 1 of a list, 0 otherwise) into cfg[slot]. */
static int parse_slot(parser *ps, const param_t *p, int slot, int k, int32_t *cfg) {
    space_value v;
    const char *got = NULL;
    int rc = parse_scalar(ps, &v, &got);
    if (rc < 0) return -1;
    int32_t idx = rc == 0 ? space_value_index(ps->sp, slot, &v) : -1;
    if (idx >= 0) {
        cfg[slot] = idx;
        return 0;
    }
    char where[300], dom[256], val[64];
    snprintf(where, sizeof where, k ? "field '%s' element %d" : "field '%s'", p->name, k);
    space_describe_slot(ps->sp, slot, dom, sizeof dom);
    if (rc > 0) return perr(ps, "%s: expected %s, got %s", where, dom, got);
    space_format_value(&v, val, sizeof val);
    return perr(ps, "%s: %s is not %s", where, val, dom);
}

/* '[' v, v, ... ']' with exactly n elements; each is handed to elem(ps, p, i, ctx). */
typedef int (*elem_fn)(parser *ps, const param_t *p, int i, void *ctx);
static int parse_array(parser *ps, const param_t *p, int n, elem_fn elem, void *ctx) {
    const char *got = NULL;
    space_value v;
    if (peek(ps) != '[') {
        size_t at = ps->pos;
        int rc = parse_scalar(ps, &v, &got);
        if (rc < 0) return -1;
        char val[64];
        if (rc == 0) space_format_value(&v, val, sizeof val);
        ps->pos = at;
        return perr(ps, "field '%s': expected an array of %d elements, got %s", p->name, n, rc ? got : val);
    }
    ps->pos++;
    int i = 0;
    if (peek(ps) == ']') return perr(ps, "field '%s': expected %d elements, got 0", p->name, n);
    for (;;) {
        if (i == n) return perr(ps, "field '%s': expected %d elements, got more", p->name, n);
        if (elem(ps, p, i++, ctx) != 0) return -1;
        int c = peek(ps);
        ps->pos++;
        if (c == ']') break;
        if (c != ',') return ps->pos--, syntax(ps, "',' or ']' expected in array");
    }
    if (i != n) return perr(ps, "field '%s': expected %d elements, got %d", p->name, n, i);
    return 0;
}

static int list_elem(parser *ps, const param_t *p, int i, void *ctx) {
    return parse_slot(ps, p, p->slot + i, i + 1, (int32_t *)ctx);
}

static int perm_elem(parser *ps, const param_t *p, int i, void *ctx) {
    space_value v;
    const char *got = NULL;
    char val[64];
    int rc = parse_scalar(ps, &v, &got);
    if (rc < 0) return -1;
    if (rc == 0) space_format_value(&v, val, sizeof val);
    if (rc > 0 || v.type != SPACE_VINT || v.i < 0 || v.i >= p->n)
        return perr(ps, "field '%s' element %d: expected an integer in 0..%d, got %s", p->name, i + 1, p->n - 1,
                    rc ? got : val);
    ((int *)ctx)[i] = (int)v.i;
    return 0;
}

static int parse_field(parser *ps, const param_t *p, int32_t *cfg) {
    if (p->dom.kind == SPACE_PERM) {
        int perm[SPACE_PERM_MAX];
        if (parse_array(ps, p, p->n, perm_elem, perm) != 0) return -1;
        int32_t rank = space_perm_rank(p->n, perm);
        if (rank < 0) return perr(ps, "field '%s': not a permutation of 0..%d (repeated element)", p->name, p->n - 1);
        cfg[p->slot] = rank;
        return 0;
    }
    if (p->kind == SPACE_LIST) return parse_array(ps, p, p->n, list_elem, cfg);
    return parse_slot(ps, p, p->slot, 0, cfg);
}

/* "key": value pairs of the top-level object; marks seen[] per param. */
static int parse_members(parser *ps, int32_t *cfg, char *seen) {
    if (peek(ps) == '}') return ps->pos++, 0;
    for (;;) {
        space_value key;
        char name[64];
        if (peek(ps) != '"') return syntax(ps, "field name expected");
        if (parse_string(ps, &key) != 0) return -1;
        int p = space_find_param(ps->sp, key.s, key.len);
        space_format_value(&key, name, sizeof name);
        if (p < 0 || memchr(key.s, '\0', key.len)) return perr(ps, "unknown field %s", name);
        if (seen[p]) return perr(ps, "duplicate field %s", name);
        seen[p] = 1;
        if (peek(ps) != ':') return syntax(ps, "':' expected");
        ps->pos++;
        if (parse_field(ps, &ps->sp->params[p], cfg) != 0) return -1;
        int c = peek(ps);
        ps->pos++;
        if (c == '}') return 0;
        if (c != ',') return ps->pos--, syntax(ps, "',' or '}' expected");
    }
}

int space_from_json(const space *sp, const char *s, size_t n, int32_t *cfg, char *err, size_t errlen) {
    parser ps = {sp, s, n, 0, malloc(n + 1), err, errlen};
    char *seen = calloc((size_t)sp->nparams + 1, 1);
    int rc = -1;
    if (!ps.tmp || !seen) {
        perr(&ps, "out of memory");
        goto done;
    }
    if (peek(&ps) != '{') {
        perr(&ps, "expected a JSON object");
        goto done;
    }
    ps.pos++;
    if (parse_members(&ps, cfg, seen) != 0) goto done;
    if (peek(&ps) >= 0) {
        syntax(&ps, "trailing characters after the object");
        goto done;
    }
    for (int p = 0; p < sp->nparams; p++) {
        if (!seen[p]) {
            perr(&ps, "missing field '%s'", sp->params[p].name);
            goto done;
        }
    }
    rc = space_check(sp, cfg, err, errlen);
done:
    free(ps.tmp);
    free(seen);
    return rc;
}
