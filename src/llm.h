/* Asynchronous HTTP client for LLM endpoints on a libcurl multi handle: request bodies in,
 * response bodies out, with a concurrency limit, retries (exponential backoff + jitter,
 * Retry-After) and an on-disk response cache. Knows nothing of Lua or of JSON; the binding
 * (src/lllm.c) builds bodies and parses replies. Single-threaded: llm_poll drives transfers. */
#ifndef HTUNE_LLM_H
#define HTUNE_LLM_H
#include <stddef.h>

typedef struct llm_client llm_client;

struct llm_opts {
    const char *url;             /* full endpoint, e.g. http://127.0.0.1:8000/v1/chat/completions */
    const char *auth_name;       /* header carrying the key ("Authorization"), or NULL for none */
    const char *auth_prefix;     /* put before the key ("Bearer "), may be NULL */
    const char *secret;          /* the key: sent in that header only, scrubbed from every error */
    const char *const *headers;  /* more "Name: value" headers, NULL-terminated, may be NULL */
    int max_concurrency;         /* transfers at once (>= 1) */
    long connect_timeout_ms, timeout_ms;
    int retries;                 /* extra attempts after the first on 429/5xx/network errors */
    double backoff_ms;           /* first retry delay; doubles per attempt, +-50% jitter */
    double max_backoff_ms;       /* cap on a delay, Retry-After included */
    const char *cache_dir;       /* NULL: no cache; else <dir>/<hash of body>.json */
};

struct llm_result {
    int done;                    /* 0 while queued, waiting to retry or transferring */
    int ok;                      /* HTTP 2xx with a body */
    long status;                 /* last HTTP status, 0 when no response came */
    char *body;                  /* response body (NUL-terminated), owned by the client */
    size_t body_len;
    double latency_ms;           /* submit to completion, retries and queueing included */
    int attempts;                /* transfers made (0 when served from the cache) */
    int cached;
    const char *code;            /* on failure: "EHTTP", "ETIMEDOUT", "ENET", "ECANCELED", "ENOMEM" */
    char error[320];             /* on failure: what happened; never holds the secret */
};

struct llm_stats { long submitted, transfers, retries, cache_hits; int running, queued, max_running; };

/* Opens a client; copies everything in opts. NULL with a message in err on failure. */
llm_client *llm_open(const struct llm_opts *o, char *err, size_t len);
/* Cancels what is in flight and frees everything. NULL is a no-op. */
void llm_close(llm_client *c);
/* Queues a POST of body (copied); served from the cache at once when use_cache and present.
 * Returns a request id > 0, or -1 when out of memory. */
long llm_submit(llm_client *c, const char *body, size_t len, int use_cache);
/* Drives transfers for up to timeout_ms (0: one non-blocking pass, <0: until one completes or
 * nothing is left). Returns the number of requests that completed during the call. */
int llm_poll(llm_client *c, int timeout_ms);
/* The request's result (done=0 while pending), or NULL for an unknown or released id. */
const struct llm_result *llm_get(llm_client *c, long id);
/* Stops a pending request: it completes with code "ECANCELED". */
void llm_cancel(llm_client *c, long id);
/* Forgets a request (cancelling it when pending); its result pointer becomes invalid. */
void llm_release(llm_client *c, long id);
/* Stores body under the cache key of request id's body (the binding calls it once the reply
 * parsed). 0, or -1 when there is no cache or the write failed. */
int llm_cache_put(llm_client *c, long id);
/* Milliseconds until the client needs llm_poll again (0: now), or -1 when nothing is pending. */
long llm_next_due_ms(llm_client *c);
void llm_get_stats(llm_client *c, struct llm_stats *s);
/* Copies src into dst (size n), replacing every occurrence of secret with "***". */
void llm_scrub(const char *secret, const char *src, char *dst, size_t n);

#endif
