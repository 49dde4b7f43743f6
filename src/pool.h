/* Thread pool with a FIFO of work items that workers take in groups: items of one group key
 * queued together may be handed to one worker call (the compile service's batching). Items
 * are reference-counted so a waiter and a worker may let go in either order. No Lua here. */
#ifndef HTUNE_POOL_H
#define HTUNE_POOL_H
#include <stdatomic.h>
#include <stdint.h>

enum { POOL_QUEUED, POOL_RUNNING, POOL_DONE, POOL_CANCELLED };

/* Embed as the first member of the caller's work struct. */
struct pool_item {
    struct pool_item *next;
    uint64_t group;   /* items with equal group may run in one batch; 0 = never batched */
    int state;        /* POOL_*; read it through pool_state */
    atomic_int refs;  /* the submitter holds 1; the pool holds 1 while queued or running */
};

struct pool_ops {
    /* Runs n items (1..max_batch, all of one group). Called on a worker thread. */
    void (*run)(void *ctx, struct pool_item **items, int n, const volatile int *stopping);
    /* Frees an item whose last reference went (any thread). */
    void (*drop)(void *ctx, struct pool_item *item);
    void *ctx;
};

struct pool;

/* Starts nthreads workers (>= 1). NULL when out of memory or threads cannot start. */
struct pool *pool_new(int nthreads, int max_batch, struct pool_ops ops);
/* Sets the largest batch a worker takes (>= 1). */
void pool_set_max_batch(struct pool *p, int max_batch);
int pool_threads(const struct pool *p);
/* Queues item (its refs must already count the submitter; the pool adds its own). */
void pool_submit(struct pool *p, struct pool_item *item);
/* Blocks until no item is queued or running. */
void pool_drain(struct pool *p);
/* Items submitted and not yet finished. */
int pool_pending(struct pool *p);
int pool_state(struct pool *p, struct pool_item *item);
/* Blocks until item is done or cancelled. */
void pool_wait(struct pool *p, struct pool_item *item);
/* Index of the first finished item among items[0..n), waiting up to timeout_ms (< 0: forever);
 * -1 on timeout. */
int pool_wait_any(struct pool *p, struct pool_item **items, int n, int timeout_ms);
/* Takes item out of the queue if no worker has started it: it becomes POOL_CANCELLED and the
 * pool's reference is dropped. 1 when cancelled, 0 when it is running or finished. */
int pool_cancel(struct pool *p, struct pool_item *item);
/* Drops one reference (calls ops.drop at zero). Safe after pool_free. */
void pool_release(struct pool_item *item, const struct pool_ops *ops);
/* Stops: queued items become POOL_CANCELLED, running ones are asked to stop (the stopping flag),
 * every worker is joined, then the pool is freed. */
void pool_free(struct pool *p);
#endif
