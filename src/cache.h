/* Content-addressed disk cache of blobs: one file per 64-bit key, a header with length and
 * checksum, atomic writes (temp + rename), LRU eviction by mtime (touched on every hit). Safe
 * with several processes sharing a directory and several threads sharing a struct cache. */
#ifndef HTUNE_CACHE_H
#define HTUNE_CACHE_H
#include <stddef.h>
#include <stdint.h>

struct cache;

/* Writes $HTUNE_CACHE_DIR, else $HOME/.cache/htune/nvrtc, into out. */
void cache_default_dir(char *out, size_t outlen);

/* Opens (creating) dir with a size limit in bytes (<= 0: no limit). NULL + err on failure. */
struct cache *cache_open(const char *dir, long long max_bytes, char *err, size_t errlen);
void cache_close(struct cache *c);
const char *cache_dir(const struct cache *c);
long long cache_max_bytes(const struct cache *c);

enum { CACHE_HIT = 0, CACHE_MISS = 1, CACHE_CORRUPT = 2 };
/* Looks key up: CACHE_HIT with *data (malloc'd, caller frees) and *len; CACHE_MISS; or
 * CACHE_CORRUPT when the entry was truncated or its checksum is wrong (it is then deleted). */
int cache_get(struct cache *c, uint64_t key, char **data, size_t *len);
/* Stores data under key atomically, then evicts least recently used entries if over the limit.
 * Returns 0 or -1 with err filled. */
int cache_put(struct cache *c, uint64_t key, const void *data, size_t len, char *err, size_t errlen);

struct cache_stats {
    long entries;
    long long bytes;
    long hits, misses, corrupt, evicted; /* this process, since cache_open */
};
/* Scans the directory (entries, bytes) and adds this process's counters. 0 or -1. */
int cache_stats(struct cache *c, struct cache_stats *st);
/* Removes every entry; returns how many. */
long cache_clear(struct cache *c);
/* Path of key's entry file into out (for tests that corrupt entries). */
void cache_entry_path(const struct cache *c, uint64_t key, char *out, size_t outlen);
#endif
