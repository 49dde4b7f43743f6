/* Disk cache: round trip, miss, corrupt and truncated entries detected and removed, LRU
 * eviction keeps recently hit entries, clear/stats, and threads sharing one cache. */
#include "cache.h"
#include "test.h"
#include "util.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[256];

static struct cache *fresh(long long max_bytes) {
    static int n;
    char err[256];
    snprintf(dir, sizeof dir, "/tmp/htune-test-cache-%d-%d", (int)getpid(), n++);
    struct cache *c = cache_open(dir, max_bytes, err, sizeof err);
    if (c) cache_clear(c);
    return c;
}

static void done(struct cache *c) {
    cache_clear(c);
    cache_close(c);
    rmdir(dir);
}

static void test_round_trip_and_miss(void) {
    struct cache *c = fresh(0);
    char err[256], *data = NULL;
    size_t len = 0;
    CHECK_EQ_INT(cache_get(c, 42, &data, &len), CACHE_MISS);
    CHECK_EQ_INT(cache_put(c, 42, "hello cubin", 11, err, sizeof err), 0);
    CHECK_EQ_INT(cache_get(c, 42, &data, &len), CACHE_HIT);
    CHECK_EQ_INT(len, 11);
    CHECK(data && memcmp(data, "hello cubin", 11) == 0);
    free(data);
    struct cache_stats st;
    CHECK_EQ_INT(cache_stats(c, &st), 0);
    CHECK_EQ_INT(st.entries, 1);
    CHECK_EQ_INT(st.hits, 1);
    CHECK_EQ_INT(st.misses, 1);
    CHECK(st.bytes > 11);
    done(c);
}

static void damage(struct cache *c, uint64_t key, int truncate) {
    char path[4300];
    cache_entry_path(c, key, path, sizeof path);
    size_t n = 0;
    char err[256], *buf = util_read_file(path, &n, err, sizeof err);
    if (!buf) return;
    if (truncate) n -= 3;
    else buf[n - 2] ^= 0x5a;
    util_write_atomic(path, buf, n, err, sizeof err);
    free(buf);
}

static void test_corrupt_and_truncated(void) {
    struct cache *c = fresh(0);
    char err[256], *data = NULL, path[4300];
    size_t len = 0;
    cache_put(c, 1, "0123456789", 10, err, sizeof err);
    cache_put(c, 2, "abcdefghij", 10, err, sizeof err);
    damage(c, 1, 0);
    damage(c, 2, 1);
    CHECK_EQ_INT(cache_get(c, 1, &data, &len), CACHE_CORRUPT);
    CHECK_EQ_INT(cache_get(c, 2, &data, &len), CACHE_CORRUPT);
    cache_entry_path(c, 1, path, sizeof path);
    CHECK(access(path, F_OK) != 0); /* removed, so the next lookup is a plain miss */
    CHECK_EQ_INT(cache_get(c, 1, &data, &len), CACHE_MISS);
    /* an entry filed under the wrong key is corrupt too */
    char other[4300];
    cache_put(c, 3, "xyz", 3, err, sizeof err);
    cache_entry_path(c, 3, other, sizeof other);
    rename(other, path);
    CHECK_EQ_INT(cache_get(c, 1, &data, &len), CACHE_CORRUPT);
    struct cache_stats st;
    cache_stats(c, &st);
    CHECK_EQ_INT(st.corrupt, 3);
    done(c);
}

static void age(struct cache *c, uint64_t key, int seconds_ago) {
    char path[4300];
    cache_entry_path(c, key, path, sizeof path);
    struct timespec ts[2];
    clock_gettime(CLOCK_REALTIME, &ts[0]);
    ts[0].tv_sec -= seconds_ago;
    ts[1] = ts[0];
    utimensat(AT_FDCWD, path, ts, 0);
}

static void test_lru_eviction(void) {
    struct cache *c = fresh(10 * 1100);
    char err[256], blob[1000] = {0}, *data;
    size_t len;
    for (uint64_t k = 1; k <= 10; k++) {
        cache_put(c, k, blob, sizeof blob, err, sizeof err);
        age(c, k, 1000 - (int)k); /* key 1 oldest */
    }
    CHECK_EQ_INT(cache_get(c, 1, &data, &len), CACHE_HIT); /* a hit makes key 1 young */
    free(data);
    for (uint64_t k = 11; k <= 13; k++) cache_put(c, k, blob, sizeof blob, err, sizeof err);
    struct cache_stats st;
    cache_stats(c, &st);
    CHECK(st.bytes <= 10 * 1100);
    CHECK(st.evicted >= 3);
    CHECK_EQ_INT(cache_get(c, 1, &data, &len), CACHE_HIT);
    free(data);
    CHECK_EQ_INT(cache_get(c, 2, &data, &len), CACHE_MISS); /* the oldest untouched went */
    CHECK_EQ_INT(cache_get(c, 13, &data, &len), CACHE_HIT);
    free(data);
    CHECK_EQ_INT(cache_clear(c) > 0, 1);
    cache_stats(c, &st);
    CHECK_EQ_INT(st.entries, 0);
    done(c);
}

struct stress { struct cache *c; int seed, wrong; };

/* Each thread writes, reads and corrupts entries of 16 shared keys: a hit must be the exact
 * payload of its key; corrupt entries must be reported, never returned. */
static void *stress_thread(void *arg) {
    struct stress *s = arg;
    unsigned seed = (unsigned)s->seed;
    char err[256], payload[64], *data;
    size_t len;
    for (int i = 0; i < 400; i++) {
        uint64_t key = (uint64_t)(rand_r(&seed) % 16) + 100;
        int n = snprintf(payload, sizeof payload, "payload-of-%llu", (unsigned long long)key);
        int op = rand_r(&seed) % 10;
        if (op < 3) cache_put(s->c, key, payload, (size_t)n, err, sizeof err);
        else if (op == 3) damage(s->c, key, rand_r(&seed) % 2);
        else if (cache_get(s->c, key, &data, &len) == CACHE_HIT) {
            if (len != (size_t)n || memcmp(data, payload, len) != 0) s->wrong++;
            free(data);
        }
    }
    return NULL;
}

static void test_threads_with_corruption(void) {
    struct cache *c = fresh(0);
    pthread_t th[8];
    struct stress s[8];
    for (int i = 0; i < 8; i++) {
        s[i] = (struct stress){c, i + 1, 0};
        pthread_create(&th[i], NULL, stress_thread, &s[i]);
    }
    int wrong = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        wrong += s[i].wrong;
    }
    CHECK_EQ_INT(wrong, 0);
    done(c);
}

int main(void) {
    RUN(test_round_trip_and_miss);
    RUN(test_corrupt_and_truncated);
    RUN(test_lru_eviction);
    RUN(test_threads_with_corruption);
    return test_report();
}
