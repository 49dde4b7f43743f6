/* Asynchronous LLM HTTP client: requests queue on a curl multi handle (at most max_concurrency
 * transfers), 429/5xx/network failures retry after an exponential, jittered delay or the
 * server's Retry-After, and 2xx bodies can be cached on disk keyed by the request body (which
 * never holds the key: it travels in a header only). No threads; llm_poll drives everything. */
#include "llm.h"
#include "util.h"
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_BODY_BYTES (16u << 20)

enum { Q_WAIT, Q_RUN, Q_DONE };

struct llm_req {
    long id;
    int state;
    char *req_body;
    size_t req_len;
    char cache_key[33];
    double t_submit, next_try_ms, retry_after_ms;
    CURL *easy;
    size_t cap;
    char curl_err[CURL_ERROR_SIZE];
    struct llm_result res;
};

struct llm_client {
    CURLM *multi;
    struct curl_slist *headers;
    char *url, *secret, *cache_dir;
    int max_conc, retries;
    long connect_ms, timeout_ms;
    double backoff_ms, max_backoff_ms;
    uint64_t rng;
    long next_id;
    struct llm_req **reqs;
    int n, cap;
    struct llm_stats st;
};

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

void llm_scrub(const char *secret, const char *src, char *dst, size_t n) {
    size_t k = secret ? strlen(secret) : 0, o = 0;
    if (n == 0) return;
    for (const char *p = src; *p && o + 1 < n;) {
        if (k >= 4 && strncmp(p, secret, k) == 0) {
            for (const char *r = "***"; *r && o + 1 < n; r++) dst[o++] = *r;
            p += k;
        } else {
            dst[o++] = *p++;
        }
    }
    dst[o] = 0;
}

static int add_header(struct curl_slist **l, const char *h) {
    struct curl_slist *t = curl_slist_append(*l, h);
    if (!t) return -1;
    *l = t;
    return 0;
}

static int build_headers(llm_client *c, const struct llm_opts *o) {
    if (add_header(&c->headers, "Content-Type: application/json") || add_header(&c->headers, "Expect:")) return -1;
    for (const char *const *h = o->headers; h && *h; h++) if (add_header(&c->headers, *h)) return -1;
    if (!o->auth_name || !o->secret || !*o->secret) return 0;
    size_t n = strlen(o->auth_name) + strlen(o->auth_prefix ? o->auth_prefix : "") + strlen(o->secret) + 4;
    char *line = malloc(n);
    if (!line) return -1;
    snprintf(line, n, "%s: %s%s", o->auth_name, o->auth_prefix ? o->auth_prefix : "", o->secret);
    int rc = add_header(&c->headers, line);
    memset(line, 0, n);
    free(line);
    return rc;
}

llm_client *llm_open(const struct llm_opts *o, char *err, size_t len) {
    if (!o->url || strncmp(o->url, "http", 4) != 0) {
        snprintf(err, len, "base_url must start with http:// or https://, got '%s'", o->url ? o->url : "(none)");
        return NULL;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) { snprintf(err, len, "libcurl failed to initialise"); return NULL; }
    llm_client *c = calloc(1, sizeof *c);
    if (!c) { snprintf(err, len, "out of memory"); return NULL; }
    c->multi = curl_multi_init();
    c->url = strdup(o->url);
    c->secret = dup_or_null(o->secret);
    c->cache_dir = dup_or_null(o->cache_dir);
    c->max_conc = o->max_concurrency > 0 ? o->max_concurrency : 1;
    c->retries = o->retries > 0 ? o->retries : 0;
    c->connect_ms = o->connect_timeout_ms, c->timeout_ms = o->timeout_ms;
    c->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : 500;
    c->max_backoff_ms = o->max_backoff_ms > 0 ? o->max_backoff_ms : 60000;
    c->rng = util_now_ns() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)c;
    if (!c->multi || !c->url || build_headers(c, o)) {
        snprintf(err, len, "out of memory");
        llm_close(c);
        return NULL;
    }
    return c;
}

static void free_req(struct llm_req *r) {
    free(r->req_body);
    free(r->res.body);
    free(r);
}

static void stop_transfer(llm_client *c, struct llm_req *r) {
    if (!r->easy) return;
    curl_multi_remove_handle(c->multi, r->easy);
    curl_easy_cleanup(r->easy);
    r->easy = NULL;
    c->st.running--;
}

void llm_close(llm_client *c) {
    if (!c) return;
    for (int i = 0; i < c->n; i++) {
        stop_transfer(c, c->reqs[i]);
        free_req(c->reqs[i]);
    }
    free(c->reqs);
    if (c->multi) curl_multi_cleanup(c->multi);
    curl_slist_free_all(c->headers);
    if (c->secret) memset(c->secret, 0, strlen(c->secret));
    free(c->secret);
    free(c->url);
    free(c->cache_dir);
    free(c);
}

static struct llm_req *find(llm_client *c, long id, int *at) {
    for (int i = 0; i < c->n; i++) if (c->reqs[i]->id == id) { if (at) *at = i; return c->reqs[i]; }
    return NULL;
}

/* ---- cache ---------------------------------------------------------------------------------- */

static void cache_key(const char *body, size_t len, char out[33]) {
    util_hex64(util_fnv1a(UTIL_FNV_INIT, body, len), out);
    util_hex64(util_fnv1a(0x84222325cbf29ce4ULL, body, len), out + 16);
}

static int cache_path(llm_client *c, const struct llm_req *r, char *out, size_t n) {
    return c->cache_dir && snprintf(out, n, "%s/%s.json", c->cache_dir, r->cache_key) < (int)n ? 0 : -1;
}

static int cache_get(llm_client *c, struct llm_req *r) {
    char path[4096], err[128];
    size_t len;
    if (cache_path(c, r, path, sizeof path)) return 0;
    char *data = util_read_file(path, &len, err, sizeof err);
    if (!data) return 0;
    r->res.body = data, r->res.body_len = len;
    r->res.done = r->res.ok = r->res.cached = 1;
    r->res.status = 200;
    r->state = Q_DONE;
    c->st.cache_hits++;
    return 1;
}

int llm_cache_put(llm_client *c, long id) {
    char path[4096], err[256];
    struct llm_req *r = find(c, id, NULL);
    if (!r || !r->res.ok || r->res.cached || cache_path(c, r, path, sizeof path)) return -1;
    if (util_mkdirs(c->cache_dir)) return -1;
    return util_write_atomic(path, r->res.body, r->res.body_len, err, sizeof err);
}

/* ---- submit / transfers --------------------------------------------------------------------- */

long llm_submit(llm_client *c, const char *body, size_t len, int use_cache) {
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 16;
        struct llm_req **t = realloc(c->reqs, (size_t)cap * sizeof *t);
        if (!t) return -1;
        c->reqs = t, c->cap = cap;
    }
    struct llm_req *r = calloc(1, sizeof *r);
    if (!r || !(r->req_body = malloc(len + 1))) { free(r); return -1; }
    memcpy(r->req_body, body, len);
    r->req_body[len] = 0;
    r->req_len = len;
    r->id = ++c->next_id;
    r->t_submit = r->next_try_ms = util_now_ms();
    cache_key(body, len, r->cache_key);
    c->reqs[c->n++] = r;
    c->st.submitted++;
    if (!(use_cache && cache_get(c, r))) c->st.queued++;
    return r->id;
}

static size_t on_body(char *p, size_t sz, size_t nm, void *ud) {
    struct llm_req *r = ud;
    size_t n = sz * nm;
    if (r->res.body_len + n + 1 > MAX_BODY_BYTES) return 0;
    if (r->res.body_len + n + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 4096;
        while (cap < r->res.body_len + n + 1) cap *= 2;
        char *b = realloc(r->res.body, cap);
        if (!b) return 0;
        r->res.body = b, r->cap = cap;
    }
    memcpy(r->res.body + r->res.body_len, p, n);
    r->res.body_len += n;
    r->res.body[r->res.body_len] = 0;
    return n;
}

/* Retry-After in seconds (the HTTP-date form is treated as "soon": 1 s). */
static size_t on_header(char *p, size_t sz, size_t nm, void *ud) {
    struct llm_req *r = ud;
    size_t n = sz * nm;
    if (n > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
        char buf[64];
        size_t k = n - 12 < sizeof buf - 1 ? n - 12 : sizeof buf - 1;
        memcpy(buf, p + 12, k);
        buf[k] = 0;
        char *end;
        double s = strtod(buf, &end);
        r->retry_after_ms = (end != buf && s >= 0) ? s * 1000.0 : 1000.0;
    }
    return n;
}

static int start_transfer(llm_client *c, struct llm_req *r) {
    CURL *e = curl_easy_init();
    if (!e) return -1;
    free(r->res.body);
    r->res.body = NULL, r->res.body_len = r->cap = 0, r->retry_after_ms = 0, r->curl_err[0] = 0;
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->req_body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->req_len);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_err);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (c->connect_ms > 0) curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->connect_ms);
    if (c->timeout_ms > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    if (curl_multi_add_handle(c->multi, e) != CURLM_OK) { curl_easy_cleanup(e); return -1; }
    r->easy = e;
    r->state = Q_RUN;
    r->res.attempts++;
    c->st.transfers++, c->st.running++, c->st.queued--;
    if (c->st.running > c->st.max_running) c->st.max_running = c->st.running;
    return 0;
}

static void finish(llm_client *c, struct llm_req *r, const char *code, const char *fmt, const char *arg) {
    char raw[1024];
    r->state = Q_DONE;
    r->res.done = 1;
    r->res.latency_ms = util_now_ms() - r->t_submit;
    r->res.ok = code == NULL;
    r->res.code = code;
    if (!code) return;
    snprintf(raw, sizeof raw, fmt, arg ? arg : "");
    llm_scrub(c->secret, raw, r->res.error, sizeof r->res.error);
}

static void launch_due(llm_client *c) {
    double now = util_now_ms();
    for (int i = 0; i < c->n && c->st.running < c->max_conc; i++) {
        struct llm_req *r = c->reqs[i];
        if (r->state == Q_WAIT && r->next_try_ms <= now && start_transfer(c, r))
            finish(c, r, "ENOMEM", "could not start a transfer%s", NULL), c->st.queued--;
    }
}

static double jitter01(llm_client *c) {
    c->rng ^= c->rng << 13, c->rng ^= c->rng >> 7, c->rng ^= c->rng << 17;
    return (double)(c->rng >> 11) / 9007199254740992.0;
}

static void schedule_retry(llm_client *c, struct llm_req *r) {
    double d = c->backoff_ms;
    for (int i = 1; i < r->res.attempts && d < c->max_backoff_ms; i++) d *= 2;
    d *= 0.5 + jitter01(c);
    if (r->retry_after_ms > d) d = r->retry_after_ms;
    if (d > c->max_backoff_ms) d = c->max_backoff_ms;
    r->next_try_ms = util_now_ms() + d;
    r->state = Q_WAIT;
    c->st.queued++, c->st.retries++;
}

/* One finished transfer: done, failed, or queued again for a retry. */
static void settle(llm_client *c, struct llm_req *r, CURLcode cc) {
    long status = 0;
    char what[600];
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
    stop_transfer(c, r);
    r->res.status = status;
    if (cc == CURLE_OK && status >= 200 && status < 300) return finish(c, r, NULL, NULL, NULL);
    int transient = cc != CURLE_OK || status == 429 || status >= 500;
    if (transient && r->res.attempts <= c->retries) return schedule_retry(c, r);
    if (cc != CURLE_OK) {
        snprintf(what, sizeof what, "%s (%s)", curl_easy_strerror(cc), r->curl_err);
        return finish(c, r, cc == CURLE_OPERATION_TIMEDOUT ? "ETIMEDOUT" : "ENET", "network error: %s", what);
    }
    snprintf(what, sizeof what, "HTTP %ld: %.200s", status, r->res.body ? r->res.body : "");
    finish(c, r, "EHTTP", "%s", what);
}

static int harvest(llm_client *c) {
    int done = 0, left;
    CURLMsg *m;
    while ((m = curl_multi_info_read(c->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        struct llm_req *r = NULL;
        CURLcode cc = m->data.result;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        settle(c, r, cc);
        done += r->state == Q_DONE;
    }
    return done;
}

long llm_next_due_ms(llm_client *c) {
    if (c->st.running > 0) {
        long t = -1;
        curl_multi_timeout(c->multi, &t);
        return t < 0 || t > 50 ? 50 : t;
    }
    double now = util_now_ms(), best = -1;
    for (int i = 0; i < c->n; i++) {
        struct llm_req *r = c->reqs[i];
        if (r->state == Q_WAIT && (best < 0 || r->next_try_ms - now < best)) best = r->next_try_ms - now;
    }
    return best < 0 ? -1 : best < 0.5 ? 0 : (long)best;
}

int llm_poll(llm_client *c, int timeout_ms) {
    double t0 = util_now_ms();
    int completed = 0, running;
    for (;;) {
        launch_due(c);
        curl_multi_perform(c->multi, &running);
        completed += harvest(c);
        if (completed > 0 && timeout_ms != 0) launch_due(c);
        double left = timeout_ms < 0 ? 1e9 : timeout_ms - (util_now_ms() - t0);
        long due = llm_next_due_ms(c);
        if (completed > 0 || left <= 0 || due < 0) return completed;
        int wait = (int)(due < left ? due : left);
        if (c->st.running > 0) curl_multi_poll(c->multi, NULL, 0, wait > 0 ? wait : 1, NULL);
        else if (wait > 0) usleep((useconds_t)wait * 1000);
    }
}

const struct llm_result *llm_get(llm_client *c, long id) {
    struct llm_req *r = find(c, id, NULL);
    return r ? &r->res : NULL;
}

void llm_cancel(llm_client *c, long id) {
    struct llm_req *r = find(c, id, NULL);
    if (!r || r->state == Q_DONE) return;
    if (r->state == Q_WAIT) c->st.queued--;
    stop_transfer(c, r);
    finish(c, r, "ECANCELED", "request cancelled%s", NULL);
}

void llm_release(llm_client *c, long id) {
    int at;
    struct llm_req *r = find(c, id, &at);
    if (!r) return;
    llm_cancel(c, id);
    free_req(r);
    c->reqs[at] = c->reqs[--c->n];
}

void llm_get_stats(llm_client *c, struct llm_stats *s) { *s = c->st; }
