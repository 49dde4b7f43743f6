/* The compile service: NVRTC + disk cache + thread pool. Tickets carry a job in and a result
 * out as plain C structs; single jobs of one template are coalesced into one NVRTC program
 * when the queue is deep, and a failed batch is recompiled job by job. No Lua here. */
#ifndef HTUNE_NVSVC_H
#define HTUNE_NVSVC_H
#include "cache.h"
#include "nvrtc.h"
#include "pool.h"

struct nvsvc_ticket {
    struct pool_item item;       /* first member: the pool hands it back */
    struct nvrtc_job job;
    struct nvrtc_result res;
    uint64_t cache_key;
};

struct nvsvc;

/* A service over api (copied; NULL = load libnvrtc now). Without libnvrtc the service still
 * exists (cache calls work) and nvsvc_error() says why compiles cannot run. */
struct nvsvc *nvsvc_new(const struct nvrtc_api *api);
void nvsvc_free(struct nvsvc *s);                /* cancels queued work, joins every thread */
const char *nvsvc_error(const struct nvsvc *s);  /* NULL when NVRTC is available */
const struct nvrtc_api *nvsvc_api(const struct nvsvc *s);
/* libnvrtc onto huge pages now if no compile has done it yet (nvrtc_huge_text); api's text_* after. */
void nvsvc_huge_text(struct nvsvc *s);

/* Threads for the pool (default: online CPUs); waits for pending work first. Returns 0. */
int nvsvc_set_threads(struct nvsvc *s, int n);
int nvsvc_threads(const struct nvsvc *s);
void nvsvc_set_max_batch(struct nvsvc *s, int n);
int nvsvc_max_batch(const struct nvsvc *s);

/* Cache settings: dir NULL keeps the current one, max_bytes < 0 keeps it, enabled < 0 keeps it.
 * Waits for pending work first. Returns 0. The cache opens lazily on first use. */
int nvsvc_cache_config(struct nvsvc *s, const char *dir, long long max_bytes, int enabled,
                       char *err, size_t errlen);
/* Current cache; NULL when disabled or it cannot be opened (err then says why). */
struct cache *nvsvc_cache(struct nvsvc *s, char *err, size_t errlen);
int nvsvc_cache_enabled(const struct nvsvc *s);
/* The configured directory and limit (the cache itself may not be open yet). */
const char *nvsvc_cache_dir(const struct nvsvc *s);
long long nvsvc_cache_max(const struct nvsvc *s);

/* Synchronous compile through the cache on the calling thread. */
void nvsvc_compile(struct nvsvc *s, const struct nvrtc_job *job, struct nvrtc_result *res);
/* Takes ownership of *job (left empty). Returns a ticket holding one reference for the caller,
 * already done on a cache hit; NULL when out of memory or threads cannot start. */
struct nvsvc_ticket *nvsvc_submit(struct nvsvc *s, struct nvrtc_job *job);
int nvsvc_ready(struct nvsvc *s, struct nvsvc_ticket *t);
void nvsvc_wait(struct nvsvc *s, struct nvsvc_ticket *t);
/* Index of the first finished ticket, or -1 after timeout_ms (< 0 waits forever). */
int nvsvc_wait_any(struct nvsvc *s, struct nvsvc_ticket **t, int n, int timeout_ms);
/* Withdraws a ticket no worker has started (its result then says "cancelled"): 1 when withdrawn,
 * 0 when it is compiling or done (a compile that started runs to the end and fills the cache). */
int nvsvc_cancel(struct nvsvc *s, struct nvsvc_ticket *t);
/* Drops the caller's reference; valid after nvsvc_free too. */
void nvsvc_release(struct nvsvc_ticket *t);
#endif
