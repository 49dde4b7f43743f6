/* Small helpers shared by the core: clocks, hashing, files, paths. No Lua here. */
#ifndef HTUNE_UTIL_H
#define HTUNE_UTIL_H
#include <stddef.h>
#include <stdint.h>

/* Monotonic clock in milliseconds / nanoseconds since an arbitrary origin. */
double util_now_ms(void);
uint64_t util_now_ns(void);

/* 64-bit FNV-1a of n bytes, continuing from h (start with UTIL_FNV_INIT). */
#define UTIL_FNV_INIT 0xcbf29ce484222325ULL
uint64_t util_fnv1a(uint64_t h, const void *data, size_t n);

/* Writes 16 lowercase hex digits of v and a NUL into out[17]. */
void util_hex64(uint64_t v, char out[17]);

/* Reads a whole file into a malloc'd buffer (NUL-terminated, *len excludes it).
 * Returns NULL and fills err on failure. Caller frees. */
char *util_read_file(const char *path, size_t *len, char *err, size_t errlen);

/* Writes data to path atomically (temp file in the same directory + rename).
 * Returns 0 or -1 with err filled. */
int util_write_atomic(const char *path, const void *data, size_t n, char *err, size_t errlen);

/* Creates a directory and its parents (mode 0755). Returns 0 or -1. */
int util_mkdirs(const char *path);

/* Directory holding the running executable (from /proc/self/exe), into out. 0 or -1. */
int util_exe_dir(char *out, size_t outlen);

/* Number of online CPUs (at least 1). */
int util_ncpus(void);
#endif
