/* Disk cache: "<dir>/<key hex>.htc" files = 32-byte header (magic, key, length, checksum of the
 * payload) + payload. Readers verify all four; writers use util_write_atomic; eviction sorts
 * entries by mtime (touched on hit) and removes the oldest down to 80 % of the limit. */
#include "cache.h"
#include "util.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cache {
    char dir[4096];
    long long max_bytes, approx_bytes; /* approx: last scan + this process's writes since */
    long hits, misses, corrupt, evicted;
    pthread_mutex_t mu;
};

static const char MAGIC[8] = {'H', 'T', 'N', 'C', 'A', 'C', 'H', '2'};
enum { HEADER = 32 };

void cache_default_dir(char *out, size_t outlen) {
    const char *env = getenv("HTUNE_CACHE_DIR"), *home = getenv("HOME");
    if (env && env[0]) snprintf(out, outlen, "%s", env);
    else snprintf(out, outlen, "%s/.cache/htune/nvrtc", home && home[0] ? home : "/tmp");
}

void cache_entry_path(const struct cache *c, uint64_t key, char *out, size_t outlen) {
    char hex[17];
    util_hex64(key, hex);
    snprintf(out, outlen, "%s/%s.htc", c->dir, hex);
}

static int is_entry(const char *name) {
    size_t n = strlen(name);
    return n == 20 && strcmp(name + 16, ".htc") == 0;
}

/* Calls fn(ctx, path, st) for every entry file; returns the count or -1. */
static long each_entry(const struct cache *c, void (*fn)(void *, const char *, const struct stat *), void *ctx) {
    DIR *d = opendir(c->dir);
    if (!d) return -1;
    long n = 0;
    struct dirent *e;
    char path[4200];
    while ((e = readdir(d))) {
        if (!is_entry(e->d_name)) continue;
        if (snprintf(path, sizeof path, "%s/%s", c->dir, e->d_name) >= (int)sizeof path) continue;
        struct stat st;
        if (stat(path, &st) != 0) continue;
        fn(ctx, path, &st);
        n++;
    }
    closedir(d);
    return n;
}

static void add_size(void *ctx, const char *path, const struct stat *st) {
    (void)path;
    *(long long *)ctx += st->st_size;
}

struct cache *cache_open(const char *dir, long long max_bytes, char *err, size_t errlen) {
    if (util_mkdirs(dir) != 0) {
        snprintf(err, errlen, "cannot create cache dir '%s': %s", dir, strerror(errno));
        return NULL;
    }
    struct cache *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(c->dir, sizeof c->dir, "%s", dir);
    c->max_bytes = max_bytes;
    pthread_mutex_init(&c->mu, NULL);
    each_entry(c, add_size, &c->approx_bytes);
    return c;
}

void cache_close(struct cache *c) {
    if (!c) return;
    pthread_mutex_destroy(&c->mu);
    free(c);
}

const char *cache_dir(const struct cache *c) { return c->dir; }
long long cache_max_bytes(const struct cache *c) { return c->max_bytes; }

static void count(struct cache *c, long *counter) {
    pthread_mutex_lock(&c->mu);
    (*counter)++;
    pthread_mutex_unlock(&c->mu);
}

/* Checksum of a payload: four independent multiply-xor lanes over 8-byte words (several times
 * faster than byte-wise FNV on 100 KB cubins: warm-cache hits are dominated by it), FNV tail. */
static uint64_t checksum(const void *data, size_t n) {
    const unsigned char *p = data;
    uint64_t lane[4] = {UTIL_FNV_INIT, 0x9e3779b97f4a7c15ULL, 0xbf58476d1ce4e5b9ULL, 0x94d049bb133111ebULL};
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        for (int k = 0; k < 4; k++) {
            uint64_t w;
            memcpy(&w, p + i + 8 * k, 8);
            lane[k] = (lane[k] ^ w) * 0x100000001b3ULL;
            lane[k] ^= lane[k] >> 29;
        }
    uint64_t h = util_fnv1a(UTIL_FNV_INIT, lane, sizeof lane);
    return util_fnv1a(h, p + i, n - i);
}

/* Reads a whole file in one read of its size (malloc'd; NULL if absent or unreadable). */
static char *read_entry(const char *path, size_t *len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return NULL;
    struct stat st;
    char *buf = NULL;
    if (fstat(fd, &st) == 0 && st.st_size >= 0 && (buf = malloc((size_t)st.st_size + 1))) {
        size_t got = 0;
        ssize_t r;
        while (got < (size_t)st.st_size && (r = read(fd, buf + got, (size_t)st.st_size - got)) > 0) got += (size_t)r;
        *len = got;
    }
    close(fd);
    return buf;
}

/* 0 when buf holds a whole, unmodified entry for key. */
static int check_entry(const char *buf, size_t n, uint64_t key) {
    if (n < HEADER || memcmp(buf, MAGIC, 8) != 0) return -1;
    uint64_t hdr[3];
    memcpy(hdr, buf + 8, sizeof hdr);
    if (hdr[0] != key || hdr[1] != n - HEADER) return -1;
    return checksum(buf + HEADER, n - HEADER) == hdr[2] ? 0 : -1;
}

int cache_get(struct cache *c, uint64_t key, char **data, size_t *len) {
    char path[4200];
    cache_entry_path(c, key, path, sizeof path);
    size_t n = 0;
    char *buf = read_entry(path, &n);
    if (!buf) {
        count(c, &c->misses);
        return CACHE_MISS;
    }
    if (check_entry(buf, n, key) != 0) {
        free(buf);
        unlink(path);
        count(c, &c->corrupt);
        return CACHE_CORRUPT;
    }
    utimensat(AT_FDCWD, path, NULL, 0); /* LRU: a hit makes the entry young */
    memmove(buf, buf + HEADER, n - HEADER);
    *data = buf;
    *len = n - HEADER;
    count(c, &c->hits);
    return CACHE_HIT;
}

struct aged { char *path; long long size; struct timespec mtime; };
struct aged_list { struct aged *v; long n, cap; long long total; };

static void collect(void *ctx, const char *path, const struct stat *st) {
    struct aged_list *l = ctx;
    l->total += st->st_size;
    if (l->n == l->cap) {
        long cap = l->cap ? l->cap * 2 : 64;
        struct aged *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return;
        l->v = v;
        l->cap = cap;
    }
    char *p = strdup(path);
    if (!p) return;
    l->v[l->n++] = (struct aged){p, st->st_size, st->st_mtim};
}

static int older_first(const void *a, const void *b) {
    const struct timespec *x = &((const struct aged *)a)->mtime, *y = &((const struct aged *)b)->mtime;
    if (x->tv_sec != y->tv_sec) return x->tv_sec < y->tv_sec ? -1 : 1;
    return x->tv_nsec < y->tv_nsec ? -1 : x->tv_nsec > y->tv_nsec;
}

/* Removes the least recently used entries until the directory holds <= 80 % of max_bytes. */
static void evict(struct cache *c) {
    struct aged_list l = {0};
    each_entry(c, collect, &l);
    qsort(l.v, (size_t)l.n, sizeof *l.v, older_first);
    long long target = c->max_bytes / 10 * 8, total = l.total;
    long removed = 0;
    for (long i = 0; i < l.n; i++) {
        if (total > target && unlink(l.v[i].path) == 0) {
            total -= l.v[i].size;
            removed++;
        }
        free(l.v[i].path);
    }
    free(l.v);
    pthread_mutex_lock(&c->mu);
    c->approx_bytes = total;
    c->evicted += removed;
    pthread_mutex_unlock(&c->mu);
}

int cache_put(struct cache *c, uint64_t key, const void *data, size_t len, char *err, size_t errlen) {
    char *buf = malloc(HEADER + len), path[4200];
    if (!buf) {
        snprintf(err, errlen, "out of memory for a %zu-byte cache entry", len);
        return -1;
    }
    uint64_t hdr[3] = {key, len, checksum(data, len)};
    memcpy(buf, MAGIC, 8);
    memcpy(buf + 8, hdr, sizeof hdr);
    memcpy(buf + HEADER, data, len);
    cache_entry_path(c, key, path, sizeof path);
    int rc = util_write_atomic(path, buf, HEADER + len, err, errlen);
    free(buf);
    if (rc != 0) return -1;
    pthread_mutex_lock(&c->mu);
    c->approx_bytes += (long long)(HEADER + len);
    int over = c->max_bytes > 0 && c->approx_bytes > c->max_bytes;
    pthread_mutex_unlock(&c->mu);
    if (over) evict(c);
    return 0;
}

int cache_stats(struct cache *c, struct cache_stats *st) {
    memset(st, 0, sizeof *st);
    long n = each_entry(c, add_size, &st->bytes);
    if (n < 0) return -1;
    st->entries = n;
    pthread_mutex_lock(&c->mu);
    st->hits = c->hits, st->misses = c->misses, st->corrupt = c->corrupt, st->evicted = c->evicted;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

static void remove_entry(void *ctx, const char *path, const struct stat *st) {
    (void)st;
    if (unlink(path) == 0) (*(long *)ctx)++;
}

long cache_clear(struct cache *c) {
    long removed = 0;
    each_entry(c, remove_entry, &removed);
    pthread_mutex_lock(&c->mu);
    c->approx_bytes = 0;
    pthread_mutex_unlock(&c->mu);
    return removed;
}
