/* The compile service: cache lookups at submit (hits never queue), misses on the pool; a
 * worker handed several jobs of one group compiles them as one program and splits the result. */
#include "nvsvc.h"
#include "util.h"
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct nvsvc {
    struct nvrtc_api api;
    char api_err[512];
    int have_api, nthreads, max_batch;
    struct pool *pool;
    struct cache *cache;
    char cache_dir[4096], cache_err[512];
    long long cache_max;
    int cache_enabled;
};

enum { DEFAULT_MAX_BATCH = 4 }; /* bench-compile, matmul, one thread: 4 a program -15-20% per config, 8 +10% */
#define DEFAULT_CACHE_BYTES (2LL << 30)

static void ticket_drop(void *ctx, struct pool_item *item) {
    (void)ctx;
    struct nvsvc_ticket *t = (struct nvsvc_ticket *)item;
    nvrtc_job_free(&t->job);
    nvrtc_result_free(&t->res);
    free(t);
}

static const struct pool_ops ticket_ops = {NULL, ticket_drop, NULL};

/* Cubins (100 KB - 1 MB, several per batch) are allocated and freed at a high rate. glibc mmaps
 * each block over 128 KB, so every cache hit paid a page fault per 4 KB in every copy (measured:
 * 1300 warm hits/s instead of 9000 with 250 KB cubins). Keep such blocks on the heap. */
static void tune_malloc(void) {
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

struct nvsvc *nvsvc_new(const struct nvrtc_api *api) {
    struct nvsvc *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    tune_malloc();
    if (api) {
        s->api = *api;
        s->have_api = 1;
    } else {
        s->have_api = nvrtc_api_load(&s->api, s->api_err, sizeof s->api_err) == 0;
    }
    s->nthreads = util_ncpus();
    s->max_batch = DEFAULT_MAX_BATCH;
    cache_default_dir(s->cache_dir, sizeof s->cache_dir);
    s->cache_max = DEFAULT_CACHE_BYTES;
    s->cache_enabled = 1;
    return s;
}

void nvsvc_free(struct nvsvc *s) {
    if (!s) return;
    pool_free(s->pool);
    cache_close(s->cache);
    if (s->have_api && s->api.dl) nvrtc_api_unload(&s->api);
    free(s);
}

const char *nvsvc_error(const struct nvsvc *s) { return s->have_api ? NULL : s->api_err; }
const struct nvrtc_api *nvsvc_api(const struct nvsvc *s) { return &s->api; }
void nvsvc_huge_text(struct nvsvc *s) {
    if (s->have_api) nvrtc_huge_text(&s->api); /* with a pool it ran before the workers started */
}
int nvsvc_threads(const struct nvsvc *s) { return s->nthreads; }
int nvsvc_max_batch(const struct nvsvc *s) { return s->max_batch; }
int nvsvc_cache_enabled(const struct nvsvc *s) { return s->cache_enabled; }
const char *nvsvc_cache_dir(const struct nvsvc *s) { return s->cache_dir; }
long long nvsvc_cache_max(const struct nvsvc *s) { return s->cache_max; }

int nvsvc_set_threads(struct nvsvc *s, int n) {
    if (s->pool) pool_drain(s->pool);
    pool_free(s->pool);
    s->pool = NULL;
    s->nthreads = n < 1 ? 1 : n;
    return 0;
}

void nvsvc_set_max_batch(struct nvsvc *s, int n) {
    s->max_batch = n < 1 ? 1 : n;
    if (s->pool) pool_set_max_batch(s->pool, s->max_batch);
}

int nvsvc_cache_config(struct nvsvc *s, const char *dir, long long max_bytes, int enabled,
                       char *err, size_t errlen) {
    if (s->pool) pool_drain(s->pool); /* workers write into the cache being replaced */
    cache_close(s->cache);
    s->cache = NULL;
    s->cache_err[0] = '\0';
    if (dir) snprintf(s->cache_dir, sizeof s->cache_dir, "%s", dir);
    if (max_bytes >= 0) s->cache_max = max_bytes;
    if (enabled >= 0) s->cache_enabled = enabled;
    return 0;
}

struct cache *nvsvc_cache(struct nvsvc *s, char *err, size_t errlen) {
    if (!s->cache_enabled) {
        snprintf(err, errlen, "the cache is disabled");
        return NULL;
    }
    if (!s->cache && !s->cache_err[0])
        s->cache = cache_open(s->cache_dir, s->cache_max, s->cache_err, sizeof s->cache_err);
    if (!s->cache) snprintf(err, errlen, "%s", s->cache_err);
    return s->cache;
}

/* ---- cache glue ------------------------------------------------------------------------- */

static int lookup(struct nvsvc *s, uint64_t key, struct nvrtc_result *res) {
    char err[512], *data = NULL;
    size_t len = 0;
    struct cache *c = nvsvc_cache(s, err, sizeof err);
    double t0 = util_now_ms();
    if (!c || cache_get(c, key, &data, &len) != CACHE_HIT) return 0;
    int rc = nvrtc_result_decode(data, len, res);
    free(data);
    if (rc != 0) return 0;
    res->cached = 1;
    res->compile_ms = util_now_ms() - t0;
    return 1;
}

/* Stores an ok result. Runs on workers: s->cache was opened at submit, before any worker ran. */
static void store(struct nvsvc *s, uint64_t key, const struct nvrtc_result *res) {
    if (!res->ok || !s->cache) return;
    size_t len = 0;
    char *data = nvrtc_result_encode(res, &len), err[512];
    if (data) cache_put(s->cache, key, data, len, err, sizeof err);
    free(data);
}

void nvsvc_compile(struct nvsvc *s, const struct nvrtc_job *job, struct nvrtc_result *res) {
    uint64_t key = nvrtc_job_cache_key(job, &s->api);
    if (s->cache_enabled && lookup(s, key, res)) return;
    nvrtc_huge_text(&s->api); /* the first compile; no worker runs yet (ensure_pool does it first) */
    nvrtc_compile(&s->api, job, res, NULL);
    store(s, key, res);
}

/* ---- batches ---------------------------------------------------------------------------- */

static int owns_kernel(const struct nvrtc_result *part, const char *mangled) {
    for (int i = 0; i < part->nlowered; i++)
        if (part->lowered[i] && strcmp(part->lowered[i], mangled) == 0) return 1;
    return part->nlowered == 0;
}

static int copy_facts(struct nvrtc_result *part, const struct nvrtc_result *all) {
    if (all->nfacts == 0) return 0;
    if (!(part->facts = calloc((size_t)all->nfacts, sizeof *part->facts))) return -1;
    for (int i = 0; i < all->nfacts; i++) {
        if (!owns_kernel(part, all->facts[i].mangled)) continue;
        struct nvrtc_facts *f = &part->facts[part->nfacts];
        *f = all->facts[i];
        if (!(f->mangled = strdup(all->facts[i].mangled))) return -1;
        part->nfacts++;
    }
    return 0;
}

/* The share of a batch result that belongs to job's name expressions lowered[first..]. */
static int split(struct nvrtc_result *part, const struct nvrtc_result *all, int first, int count, int n) {
    memset(part, 0, sizeof *part);
    part->ok = 1;
    part->batch = n;
    part->compile_ms = all->compile_ms / n;
    part->cubin = malloc(all->cubin_len ? all->cubin_len : 1);
    part->log = strdup(all->log ? all->log : "");
    part->lowered = count ? calloc((size_t)count, sizeof *part->lowered) : NULL;
    if (!part->cubin || !part->log || (count && !part->lowered)) return -1;
    memcpy(part->cubin, all->cubin, all->cubin_len);
    part->cubin_len = all->cubin_len;
    part->nlowered = count;
    for (int i = 0; i < count; i++)
        if (!(part->lowered[i] = strdup(all->lowered[first + i]))) return -1;
    return copy_facts(part, all);
}

/* One program for all jobs: the first job's settings and every job's name expressions. */
static int compile_batch(struct nvsvc *s, struct nvsvc_ticket **t, int n, const volatile int *stop) {
    int total = 0;
    for (int i = 0; i < n; i++) total += t[i]->job.nname_exprs;
    char **exprs = calloc((size_t)total + 1, sizeof *exprs);
    if (!exprs) return -1;
    struct nvrtc_job merged = t[0]->job;
    merged.name_exprs = exprs;
    merged.nname_exprs = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < t[i]->job.nname_exprs; j++) exprs[merged.nname_exprs++] = t[i]->job.name_exprs[j];
    struct nvrtc_result all;
    nvrtc_compile(&s->api, &merged, &all, stop);
    free(exprs);
    int rc = all.ok ? 0 : -1;
    for (int i = 0, first = 0; i < n && rc == 0; first += t[i]->job.nname_exprs, i++) {
        if (split(&t[i]->res, &all, first, t[i]->job.nname_exprs, n) != 0) rc = -1;
    }
    nvrtc_result_free(&all);
    if (rc != 0)
        for (int i = 0; i < n; i++) nvrtc_result_free(&t[i]->res);
    return rc;
}

static void run_items(void *ctx, struct pool_item **items, int n, const volatile int *stop) {
    struct nvsvc *s = ctx;
    struct nvsvc_ticket **t = (struct nvsvc_ticket **)items;
    if (n == 1 || compile_batch(s, t, n, stop) != 0) {
        for (int i = 0; i < n; i++) nvrtc_compile(&s->api, &t[i]->job, &t[i]->res, stop);
    }
    for (int i = 0; i < n; i++) store(s, t[i]->cache_key, &t[i]->res);
}

/* ---- tickets ---------------------------------------------------------------------------- */

static int ensure_pool(struct nvsvc *s) {
    if (s->pool) return 0;
    nvrtc_huge_text(&s->api); /* before any worker runs libnvrtc */
    struct pool_ops ops = {run_items, ticket_drop, s};
    s->pool = pool_new(s->nthreads, s->max_batch, ops);
    return s->pool ? 0 : -1;
}

/* Every job may share a program with others of its group (same source, options, defines);
 * the pool only coalesces when more are queued than threads are idle. Batching amortises the
 * per-program cost (parsing the source, NVRTC's set-up): header-free templates gained once
 * their reference kernel left config programs (this 2-core machine, one thread, ms per config,
 * 1 / 2 / 4 configs per program: matmul 201 / 193 / 182, softmax 72 / 59 / 49). It used to
 * need an #include: matmul then took 1.3 s a config, and batching lost (0.77 vs 0.87 configs/s). */
struct nvsvc_ticket *nvsvc_submit(struct nvsvc *s, struct nvrtc_job *job) {
    struct nvsvc_ticket *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->job = *job;
    memset(job, 0, sizeof *job);
    atomic_init(&t->item.refs, 1);
    t->cache_key = nvrtc_job_cache_key(&t->job, &s->api);
    if (s->cache_enabled && lookup(s, t->cache_key, &t->res)) {
        t->item.state = POOL_DONE;
        return t;
    }
    if (ensure_pool(s) != 0) {
        nvsvc_release(t);
        return NULL;
    }
    t->item.group = nvrtc_job_group_key(&t->job, &s->api) | 1;
    pool_submit(s->pool, &t->item);
    return t;
}

int nvsvc_ready(struct nvsvc *s, struct nvsvc_ticket *t) {
    int state = s->pool ? pool_state(s->pool, &t->item) : t->item.state;
    return state >= POOL_DONE;
}

int nvsvc_cancel(struct nvsvc *s, struct nvsvc_ticket *t) {
    return s->pool ? pool_cancel(s->pool, &t->item) : 0;
}

void nvsvc_wait(struct nvsvc *s, struct nvsvc_ticket *t) {
    if (s->pool) pool_wait(s->pool, &t->item);
}

int nvsvc_wait_any(struct nvsvc *s, struct nvsvc_ticket **t, int n, int timeout_ms) {
    if (!s->pool) {
        for (int i = 0; i < n; i++) /* no pool yet: every ticket was a cache hit */
            if (t[i]->item.state >= POOL_DONE) return i;
        return -1;
    }
    return pool_wait_any(s->pool, (struct pool_item **)t, n, timeout_ms);
}

void nvsvc_release(struct nvsvc_ticket *t) {
    if (t) pool_release(&t->item, &ticket_ops);
}
