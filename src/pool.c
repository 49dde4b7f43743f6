/* Thread pool: N workers over one FIFO guarded by one mutex; a worker takes the head item and
 * up to max_batch - 1 more of its group, sized so the other workers still get work. */
#include "pool.h"
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct pool {
    pthread_mutex_t mu;
    pthread_cond_t work;  /* queue gained an item, or stopping */
    pthread_cond_t done;  /* some item finished */
    struct pool_item *head, *tail;
    int queued, running, nthreads, max_batch;
    volatile int stopping;
    struct pool_ops ops;
    pthread_t *threads;
};

/* How many of the head's group to take: enough to share the group among all workers. */
static int batch_size(struct pool *p) {
    if (p->max_batch <= 1 || p->head->group == 0) return 1;
    int same = 0;
    for (struct pool_item *it = p->head; it; it = it->next) same += it->group == p->head->group;
    int share = (same + p->nthreads - 1) / p->nthreads;
    return share < p->max_batch ? share : p->max_batch;
}

/* Unlinks up to want items of the head's group into out (caller holds mu). */
static int take(struct pool *p, struct pool_item **out, int want) {
    uint64_t group = p->head->group;
    int n = 0;
    struct pool_item **link = &p->head, *prev = NULL;
    while (*link && n < want) {
        struct pool_item *it = *link;
        if (n == 0 || it->group == group) {
            *link = it->next;
            if (p->tail == it) p->tail = prev;
            it->next = NULL;
            it->state = POOL_RUNNING;
            out[n++] = it;
        } else {
            prev = it;
            link = &it->next;
        }
    }
    p->queued -= n;
    return n;
}

static void *worker(void *arg) {
    struct pool *p = arg;
    struct pool_item **batch = NULL;
    int cap = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->head && !p->stopping) pthread_cond_wait(&p->work, &p->mu);
        if (p->stopping) break;
        int want = batch_size(p);
        if (want > cap) {
            struct pool_item **bigger = realloc(batch, (size_t)want * sizeof *bigger);
            if (!bigger) want = cap > 0 ? cap : 1;
            else { batch = bigger; cap = want; }
            if (!batch) break;
        }
        int n = take(p, batch, want);
        p->running += n;
        pthread_mutex_unlock(&p->mu);
        p->ops.run(p->ops.ctx, batch, n, &p->stopping);
        pthread_mutex_lock(&p->mu);
        for (int i = 0; i < n; i++) batch[i]->state = POOL_DONE;
        p->running -= n;
        pthread_cond_broadcast(&p->done);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < n; i++) pool_release(batch[i], &p->ops);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    free(batch);
    return NULL;
}

static int init_sync(struct pool *p) {
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) return -1;
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_mutex_init(&p->mu, NULL) | pthread_cond_init(&p->work, NULL) |
             pthread_cond_init(&p->done, &attr);
    pthread_condattr_destroy(&attr);
    return rc ? -1 : 0;
}

struct pool *pool_new(int nthreads, int max_batch, struct pool_ops ops) {
    if (nthreads < 1) nthreads = 1;
    struct pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = calloc((size_t)nthreads, sizeof *p->threads);
    if (!p->threads || init_sync(p) != 0) {
        free(p->threads);
        free(p);
        return NULL;
    }
    p->ops = ops;
    p->max_batch = max_batch < 1 ? 1 : max_batch;
    for (; p->nthreads < nthreads; p->nthreads++)
        if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) != 0) break;
    if (p->nthreads == 0) {
        pool_free(p);
        return NULL;
    }
    return p;
}

void pool_set_max_batch(struct pool *p, int max_batch) {
    pthread_mutex_lock(&p->mu);
    p->max_batch = max_batch < 1 ? 1 : max_batch;
    pthread_mutex_unlock(&p->mu);
}

int pool_threads(const struct pool *p) { return p->nthreads; }

void pool_submit(struct pool *p, struct pool_item *item) {
    atomic_fetch_add(&item->refs, 1);
    pthread_mutex_lock(&p->mu);
    item->next = NULL;
    item->state = POOL_QUEUED;
    if (p->tail) p->tail->next = item;
    else p->head = item;
    p->tail = item;
    p->queued++;
    pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->mu);
}

void pool_drain(struct pool *p) {
    pthread_mutex_lock(&p->mu);
    while (p->queued + p->running > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

int pool_pending(struct pool *p) {
    pthread_mutex_lock(&p->mu);
    int n = p->queued + p->running;
    pthread_mutex_unlock(&p->mu);
    return n;
}

int pool_state(struct pool *p, struct pool_item *item) {
    pthread_mutex_lock(&p->mu);
    int s = item->state;
    pthread_mutex_unlock(&p->mu);
    return s;
}

void pool_wait(struct pool *p, struct pool_item *item) {
    pool_wait_any(p, &item, 1, -1);
}

static int first_finished(struct pool_item **items, int n) {
    for (int i = 0; i < n; i++)
        if (items[i]->state >= POOL_DONE) return i;
    return -1;
}

static void deadline_after(struct timespec *ts, int ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) { ts->tv_sec++; ts->tv_nsec -= 1000000000L; }
}

int pool_wait_any(struct pool *p, struct pool_item **items, int n, int timeout_ms) {
    struct timespec deadline;
    if (timeout_ms >= 0) deadline_after(&deadline, timeout_ms);
    pthread_mutex_lock(&p->mu);
    int idx;
    while ((idx = first_finished(items, n)) < 0) {
        if (timeout_ms < 0) pthread_cond_wait(&p->done, &p->mu);
        else if (pthread_cond_timedwait(&p->done, &p->mu, &deadline) == ETIMEDOUT) {
            idx = first_finished(items, n);
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return idx;
}

int pool_cancel(struct pool *p, struct pool_item *item) {
    pthread_mutex_lock(&p->mu);
    int found = 0;
    if (item->state == POOL_QUEUED) {
        struct pool_item **link = &p->head, *prev = NULL;
        while (*link && *link != item) { prev = *link; link = &(*link)->next; }
        if (*link) {
            *link = item->next;
            if (p->tail == item) p->tail = prev;
            item->next = NULL;
            item->state = POOL_CANCELLED;
            p->queued--;
            found = 1;
            pthread_cond_broadcast(&p->done);
        }
    }
    pthread_mutex_unlock(&p->mu);
    if (found) pool_release(item, &p->ops);
    return found;
}

void pool_release(struct pool_item *item, const struct pool_ops *ops) {
    if (atomic_fetch_sub(&item->refs, 1) == 1) ops->drop(ops->ctx, item);
}

static struct pool_item *cancel_queued(struct pool *p) {
    struct pool_item *list = p->head;
    for (struct pool_item *it = list; it; it = it->next) it->state = POOL_CANCELLED;
    p->head = p->tail = NULL;
    p->queued = 0;
    pthread_cond_broadcast(&p->done);
    return list;
}

void pool_free(struct pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    struct pool_item *cancelled = cancel_queued(p);
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++) pthread_join(p->threads[i], NULL);
    while (cancelled) {
        struct pool_item *next = cancelled->next;
        pool_release(cancelled, &p->ops);
        cancelled = next;
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->done);
    free(p->threads);
    free(p);
}
